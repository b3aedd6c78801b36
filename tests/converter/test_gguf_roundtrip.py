"""GGUF writer/reader: round trips, layout details of docs/MODEL_FORMAT.md, and
the writer's refusal of anything the C loader would reject."""

import json
import math
import os
import struct

import numpy as np
import pytest

from gimodel import deepfill, gguf


def random_weights(width, guide=0, seed=0):
    rng = np.random.default_rng(seed)
    return {k: rng.standard_normal(s).astype(np.float32)
            for k, s in deepfill.expected_shapes(width, guide).items()}


def write(path, tensors, **kw):
    args = dict(width=8, channel_order="bgr", name="test", license="CC-BY-NC-4.0")
    args.update(kw)
    gguf.write_model(str(path), tensors, **args)
    return str(path)


def test_architecture_table_matches_reference():
    # The table parsed from lib/families/deepfill_v2_layers.def against
    # docs/DEEPFILL_V2.md 2.3: 42 layers, 84 tensors, 4 052 478 parameters
    # at width 48 (4 053 678 with a guide channel).
    assert os.path.basename(deepfill.DEF_PATH) == "deepfill_v2_layers.def"
    shapes = deepfill.expected_shapes(48)
    assert len(deepfill.layers(48)) == 42 and len(shapes) == 84
    assert sum(math.prod(s) for s in shapes.values()) == 4052478
    assert sum(math.prod(s) for s in deepfill.expected_shapes(48, 1).values()) == 4053678
    assert shapes["conv1.weight"] == (48, 5, 5, 5)
    assert shapes["pmconv4_downsample.weight"] == (192, 48, 3, 3)
    assert shapes["allconv11.weight"] == (192, 192, 3, 3)
    assert shapes["allconv17.bias"] == (3,)
    assert deepfill.expected_shapes(8, 1)["conv1.weight"] == (8, 6, 5, 5)
    by = {layer.name: layer for layer in deepfill.layers(48)}
    assert by["pmconv6"].act == deepfill.RELU and by["conv17"].act == deepfill.TANH
    assert (by["conv10_atrous"].dilation, by["conv2_downsample"].stride) == (16, 2)
    assert [n for n in deepfill.LAYER_NAMES if by[n].upsample] == [
        "conv13_upsample", "conv15_upsample", "allconv13_upsample", "allconv15_upsample"]


def _def_text():
    with open(deepfill.DEF_PATH) as f:
        return f.read()


def test_layer_table_parser_rejects_bad_files(tmp_path):
    text = _def_text()
    assert deepfill.parse_layer_table(text) == deepfill._TABLE
    bad = {
        "LAYER(conv3, 4, 8, 3, 1, 1, ELU, 0)": "LAYER(conv3, 4, 8, 3, 1, ELU, 0)",
        "LAYER(conv3, 4, 8, 3, 1, 1, ELU, 0)": "LAYER(conv3, 4, 8, 3, 1, 1, SELU, 0)",
        "LAYER(conv16, 2, 2, 3, 1, 1, ELU, 0)": "LAYER(conv16, 2, 2, 3, 1, 1, ELU, 0) x",
    }
    for old, new in bad.items():
        assert old in text
        with pytest.raises(deepfill.LayerTableError, match=r"t\.def:\d+: not a LAYER"):
            deepfill.parse_layer_table(text.replace(old, new), "t.def")
    with pytest.raises(deepfill.LayerTableError, match="41 LAYER lines"):
        deepfill.parse_layer_table(text.replace("LAYER(conv3, 4, 8, 3, 1, 1, ELU, 0)", ""))
    with pytest.raises(deepfill.LayerTableError, match="41 distinct names"):
        deepfill.parse_layer_table(text.replace("LAYER(conv3,", "LAYER(conv5,"))
    missing = [str(tmp_path / "a.def"), str(tmp_path / "b.def")]
    with pytest.raises(deepfill.LayerTableError, match="missing .*a.def, .*b.def"):
        deepfill.load_layer_table(missing)
    (tmp_path / "b.def").write_text(text)
    assert deepfill.load_layer_table(missing) == (missing[1], deepfill._TABLE)


