"""Self-tests of the PyTorch reference (tools/gimodel/deepfill_torch.py) against literal
loop versions of docs/DEEPFILL_V2.md and against its own float64 evaluation."""
import math
import os
import sys

import numpy as np
import pytest
import torch

_TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools")
sys.path.insert(0, _TOOLS)
from gimodel import deepfill_torch as ref  # noqa: E402

torch.set_num_threads(1)


def test_layer_table_official_size():
    specs = ref.layer_specs(48)
    assert len(specs) == 42
    params = sum(s.cconv * s.cin * s.k * s.k + s.cconv for s in specs)
    assert params == 4052478  # doc 2.3
    assert sum(s.cconv * s.cin * s.k * s.k + s.cconv
               for s in ref.layer_specs(48, 1)) == 4053678
    by = {s.name: s for s in specs}
    assert (by["pmconv4_downsample"].cin, by["pmconv4_downsample"].cconv) == (48, 192)
    assert (by["xconv4_downsample"].cin, by["xconv4_downsample"].cconv) == (48, 96)
    assert (by["allconv11"].cin, by["conv17"].cin, by["conv17"].cconv) == (192, 12, 3)
    assert by["pmconv6"].act == "relu" and by["conv10_atrous"].dil == 16


def test_tf_same_pads_table():
    # doc 2.1: stride-2 layers pad bottom/right only; stride-1 pads are symmetric
    for n in (8, 16, 34, 64):
        assert ref.tf_same_pads(n, 3, 2, 1) == (0, 1)
        assert ref.tf_same_pads(n, 5, 1, 1) == (2, 2)
        for r in (1, 2, 4, 8, 16):
            assert ref.tf_same_pads(n, 3, 1, r) == (r, r)


