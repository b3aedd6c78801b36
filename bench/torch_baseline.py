#!/usr/bin/python3
"""The fastest PyTorch version of the official DeepFill v2 graph we could write on this
machine: the baseline the C engine's speed is compared against (docs/PERFORMANCE.md).

Same semantics as tools/gimodel/deepfill_torch.py (the parity reference), but the
contextual attention avoids the two matrix products that Debian's torch 1.13 sends to
a reference BLAS (about 4 GFLOP/s here):
  - matching runs as one conv2d (oneDNN) of the downscaled map with the normalised
    patches as kernels, as the official TF code does;
  - the paste (a transposed conv, stride 2, kernel 4) runs as four 2x2 conv2d, one per
    output-pixel parity, interleaved.
Fusion stays on (the official graph), done like TF with two diagonal sums and transposes.
Convolutions pass symmetric pads to conv2d instead of copying the input through F.pad.

    torch_baseline.py --model M.gguf --size 512x512 [--threads 2] [--repeat 3] [--check]

prints one line of JSON: {"size", "threads", "seconds": [...], "median"}.
--check first verifies the output against deepfill_torch (max abs diff on x_stage2).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from gimodel import deepfill_torch as ref  # noqa: E402
from gimodel.gguf import read_gguf  # noqa: E402


def fast_contextual_attention(f, mask, *, fuse=True, softmax_scale=10.0):
    """deepfill_torch.contextual_attention with conv2d in place of the matrix products."""
    _, c, h, w = f.shape
    hh, ww = h // 2, w // 2
    n = hh * ww
    fd = ref.resize_nn(f, hh, ww)
    patches = F.unfold(fd, 3, padding=1)[0]                       # (9C, L)
    norm = patches.pow(2).sum(0).sqrt().clamp_min(1e-4)
    kernels = (patches / norm).t().reshape(n, c, 3, 3)           # (L, C, 3, 3)
    m8 = ref.resize_nn(mask, hh, ww)
    mm = (F.unfold(m8, 3, padding=1)[0].sum(0) == 0).to(f.dtype)
    s = F.conv2d(fd, kernels, padding=1)                         # (1, L, hh, ww)
    s = s[0].reshape(n, n).t()                                   # S[p][q]
    if fuse:
        s = ref._diag3(s)
        s = s.view(hh, ww, hh, ww).permute(1, 0, 3, 2).reshape(n, n)
        s = ref._diag3(s)
        s = s.view(ww, hh, ww, hh).permute(1, 0, 3, 2).reshape(n, n)
    a = torch.softmax(s * mm * softmax_scale, dim=1) * mm         # (P, L)
    a_img = a.t().reshape(1, n, hh, ww)                          # attention maps per patch
    # Raw 4x4 patches R[q] (C, 4, 4) of the zero-padded map, as conv weights.
    raw = F.unfold(f, 4, padding=1, stride=2)[0].t().reshape(n, c, 4, 4)
    y = f.new_zeros(1, c, h, w)
    # Output row 2i+py gathers (ky = 3, fy = i-1) and (ky = 1, fy = i) when py = 0,
    # (ky = 2, fy = i) and (ky = 0, fy = i+1) when py = 1; columns likewise.
    taps = {0: ([3, 1], (1, 0)), 1: ([2, 0], (0, 1))}
    for py in (0, 1):
        ky, (pt, pb) = taps[py]
        for px in (0, 1):
            kx, (pl, pr) = taps[px]
            wgt = raw[:, :, ky][:, :, :, kx].permute(1, 0, 2, 3).contiguous()  # (C, L, 2, 2)
            y[:, :, py::2, px::2] = F.conv2d(F.pad(a_img, (pl, pr, pt, pb)), wgt)
    return y / 4


def fast_gated_conv(x, weight, bias, layer, symmetric_stride2=False):
    """deepfill_torch.gated_conv without copies where PyTorch can pad by itself: symmetric
    TF pads go into conv2d (only the stride-2 layers need an explicit F.pad), and
    nearest x2 upsampling uses F.interpolate."""
    if layer.up:
        x = F.interpolate(x, scale_factor=2, mode="nearest")
    top, bottom = ref.tf_same_pads(x.shape[2], layer.k, layer.stride, layer.dil)
    left, right = ref.tf_same_pads(x.shape[3], layer.k, layer.stride, layer.dil)
    if (top, left) == (bottom, right):
        y = F.conv2d(x, weight, bias, stride=layer.stride, dilation=layer.dil,
                     padding=(top, left))
    else:
        y = F.conv2d(F.pad(x, (left, right, top, bottom)), weight, bias, stride=layer.stride,
                     dilation=layer.dil)
    if layer.act == "tanh":
        return torch.tanh(y)
    feat, gate = y.split(layer.cconv // 2, dim=1)
    feat = F.relu(feat) if layer.act == "relu" else F.elu(feat)
    return feat * torch.sigmoid(gate)


def load_weights(path):
    kv, tensors = read_gguf(path)
    out = {}
    for name, (shape, dtype, data) in tensors.items():
        arr = np.frombuffer(data, dtype=np.float16 if dtype == "f16" else np.float32)
        out[name] = arr.astype(np.float32).reshape(shape)
    return kv, out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True)
    p.add_argument("--size", default="512x512", help="HxW")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--check", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    h, w = (int(v) for v in a.size.split("x"))
    kv, weights = load_weights(a.model)
    cnum = int(kv["gatedinpaint.width"])
    order = kv["gatedinpaint.channel_order"]
    image = ref.random_image(h, w, 3, seed=1)
    mask = ref.stroke_mask(h, w, seed=2)
    x_in, hole = ref.prepare(image, mask, channel_order=order)
    gen = ref.Generator(weights, cnum)
    if a.check:
        ref_out = gen.forward(x_in, hole)[1]
    slow = ref.contextual_attention, ref.gated_conv
    ref.contextual_attention, ref.gated_conv = fast_contextual_attention, fast_gated_conv
    try:
        if a.check:
            diff = (gen.forward(x_in, hole)[1] - ref_out).abs().max().item()
            if diff > 1e-4:
                sys.exit(f"torch_baseline: fast attention differs from the reference by {diff}")
        gen.forward(x_in, hole)  # warm-up
        times = []
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            x_in, hole = ref.prepare(image, mask, channel_order=order)
            out = gen.forward(x_in, hole)[1]
            ref.compose_output(image, mask, ref.to_hwc(out), order)
            times.append(time.perf_counter() - t0)
    finally:
        ref.contextual_attention, ref.gated_conv = slow
    print(json.dumps({"size": a.size, "threads": a.threads, "seconds": times,
                      "median": float(np.median(times))}))


if __name__ == "__main__":
    main()
