"""The experimental map observer (the gate viewer): Session.inpaint(maps=...) and
gi-inpaint --dump-gates, on a DeepFill v2 model (gates) and a PConv U-Net (masks)."""
import csv
import os
import subprocess
import sys

import numpy as np
import pytest

import gatedinpaint as gi
from conftest import REPO

sys.path.insert(0, os.path.join(REPO, "tools"))
from gimodel import gguf, pconv  # noqa: E402


@pytest.fixture(scope="module")
def pconv_path(tmp_path_factory):
    """A random PConv U-Net (width 4, layer_size 4) from numpy alone."""
    rng = np.random.default_rng(0)
    required, _ = pconv.expected_shapes(4, 4)
    w = {k: rng.standard_normal(s).astype(np.float32) for k, s in required.items()}
    for k in w:
        if k.endswith("running_var"):
            w[k] = np.abs(w[k]) + 0.5
    path = str(tmp_path_factory.mktemp("pconv") / "pc.gguf")
    gguf.write_pconv_model(path, w, width=4, depth=4, name="t", license="CC0-1.0")
    return path


def picture(h=48, w=64):
    rng = np.random.default_rng(1)
    img = np.repeat(np.repeat(rng.integers(0, 256, (h // 4, w // 4, 3), np.uint8), 4, 0), 4, 1)
    mask = np.zeros((h, w), np.uint8)
    mask[12:28, 20:40] = 255
    return np.ascontiguousarray(img), mask


def collect(path, **kw):
    s = gi.Session(gi.Model.from_file(path), threads=1, strategy="exact")
    img, mask = picture()
    seen = []
    out = s.inpaint(img, mask, maps=lambda info, a: seen.append((info, a)), **kw)
    return s, out, seen, img, mask


def test_gates(model_path):
    s, out, seen, img, mask = collect(model_path)
    assert np.array_equal(out, s.inpaint(img, mask))  # the observer changes nothing
    assert len(seen) == 40  # every gated layer: 42 minus the two tanh outputs
    assert [i["index"] for i, _ in seen] == list(range(40))
    assert seen[0][0]["layer"] == "conv1" and seen[-1][0]["layer"] == "allconv16"
    for info, a in seen:
        assert info["kind"] == "gate" and info["pass"] == 0 and info["net_h"] == 48
        assert a.dtype == np.float32 and 0.0 <= a.min() and a.max() <= 1.0
        assert a.std() > 1e-3, info["layer"]  # soft and varying, not constant
    conv1 = seen[0][1]  # full resolution, 4 gate channels at width 8
    assert conv1.shape == (48, 64, 4)


def test_masks(pconv_path):
    s, out, seen, img, mask = collect(pconv_path)
    assert np.array_equal(out, s.inpaint(img, mask))
    assert [i["layer"] for i, _ in seen] == ["enc_1", "enc_2", "enc_3", "enc_4", "dec_4",
                                            "dec_3", "dec_2", "dec_1"]
    enc1 = seen[0][1]
    assert enc1.shape == (24, 32, 1) and set(np.unique(enc1)) == {0.0, 1.0}
    assert enc1[12, 15, 0] == 0.0  # the hole's middle, half size: no valid input
    assert seen[3][1].min() == 1.0  # all valid four layers down: the saturation


def test_cancel_and_errors(model_path):
    s = gi.Session(gi.Model.from_file(model_path), threads=1)
    img, mask = picture()
    with pytest.raises(gi.CancelledError, match="map observer"):
        s.inpaint(img, mask, maps=lambda info, a: info["index"] == 3)
    with pytest.raises(ZeroDivisionError):
        s.inpaint(img, mask, maps=lambda info, a: 1 / 0)
    assert s.inpaint(img, mask).shape == img.shape  # the session still works


def test_dump_gates_cli(tmp_path, model_path, pconv_path):
    cli = os.environ.get("GATEDINPAINT_CLI")
    if not cli:
        pytest.skip("GATEDINPAINT_CLI is not set (run through `meson test python`)")
    from PIL import Image
    img, mask = picture()
    Image.fromarray(img).save(tmp_path / "i.png")
    Image.fromarray(mask).save(tmp_path / "m.png")
    for path, kind, count in ((model_path, "gate", 40), (pconv_path, "mask", 8)):
        base = [cli, "--model", path, "--image", str(tmp_path / "i.png"), "--mask",
                str(tmp_path / "m.png"), "-q"]
        subprocess.run(base + ["--output", str(tmp_path / "a.png"), "--dump-gates",
                               str(tmp_path / kind)], check=True)
        subprocess.run(base + ["--output", str(tmp_path / "b.png"), "--strategy", "exact"],
                       check=True)
        assert np.array_equal(np.asarray(Image.open(tmp_path / "a.png")),
                              np.asarray(Image.open(tmp_path / "b.png")))
        rows = list(csv.DictReader(open(tmp_path / kind / "index.tsv"), delimiter="\t"))
        assert len(rows) == count and all(r["kind"] == kind for r in rows)
        for r in rows:  # gates vary everywhere; masks saturate to all-valid (white)
            grid = np.asarray(Image.open(tmp_path / kind / r["file"]))
            assert grid.ndim == 2, r["file"]
            assert grid.std() > 0 or (kind == "mask" and r["index"] != "0"), r["file"]
        assert (tmp_path / kind / "index.html").read_text().count("<img") == count
    r = subprocess.run([cli, "--image", str(tmp_path), "--mask", str(tmp_path / "m.png"),
                        "--output", str(tmp_path / "o"), "--dump-gates", str(tmp_path / "d")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "takes one image" in r.stderr
