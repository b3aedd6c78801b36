#!/usr/bin/python3
"""gi-inpaint against the best PyTorch version of the same graph (bench/torch_baseline.py),
same weights, same image and mask, measured alternately in one run so that the load of a
shared machine hits both alike.

    compare_torch.py --gi-inpaint build/tools/gi-inpaint [--model M.gguf]
                     [--sizes 256x256,512x512] [--threads 1,2] [--repeat 3]

The CLI time is the whole process (start, model load and weight packing, PNG decode,
network, PNG encode); the PyTorch time is only its forward pass with input preparation
and output compositing (no imports, no model load, no file I/O), so the ratio favours
PyTorch. Without --model a random official-size (width 48) model is written first.
Prints a Markdown table.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--gi-inpaint", required=True)
    p.add_argument("--model")
    p.add_argument("--sizes", default="256x256,512x512", help="HxW,...")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()

    from gimodel import deepfill_torch as ref  # the same inputs torch_baseline.py makes
    from make_model import make_model
    from PIL import Image

    tmp = tempfile.mkdtemp(prefix="gi-compare-")
    model = a.model or os.path.join(tmp, "random48.gguf")
    if not a.model:
        make_model(model, width=48, seed=1)
    print("| size (HxW) | threads | gi-inpaint s (whole CLI) | PyTorch s (forward only) | speed-up |")
    print("|---|---:|---:|---:|---:|")
    for size in a.sizes.split(","):
        h, w = (int(v) for v in size.split("x"))
        img, mask = os.path.join(tmp, "img.png"), os.path.join(tmp, "mask.png")
        Image.fromarray(ref.random_image(h, w, 3, seed=1)).save(img)
        Image.fromarray(ref.stroke_mask(h, w, seed=2)).save(mask)
        for nt in (int(t) for t in a.threads.split(",")):
            ours, theirs = [], []
            for _ in range(a.repeat):
                t0 = time.perf_counter()
                subprocess.run([a.gi_inpaint, "-i", img, "-m", mask, "-o",
                                os.path.join(tmp, "out.png"), "--model", model, "-t", str(nt),
                                "--strategy", "exact", "-q"], check=True)  # the whole graph, as torch
                ours.append(time.perf_counter() - t0)
                r = subprocess.run([sys.executable, os.path.join(HERE, "torch_baseline.py"),
                                    "--model", model, "--size", size, "--threads", str(nt),
                                    "--repeat", "1"], check=True, capture_output=True, text=True)
                theirs.append(json.loads(r.stdout)["median"])
            mo, mt = statistics.median(ours), statistics.median(theirs)
            print(f"| {size} | {nt} | {mo:.2f} | {mt:.2f} | {mt / mo:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
