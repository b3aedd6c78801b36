"""gi-convert on PConv U-Net checkpoints in the layout of
naoto0804/pytorch-inpainting-with-partial-conv's training script ({'n_iter', 'model',
'optimizer'}, keys enc_N.conv.input_conv.weight, its first version's conv2d / mask2d
names too), written by torch in both file formats and converted without torch. The
engine side of the converted file is checked in tests/parity/test_pconv_parity.py."""

import os

import numpy as np
import pytest

import test_gi_convert
from test_gi_convert import convert
from gimodel import gguf, pconv

PCONV_URL = "https://github.com/naoto0804/pytorch-inpainting-with-partial-conv"


def our_weights(width, depth, seed=0, all_biases=False):
    rng = np.random.default_rng(seed)
    required, optional = pconv.expected_shapes(width, depth)
    w = {k: rng.standard_normal(s).astype(np.float32) for k, s in required.items()}
    for k, s in optional.items():
        if all_biases or k.startswith("dec_1."):
            w[k] = rng.standard_normal(s).astype(np.float32)
    for k in w:
        if k.endswith("running_var"):
            w[k] = np.abs(w[k]) + 0.1
    return w


def checkpoint(path, weights, *, legacy=False, old_names=False, mask_value=1.0):
    """Save our weights under net.py's keys, with the mask convolutions, BatchNorm's
    counters and an optimiser state beside them, as its training script does."""
    torch = pytest.importorskip("torch", reason="torch writes the .pth test files")
    conv, mask = ("conv2d", "mask2d") if old_names else ("input_conv", "mask_conv")
    sd = {}
    for name, v in weights.items():
        layer, kind = name.split(".", 1)
        if kind.startswith("conv."):
            sd["%s.conv.%s.%s" % (layer, conv, kind[5:])] = torch.from_numpy(v)
            if kind == "conv.weight":
                sd["%s.conv.%s.weight" % (layer, mask)] = torch.full(v.shape, mask_value)
        else:
            sd[name] = torch.from_numpy(v)
            if kind == "bn.running_var":
                sd[layer + ".bn.num_batches_tracked"] = torch.tensor(1000)
    ckpt = {"n_iter": 1000, "model": sd,
            "optimizer": {"state": {}, "param_groups": [{"lr": 2e-4, "params": [0, 1]}]}}
    torch.save(ckpt, str(path), _use_new_zipfile_serialization=not legacy)
    return str(path)


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_pconv_checkpoint(tmp_path, run_blocked, legacy):
    w = our_weights(8, 5, seed=1)
    src = checkpoint(tmp_path / "pconv.pth", w, legacy=legacy)
    out = tmp_path / "pconv.gguf"
    proc = convert(run_blocked, src, out, "--license", "MIT")
    assert "pconv_unet, width 8, layer_size 5" in proc.stdout
    kv, tensors = gguf.read_gguf(str(out))
    assert kv["gatedinpaint.family"] == "pconv_unet"
    assert kv["gatedinpaint.pconv.layer_size"] == 5 and kv["gatedinpaint.width"] == 8
    assert kv["gatedinpaint.channel_order"] == "rgb"
    assert kv["general.license"] == "MIT" and kv["general.source_url"] == PCONV_URL
    assert set(tensors) == set(w)
    for name, want in w.items():
        shape, dtype, data = tensors[name]
        np.testing.assert_array_equal(np.frombuffer(data, "<f4").reshape(shape), want,
                                      err_msg=name)


def test_pconv_first_version_names_f16(tmp_path, run_blocked):
    w = our_weights(4, 4, seed=2, all_biases=True)
    src = checkpoint(tmp_path / "old.pth", w, old_names=True)
    out = tmp_path / "old.gguf"
    convert(run_blocked, src, out, "--license", "MIT", "--dtype", "f16")
    kv, tensors = gguf.read_gguf(str(out))
    assert len(tensors) == len(w) and tensors["enc_2.conv.bias"][1] == "f16"


def expect_error(run_blocked, src, out, pattern):
    test_gi_convert.expect_error(run_blocked, src, out, pattern, "--license", "MIT")


def test_pconv_errors(tmp_path, run_blocked):
    torch = pytest.importorskip("torch")
    w = our_weights(8, 4, seed=3)
    out = tmp_path / "out.gguf"
    src = checkpoint(tmp_path / "p.pth", w)
    proc = convert(run_blocked, src, out, check=False)  # no --license
    assert proc.returncode == 1 and "--license" in proc.stderr
    missing = dict(w)
    del missing["dec_3.bn.running_mean"]
    expect_error(run_blocked, checkpoint(tmp_path / "m.pth", missing), out,
                 "missing tensor dec_3.bn.running_mean")
    bad = dict(w, **{"enc_3.conv.weight": np.zeros((32, 16, 3, 3), np.float32)})
    expect_error(run_blocked, checkpoint(tmp_path / "b.pth", bad), out,
                 "tensor enc_3.conv.input_conv.weight has shape (32, 16, 3, 3), "
                 "expected (32, 16, 5, 5)")
    expect_error(run_blocked, checkpoint(tmp_path / "k.pth", w, mask_value=0.5), out,
                 "enc_1.conv.mask_conv.weight is not all 1")
    sd = {"enc_1.conv.input_conv.weight": torch.zeros(8, 3, 7, 7), "enc_1.extra": torch.zeros(1)}
    torch.save({"model": sd}, str(tmp_path / "e.pth"))
    expect_error(run_blocked, tmp_path / "e.pth", out, "unexpected tensor enc_1.extra [1]")


def test_converted_checkpoint_runs(tmp_path, run_blocked):
    """A converted checkpoint of the reference's random weights in the library equals
    the reference (the converter keeps every number where the engine expects it)."""
    lib = os.environ.get("GATEDINPAINT_LIBRARY")
    if not lib:
        pytest.skip("GATEDINPAINT_LIBRARY is not set (run through `meson test converter`)")
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bindings",
                                    "python"))
    import gatedinpaint as gi
    from gimodel import pconv_torch as ref
    sd = ref.random_state_dict(8, 4, seed=7)
    src = checkpoint(tmp_path / "r.pth", {k: v.numpy() for k, v in sd.items()})
    convert(run_blocked, src, tmp_path / "r.gguf", "--license", "Apache-2.0")
    rng = np.random.default_rng(7)
    img = np.repeat(np.repeat(rng.integers(0, 256, (12, 15, 3), dtype=np.uint8), 4, 0), 4, 1)
    hole = np.zeros(img.shape[:2], bool)
    hole[10:30, 12:40] = True
    want = ref.inpaint(sd, img, hole, 8, 4)
    got = gi.Session(gi.Model.from_file(str(tmp_path / "r.gguf")), threads=1,
                     strategy="exact").inpaint(img, (hole * 255).astype(np.uint8))
    assert np.array_equal(got[~hole], img[~hole])
    assert (np.abs(got.astype(int) - want.astype(int))[hole] <= 1).mean() >= 0.999
