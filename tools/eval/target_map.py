#!/usr/bin/python3
"""Where models stand against the texture target: detail ratio against in-hole PSNR above
OpenCV Telea's, one dot per eval_quality.py run, the target's corner shaded.

    tools/eval/target_map.py "default=runs/eval/s14/default-objects/results.json" \\
        "39 (2600)=runs/eval/s15/run39-2600-raw/results.json" -o map.png

Each argument is LABEL=results.json; every file must have measured the same cases (the
PSNR above Telea's is only comparable then). The target (issue 14 of the project: detail
ratio >= 0.5, PSNR >= Telea's) is the shaded corner; a dot inside it met the numbers,
which the pictures must still confirm. Telea itself is the dot at PSNR 0. Drawn with
OpenCV (no plotting library needed).
"""
import argparse
import os
import sys

import cv2
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eval_table  # noqa: E402

DETAIL_TARGET = 0.5


def read(spec):
    label, _, path = spec.partition("=")
    if not path:
        raise SystemExit(f"target_map: {spec!r} is not LABEL=results.json")
    m = eval_table.measured(path)
    return dict(m, label=label, gain=m["psnr"] - m["telea_psnr"])


def draw(points, w=760, h=520):
    img = np.full((h, w, 3), 255, np.uint8)
    left, right, top, bottom = 64, 20, 34, 46
    xs = [p["detail"] for p in points] + [points[0]["telea_detail"], DETAIL_TARGET]
    ys = [p["gain"] for p in points] + [0.0]
    x0, x1 = 0.0, max(0.8, max(xs) + 0.05)
    y0, y1 = min(-0.5, min(ys) - 0.2), max(1.5, max(ys) + 0.2)

    def at(x, y):
        return (int(round(left + (x - x0) / (x1 - x0) * (w - left - right))),
                int(round(h - bottom - (y - y0) / (y1 - y0) * (h - top - bottom))))
    font, grey = cv2.FONT_HERSHEY_SIMPLEX, (90, 90, 90)
    cv2.rectangle(img, at(DETAIL_TARGET, y1), at(x1, 0.0), (215, 240, 215), -1)
    cv2.putText(img, "target", (at(DETAIL_TARGET, y1)[0] + 6, top + 16), font, 0.45,
                (40, 120, 40), 1, cv2.LINE_AA)
    for t in np.arange(np.ceil(y0 * 2) / 2, y1 + 1e-9, 0.5):
        p = at(x0, t)
        cv2.line(img, (left, p[1]), (w - right, p[1]), (225, 225, 225), 1)
        cv2.putText(img, f"{t:+.1f}", (8, p[1] + 4), font, 0.4, grey, 1, cv2.LINE_AA)
    for t in np.arange(0.0, x1 + 1e-9, 0.1):
        p = at(t, y0)
        cv2.putText(img, f"{t:.1f}", (p[0] - 10, h - bottom + 16), font, 0.4, grey, 1, cv2.LINE_AA)
    cv2.rectangle(img, (left, top), (w - right, h - bottom), (0, 0, 0), 1)
    cv2.putText(img, "in-hole PSNR above OpenCV Telea's (dB) against detail ratio",
                (left, top - 12), font, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(img, "detail ratio (hole's fine detail over the ring's)", (w - right - 360, h - 8),
                font, 0.4, grey, 1, cv2.LINE_AA)
    telea = at(points[0]["telea_detail"], 0.0)
    cv2.drawMarker(img, telea, (20, 20, 200), cv2.MARKER_DIAMOND, 10, 2)
    cv2.putText(img, "Telea", (telea[0] + 8, telea[1] + 16), font, 0.4, (20, 20, 200), 1,
                cv2.LINE_AA)
    for p in points:
        q = at(p["detail"], p["gain"])
        cv2.circle(img, q, 4, (200, 80, 30), -1, cv2.LINE_AA)
        cv2.putText(img, p["label"], (q[0] + 7, q[1] - 5), font, 0.38, (0, 0, 0), 1, cv2.LINE_AA)
    return img


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("models", nargs="+", help="LABEL=results.json of eval_quality.py")
    p.add_argument("-o", "--output", required=True, help="the figure (PNG)")
    a = p.parse_args(argv)
    points = [read(s) for s in a.models]
    if not eval_table.same_cases(points, "target_map"):
        return 1
    cv2.imwrite(a.output, draw(points))
    return 0


if __name__ == "__main__":
    sys.exit(main())
