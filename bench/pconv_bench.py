#!/usr/bin/python3
"""The PConv U-Net family in libgatedinpaint against the fastest PyTorch version of the same
network we could write, same random weights, image and mask, measured alternately in one
process so that the load of a shared machine hits both alike; then peak memory of each in
a fresh process.

    GATEDINPAINT_LIBRARY=build/libgatedinpaint.so.0.1.0 \\
        bench/pconv_bench.py [--width 64] [--depth 7] [--sizes 512x512] [--threads 2]

Both sides get uint8 RGB + hole in and give the uint8 composite out; neither time includes
imports, model load or file I/O (the library's first call, which packs the weights, is
not timed; nor is PyTorch's first, which warms oneDNN up). PyTorch variants: the parity
reference (tools/gimodel/pconv_torch.py, as net.py computes: a 3-channel mask convolved
at every layer) and a fast one (BatchNorm folded into the weights, the valid count from a
one-channel mask times the channel count, as the library does); the faster is reported.
Prints Markdown tables.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
sys.path.insert(0, os.path.join(HERE, "..", "bindings", "python"))

import numpy as np  # noqa: E402


HOLES = {  # the library computes the decoder only on rows that can reach the hole
    "box+stroke": "a box and a stroke over rows h/4 .. 9h/16",
    "band": "a vertical band through every row (nothing to skip)",
}


def picture(h, w, seed=1, hole_kind="box+stroke"):
    rng = np.random.default_rng(seed)
    img = np.repeat(np.repeat(rng.integers(0, 256, (h // 4, w // 4, 3), dtype=np.uint8), 4, 0),
                    4, 1)
    hole = np.zeros((h, w), bool)
    if hole_kind == "band":
        hole[:, w // 2 - w // 16:w // 2 + w // 16] = True
    else:
        hole[h // 4:h // 2, w // 5:w // 2] = True
        hole[h // 2:h // 2 + h // 16, w // 10:w - w // 10] = True
    return np.ascontiguousarray(img), hole


def fast_torch(sd, width, depth):
    """A callable (image, hole) -> uint8 composite: BN folded, counts from one channel."""
    import torch
    import torch.nn.functional as F
    from gimodel import pconv, pconv_torch as ref
    layers = pconv.layers(width, depth)
    folded = []
    for l in layers:
        w = sd[l.name + ".conv.weight"]
        b = sd.get(l.name + ".conv.bias", torch.zeros(l.cout))
        if l.bn:
            s = sd[l.name + ".bn.weight"] / torch.sqrt(sd[l.name + ".bn.running_var"] + 1e-5)
            w = w * s.view(-1, 1, 1, 1)
            b = (b - sd[l.name + ".bn.running_mean"]) * s + sd[l.name + ".bn.bias"]
        folded.append((l, w.contiguous(), b.contiguous(), torch.ones(1, 1, l.k, l.k)))
    mean = torch.tensor(ref.MEAN).view(1, 3, 1, 1)
    std = torch.tensor(ref.STD).view(1, 3, 1, 1)

    def layer(f, x, valid):  # valid: (1, 1, H, W) count of valid values per pixel
        l, w, b, ones = f
        out = F.conv2d(x, w, None, l.stride, l.k // 2)
        cnt = F.conv2d(valid, ones, None, l.stride, l.k // 2)
        m = (cnt > 0).float()
        out = (out / cnt.clamp(min=1) + b.view(1, -1, 1, 1)) * m
        if l.act == pconv.RELU:
            out = F.relu(out)
        elif l.act == pconv.LEAKY:
            out = F.leaky_relu(out, 0.2)
        return out, m

    def run(image, hole):
        H, W = hole.shape
        x = torch.from_numpy(image).permute(2, 0, 1)[None].float().div(255.0)
        known = torch.from_numpy(~hole)[None, None].float()
        x = (x - mean) / std * known
        hs, ms = [x], [known]
        with torch.no_grad():
            for i in range(depth):
                o, m = layer(folded[i], hs[-1] * 1.0, ms[-1] * hs[-1].shape[1])
                hs.append(o)
                ms.append(m)
            cur, cm = hs[-1], ms[-1]
            for j, i in enumerate(range(depth, 0, -1)):
                up, upm = F.interpolate(cur, scale_factor=2.0), F.interpolate(cm, scale_factor=2.0)
                valid = upm * up.shape[1] + ms[i - 1] * hs[i - 1].shape[1]
                cur, cm = layer(folded[depth + j], torch.cat([up, hs[i - 1]], 1), valid)
            rgb = torch.floor((cur * std + mean) * 255.0 + 0.5).clamp(0, 255)
        out = image.copy()
        out[hole] = rgb[0].permute(1, 2, 0).numpy()[hole].astype(np.uint8)
        return out

    return run


def setup(width, depth, threads, tmp):
    import torch
    from gimodel import gguf, pconv_torch as ref
    torch.set_num_threads(threads)
    sd = ref.random_state_dict(width, depth, seed=1)
    path = os.path.join(tmp, "pconv.gguf")
    gguf.write_pconv_model(path, {k: v.numpy() for k, v in sd.items()}, width=width,
                           depth=depth, name="bench", license="Apache-2.0")
    torch.save(sd, os.path.join(tmp, "sd.pt"))
    return sd, path


def rss_child(args):
    """One side once, in this fresh process (the gi side never imports torch); prints
    peak RSS and its growth during the call, in MB."""
    h, w = (int(v) for v in args.sizes.split(",")[0].split("x"))
    img, hole = picture(h, w)
    if args.rss == "gi":
        import gatedinpaint as gi
        session = gi.Session(gi.Model.from_file(os.path.join(args.files, "pconv.gguf")),
                             threads=args.threads, strategy="exact")
        fn = lambda i, m: session.inpaint(i, (m * 255).astype(np.uint8))  # noqa: E731
    else:
        import torch
        from gimodel import pconv_torch as ref
        torch.set_num_threads(args.threads)
        sd = torch.load(os.path.join(args.files, "sd.pt"))
        fn = fast_torch(sd, args.width, args.depth) if args.rss == "torch-fast" else \
            (lambda i, m: ref.inpaint(sd, i, m, args.width, args.depth))
    base = vm_hwm_kb()
    fn(img, hole)
    peak = vm_hwm_kb()
    print("%.0f %.0f" % (peak / 1024, (peak - base) / 1024))


def vm_hwm_kb():
    """This process's peak RSS. Not getrusage: Linux carries ru_maxrss over from the
    parent through fork and exec."""
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--depth", type=int, default=7)
    p.add_argument("--sizes", default="512x512", help="HxW,...")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--rss", choices=("gi", "torch-ref", "torch-fast"), help=argparse.SUPPRESS)
    p.add_argument("--files", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.rss:
        return rss_child(a)
    import gatedinpaint as gi
    from gimodel import pconv_torch as ref
    tmp = tempfile.mkdtemp(prefix="gi-pconv-bench-")
    sd, path = setup(a.width, a.depth, a.threads, tmp)
    session = gi.Session(gi.Model.from_file(path), threads=a.threads, strategy="exact")
    fast = fast_torch(sd, a.width, a.depth)
    sides = {"libgatedinpaint": lambda i, m: session.inpaint(i, (m * 255).astype(np.uint8)),
             "torch reference": lambda i, m: ref.inpaint(sd, i, m, a.width, a.depth),
             "torch fast": fast}
    print("PConv U-Net width %d, layer_size %d, %d thread(s), median of %d, one process:\n"
          % (a.width, a.depth, a.threads, a.repeat))
    print("| size (HxW) | hole | libgatedinpaint s | torch reference s | torch fast s | "
          "speed-up vs fastest torch | max diff (LSB) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for size, kind in [(s, k) for s in a.sizes.split(",") for k in HOLES]:
        h, w = (int(v) for v in size.split("x"))
        img, hole = picture(h, w, hole_kind=kind)
        outs = {k: f(img, hole) for k, f in sides.items()}  # warm-up (weight packing)
        diff = max(int(np.abs(outs["libgatedinpaint"].astype(int) - o.astype(int)).max())
                   for o in outs.values())
        times = {k: [] for k in sides}
        for _ in range(a.repeat):
            for k, f in sides.items():
                t = time.perf_counter()
                f(img, hole)
                times[k].append(time.perf_counter() - t)
        med = {k: statistics.median(v) for k, v in times.items()}
        best = min(med["torch reference"], med["torch fast"])
        print("| %s | %s | %.3f | %.3f | %.3f | %.2fx | %d |" % (
            size, kind, med["libgatedinpaint"], med["torch reference"], med["torch fast"],
            best / med["libgatedinpaint"], diff))
    print("\nPeak resident memory, each side alone in a fresh process (%s):\n"
          % a.sizes.split(",")[0])
    print("| side | peak RSS MB | of which the call MB |")
    print("|---|---:|---:|")
    for side in ("gi", "torch-ref", "torch-fast"):
        out = subprocess.run([sys.executable, __file__, "--rss", side, "--width", str(a.width),
                              "--depth", str(a.depth), "--sizes", a.sizes,
                              "--threads", str(a.threads), "--files", tmp],
                             capture_output=True, text=True,
                             check=True).stdout.split()
        print("| %s | %s | %s |" % ({"gi": "libgatedinpaint"}.get(side, side), out[0], out[1]))
    print("\n(the PyTorch processes' totals include torch itself, about 300 MB)\n")
    for k, v in HOLES.items():
        print("- %s: %s" % (k, v))


if __name__ == "__main__":
    sys.exit(main())