@pytest.mark.parametrize("dtype", ["f32", "f16"])
def test_round_trip(tmp_path, dtype):
    w = random_weights(8, seed=1)
    path = write(tmp_path / "m.gguf", w, dtype=dtype, source_url="https://example.org/x",
                 extra_kv={"gatedinpaint.note": "hello", "train.steps": 123456,
                           "train.offset": -5, "train.lr": 1e-4, "train.flag": False})
    kv, tensors = gguf.read_gguf(path)
    assert kv["general.architecture"] == "gatedinpaint"
    assert kv["general.alignment"] == 64
    assert kv["general.name"] == "test"
    assert kv["general.license"] == "CC-BY-NC-4.0"
    assert kv["general.source_url"] == "https://example.org/x"
    assert kv["gatedinpaint.family"] == "deepfill_v2"
    assert kv["gatedinpaint.arch_version"] == 1
    assert kv["gatedinpaint.width"] == 8
    assert kv["gatedinpaint.guide_channels"] == 0
    assert kv["gatedinpaint.channel_order"] == "bgr"
    assert kv["gatedinpaint.attention.fuse"] is True
    assert kv["gatedinpaint.attention.softmax_scale"] == 10.0
    assert kv["gatedinpaint.note"] == "hello"
    assert kv["train.steps"] == 123456 and kv["train.offset"] == -5
    assert kv["train.lr"] == 1e-4 and kv["train.flag"] is False
    assert list(tensors) == list(deepfill.expected_shapes(8))  # architecture order
    for name, arr in w.items():
        shape, got_dtype, data = tensors[name]
        assert shape == arr.shape and got_dtype == dtype
        got = np.frombuffer(data, "<f4" if dtype == "f32" else "<f2").reshape(shape)
        want = arr if dtype == "f32" else arr.astype(np.float16)
        np.testing.assert_array_equal(got, want)


def test_key_types_and_layout(tmp_path):
    path = write(tmp_path / "m.gguf", random_weights(8), fuse=False, softmax_scale=5)
    raw = open(path, "rb").read()
    assert raw[:4] == b"GGUF"
    assert struct.unpack_from("<IQQ", raw, 4) == (3, 84, 11)  # no source_url given
    g = gguf.parse_gguf(raw)
    t = g.kv_types
    assert t["general.architecture"] == gguf.T_STRING
    assert t["general.alignment"] == gguf.T_U32
    assert t["gatedinpaint.width"] == gguf.T_U32
    assert t["gatedinpaint.guide_channels"] == gguf.T_U32
    assert t["gatedinpaint.arch_version"] == gguf.T_U32
    assert t["gatedinpaint.attention.fuse"] == gguf.T_BOOL
    assert t["gatedinpaint.attention.softmax_scale"] == gguf.T_F32
    assert g.kv["gatedinpaint.attention.fuse"] is False
    assert g.kv["gatedinpaint.attention.softmax_scale"] == 5.0
    assert "general.source_url" not in g.kv
    assert g.data_start % 64 == 0
    infos = {i.name: i for i in g.tensors}
    # ggml order: innermost dimension first.
    assert infos["conv2_downsample.weight"].dims == (3, 3, 4, 16)
    assert infos["conv1.weight"].dims == (5, 5, 5, 8)
    assert infos["conv1.bias"].dims == (8,)
    offsets = [i.offset for i in g.tensors]
    assert offsets[0] == 0 and all(o % 64 == 0 for o in offsets)
    assert offsets == sorted(offsets)
    # Data is C-order OIHW: element [o][i][y][x] at ((o*I + i)*kh + y)*kw + x.
    w = random_weights(8)
    info = infos["conv1.weight"]
    o, i, y, x = 3, 2, 1, 4
    pos = g.data_start + info.offset + 4 * (((o * 5 + i) * 5 + y) * 5 + x)
    assert struct.unpack_from("<f", raw, pos)[0] == w["conv1.weight"][o, i, y, x]


def test_bytes_pairs_and_any_float_dtype(tmp_path):
    w = random_weights(8, seed=2)
    mixed = {}
    for k, v in w.items():
        if k.endswith(".bias"):
            mixed[k] = (v.shape, v.astype("<f4").tobytes())
        else:
            mixed[k] = v.astype(np.float64)
    a = write(tmp_path / "a.gguf", w)
    b = write(tmp_path / "b.gguf", mixed)
    assert open(a, "rb").read() == open(b, "rb").read()


def test_guide_channel(tmp_path):
    path = write(tmp_path / "g.gguf", random_weights(12, guide=1), width=12, guide_channels=1,
                 channel_order="rgb")
    kv, tensors = gguf.read_gguf(path)
    assert kv["gatedinpaint.guide_channels"] == 1 and kv["gatedinpaint.width"] == 12
    assert kv["gatedinpaint.channel_order"] == "rgb"
    assert tensors["conv1.weight"][0] == (12, 6, 5, 5)


