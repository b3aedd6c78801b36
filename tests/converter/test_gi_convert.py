"""gi-convert end to end: synthetic DeepFill v2 checkpoints in both source
formats (PyTorch .pth written by torch, TF bundles from tfbundle_writer),
converted in a subprocess without torch, read back and compared."""

import os

import numpy as np
import pytest

from convert_testlib import GI_CONVERT
from gimodel import deepfill, gguf
from tfbundle_writer import write_bundle

OFFICIAL_URL = "https://github.com/JiahuiYu/generative_inpainting"


def random_weights(width, guide=0, seed=0):
    """GGUF name -> OIHW float32 array with distinct values."""
    rng = np.random.default_rng(seed)
    return {k: rng.standard_normal(s).astype(np.float32)
            for k, s in deepfill.expected_shapes(width, guide).items()}


def pth_key(name):
    layer, kind = name.rsplit(".", 1)
    nested = "conv." if layer.endswith("_upsample") else ""
    return "%s.conv.%s%s" % (layer, nested, kind)


def tf_key(name):
    layer, kind = name.rsplit(".", 1)
    kind = "kernel" if kind == "weight" else "bias"
    if layer.endswith("_upsample"):
        return "inpaint_net/%s/%s_conv/%s" % (layer, layer, kind)
    return "inpaint_net/%s/%s" % (layer, kind)


def save_pth(path, weights, wrap=True, dtype=None):
    torch = pytest.importorskip("torch", reason="torch writes the .pth test files")
    sd = {pth_key(k): torch.from_numpy(v) for k, v in weights.items()}
    if dtype is not None:
        sd = {k: v.to(dtype) for k, v in sd.items()}
    torch.save({"G": sd} if wrap else sd, str(path))
    return str(path)


def tf_tensors(weights, distractors=True):
    out = {tf_key(k): (v.transpose(2, 3, 1, 0) if v.ndim == 4 else v)  # OIHW -> HWIO
           for k, v in weights.items()}
    if distractors:  # what a training checkpoint also holds
        out["global_step"] = np.array(1000, np.int64)
        out["discriminator/sn_patch_gan/conv1/kernel"] = np.ones((5, 5, 5, 64), np.float32)
        out["inpaint_net/conv1/kernel/Adam"] = np.ones((5, 5, 5, 8), np.float32)
        out["inpaint_net/conv1/kernel/Adam_1"] = np.ones((5, 5, 5, 8), np.float32)
        out["inpaint_net/conv13_upsample/conv13_upsample_conv/bias/Adam"] = np.zeros(
            8, np.float32)
    return out


def convert(run_blocked, src, out, *extra, blocked=("torch",), check=True):
    return run_blocked([GI_CONVERT, str(src), "-o", str(out)] + list(extra),
                       blocked=blocked, check=check)


def assert_model(path, weights, dtype="f32"):
    kv, tensors = gguf.read_gguf(str(path))
    assert list(tensors) == list(weights)
    for name, want in weights.items():
        shape, got_dtype, data = tensors[name]
        assert shape == want.shape and got_dtype == dtype, name
        got = np.frombuffer(data, "<f4" if dtype == "f32" else "<f2").reshape(shape)
        np.testing.assert_array_equal(got, want.astype(got.dtype), err_msg=name)
    return kv


def test_pth_width8(tmp_path, run_blocked):
    w = random_weights(8, seed=1)
    src = save_pth(tmp_path / "states_small.pth", w)
    out = tmp_path / "small.gguf"
    proc = convert(run_blocked, src, out)
    assert "width 8" in proc.stdout
    kv = assert_model(out, w)
    assert kv["gatedinpaint.width"] == 8 and kv["gatedinpaint.guide_channels"] == 0
    assert kv["gatedinpaint.channel_order"] == "bgr"
    assert kv["general.license"] == "CC-BY-NC-4.0"
    assert kv["general.source_url"] == OFFICIAL_URL
    assert kv["general.name"] == "states_small"
    assert kv["gatedinpaint.converted_from"] == "pytorch checkpoint states_small.pth"


