"""The public gi_op_* functions against reference values, through ctypes.

gi_op_gated_conv2d against torch.nn.functional.conv2d with TF 'SAME' padding
(tools/gimodel/deepfill_torch.py: tf_same_pads, upsample2x) for kernels 1..5,
strides 1 and 2, dilations 1..4, nearest x2 upsampling and every activation;
gi_op_contextual_attention against the reference contextual_attention, with and
without the 3x3 score fusion, with and without a hole, at several softmax
scales. Both on every kernel tier this machine has (GI_OPT_MAX_ISA).

The library comes from GI_LIBRARY (set by tests/api/meson.build)."""
import ctypes
import os
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
from gimodel import deepfill_torch as ref  # noqa: E402

LIB = ctypes.CDLL(os.environ["GI_LIBRARY"])
F32 = 2
GI_OPT_MAX_ISA, GI_OPT_NUM_THREADS = 2, 1
ACT = {"none": 0, "elu": 1, "relu": 2, "tanh": 3}
vp = ctypes.c_void_p
LIB.gi_last_error.restype = ctypes.c_char_p
LIB.gi_model_load_default.argtypes = [ctypes.POINTER(vp)]
LIB.gi_session_create.argtypes = [vp, ctypes.POINTER(vp)]
LIB.gi_session_set_int.argtypes = [vp, ctypes.c_int32, ctypes.c_int64]
LIB.gi_session_get_int.argtypes = [vp, ctypes.c_int32, ctypes.POINTER(ctypes.c_int64)]
LIB.gi_session_destroy.argtypes = [vp]
LIB.gi_model_release.argtypes = [vp]
LIB.gi_tensor_wrap.argtypes = [ctypes.c_int32, ctypes.c_int32, ctypes.c_int32, ctypes.c_int32,
                               vp, ctypes.c_size_t, ctypes.POINTER(vp)]
LIB.gi_tensor_destroy.argtypes = [vp]
LIB.gi_op_gated_conv2d.argtypes = [vp, vp, vp, vp] + [ctypes.c_int32] * 6 + [vp]
LIB.gi_op_contextual_attention.argtypes = [vp, vp, vp, ctypes.c_int32, ctypes.c_float, vp]
torch.set_num_threads(1)


def ok(status):
    assert status == 0, LIB.gi_last_error().decode()


@pytest.fixture(scope="module")
def model():
    m = vp()
    ok(LIB.gi_model_load_default(ctypes.byref(m)))
    yield m
    LIB.gi_model_release(m)


ISAS = [0, 20, 30]  # scalar, AVX2, AVX-512 (caps: at most what the machine has)


@pytest.fixture(params=ISAS, ids=["scalar", "avx2", "avx512"])
def session(model, request):
    s = vp()
    ok(LIB.gi_session_create(model, ctypes.byref(s)))
    ok(LIB.gi_session_set_int(s, GI_OPT_MAX_ISA, request.param))
    # On a machine without the tier the cap gives the best one below it: that
    # tier is tested again (not skipped).
    ok(LIB.gi_session_set_int(s, GI_OPT_NUM_THREADS, 2))
    yield s
    LIB.gi_session_destroy(s)


class Tensor:
    """A gi_tensor wrapped around a C-contiguous float32 HWC numpy array."""
    def __init__(self, a):
        self.a = np.ascontiguousarray(a, dtype=np.float32)
        h, w, c = self.a.shape
        self.t = vp()
        ok(LIB.gi_tensor_wrap(F32, h, w, c, self.a.ctypes.data, w * c * 4, ctypes.byref(self.t)))

    def __del__(self):
        LIB.gi_tensor_destroy(self.t)


def conv_reference(x, weight, bias, k, stride, dil, act, up):
    t = torch.from_numpy(x).permute(2, 0, 1)[None].double()
    if up:
        t = ref.upsample2x(t)
    top, bottom = ref.tf_same_pads(t.shape[2], k, stride, dil)
    left, right = ref.tf_same_pads(t.shape[3], k, stride, dil)
    t = F.pad(t, (left, right, top, bottom))
    y = F.conv2d(t, torch.from_numpy(weight).double(), torch.from_numpy(bias).double(),
                 stride=stride, dilation=dil)
    if act == "tanh":
        y = torch.tanh(y)
    elif act in ("elu", "relu"):
        feat, gate = y.split(y.shape[1] // 2, dim=1)
        feat = F.relu(feat) if act == "relu" else F.elu(feat)
        y = feat * torch.sigmoid(gate)
    return y[0].permute(1, 2, 0).numpy()


CONV_CASES = [  # h, w, cin, cconv, k, stride, dilation, act, upsample
    (9, 11, 3, 4, 3, 1, 1, "none", 0),
    (9, 11, 3, 4, 3, 2, 1, "none", 0),
    (10, 12, 5, 6, 3, 2, 1, "elu", 0),
    (13, 8, 4, 8, 5, 1, 1, "none", 0),
    (13, 8, 4, 8, 5, 2, 1, "relu", 0),
    (12, 14, 3, 4, 3, 1, 2, "none", 0),
    (12, 14, 3, 4, 3, 1, 4, "elu", 0),
    (11, 9, 2, 6, 3, 1, 3, "tanh", 0),
    (5, 7, 3, 4, 3, 1, 1, "elu", 1),
    (6, 5, 4, 3, 5, 2, 1, "tanh", 1),
    (7, 7, 16, 32, 3, 1, 2, "elu", 0),
    (8, 6, 3, 2, 1, 1, 1, "relu", 0),
    (4, 17, 3, 2, 2, 2, 1, "none", 0),
    (17, 4, 3, 5, 4, 1, 1, "none", 0),
]


@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: "k%d-s%d-d%d-%s-up%d-%dx%dx%d" % (
    c[4], c[5], c[6], c[7], c[8], c[0], c[1], c[2]))
