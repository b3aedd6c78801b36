#!/usr/bin/python3
"""Learning curves of training runs: validation PSNR and detail ratio against steps.

    tools/train/curves.py runs/a/log.tsv [runs/b/log.tsv ...] -o curves.png
    tools/train/curves.py models/default.train-log.tsv --run 7 -o curves.png
    tools/train/curves.py models/default.train-log.tsv --run 7,12 -o curves.png   # one line each
    tools/train/curves.py runs/compare/*/log.tsv --x minutes -o curves.png

Reads train.py's log.tsv (or the model card's default.train-log.tsv, whose first column is
the run: --run picks one, or with one log several, comma-separated, a line each) and draws
one panel per measure (val_psnr: in-hole PSNR of the fixed validation crops, dB; val_detail:
their detail ratio; val_colour: their colour noise ratio, tools/eval/measures.py), one line
per log, under a legend strip, with OpenCV (no plotting library needed).
--x minutes puts the log's minutes (wall-clock, or CPU time for runs trained with --clock cpu)
on the x axis instead of steps: the fair axis for runs of different cost per step.
Rows without a measure (logs written before it was added) are left out of its panel.
A table of tools/eval/eval_table.py (held-out measures of training snapshots) draws as a log.
"""
import argparse
import csv
import os
import sys

import cv2
import numpy as np

COLOURS = [(200, 80, 30), (30, 140, 230), (60, 170, 60), (180, 60, 180), (20, 20, 200)]
MEASURES = [("val_psnr", "in-hole PSNR (dB)"), ("val_detail", "detail ratio"),
            ("val_colour", "colour noise ratio")]
# the same measures' columns in tools/eval/eval_table.py's tables (held-out cases)
HELD_OUT = {"val_psnr": "psnr", "val_detail": "detail", "val_colour": "colour_noise"}


def read_log(path, run=None, x="step"):
    """{measure: ([x], [values])} of the rows of `path` (of run `run` if the log has a run
    column) that have that measure; x is the column "step" or "minutes"."""
    with open(path) as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    if run is not None:
        rows = [r for r in rows if r.get("run") == str(run)]
    out = {}
    for k, _ in MEASURES:
        col = k if rows and k in rows[0] else HELD_OUT[k]
        keep = [r for r in rows if r.get(col) not in (None, "", "nan")]
        out[k] = ([float(r[x]) for r in keep], [float(r[col]) for r in keep])
    return out


def _ticks(lo, hi, n=5):
    step = 10 ** np.floor(np.log10(max(hi - lo, 1e-9) / n))
    for m in (1, 2, 5, 10):
        if (hi - lo) / (m * step) <= n:
            step *= m
            break
    t = np.arange(np.ceil(lo / step) * step, hi + step, step)
    return t[t <= hi + step * 1e-6]  # a tick above the axis would be drawn over the title


def panel(series, key, title, w=560, h=300, xlabel="step"):
    """One chart: each (label, xs, values, colour index) of `series` as a line (a log keeps
    its colour in every panel, also where another log has no rows)."""
    img = np.full((h, w, 3), 255, np.uint8)
    left, right, top, bottom = 70, 16, 30, 40
    xs = np.concatenate([s for _, s, _, _ in series])
    ys = np.concatenate([v for _, _, v, _ in series])
    x0, x1 = 0.0, max(float(xs.max()), 1.0)
    pad = max(float(ys.max() - ys.min()) * 0.1, 1e-3)
    y0, y1 = float(ys.min()) - pad, float(ys.max()) + pad

    def at(x, y):
        return (int(round(left + (x - x0) / (x1 - x0) * (w - left - right))),
                int(round(h - bottom - (y - y0) / (y1 - y0) * (h - top - bottom))))
    font = cv2.FONT_HERSHEY_SIMPLEX
    yt = _ticks(y0, y1)
    decimals = max(0, -int(np.floor(np.log10(yt[1] - yt[0])))) if len(yt) > 1 else 2
    for t in yt:
        p = at(x0, t)
        cv2.line(img, (left, p[1]), (w - right, p[1]), (230, 230, 230), 1)
        cv2.putText(img, f"{t:.{decimals}f}", (4, p[1] + 4), font, 0.4, (80, 80, 80), 1, cv2.LINE_AA)
    for t in _ticks(x0, x1):
        p = at(t, y0)
        cv2.putText(img, f"{int(t)}", (p[0] - 10, h - bottom + 16), font, 0.4, (80, 80, 80), 1,
                    cv2.LINE_AA)
    cv2.rectangle(img, (left, top), (w - right, h - bottom), (0, 0, 0), 1)
    cv2.putText(img, title, (left, top - 10), font, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(img, xlabel, (w - right - 8 * len(xlabel), h - 6), font, 0.4, (80, 80, 80), 1,
                cv2.LINE_AA)
    for _, s, v, k in series:
        colour = COLOURS[k % len(COLOURS)]
        pts = np.array([at(a, b) for a, b in zip(s, v)], np.int32)
        cv2.polylines(img, [pts], False, colour, 2, cv2.LINE_AA)
        for p in pts:
            cv2.circle(img, tuple(int(c) for c in p), 2, colour, -1)
    return img


def legend_height(n):
    return 16 * n + 10


def legend(entries, w=560):
    """A strip above the panels: each (label, colour index) in its line's colour, so no
    legend hides a line."""
    img = np.full((legend_height(len(entries)), w, 3), 255, np.uint8)
    for i, (label, k) in enumerate(entries):
        cv2.putText(img, label, (70, 18 + 16 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.45,
                    COLOURS[k % len(COLOURS)], 1, cv2.LINE_AA)
    return img


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("logs", nargs="+")
    p.add_argument("--run", default=None,
                   help="run number(s) in a default.train-log.tsv (several: one log, "
                        "comma-separated)")
    p.add_argument("--labels", default="", help="comma-separated labels (default: folder names)")
    p.add_argument("--x", choices=("step", "minutes"), default="step", help="x axis")
    p.add_argument("-o", "--output", required=True)
    a = p.parse_args(argv)
    runs = [int(r) for r in a.run.split(",")] if a.run else [None]
    if len(runs) > 1 and len(a.logs) > 1:
        p.error("several --run numbers need exactly one log")
    sources = [(x, r) for x in a.logs for r in runs]
    labels = a.labels.split(",") if a.labels else \
        [f"run {r}" if len(runs) > 1 else os.path.basename(os.path.dirname(os.path.abspath(x)))
         for x, r in sources]
    logs = [read_log(x, r, a.x) for x, r in sources]
    panels = []
    for key, title in MEASURES:
        series = [(lab, np.array(lg[key][0]), np.array(lg[key][1]), k)
                  for k, (lab, lg) in enumerate(zip(labels, logs)) if lg[key][0]]
        if series:
            panels.append(panel(series, key, title, xlabel=a.x))
    if not panels:
        print("curves: no rows with " + " or ".join(k for k, _ in MEASURES), file=sys.stderr)
        return 1
    entries = [(lab, k) for k, lab in enumerate(labels)]
    cv2.imwrite(a.output, np.concatenate([legend(entries)] + panels, axis=0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