def test_pth_official_width(tmp_path, run_blocked):
    w = random_weights(48, seed=2)
    src = save_pth(tmp_path / "states_tf_places2.pth", w)
    out = tmp_path / "official.gguf"
    convert(run_blocked, src, out)
    kv = assert_model(out, w)
    assert kv["gatedinpaint.width"] == 48
    assert sum(v.size for v in w.values()) == 4052478


def test_pth_options_bare_f16_guide(tmp_path, run_blocked):
    torch = pytest.importorskip("torch")
    w = random_weights(12, guide=1, seed=3)
    src = save_pth(tmp_path / "bare.pt", w, wrap=False, dtype=torch.float16)
    out = tmp_path / "g.gguf"
    convert(run_blocked, src, out, "--channel-order", "rgb", "--name", "My model",
            "--license", "Apache-2.0", "--source-url", "", "--dtype", "f16")
    half = {k: v.astype(np.float16) for k, v in w.items()}
    kv = assert_model(out, half, dtype="f16")
    assert kv["gatedinpaint.guide_channels"] == 1 and kv["gatedinpaint.width"] == 12
    assert kv["gatedinpaint.channel_order"] == "rgb"
    assert kv["general.name"] == "My model" and kv["general.license"] == "Apache-2.0"
    assert "general.source_url" not in kv


def _hwio_check(path, w):
    """The file holds OIHW = HWIO.transpose(3, 2, 0, 1), not (3, 2, 1, 0)."""
    kv, tensors = gguf.read_gguf(str(path))
    hwio = tf_tensors(w, distractors=False)["inpaint_net/conv1/kernel"]
    got = np.frombuffer(tensors["conv1.weight"][2], "<f4").reshape(tensors["conv1.weight"][0])
    np.testing.assert_array_equal(got, hwio.transpose(3, 2, 0, 1))
    assert not np.array_equal(got, hwio.transpose(3, 2, 1, 0))
    assert got[2, 1, 0, 4] == hwio[0, 4, 1, 2]  # W[o][i][y][x] = K[y][x][i][o]
    return kv


@pytest.mark.parametrize("how", ["dir_checkpoint_txt", "index", "prefix", "data_file"])
def test_tf_width8(tmp_path, run_blocked, how):
    w = random_weights(8, seed=4)
    ckpt = tmp_path / "release_places2_256"
    ckpt.mkdir()
    write_bundle(str(ckpt / "snap-0"), tf_tensors(w))
    (ckpt / "checkpoint.txt").write_text('model_checkpoint_path: "snap-0"\n'
                                         'all_model_checkpoint_paths: "snap-0"\n')
    src = {"dir_checkpoint_txt": ckpt, "index": ckpt / "snap-0.index",
           "prefix": ckpt / "snap-0", "data_file": ckpt / "snap-0.data-00000-of-00001"}[how]
    out = tmp_path / "tf.gguf"
    convert(run_blocked, src, out)
    kv = assert_model(out, w)
    _hwio_check(out, w)
    assert kv["general.name"] == "release_places2_256"
    assert kv["gatedinpaint.converted_from"] == "tensorflow checkpoint snap-0"


def test_without_numpy_same_bytes(tmp_path, run_blocked):
    w = random_weights(8, seed=5)
    write_bundle(str(tmp_path / "snap-0"), tf_tensors(w))
    pth_src = save_pth(tmp_path / "s.pth", w)
    for src in (tmp_path / "snap-0", pth_src):
        with_np, without_np = tmp_path / "np.gguf", tmp_path / "nonp.gguf"
        convert(run_blocked, src, with_np, "--name", "x")
        convert(run_blocked, src, without_np, "--name", "x", blocked=("torch", "numpy"))
        assert with_np.read_bytes() == without_np.read_bytes()
    _hwio_check(without_np, w)