def test_nn_index_rule():
    # doc 4.2: h = 64 -> 32 samples 0,2,...,30 then 33,35,...,63
    assert list(ref.nn_index(64, 32)) == list(range(0, 32, 2)) + list(range(33, 64, 2))
    # x2 upsampling with align corners is pixel replication (doc 2.2)
    for n in range(1, 300):
        assert list(ref.nn_index(n, 2 * n)) == [i // 2 for i in range(2 * n)]
    # exact ties round away from zero: 9/4 = 2.25, 2 * 2.25 = 4.5 -> 5
    assert list(ref.nn_index(10, 5)) == [0, 2, 5, 7, 9]


def test_two_step_mask_resize_differs_from_one_step():
    # doc 4.2: H -> H/4 -> H/8 is not H -> H/8
    two = ref.nn_index(256, 64)[ref.nn_index(64, 32)]
    one = ref.nn_index(256, 32)
    assert (two != one).sum() == 24


def _naive_gated_conv(x, w, b, k, stride, dil, pads, act, up):
    """Direct loops; pads = (top, left) from the doc's table, zeros outside."""
    if up:
        x = x.repeat(2, axis=1).repeat(2, axis=2)
    cin, h, wd = x.shape
    oh, ow = -(-h // stride), -(-wd // stride)
    y = np.zeros((w.shape[0], oh, ow))
    for o in range(w.shape[0]):
        for oy in range(oh):
            for ox in range(ow):
                acc = b[o]
                for ky in range(k):
                    iy = oy * stride + ky * dil - pads[0]
                    if not 0 <= iy < h:
                        continue
                    for kx in range(k):
                        ix = ox * stride + kx * dil - pads[1]
                        if 0 <= ix < wd:
                            acc += float(np.dot(w[o, :, ky, kx], x[:, iy, ix]))
                y[o, oy, ox] = acc
    if act == "tanh":
        return np.tanh(y)
    half = w.shape[0] // 2
    feat, gate = y[:half], y[half:]
    feat = np.maximum(feat, 0) if act == "relu" else np.where(feat > 0, feat, np.expm1(feat))
    return feat / (1 + np.exp(-gate))


@pytest.mark.parametrize("name,pads", [
    ("conv1", (2, 2)), ("conv2_downsample", (0, 0)), ("conv8_atrous", (4, 4)),
    ("conv13_upsample", (1, 1)), ("pmconv6", (1, 1)), ("conv17", (1, 1))])
def test_gated_conv_against_loops(name, pads):
    layer = {s.name: s for s in ref.layer_specs(8)}[name]
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, (layer.cin, 6, 10))
    w = rng.normal(0, 0.3, (layer.cconv, layer.cin, layer.k, layer.k))
    b = rng.normal(0, 0.1, layer.cconv)
    got = ref.gated_conv(torch.from_numpy(x)[None], torch.from_numpy(w), torch.from_numpy(b), layer)
    want = _naive_gated_conv(x, w, b, layer.k, layer.stride, layer.dil, pads, layer.act, layer.up)
    np.testing.assert_allclose(got[0].numpy(), want, atol=1e-12)


def test_symmetric_stride2_pitfall_shifts_the_grid():
    layer = {s.name: s for s in ref.layer_specs(8)}["conv2_downsample"]
    rng = np.random.default_rng(2)
    x = torch.from_numpy(rng.normal(0, 1, (1, layer.cin, 8, 8)))
    w = torch.from_numpy(rng.normal(0, 0.3, (layer.cconv, layer.cin, 3, 3)))
    b = torch.zeros(layer.cconv, dtype=torch.float64)
    a = ref.gated_conv(x, w, b, layer)
    s = ref.gated_conv(x, w, b, layer, symmetric_stride2=True)
    assert a.shape == s.shape and (a - s).abs().max() > 0.1


def _tf_nn(n_in, n_out):
    scale = np.float32(n_in - 1) / np.float32(n_out - 1)
    return [min(int(math.floor(float(np.float32(i) * scale) + 0.5)), n_in - 1)
            for i in range(n_out)]


def _ca_loops(f, mask, fuse, scale):
    """Doc 4.1 steps 1-8, literally, in float64 Python loops (f = b)."""
    c, h, w = f.shape
    hh, ww = h // 2, w // 2
    n = hh * ww

    def at(a, y, x):
        return a[:, y, x] if 0 <= y < a.shape[1] and 0 <= x < a.shape[2] else np.zeros(a.shape[0])

    ri, ci = _tf_nn(h, hh), _tf_nn(w, ww)
    fd = f[:, ri][:, :, ci]
    raw = np.zeros((n, c, 4, 4))
    wm = np.zeros((n, c, 3, 3))
    for by in range(hh):
        for bx in range(ww):
            for ky in range(4):
                for kx in range(4):
                    raw[by * ww + bx, :, ky, kx] = at(f, 2 * by - 1 + ky, 2 * bx - 1 + kx)
            for ky in range(3):
                for kx in range(3):
                    wm[by * ww + bx, :, ky, kx] = at(fd, by - 1 + ky, bx - 1 + kx)
    wn = wm / np.maximum(np.sqrt((wm ** 2).sum(axis=(1, 2, 3))), 1e-4)[:, None, None, None]
    m8 = mask[_tf_nn(mask.shape[0], hh)][:, _tf_nn(mask.shape[1], ww)][None]
    mm = np.array([all(at(m8, q // ww - 1 + ky, q % ww - 1 + kx)[0] == 0
                       for ky in range(3) for kx in range(3)) for q in range(n)], float)
    s = np.array([[(wm[p] * wn[q]).sum() for q in range(n)] for p in range(n)])
    if fuse:
        def diag(a, idx):  # idx maps a flattened position to a row-major one
            out = np.zeros_like(a)
            for p in range(n):
                for q in range(n):
                    for d in (-1, 0, 1):
                        if 0 <= p + d < n and 0 <= q + d < n:
                            out[idx(p), idx(q)] += a[idx(p + d), idx(q + d)]
            return out
        s = diag(s, lambda i: i)
        s = diag(s, lambda i: (i % hh) * ww + i // hh)  # column-major i = x*hh + y
    y = np.zeros_like(f)
    for p in range(n):
        z = scale * mm * s[p]
        e = np.exp(z - z.max())
        a = mm * e / e.sum()
        fy, fx = divmod(p, ww)
        for q in range(n):
            for ky in range(4):
                for kx in range(4):
                    ty, tx = 2 * fy - 1 + ky, 2 * fx - 1 + kx
                    if 0 <= ty < h and 0 <= tx < w:
                        y[:, ty, tx] += a[q] * raw[q, :, ky, kx]
    return y / 4


@pytest.mark.parametrize("h,w", [(8, 12), (10, 8)])
@pytest.mark.parametrize("fuse", [True, False])
def test_contextual_attention_against_loops(h, w, fuse):
    rng = np.random.default_rng(h * 100 + w + fuse)
    f = rng.uniform(0, 0.6, (3, h, w))
    mask = np.zeros((h, w))
    mask[h // 4:h // 4 + 3, w // 3:w // 3 + 4] = 1
    got = ref.contextual_attention(torch.from_numpy(f)[None], torch.from_numpy(mask)[None, None],
                                   fuse=fuse, softmax_scale=10.0)
    want = _ca_loops(f, mask, fuse, 10.0)
    np.testing.assert_allclose(got[0].numpy(), want, atol=1e-12)


def test_contextual_attention_fuse_matters():
    rng = np.random.default_rng(5)
    f = torch.from_numpy(rng.uniform(0, 0.6, (1, 4, 16, 16)))
    mask = torch.zeros(1, 1, 16, 16, dtype=torch.float64)
    mask[..., 4:10, 5:11] = 1
    on = ref.contextual_attention(f, mask, fuse=True)
    off = ref.contextual_attention(f, mask, fuse=False)
    assert (on - off).abs().max() > 1e-2


def test_prepare_inputs():
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (19, 21, 4), dtype=np.uint8)
    mask = np.zeros((19, 21), np.uint8)
    mask[2:6, 3:9] = 200
    mask[17:19, 0:4] = 128  # reflected into the padding rows
    guide = np.full((19, 21), 154, np.uint8)
    x, hole = ref.prepare(img, mask, guide, guide_channels=1, channel_order="bgr")
    assert x.shape == (1, 6, 24, 24) and hole.shape == (1, 1, 24, 24)
    assert x.dtype == torch.float32
    h = hole[0, 0].numpy()
    # reflection without repeating the edge: padded row 19 = row 17, column 21 = column 19
    assert h[19, 0] == 1 and h[20, 0] == 0 and h[2, 3] == 1 and h[2, 2] == 0
    b = img[:, :, 2].astype(np.float32) / np.float32(127.5) - np.float32(1)
    xb = x[0, 0].numpy()
    assert xb[0, 21] == b[0, 19] and xb[19, 10] == b[17, 10] and xb[0, 0] == b[0, 0]
    assert xb[3, 4] == 0.0  # hole pixels are exactly 0
    np.testing.assert_array_equal(x[0, 3].numpy(), h)  # edge * mask
    assert (x[0, 4] == 1).all() and (x[0, 5].numpy() == h).all()
    x0, _ = ref.prepare(img, mask, None, guide_channels=1, channel_order="rgb")
    assert (x0[0, 3] == 0).all() and x0[0, 0, 0, 0] == x[0, 2, 0, 0]


def test_compose_output():
    img = np.full((9, 10, 4), 7, np.uint8)
    mask = np.zeros((9, 10), np.uint8)
    mask[1, 1] = mask[2, 2] = mask[3, 3] = 255
    y = np.zeros((16, 16, 3), np.float32)
    y[1, 1] = [-1.0, 1.0, 0.0]       # 0, 255, floor(128.0) = 128
    y[2, 2] = [-2.0, 3.0, -0.5]      # clamped; -0.5 -> floor(64.25) = 64
    y[3, 3] = [0.2, 0.4, 0.6]
    out = ref.compose_output(img, mask, y, "bgr")
    assert list(out[1, 1]) == [128, 255, 0, 7]
    assert list(out[2, 2]) == [64, 255, 0, 7]
    assert list(out[3, 3]) == [204, 179, 153, 7]
    keep = mask == 0
    assert (out[keep] == img[keep]).all()


def test_masks_are_seeded():
    a = ref.stroke_mask(64, 96, seed=4)
    assert a.shape == (64, 96) and a.dtype == np.uint8
    assert (a == ref.stroke_mask(64, 96, seed=4)).all()
    assert 0.02 < (a > 127).mean() < 0.6
    assert not (a == ref.stroke_mask(64, 96, seed=5)).all()
    box = ref.box_mask(16, 16, 2, 3, 4, 5)
    assert (box > 127).sum() == 20 and box[2, 3] == 255


def _run(weights, cnum, img, mask, **kw):
    return ref.inpaint(weights, img, mask, cnum=cnum, channel_order="bgr", **kw)


@pytest.mark.parametrize("cnum,h,w", [(8, 48, 80), (48, 64, 64)])
def test_float32_matches_float64(cnum, h, w):
    """The random init must keep the network stable, or 1e-4 parity means nothing."""
    weights = ref.random_weights(cnum, seed=cnum)
    img, mask = ref.random_image(h, w, seed=1), ref.stroke_mask(h, w, seed=2)
    r32 = _run(weights, cnum, img, mask)
    r64 = _run(weights, cnum, img, mask, dtype=torch.float64)
    for key in ("x_stage1", "x_stage2"):
        assert np.abs(r32[key] - r64[key]).max() < 2e-6
    assert 0.03 < r32["x_stage2"].std() < 0.4


def test_pitfalls_change_the_output():
    cnum, h, w = 8, 64, 64
    weights = ref.random_weights(cnum, seed=3)
    # The 1/8 mask samples rows 0, 8, 17, ... in two steps but 0, 9, 18, ... in one:
    # rows 9..16 are a hole only for the one-step resize.
    img, mask = ref.random_image(h, w, seed=4), ref.box_mask(h, w, 9, 9, 8, 32)
    base = _run(weights, cnum, img, mask)["x_stage2"]
    for kw in (dict(symmetric_stride2=True), dict(fuse=False), dict(two_step_mask=False),
               dict(feed_order="rgb")):
        assert np.abs(_run(weights, cnum, img, mask, **kw)["x_stage2"] - base).max() > 1e-2, kw


def test_guide_channel_is_used():
    cnum, h, w = 8, 32, 40
    weights = ref.random_weights(cnum, guide_channels=1, seed=6)
    img, mask = ref.random_image(h, w, seed=7), ref.box_mask(h, w, 8, 8, 16, 20)
    guide = np.zeros((h, w), np.uint8)
    guide[16, :] = 255
    kw = dict(cnum=cnum, guide_channels=1)
    with_guide = ref.inpaint(weights, img, mask, guide, **kw)["x_stage1"]
    without = ref.inpaint(weights, img, mask, None, **kw)["x_stage1"]
    assert np.abs(with_guide - without).max() > 1e-3
