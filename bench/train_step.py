#!/usr/bin/python3
"""Seconds per training step of tools/train on this CPU, with and without each speed-up the
recipe uses, measured in one process on the same batches (tools/train/README.md).

    bench/train_step.py [--width 16] [--crop 128] [--batch 8] [--threads 2] [--steps 8]
                        [--device cpu|cuda] [--fill-only]

Variants (each a ratio against the first):
  baseline     denormals kept, x2 upsampling by repeat_interleave (deepfill_torch's)
  flush        + torch.set_flush_denormal(True)            (train.py does this)
  interpolate  + upsampling by F.interpolate                (gitrain.nets.gated_conv)
  + gan        the same with the SN-PatchGAN step           (the late phase of a run)
A second table times the recipe of the default model's runs (guided push-pull input fill,
residual stages, stage 1 by its own L1, GAN, 70 % guided, half of them displaced) with the
input fill made in the step, as it was, and made by the data workers (the fifth tensor of
data.PhotoCrops with input_fill; nets.fill_rgb), and counts the operators each step
dispatches (torch.profiler): on a GPU each is at least one kernel launch, and a small
network's step is bound by them (models/README.md, "GPU runs 32 to 35"). A third table
times what that costs the data workers: ms per sample, on one core, for each input fill.
--fill-only runs those two tables alone.
The BLAS that torch's libblas.so.3 resolves to is printed: Debian's reference BLAS or,
with libopenblas0-openmp installed, OpenBLAS; that cannot be switched inside one process.
Needs photos in DATA/train (tools/data/collect_photos.py), default data/photos.
"""
import argparse
import json
import os
import sys
import time

import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "tools", "train"))

from gitrain import blas, data, nets, recipe  # noqa: E402


def _sync(dev):
    if dev == "cuda":
        torch.cuda.synchronize()


def time_steps(g, d, batches, cfg, dev="cpu"):
    opt_g, opt_d = recipe.make_optimizers(g, d, 5e-4)
    recipe.train_step(g, d, opt_g, opt_d, batches[0], cfg, 1)  # warm-up
    _sync(dev)
    t = time.perf_counter()
    for b in batches[1:]:
        recipe.train_step(g, d, opt_g, opt_d, b, cfg, 1)
    _sync(dev)
    return (time.perf_counter() - t) / (len(batches) - 1)


def count_ops(g, d, batch, cfg):
    """Operators one step dispatches, those called by other operators not counted (on a
    GPU each is about one kernel launch, or none for a view)."""
    opt_g, opt_d = recipe.make_optimizers(g, d, 5e-4)
    with torch.profiler.profile() as prof:
        recipe.train_step(g, d, opt_g, opt_d, batch, cfg, 1)

    def top(e):
        p = e.cpu_parent
        return e.name.startswith("aten::") and (p is None or not p.name.startswith("aten::"))
    return sum(top(e) for e in prof.events())


def fill_table(a, dev):
    """The input fill in the step against the fill from the workers: s / step and ops."""
    ds = data.PhotoCrops(os.path.join(a.data, "train"), crop=a.crop, box_prob=0.5,
                         guide_keep=0.7, guide_shift=0.5, input_fill="guided_pushpull")
    it = data.batches(ds, a.batch)
    batches = [[t.to(dev) for t in next(it)] for _ in range(a.steps + 1)]
    cfg = recipe.LossConfig(coarse_l1_only=True)
    rows = []
    for name, cut in (("in the step", 4), ("from the workers", 5)):
        torch.manual_seed(0)
        g, d = recipe.make_nets(a.width, 1, 32, dev, input_fill="guided_pushpull",
                                residual=True, d_blur=True, d_gray=True)
        steps = [b[:cut] for b in batches]
        rows.append((name, time_steps(g, d, steps, cfg, dev), count_ops(g, d, steps[0], cfg)))
    print(f"\nthe runs' recipe on {dev}: width {a.width}, crop {a.crop}, batch {a.batch}")
    print("| guided input fill | s / step | operators / step | speed-up |\n|---|---|---|---|")
    for name, sec, ops in rows:
        print(f"| {name} | {sec:.3f} | {ops} | {rows[0][1] / sec:.2f}x |")
    return {f"fill {n}": s for n, s, _ in rows}


def sample_table(a, n=64):
    """ms per training sample (data.PhotoCrops.sample, one thread) for each input fill."""
    import numpy as np
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in a data worker
    rows = []
    for fill in ("zeros", "guided_pushpull", "ring_warp"):
        ds = data.PhotoCrops(os.path.join(a.data, "train"), crop=a.crop, box_prob=0.5,
                             guide_keep=0.7, guide_shift=0.5, input_fill=fill, seed=1)
        rng = np.random.default_rng(0)
        for _ in range(4):
            ds.sample(rng)
        t = time.perf_counter()
        for _ in range(n):
            ds.sample(rng)
        rows.append((fill, (time.perf_counter() - t) / n * 1e3))
    torch.set_num_threads(threads)
    print(f"\ndata worker, crop {a.crop}, {n} samples each, one thread")
    print("| input fill | ms / sample | vs zeros |\n|---|---|---|")
    for fill, ms in rows:
        print(f"| {fill} | {ms:.1f} | {ms / rows[0][1]:.2f}x |")
    return {f"sample ms {f}": ms for f, ms in rows}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=os.path.join(ROOT, "data", "photos"))
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--device", default="cpu")
    p.add_argument("--fill-only", action="store_true")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.set_flush_denormal(True)
    if a.fill_only:
        print(json.dumps({**fill_table(a, a.device), **sample_table(a)}))
        return 0
    ds = data.PhotoCrops(os.path.join(a.data, "train"), crop=a.crop, box_prob=0.2)
    it = data.batches(ds, a.batch)
    batches = [next(it) for _ in range(a.steps + 1)]
    l1_only = recipe.LossConfig(gan_weight=0.0)
    fast_conv = nets.gated_conv
    rows = []
    for name, flush, interp, cfg in (("baseline", False, False, l1_only),
                                     ("flush", True, False, l1_only),
                                     ("interpolate", True, True, l1_only),
                                     ("interpolate + gan", True, True, recipe.LossConfig())):
        torch.set_flush_denormal(flush)
        nets.gated_conv = fast_conv if interp else nets.deepfill_torch.gated_conv
        torch.manual_seed(0)  # the same weights for every variant
        g, d = recipe.make_nets(a.width, 1, 64)
        rows.append((name, time_steps(g, d, batches, cfg)))
    nets.gated_conv = fast_conv
    base = rows[0][1]
    with open("/proc/self/maps") as f:
        libs = blas.mapped_blas(f.read())
    print(f"torch {torch.__version__}, {a.threads} threads, BLAS: {', '.join(libs)}")
    print(f"width {a.width}, crop {a.crop}, batch {a.batch}, {a.steps} timed steps each")
    print("| variant | s / step | speed-up vs baseline |\n|---|---|---|")
    for name, s in rows:
        print(f"| {name} | {s:.3f} | {base / s:.2f}x |")
    print(json.dumps({**{n: s for n, s in rows}, **fill_table(a, a.device)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