def expect_error(run_blocked, src, out, pattern, *extra):
    proc = convert(run_blocked, src, out, *extra, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gi-convert: error: "), proc.stderr
    assert pattern in lines[0], lines[0]
    assert not os.path.exists(out)


def test_pth_errors(tmp_path, run_blocked):
    torch = pytest.importorskip("torch")
    w = random_weights(8, seed=6)
    out = tmp_path / "out.gguf"
    missing = dict(w)
    del missing["conv13_upsample.bias"]
    expect_error(run_blocked, save_pth(tmp_path / "m.pth", missing), out,
                 "missing tensor conv13_upsample.conv.conv.bias (expected shape (16,))")
    bad = dict(w, **{"xconv3.weight": np.zeros((16, 4, 3, 1), np.float32)})
    expect_error(run_blocked, save_pth(tmp_path / "b.pth", bad), out,
                 "tensor xconv3.weight (xconv3.conv.weight) has shape (16, 4, 3, 1), "
                 "expected (16, 4, 3, 3)")
    sd = {pth_key(k): torch.from_numpy(v) for k, v in w.items()}
    sd["extra.conv.weight"] = torch.zeros(2)
    torch.save(sd, str(tmp_path / "e.pth"))
    expect_error(run_blocked, tmp_path / "e.pth", out,
                 "unexpected tensor extra.conv.weight [2]")
    torch.save({"stage1.conv1.conv.weight": torch.zeros(1)}, str(tmp_path / "s.pth"))
    expect_error(run_blocked, tmp_path / "s.pth", out, "networks.py")
    nan = dict(w)
    nan["allconv16.weight"] = w["allconv16.weight"].copy()
    nan["allconv16.weight"][0, 0, 0, 0] = np.nan
    expect_error(run_blocked, save_pth(tmp_path / "n.pth", nan), out,
                 "allconv16.weight: element 0 is nan")
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    expect_error(run_blocked, tmp_path / "junk.pth", out, "not a PyTorch checkpoint")
    expect_error(run_blocked, tmp_path / "absent.pth", out, "no such file")


def test_tf_errors(tmp_path, run_blocked):
    w = random_weights(8, seed=7)
    out = tmp_path / "out.gguf"
    t = tf_tensors(w)
    t["inpaint_net/conv5/kernel"] = t["inpaint_net/conv5/kernel"][:, :, :, :8]
    write_bundle(str(tmp_path / "shape"), t)
    expect_error(run_blocked, tmp_path / "shape", out,
                 "tensor conv5.weight (inpaint_net/conv5/kernel, HWIO [3, 3, 16, 8]) has "
                 "shape (8, 16, 3, 3), expected (32, 16, 3, 3)")
    t = tf_tensors(w)
    del t["inpaint_net/allconv15_upsample/allconv15_upsample_conv/kernel"]
    write_bundle(str(tmp_path / "missing"), t)
    expect_error(run_blocked, tmp_path / "missing", out,
                 "missing tensor inpaint_net/allconv15_upsample/allconv15_upsample_conv/kernel")
    t = dict(tf_tensors(w), **{"inpaint_net/pmconv7/kernel": np.zeros((3, 3, 8, 16),
                                                                      np.float32)})
    write_bundle(str(tmp_path / "extra"), t)
    expect_error(run_blocked, tmp_path / "extra", out,
                 "unexpected tensor inpaint_net/pmconv7/kernel [3, 3, 8, 16]")
    # A flipped byte in a generator tensor's data fails its crc32c.
    write_bundle(str(tmp_path / "bad"), tf_tensors(w, distractors=False))
    data_file = tmp_path / "bad.data-00000-of-00001"
    raw = bytearray(data_file.read_bytes())
    raw[len(raw) // 2] ^= 0x80
    data_file.write_bytes(bytes(raw))
    expect_error(run_blocked, tmp_path / "bad", out, "crc32c mismatch")
    empty = tmp_path / "emptydir"
    empty.mkdir()
    expect_error(run_blocked, empty, out, "no 'checkpoint' file and 0 .index files")


def test_help(run_blocked):
    proc = run_blocked([GI_CONVERT, "--help"])
    for word in ("--channel-order", "--dtype", "--license", "--source-url", "checkpoint"):
        assert word in proc.stdout
