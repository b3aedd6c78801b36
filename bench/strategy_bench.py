#!/usr/bin/python3
"""Time and peak memory of gi-inpaint's strategies on photo-sized inputs, as ratios
against one 512x512 exact call measured in the same run (docs/PERFORMANCE.md).

    bench/strategy_bench.py --photo PHOTO [--cli build/tools/gi-inpaint] [--threads 2]
                            [--repeat 3] [--model FILE] [--with-exact]

Every case is one gi-inpaint process (PNG in, PNG out): the time is the CLI's own
"inpainting" figure (decoding and encoding excluded), the whole-process time is the
process's wall-clock time from start to exit (PNG decoding and encoding included), the
memory the process's peak RSS (os.wait4), image buffers included. The photo is resized to
each case's size; masks are drawn here, deterministically:
  512x512 exact      the baseline: one exact call, a 10 % blob
  4000x3000 1 %      one person-sized blob (1 % of the image)
  4000x3000 2 x 1 %  two such blobs far apart
  1920x1080 5 %      scattered brush strokes, 5 % of the image
--with-exact adds the exact strategy on the 4000x3000 case (slow: tens of seconds).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def blob(mask, cx, cy, share):
    """A tall ellipse (1:2) covering `share` of the image, centred at (cx, cy)."""
    h, w = mask.shape
    area = share * h * w
    a = (area / (2 * np.pi)) ** 0.5  # semi-axes a (x) and 2a (y)
    cv2.ellipse(mask, (int(cx), int(cy)), (int(a), int(2 * a)), 0, 0, 360, 255, -1)


def strokes(mask, share, seed=1):
    rng = np.random.default_rng(seed)
    h, w = mask.shape
    while (mask > 127).mean() < share:
        x, y = rng.integers(0, w), rng.integers(0, h)
        for _ in range(rng.integers(3, 7)):
            nx = int(np.clip(x + rng.integers(-120, 121), 0, w - 1))
            ny = int(np.clip(y + rng.integers(-120, 121), 0, h - 1))
            cv2.line(mask, (x, y), (nx, ny), 255, int(rng.integers(9, 18)))
            x, y = nx, ny


def cases(with_exact):
    def one(m):
        blob(m, m.shape[1] * 0.4, m.shape[0] * 0.5, 0.01)

    def two(m):
        blob(m, m.shape[1] * 0.2, m.shape[0] * 0.45, 0.01)
        blob(m, m.shape[1] * 0.8, m.shape[0] * 0.55, 0.01)

    out = [("512x512, 10 % blob, exact (baseline)", 512, 512,
            lambda m: blob(m, 256, 256, 0.10), "exact"),
           ("4000x3000, one 1 % blob", 4000, 3000, one, "regions"),
           ("4000x3000, two 1 % blobs far apart", 4000, 3000, two, "regions"),
           ("1920x1080, 5 % scattered strokes", 1920, 1080, lambda m: strokes(m, 0.05),
            "regions")]
    if with_exact:
        out.append(("4000x3000, one 1 % blob", 4000, 3000, one, "exact"))
    return out


def run_once(cli, args):
    t0 = time.perf_counter()
    p = subprocess.Popen([cli] + args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         text=True)
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit("gi-inpaint failed: %s" % err)
    m = re.search(r"inpainting ([0-9.]+) s", err)
    return float(m.group(1)), usage.ru_maxrss / 1024.0, err.strip(), wall


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--photo", required=True)
    ap.add_argument("--cli", default=os.path.join(ROOT, "build", "tools", "gi-inpaint"))
    ap.add_argument("--model", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--with-exact", action="store_true")
    a = ap.parse_args()
    photo = cv2.imread(a.photo, cv2.IMREAD_COLOR)
    if photo is None:
        sys.exit("cannot read %s" % a.photo)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, w, h, draw, strategy) in enumerate(cases(a.with_exact)):
            img = cv2.resize(photo, (w, h), interpolation=cv2.INTER_CUBIC)
            mask = np.zeros((h, w), np.uint8)
            draw(mask)
            ip, mp = os.path.join(tmp, "i%d.png" % i), os.path.join(tmp, "m%d.png" % i)
            cv2.imwrite(ip, img)
            cv2.imwrite(mp, mask)
            args = ["-i", ip, "-m", mp, "-o", os.path.join(tmp, "o%d.png" % i),
                    "-t", str(a.threads), "--strategy", strategy]
            if a.model:
                args += ["--model", a.model]
            runs = [run_once(a.cli, args) for _ in range(a.repeat)]
            t = sorted(r[0] for r in runs)[len(runs) // 2]
            rss = max(r[1] for r in runs)
            whole = sorted(r[3] for r in runs)[len(runs) // 2]
            rows.append((name, strategy, t, rss, (mask > 127).mean(), runs[0][2], whole))
    base = rows[0][2]
    print("| case | strategy | hole | time (s) | x 512x512 exact | whole process (s) "
          "| peak RSS (MB) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name, strategy, t, rss, share, _, whole in rows:
        print("| %s | %s | %.1f %% | %.2f | %.2f | %.2f | %.0f |"
              % (name, strategy, 100 * share, t, t / base, whole, rss))
    for name, strategy, _, _, _, line, _ in rows:
        print("\n%s, %s: %s" % (name, strategy, line.splitlines()[-1]), end="")
    print()


if __name__ == "__main__":
    main()
