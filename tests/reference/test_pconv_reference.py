"""Self-tests of the PConv U-Net reference (tools/gimodel/pconv_torch.py) against a literal
loop version of the partial convolution's definition, and of its layer table against
net.py's published sizes."""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tools"))
from gimodel import pconv, pconv_torch as ref  # noqa: E402

torch.set_num_threads(1)


def loop_partial_conv(x, m, w, b, stride):
    """out[o, y, x] = sum(W * X * M) / sum(M) + b over the k x k window (zero padding k/2)
    and every input channel; 0 where sum(M) = 0. new mask = sum(M) > 0."""
    cin, H, W = x.shape
    cout, _, k, _ = w.shape
    p = k // 2
    oh, ow = (H + 2 * p - k) // stride + 1, (W + 2 * p - k) // stride + 1
    out, new = np.zeros((cout, oh, ow)), np.zeros((oh, ow))
    for oy in range(oh):
        for ox in range(ow):
            acc, cnt = np.zeros(cout), 0.0
            for ky in range(k):
                for kx in range(k):
                    iy, ix = oy * stride - p + ky, ox * stride - p + kx
                    if 0 <= iy < H and 0 <= ix < W:
                        acc += w[:, :, ky, kx] @ (x[:, iy, ix] * m[:, iy, ix])
                        cnt += m[:, iy, ix].sum()
            if cnt:
                out[:, oy, ox] = acc / cnt + (b if b is not None else 0)
                new[oy, ox] = 1
    return out, new


def test_partial_conv_definition():
    rng = np.random.default_rng(0)
    for k, stride, cin, bias in ((3, 1, 5, True), (5, 2, 4, False), (7, 2, 3, True)):
        x = rng.standard_normal((cin, 11, 9))
        # two sources with different masks, as a decoder's concatenation has
        m = np.ones((cin, 11, 9))
        m[: cin // 2, 2:7, 1:6] = 0
        m[cin // 2:, 4:11, 3:9] = 0
        w = rng.standard_normal((6, cin, k, k))
        b = rng.standard_normal(6) if bias else None
        want, want_m = loop_partial_conv(x, m, w, b, stride)
        t = lambda a: torch.from_numpy(a)[None]  # noqa: E731
        got, got_m = ref.partial_conv(t(x), t(m), torch.from_numpy(w),
                                      None if b is None else torch.from_numpy(b), stride)
        np.testing.assert_allclose(got[0].numpy(), want, rtol=1e-10, atol=1e-10)
        assert got_m.shape[1] == 6 and (got_m[0] == torch.from_numpy(want_m)).all()
        assert (got[0].numpy()[:, want_m == 0] == 0).all()


def test_layer_table_net_py():
    """net.py's PConvUNet(layer_size=7): 7x7/5x5/5x5/3x3 encoder, 64-128-256-512-512,
    decoders concatenating the encoder maps; its parameters without biases but dec_1's."""
    ls = pconv.layers(64, 7)
    assert [l.name for l in ls] == ["enc_%d" % i for i in range(1, 8)] + \
        ["dec_%d" % i for i in range(7, 0, -1)]
    by = {l.name: l for l in ls}
    assert [by["enc_%d" % i].k for i in range(1, 8)] == [7, 5, 5, 3, 3, 3, 3]
    assert [by["enc_%d" % i].cout for i in range(1, 8)] == [64, 128, 256, 512, 512, 512, 512]
    assert (by["dec_7"].cin, by["dec_4"].cin, by["dec_1"].cin) == (1024, 768, 67)
    assert not by["enc_1"].bn and not by["dec_1"].bn and by["dec_1"].act == pconv.NONE
    convs = sum(l.cout * l.cin * l.k * l.k for l in ls)
    enc = 3 * 64 * 49 + 64 * 128 * 25 + 128 * 256 * 25 + 256 * 512 * 9 + 3 * 512 * 512 * 9
    dec = 3 * 1024 * 512 * 9 + 768 * 256 * 9 + 384 * 128 * 9 + 192 * 64 * 9 + 67 * 3 * 9
    assert convs == enc + dec == 25770961


def test_masks_saturate():
    """The rule-updated mask goes all-valid a few layers down (the saturation the gated
    convolution paper argues against): a 96x96 hole in 256x256 is gone by enc_6."""
    sd = ref.random_state_dict(4, 7, seed=0)
    m = torch.ones(1, 3, 256, 256)
    m[..., 80:176, 80:176] = 0
    x = torch.randn(1, 3, 256, 256) * m
    seen = []
    orig = ref.partial_conv

    def spy(*a, **kw):
        out, nm = orig(*a, **kw)
        seen.append(float(nm[0, 0].mean()))
        return out, nm
    ref.partial_conv = spy
    try:
        ref.forward(sd, x, m, 4, 7)
    finally:
        ref.partial_conv = orig
    assert seen[0] < 0.9 and seen[4] < 1.0 and seen[5] == 1.0, seen
