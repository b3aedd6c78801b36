#!/usr/bin/python3
"""Hole crops at full resolution, enlarged, side by side: OpenCV Telea, each model (the
network alone, exact strategy, unless --strategy regions) and the ground truth. For judging
by eye what the numbers cannot say (checkerboards, colour speckles) on the same held-out
cases eval_quality.py measures.

  tools/eval/crops_figure.py --photos data/photos/val --case Circuit:box --case Butterfly:blob \
      --model default --model run7=run7.gguf -o docs/quality/crops.jpg

A case is PHOTO:MASK: a part of a held-out photo's file name and one of eval_quality's
object-removal masks (blob, box) or stroke masks (stroke0, stroke1, stroke2) for that photo.
"""
import argparse
import os
import sys

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import eval_quality as eq  # noqa: E402
import gilib  # noqa: E402


def case_mask(kind, index, h, w):
    """The mask eval_quality.py uses for photo number `index`: blob or box (its --mask-kind
    objects), strokeJ (strokes, mask J)."""
    if kind.startswith("stroke"):
        j = int(kind[6:])
        return eq.case_masks("strokes", index, h, w, j + 1)[j]
    return eq.case_masks("objects", index, h, w)[("blob", "box").index(kind)]


def crop_box(mask, side):
    ys, xs = np.nonzero(mask > 127)
    cy, cx = (ys.min() + ys.max()) // 2, (xs.min() + xs.max()) // 2
    h, w = mask.shape
    y, x = min(max(0, cy - side // 2), h - side), min(max(0, cx - side // 2), w - side)
    return slice(y, y + side), slice(x, x + side)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--photos", required=True)
    p.add_argument("--case", action="append", required=True, help="PHOTO:MASK (repeat)")
    p.add_argument("--model", action="append", required=True,
                   help="LABEL=FILE.gguf, or 'default' for the embedded model (repeat)")
    p.add_argument("--size", default="768x512")
    p.add_argument("--crop", type=int, default=192, help="side of the crop, px")
    p.add_argument("--zoom", type=int, default=2, help="enlargement (nearest neighbour)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--strategy", choices=("exact", "regions"), default="exact",
                   help="exact: the network alone (default); regions: what gi_inpaint does "
                        "by default (each hole at the model's working scale, texture added)")
    p.add_argument("--lib", default=None)
    p.add_argument("-o", "--out", required=True)
    a = p.parse_args(argv)
    w, h = (int(v) for v in a.size.lower().split("x"))
    files = eq.list_images(a.photos)
    models = []
    for spec in a.model:
        label, _, path = spec.partition("=")
        models.append((label if path else "default model",
                       gilib.Inpainter(path or None, threads=a.threads, lib=a.lib,
                                       strategy=a.strategy)))
    rows = []
    for case in a.case:
        name, _, kind = case.partition(":")
        index = next((i for i, f in enumerate(files) if name in os.path.basename(f)), None)
        if index is None:
            raise SystemExit(f"crops_figure: no photo matching {name!r} in {a.photos}")
        gt = eq.fit_crop(eq.load_rgb(files[index]), w, h)
        mask = case_mask(kind or "box", index, h, w)
        inp = gt.copy()
        inp[mask > 127] = 0
        outs = [("OpenCV Telea", eq.opencv(gt, mask, cv2.INPAINT_TELEA))]
        outs += [(label, m(inp, mask)) for label, m in models]
        outs.append(("ground truth", gt))
        sy, sx = crop_box(mask, a.crop)
        z = a.zoom
        rows.append(np.concatenate(
            [eq.label(cv2.resize(np.ascontiguousarray(o[sy, sx]), None, fx=z, fy=z,
                                 interpolation=cv2.INTER_NEAREST), t) for t, o in outs], axis=1))
    for _, m in models:
        m.close()
    cv2.imwrite(a.out, np.concatenate(rows)[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
    print(f"crops_figure: {a.out}: {len(rows)} cases x {len(models) + 2} columns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