def test_writer_without_numpy(tmp_path, run_blocked):
    """(shape, bytes) pairs work with numpy unimportable, bit-identical output,
    for both storage types."""
    w = random_weights(8, seed=3)
    pairs = tmp_path / "pairs.json"
    pairs.write_text(json.dumps({k: (v.shape, v.tobytes().hex()) for k, v in w.items()}))
    for dtype in ("f32", "f16"):
        want = write(tmp_path / ("np_%s.gguf" % dtype), w, dtype=dtype)
        got = str(tmp_path / ("nonp_%s.gguf" % dtype))
        code = ("import json, sys; from gimodel import gguf\n"
                "pairs = json.load(open(%r))\n"
                "gguf.write_model(%r, {k: (s, bytes.fromhex(d)) for k, (s, d) in "
                "pairs.items()}, width=8, channel_order='bgr', name='test', "
                "license='CC-BY-NC-4.0', dtype=%r)\n"
                "kv, t = gguf.read_gguf(%r); assert len(t) == 84\n"
                "assert 'numpy' not in sys.modules\n" % (str(pairs), got, dtype, got))
        run_blocked(code, blocked=("torch", "numpy"))
        assert open(got, "rb").read() == open(want, "rb").read()


def test_rejects_wrong_tensor_sets(tmp_path):
    w = random_weights(8)
    out = tmp_path / "bad.gguf"
    missing = dict(w)
    del missing["pmconv9.bias"]
    with pytest.raises(ValueError, match=r"missing tensor pmconv9\.bias"):
        write(out, missing)
    extra = dict(w, **{"pmconv7.weight": np.zeros((1,), np.float32)})
    with pytest.raises(ValueError, match=r"unexpected tensor pmconv7\.weight"):
        write(out, extra)
    bad = dict(w, **{"conv3.weight": np.zeros((16, 8, 3, 2), np.float32)})
    with pytest.raises(ValueError, match=r"conv3\.weight has shape \(16, 8, 3, 2\), "
                                         r"expected \(16, 8, 3, 3\)"):
        write(out, bad)
    with pytest.raises(ValueError, match="width 12"):
        write(out, w, width=12)  # tensors are for width 8
    assert not out.exists()


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_rejects_non_finite(tmp_path, value):
    w = random_weights(8)
    w["xconv5.weight"][1, 2, 0, 1] = value
    with pytest.raises(ValueError, match=r"xconv5\.weight: element .* NaN and Inf"):
        write(tmp_path / "bad.gguf", w)


def test_rejects_f16_overflow(tmp_path):
    w = random_weights(8)
    w["conv4_downsample.bias"][0] = 70000.0
    write(tmp_path / "ok.gguf", w)  # fine in f32
    with pytest.raises(ValueError, match=r"conv4_downsample\.bias.*float16 range"):
        write(tmp_path / "bad.gguf", w, dtype="f16")


def test_input_fill_is_written_with_arch_version_2(tmp_path):
    g = gguf.parse_gguf(open(write(tmp_path / "z.gguf", random_weights(8)), "rb").read())
    assert g.kv["gatedinpaint.arch_version"] == 1 and "gatedinpaint.input_fill" not in g.kv
    path = write(tmp_path / "p.gguf", random_weights(8), input_fill="pushpull")
    g = gguf.parse_gguf(open(path, "rb").read())
    assert g.kv["gatedinpaint.arch_version"] == 2
    assert g.kv["gatedinpaint.input_fill"] == "pushpull"
    assert "gatedinpaint.residual" not in g.kv
    g = gguf.parse_gguf(open(write(tmp_path / "r.gguf", random_weights(8), residual=True),
                             "rb").read())
    assert g.kv["gatedinpaint.arch_version"] == 2 and g.kv["gatedinpaint.residual"] is True
    path = write(tmp_path / "gp.gguf", random_weights(8, 1), guide_channels=1,
                 input_fill="guided_pushpull")
    g = gguf.parse_gguf(open(path, "rb").read())
    assert g.kv["gatedinpaint.arch_version"] == 2
    assert g.kv["gatedinpaint.input_fill"] == "guided_pushpull"


def test_working_size_is_written_when_given(tmp_path):
    g = gguf.parse_gguf(open(write(tmp_path / "n.gguf", random_weights(8)), "rb").read())
    assert "gatedinpaint.working_size" not in g.kv
    path = write(tmp_path / "w.gguf", random_weights(8), working_size=256)
    g = gguf.parse_gguf(open(path, "rb").read())
    assert g.kv["gatedinpaint.working_size"] == 256
    assert g.kv["gatedinpaint.arch_version"] == 1  # no change to the network


