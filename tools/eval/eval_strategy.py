#!/usr/bin/python3
"""Object removal on held-out photos: the 'regions' and 'exact' strategies against OpenCV.

    tools/eval/eval_strategy.py --photos data/photos/val [--model FILE] [--lib .so]
        [--out docs/quality] [--big 4000x3000] [--threads 2] [--limit N]

For each photo, two object-removal masks (a person-sized blob, a box), at the photo's
native size and resized to --big (the photo enlarged, then the same masks scaled: a hole
of about 1 % there). Methods: the library with --strategy regions and exact, OpenCV Telea,
OpenCV xphoto ShiftMap (native size only, --shiftmap-photos).
Measured in the hole: PSNR against the photo, and the detail ratio of the project's
definition (docs/QUALITY.md): grey = 0.299R + 0.587G + 0.114B; hf = |grey - blur(grey,
sigma 1.5)|; A = mean hf over the hole eroded by 2 px; B = mean hf over the known pixels
within 24 px of the hole but more than 2 px from it; ratio = A / B (1 = as much fine detail
as around the hole). Writes results_strategy.json, strategies.jpg and strategies_BIG.jpg
(480x480 crops around the same holes at full resolution; exact runs at the big size only for
the photos of the figure) to --out.
"""
import argparse
import json
import os
import sys
import time

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gilib  # noqa: E402
from measures import detail_ratio, psnr  # noqa: E402


def masks(h, w, seed):
    """A person-sized blob (a tall ellipse, ~4 % of the photo) and a box (~3 %)."""
    rng = np.random.default_rng(seed)
    blob = np.zeros((h, w), np.uint8)
    a = int((0.04 * h * w / (2 * np.pi)) ** 0.5)
    cx, cy = int(rng.uniform(0.3, 0.7) * w), int(rng.uniform(0.4, 0.6) * h)
    cv2.ellipse(blob, (cx, cy), (a, 2 * a), float(rng.uniform(-15, 15)), 0, 360, 255, -1)
    box = np.zeros((h, w), np.uint8)
    bw, bh = int(0.2 * w), int(0.15 * h)
    x0, y0 = int(rng.uniform(0.1, 0.9) * (w - bw)), int(rng.uniform(0.1, 0.9) * (h - bh))
    box[y0:y0 + bh, x0:x0 + bw] = 255
    return [("blob", blob), ("box", box)]


def telea(rgb, mask):
    out = cv2.inpaint(np.ascontiguousarray(rgb[:, :, ::-1]), (mask > 127).astype(np.uint8), 3,
                      cv2.INPAINT_TELEA)
    return np.ascontiguousarray(out[:, :, ::-1])


def shiftmap(rgb, mask):
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    out = np.zeros_like(bgr)
    cv2.xphoto.inpaint(bgr, (mask <= 127).astype(np.uint8), out, cv2.xphoto.INPAINT_SHIFTMAP)
    out = np.ascontiguousarray(out[:, :, ::-1])
    keep = mask <= 127  # it also changes a few known pixels near the hole: every method
    out[keep] = rgb[keep]  # is measured with the known pixels as they were
    return out


