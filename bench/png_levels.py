#!/usr/bin/python3
"""Time and size of PNG encoding at several zlib levels, for a photo enlarged to a given size
(docs/PERFORMANCE.md, "Strategies": why gi-inpaint writes PNG at level 3).

    bench/png_levels.py --photo PHOTO [--size 4000x3000] [--levels 1,3,6] [--repeat 3]

Encodes with libpng through OpenCV (cv2.imencode with IMWRITE_PNG_COMPRESSION); libpng's
default level is 6. Prints a Markdown table: level, median seconds, megabytes, and the time
as a multiple of the fastest level's, measured in the same run.
"""
import argparse
import statistics
import sys
import time

import cv2


def encode_times(img, levels, repeat):
    """{level: (median seconds, bytes)}; the levels alternate within each repeat."""
    times = {lv: [] for lv in levels}
    sizes = {}
    for _ in range(repeat):
        for lv in levels:
            t = time.perf_counter()
            ok, buf = cv2.imencode(".png", img, [cv2.IMWRITE_PNG_COMPRESSION, lv])
            times[lv].append(time.perf_counter() - t)
            if not ok:
                raise SystemExit(f"png_levels: encoding at level {lv} failed")
            sizes[lv] = len(buf)
    return {lv: (statistics.median(times[lv]), sizes[lv]) for lv in levels}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--photo", required=True)
    p.add_argument("--size", default="4000x3000", help="WxH the photo is enlarged to")
    p.add_argument("--levels", default="1,3,6")
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args(argv)
    img = cv2.imread(a.photo, cv2.IMREAD_COLOR)
    if img is None:
        raise SystemExit(f"png_levels: cannot read {a.photo}")
    w, h = (int(v) for v in a.size.split("x"))
    img = cv2.resize(img, (w, h), interpolation=cv2.INTER_CUBIC)
    levels = [int(v) for v in a.levels.split(",")]
    res = encode_times(img, levels, a.repeat)
    fastest = min(t for t, _ in res.values())
    print(f"{a.size}, median of {a.repeat}, cv2 {cv2.__version__}\n")
    print("| zlib level | seconds | MB | x fastest |\n|---:|---:|---:|---:|")
    for lv in levels:
        t, n = res[lv]
        print(f"| {lv} | {t:.2f} | {n / 1e6:.1f} | {t / fastest:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
