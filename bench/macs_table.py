#!/usr/bin/python3
"""Multiply-adds of the DeepFill v2 generator by part of the graph, for given input sizes
(the table of docs/DEEPFILL_V2.md section 6), and its parameters by part (section 2.3).

    bench/macs_table.py [--width 48] [--guide 0] [--size 256x256 --size 512x512 ...]

Counted from the layer table (tools/gimodel/deepfill.py macs), not measured: convolutions
with all their cconv (feature and gate) channels, the contextual attention's matching,
fuse and paste products; elementwise work is not counted.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from gimodel import deepfill  # noqa: E402

ATTENTION = ("CA matching", "CA fuse", "CA paste")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--width", type=int, default=48, help="cnum (official weights: 48)")
    p.add_argument("--guide", type=int, default=0, help="guide channels")
    p.add_argument("--size", action="append", default=[], help="WxH (repeatable)")
    a = p.parse_args(argv)
    sizes = [tuple(int(v) for v in s.split("x")) for s in a.size] or \
        [(256, 256), (512, 512), (680, 512), (1024, 1024)]
    print(f"| input (WxH) | convolutions | {' | '.join(ATTENTION)} | total | CA share |")
    print("|---|---|---|---|---|---|---|")
    for w, h in sizes:
        g = {k: v / 1e9 for k, v in deepfill.macs(a.width, a.guide, h, w).items()}
        conv = sum(v for k, v in g.items() if k not in ATTENTION)
        total = sum(g.values())
        print(f"| {w}x{h} | {conv:.2f} G | " + " | ".join(f"{g[k]:.3f} G" for k in ATTENTION)
              + f" | {total:.2f} G | {(total - conv) / total:.0%} |")
    w, h = sizes[0]
    parts = deepfill.macs(a.width, a.guide, h, w)
    print(f"\nconvolutions at {w}x{h} by part: " + ", ".join(
        f"{k} {v / 1e9:.2f} G" for k, v in parts.items() if k not in ATTENTION))
    params = deepfill.parameters(a.width, a.guide)
    print(f"\nparameters: {sum(params.values()):,} (" + ", ".join(
        f"{k} {v:,}" for k, v in params.items()) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