def crop_around(img, hole, side=480):
    """A side x side crop centred on the hole, at full resolution (1:1 pixels)."""
    ys, xs = np.nonzero(hole)
    cy, cx = (ys.min() + ys.max()) // 2, (xs.min() + xs.max()) // 2
    h, w = hole.shape
    t, l = max(0, min(h - side, cy - side // 2)), max(0, min(w - side, cx - side // 2))
    c = np.zeros((side, side, 3), np.uint8)
    part = img[t:t + side, l:l + side, :3]
    c[:part.shape[0], :part.shape[1]] = part
    return c


def label(img, text):
    img = img.copy()
    for col, th in (((0, 0, 0), 3), ((255, 255, 255), 1)):
        cv2.putText(img, text, (6, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, col, th, cv2.LINE_AA)
    return img


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--photos", required=True)
    ap.add_argument("--model", default=None)
    ap.add_argument("--lib", default=None)
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", "docs", "quality"))
    ap.add_argument("--big", default="4000x3000")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="first N photos only")
    ap.add_argument("--figure-rows", type=int, default=2,
                    help="photos shown in strategies.jpg (native and big size each)")
    ap.add_argument("--methods", default="exact,regions,telea,shiftmap")
    ap.add_argument("--shiftmap-photos", type=int, default=10,
                    help="run ShiftMap (about 13 s an image here) on the first N photos only")
    a = ap.parse_args(argv)
    bw, bh = map(int, a.big.split("x"))
    files = sorted(f for f in os.listdir(a.photos) if f.lower().endswith((".jpg", ".png")))
    if a.limit:
        files = files[:a.limit]
    methods = {s: gilib.Inpainter(a.model, threads=a.threads, lib=a.lib, strategy=s)
               for s in ("regions", "exact")}
    rows, figure = [], []
    for i, f in enumerate(files):
        rgb = cv2.imread(os.path.join(a.photos, f))[:, :, ::-1].copy()
        h, w = rgb.shape[:2]
        big = cv2.resize(rgb, (bw, bh), interpolation=cv2.INTER_CUBIC)
        for kind, mask in masks(h, w, i):
            for size, img, m in (("native", rgb, mask),
                                 ("big", big, cv2.resize(mask, (bw, bh),
                                                         interpolation=cv2.INTER_NEAREST))):
                if size == "big":  # about 1 % of the big photo: shrink the hole around its centre
                    ys, xs = np.nonzero(m > 127)
                    cy, cx = int(ys.mean()), int(xs.mean())
                    s = (0.01 * bw * bh / max((m > 127).sum(), 1)) ** 0.5
                    M = np.float32([[s, 0, cx * (1 - s)], [0, s, cy * (1 - s)]])
                    m = cv2.warpAffine(m, M, (bw, bh), flags=cv2.INTER_NEAREST)
                hole = m > 127
                outs = {}
                for name, fn in (("regions", methods["regions"]), ("exact", methods["exact"]),
                                 ("telea", telea), ("shiftmap", shiftmap)):
                    if name not in a.methods.split(","):
                        continue
                    if name == "shiftmap" and i >= a.shiftmap_photos:
                        continue
                    if size == "big" and name == "shiftmap":
                        continue  # minutes at 12 MP
                    if size == "big" and name == "exact" and not (
                            kind == "blob" and i < a.figure_rows):
                        continue  # 30 s and 3 GB at 12 MP: only for the figure
                    t = time.time()
                    outs[name] = fn(img, m)
                    dt = time.time() - t
                    rows.append({"photo": f, "mask": kind, "size": size, "method": name,
                                 "hole": float(hole.mean()), "seconds": dt,
                                 "psnr": psnr(outs[name], img, hole),
                                 "detail": detail_ratio(outs[name], hole)})
                if kind == "blob" and i < a.figure_rows:
                    figure.append((size, img, hole, outs))
        print("%d/%d %s" % (i + 1, len(files), f), file=sys.stderr)
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "results_strategy.json"), "w") as fp:
        json.dump(rows, fp, indent=1)
    # table: mean over cases per (size, method)
    print("| size | method | cases | hole | detail ratio | PSNR in hole (dB) | s / image |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for size in ("native", "big"):
        for name in ("exact", "regions", "telea", "shiftmap"):
            r = [x for x in rows if x["size"] == size and x["method"] == name]
            if not r:
                continue
            print("| %s | %s | %d | %.1f %% | %.2f | %.2f | %.2f |" % (
                size if size == "native" else a.big, name, len(r),
                100 * np.mean([x["hole"] for x in r]), np.mean([x["detail"] for x in r]),
                np.mean([x["psnr"] for x in r]), np.mean([x["seconds"] for x in r])))
    # figures: the hole shown white, then each method, cropped around the hole at full
    # resolution; one for the native sizes, one for the big size
    for size, fname in (("native", "strategies.jpg"), ("big", "strategies_%s.jpg" % a.big)):
        lines = []
        for fsize, img, hole, outs in figure:
            if fsize != size:
                continue
            shown = img.copy()
            shown[hole] = 255
            tiles = [label(crop_around(shown, hole), "hole, %dx%d" % (img.shape[1], img.shape[0]))]
            tiles += [label(crop_around(outs[n], hole), n)
                      for n in ("exact", "regions", "telea", "shiftmap") if n in outs]
            lines.append(np.concatenate(tiles, axis=1))
        if lines and len({l.shape[1] for l in lines}) == 1:
            cv2.imwrite(os.path.join(a.out, fname), np.concatenate(lines, axis=0)[:, :, ::-1],
                        [cv2.IMWRITE_JPEG_QUALITY, 85])


if __name__ == "__main__":
    main()
