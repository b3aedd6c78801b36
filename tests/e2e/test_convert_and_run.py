"""End to end at the official width: random weights saved as the PyTorch port's
checkpoint, converted with gi-convert, run with gi-inpaint at the official example size
(512x680) and at an odd size (250x333), and compared with the PyTorch reference.

Paths come from the environment (set by tests/e2e/meson.build): GI_INPAINT (the CLI),
GI_CONVERT (tools/gi-convert)."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
from gimodel import deepfill_torch  # noqa: E402

MAX_FLIPPED = 0.005  # fraction of hole values allowed to differ by 1 LSB (see below)
UPSAMPLE = {"conv13_upsample", "conv15_upsample", "allconv13_upsample", "allconv15_upsample"}


def port_key(name):
    """GGUF tensor name -> the TF-compatible PyTorch port's state-dict key."""
    layer, kind = name.rsplit(".", 1)
    return f"{layer}.conv.conv.{kind}" if layer in UPSAMPLE else f"{layer}.conv.{kind}"


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    d = tmp_path_factory.mktemp("e2e")
    weights = deepfill_torch.random_weights(48, 0, seed=7)
    pth = d / "states_random.pth"
    torch.save({"G": {port_key(k): torch.from_numpy(v) for k, v in weights.items()}}, pth)
    gguf = d / "random.gguf"
    r = subprocess.run([os.environ["GI_CONVERT"], str(pth), "-o", str(gguf)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return weights, gguf, d


@pytest.mark.parametrize("h,w", [(250, 333), (512, 680)])
def test_cli_matches_reference(model, h, w):
    weights, gguf, d = model
    image = deepfill_torch.random_image(h, w, 3, seed=h)
    mask = deepfill_torch.stroke_mask(h, w, seed=w)
    Image.fromarray(image).save(d / "in.png")
    Image.fromarray(mask).save(d / "mask.png")
    out_path = d / f"out{h}x{w}.png"
    r = subprocess.run([os.environ["GI_INPAINT"], "-i", str(d / "in.png"), "-m",
                        str(d / "mask.png"), "-o", str(out_path), "--model", str(gguf),
                        "-t", "2", "-q", "--strategy", "exact"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = np.asarray(Image.open(out_path))
    assert out.shape == image.shape
    hole = mask > 127
    assert np.array_equal(out[~hole], image[~hole]), "pixels outside the hole changed"
    torch.set_num_threads(2)
    # gi-convert marks the port's weights as BGR, as the official ones are.
    ref = deepfill_torch.inpaint(weights, image, mask, cnum=48, channel_order="bgr")["out"]
    diff = np.abs(out.astype(int) - ref.astype(int))
    assert diff.max() <= 1, f"max diff {diff.max()} LSB, {(diff > 1).sum()} values over 1"
    # Exact-ish: within 1 LSB alone is too loose at this width, where the tanh output sits
    # near the ends of its range; a softmax scale 20 % off (10 -> 12) stays within 1 LSB
    # but moves 3.4 % of the hole values at 250x333. The float error of the engine
    # (1e-4 on the tanh scale, 0.013 LSB) can only flip values that sit at a rounding
    # boundary: 0 % of the values differ at 250x333 with AVX-512 (2026-11-29).
    flipped = (diff[hole] > 0).mean()
    print(f"{h}x{w}: {flipped:.4%} of the hole values differ by 1 LSB")
    assert flipped < MAX_FLIPPED, f"{flipped:.2%} of the hole values differ by 1 LSB"