def test_gated_conv2d_matches_reference(session, case):
    h, w, cin, cconv, k, stride, dil, act, up = case
    rng = np.random.default_rng(h * 1000 + w * 10 + k)
    x = rng.standard_normal((h, w, cin)).astype(np.float32)
    weight = (rng.standard_normal((cconv, cin, k, k)) / np.sqrt(cin * k * k)).astype(np.float32)
    bias = (rng.standard_normal(cconv) * 0.1).astype(np.float32)
    want = conv_reference(x, weight, bias, k, stride, dil, act, up)
    out = Tensor(np.zeros(want.shape, np.float32))
    inp = Tensor(x)
    ok(LIB.gi_op_gated_conv2d(session, inp.t, weight.ctypes.data, bias.ctypes.data, cconv, k,
                              stride, dil, ACT[act], up, out.t))
    err = np.abs(out.a - want).max()
    assert err < 2e-5, "max abs error %g" % err


def attention_reference(f, mask, fuse, scale):
    t = torch.from_numpy(f).permute(2, 0, 1)[None].double()
    m = torch.zeros(1, 1, f.shape[0], f.shape[1], dtype=torch.float64) if mask is None else \
        torch.from_numpy(mask).permute(2, 0, 1)[None].double()
    y = ref.contextual_attention(t, m, fuse=fuse, softmax_scale=scale)
    return y[0].permute(1, 2, 0).numpy()


# h, w, c, hole (top, left, height, width) or None, fuse, softmax scale, feature amplitude.
# Scores are patch norms times cosines, so with features of amplitude 1 the best match
# dominates the softmax; at amplitude 0.05 the logits are O(1) and the hole patches' logit-0
# terms in the denominator matter.
ATT_CASES = [
    (16, 12, 4, None, 1, 10.0, 1.0),
    (16, 12, 4, None, 0, 10.0, 1.0),
    (16, 20, 6, (4, 6, 6, 8), 1, 10.0, 1.0),
    (16, 20, 6, (4, 6, 6, 8), 0, 10.0, 1.0),
    (20, 16, 3, (8, 2, 6, 6), 1, 10.0, 1.0),
    (20, 16, 3, (8, 2, 6, 6), 1, 3.0, 1.0),
    (12, 24, 5, (2, 10, 6, 8), 0, 25.0, 1.0),
    (24, 24, 8, (6, 6, 10, 10), 1, 10.0, 1.0),
    (16, 20, 6, (4, 6, 6, 8), 1, 10.0, 0.05),
    (20, 16, 3, (8, 2, 6, 6), 0, 10.0, 0.05),
]


@pytest.mark.parametrize("case", ATT_CASES, ids=lambda c: "%dx%dx%d-%s-fuse%d-scale%g-amp%g" % (
    c[0], c[1], c[2], "hole" if c[3] else "nohole", c[4], c[5], c[6]))
def test_contextual_attention_matches_reference(session, case):
    h, w, c, hole, fuse, scale, amp = case
    rng = np.random.default_rng(h * 100 + w + c)
    # Smooth-ish features with structure, so the softmax is neither uniform nor one-hot.
    f = ((rng.standard_normal((h, w, c)) * 0.5 + np.sin(np.arange(w) / 3.0)[None, :, None])
         * amp).astype(np.float32)
    mask = None
    if hole:
        mask = np.zeros((h, w, 1), np.float32)
        top, left, hh, ww = hole
        mask[top:top + hh, left:left + ww] = 1
    want = attention_reference(f, mask, bool(fuse), scale)
    out = Tensor(np.full(f.shape, np.nan, np.float32))
    feat = Tensor(f)
    m = Tensor(mask) if mask is not None else None
    ok(LIB.gi_op_contextual_attention(session, feat.t, m.t if m else None, fuse,
                                      ctypes.c_float(scale), out.t))
    err = np.abs(out.a - want).max()
    assert err < 1e-4 * amp, "max abs error %g (fuse %d, scale %g)" % (err, fuse, scale)
    if not hole:
        return  # every query's best match is itself: near one-hot, fusion barely matters
    # With a hole the reference is sensitive to what this test guards: the other fusion
    # setting and a 20 % different softmax scale move the output far beyond the tolerance.
    other = attention_reference(f, mask, not fuse, scale)
    assert np.abs(other - want).max() > 1e-2 * amp
    scaled = attention_reference(f, mask, bool(fuse), scale * 1.2)
    assert np.abs(scaled - want).max() > 1e-3 * amp
