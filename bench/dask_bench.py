#!/usr/bin/python3
"""Images per second: gatedinpaint.dask with 1 and 2 local worker processes
against gi-inpaint's folder mode (--jobs 1, --jobs 2), on the same files.

    GATEDINPAINT_LIBRARY=build/libgatedinpaint.so \\
        bench/dask_bench.py [--cli build/tools/gi-inpaint] [--n 12] [--size 512] [--model FILE]

The inputs: N crops of examples/dune.jpg (400x400 at different offsets,
resized to SIZE x SIZE) with one rectangular hole each. Every configuration
uses all cores: gi-inpaint --jobs J shares them among J sessions, each Dask
worker gets cores / workers threads. The Dask rate is over the submitted run
(workers started and the model loaded beforehand); "with start-up" counts the
cluster start and model load too. Prints a markdown table; the outputs of all
runs are checked to be pixel-identical.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "bindings", "python"))
os.environ["PYTHONPATH"] = os.pathsep.join(
    [os.path.join(REPO, "bindings", "python")] +
    [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
os.environ.setdefault("GATEDINPAINT_LIBRARY", os.path.join(REPO, "build", "libgatedinpaint.so"))

import distributed  # noqa: E402
from PIL import Image  # noqa: E402

import gatedinpaint as gi  # noqa: E402
from gatedinpaint import dask as gid  # noqa: E402


def make_inputs(root, n, size):
    src = Image.open(os.path.join(REPO, "examples", "dune.jpg")).convert("RGB")
    w, h = src.size
    images, masks = os.path.join(root, "images"), os.path.join(root, "masks")
    os.makedirs(images)
    os.makedirs(masks)
    rng = np.random.default_rng(1)
    for i in range(n):
        x = int(rng.integers(0, w - 400 + 1))
        y = int(rng.integers(0, h - 400 + 1))
        crop = src.crop((x, y, x + 400, y + 400)).resize((size, size), Image.BICUBIC)
        gi.save_image(os.path.join(images, "crop%02d.png" % i), np.asarray(crop))
        m = np.zeros((size, size), np.uint8)
        hh, ww = size // 5, size // 4
        y0, x0 = int(rng.integers(0, size - hh)), int(rng.integers(0, size - ww))
        m[y0:y0 + hh, x0:x0 + ww] = 255
        gi.save_image(os.path.join(masks, "crop%02d.png" % i), m)
    return images, masks


def run_cli(cli, images, masks, out, jobs, model, cores):
    cmd = [cli, "--image", images, "--mask", masks, "--output", out, "--jobs", str(jobs),
           "--threads", str(cores), "-q"]
    if model:
        cmd += ["--model", model]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t0


def run_dask(images, masks, out, workers, model, cores):
    t0 = time.perf_counter()
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        gid.register(client, model, threads=max(1, cores // workers))  # loads the model
        jobs, problems = gid.pair_files(images, masks, out)
        t1 = time.perf_counter()
        records = gid.run(client, jobs, problems, progress=None)
        t2 = time.perf_counter()
    assert all(r["ok"] for r in records), [r for r in records if not r["ok"]]
    return t2 - t1, time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cli", default=os.path.join(REPO, "build", "tools", "gi-inpaint"))
    p.add_argument("--n", type=int, default=12)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--model", help="model file (default: the embedded model)")
    p.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as root:
        images, masks = make_inputs(root, args.n, args.size)
        outs = []
        for jobs in (1, 2):
            out = os.path.join(root, "cli%d" % jobs)
            s = run_cli(args.cli, images, masks, out, jobs, args.model, args.cores)
            rows.append(("gi-inpaint --jobs %d" % jobs, s, s))
            outs.append(out)
        for workers in (1, 2):
            out = os.path.join(root, "dask%d" % workers)
            s, total = run_dask(images, masks, out, workers, args.model, args.cores)
            rows.append(("gatedinpaint.dask --local %d" % workers, s, total))
            outs.append(out)
        names = sorted(os.listdir(outs[0]))
        assert len(names) == args.n
        for name in names:
            ref = gi.load_image(os.path.join(outs[0], name))
            for o in outs[1:]:
                assert np.array_equal(ref, gi.load_image(os.path.join(o, name))), (o, name)
    print("%d images of %dx%d, %d cores, model: %s; all outputs pixel-identical\n"
          % (args.n, args.size, args.size, args.cores, args.model or "embedded default"))
    print("| run | seconds | images/s | images/s with start-up |")
    print("|---|---:|---:|---:|")
    for name, s, total in rows:
        print("| %s | %.2f | %.2f | %.2f |" % (name, s, args.n / s, args.n / total))


if __name__ == "__main__":
    main()