@pytest.mark.parametrize("kw,msg", [
    (dict(width=10), "multiple of 4"),
    (dict(width=0), "multiple of 4"),
    (dict(guide_channels=2), "guide_channels"),
    (dict(channel_order="RGB"), "channel_order"),
    (dict(name=""), "name"),
    (dict(license=" "), "license"),
    (dict(dtype="bf16"), "dtype"),
    (dict(softmax_scale=float("nan")), "softmax_scale"),
    (dict(fuse=1), "fuse"),
    (dict(input_fill="median"), "input_fill"),
    (dict(input_fill="guided_pushpull"), "needs a guide channel"),
    (dict(residual=1), "residual"),
    (dict(working_size=63), "working_size"),
    (dict(working_size=True), "working_size"),
    (dict(extra_kv={"gatedinpaint.working_size": 256}), "working_size"),
    (dict(extra_kv={"gatedinpaint.input_fill": "pushpull"}), "input_fill"),
    (dict(extra_kv={"general.name": "x"}), "general.name"),
    (dict(extra_kv={"x": [1, 2]}), "values must be"),
    (dict(extra_kv={"x": 2 ** 70}), "64 bits"),
])
def test_rejects_bad_arguments(tmp_path, kw, msg):
    with pytest.raises(ValueError, match=msg):
        write(tmp_path / "bad.gguf", random_weights(8), **kw)


def test_reader_rejects_malformed(tmp_path):
    raw = bytearray(open(write(tmp_path / "m.gguf", random_weights(8)), "rb").read())
    with pytest.raises(gguf.GGUFError, match="magic"):
        gguf.parse_gguf(b"GGUX" + raw[4:])
    with pytest.raises(gguf.GGUFError, match="version 2"):
        gguf.parse_gguf(raw[:4] + struct.pack("<I", 2) + raw[8:])
    with pytest.raises(gguf.GGUFError, match="past the end"):
        gguf.parse_gguf(raw[:-200])
    with pytest.raises(gguf.GGUFError, match="truncated"):
        gguf.parse_gguf(raw[:2000])
    with pytest.raises(gguf.GGUFError, match="count exceeds"):
        gguf.parse_gguf(raw[:100])


def test_low_level_writer_alignment(tmp_path):
    path = str(tmp_path / "low.gguf")
    data = struct.pack("<3f", 1, 2, 3)
    gguf.write_gguf(path, [("general.alignment", gguf.T_U32, 32),
                           ("a.list", gguf.T_ARRAY, (gguf.T_I32, [1, -2, 3]))],
                    [("t0", (3,), gguf.GGML_F32, data), ("t1", (1, 3), gguf.GGML_F32, data)],
                    alignment=32)
    g = gguf.parse_gguf(open(path, "rb").read())
    assert g.alignment == 32 and g.data_start % 32 == 0
    assert [t.offset for t in g.tensors] == [0, 32]
    assert g.kv["a.list"] == [1, -2, 3]
    kv, tensors = gguf.read_gguf(path)
    assert tensors["t1"] == ((1, 3), "f32", data)


def test_with_kv_replaces_values_and_keeps_the_rest(tmp_path):
    src = write(tmp_path / "a.gguf", random_weights(8, guide=1), guide_channels=1,
                input_fill="guided_pushpull", dtype="f16")
    gguf.with_kv(src, str(tmp_path / "b.gguf"), {"gatedinpaint.input_fill": "ring_warp",
                                                 "gatedinpaint.width": 8})
    (ka, ta), (kb, tb) = gguf.read_gguf(src), gguf.read_gguf(str(tmp_path / "b.gguf"))
    assert kb["gatedinpaint.input_fill"] == "ring_warp"
    assert list(ka) == list(kb) and all(ka[k] == kb[k] for k in ka
                                        if k != "gatedinpaint.input_fill")
    assert ta == tb and all(t[1] == "f16" for t in tb.values())  # tensors byte for byte
    types = gguf.parse_gguf(open(tmp_path / "b.gguf", "rb").read()).kv_types
    assert types == gguf.parse_gguf(open(src, "rb").read()).kv_types
    with pytest.raises(gguf.GGUFError, match="no key"):
        gguf.with_kv(src, str(tmp_path / "c.gguf"), {"gatedinpaint.nothere": 1})
