#!/usr/bin/python3
"""Gated vs partial, seen from inside (docs/GATED_VS_PARTIAL.md): the gates of a gated model
and the updated masks of a PConv U-Net on one picture, through the experimental map
observer (Session.inpaint(maps=...)), as a figure and a table.

    tools/eval/gates_figure.py --gated models/default.gguf --pconv PCONV.gguf \\
        [--image examples/dune.jpg --mask examples/dune_mask.png|box:WxH]
        [--guide examples/dune_sketch.png|""]
        [--out docs/gated_vs_partial]

Writes OUT/masks.png (the PConv masks layer by layer: white valid, black hole), OUT/gates.jpg
(JPEG; gated layers: for each, the mean gate over channels and three single channels, without and
with the guide) and prints Markdown tables: per PConv layer the share of its map still marked
invalid; per gated layer the mean gate inside and outside the hole (at the layer's
resolution) and how much the gates differ between channels at one pixel (the mean over
pixels of the standard deviation across channels). The masks do not depend on the weights
(the rule sees only the mask), so any PConv file of that layer_size shows the same ones.
"""
import argparse
import os
import sys

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bindings", "python"))
import gatedinpaint as gi  # noqa: E402

TILE = 200  # width of one tile in the figures


def collect(model, image, mask, guide=None):
    s = gi.Session(gi.Model.from_file(model) if model else gi.Model.default(), threads=2,
                   strategy="exact")
    maps = []
    s.inpaint(image, mask, guide, maps=lambda info, a: maps.append((info, a)))
    return maps


def tile(a, h, w, label):
    """A map (2-D, 0..1) covering the image, resized to the tile, with a caption."""
    img = cv2.resize((np.clip(a, 0, 1) * 255).astype(np.uint8), (TILE, TILE * h // w),
                     interpolation=cv2.INTER_NEAREST)
    img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    cv2.rectangle(img, (0, 0), (img.shape[1] - 1, img.shape[0] - 1), (128, 128, 128), 1)
    bar = np.full((18, TILE, 3), 255, np.uint8)
    cv2.putText(bar, label, (3, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([bar, img])


def crop(info, a, h, w):
    """The part of a map that covers the image (the network input is padded)."""
    return a[:-(-h * a.shape[0] // info["net_h"]), :-(-w * a.shape[1] // info["net_w"])]


def grid(rows):
    width = max(sum(t.shape[1] for t in r) for r in rows)
    out = []
    for r in rows:
        line = np.concatenate(r, axis=1)
        line = np.pad(line, ((0, 4), (0, width - line.shape[1]), (0, 0)), constant_values=255)
        out.append(line)
    return np.concatenate(out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    root = os.path.join(HERE, "..", "..")
    p.add_argument("--gated", default=None, help="gated model (default: the embedded one)")
    p.add_argument("--pconv", required=True, help="a pconv_unet model file")
    p.add_argument("--image", default=os.path.join(root, "examples", "dune.jpg"))
    p.add_argument("--mask", default=os.path.join(root, "examples", "dune_mask.png"),
                   help="mask file, or box:WxH for a box in the middle")
    p.add_argument("--guide", default=os.path.join(root, "examples", "dune_sketch.png"))
    p.add_argument("--out", default=os.path.join(root, "docs", "gated_vs_partial"))
    p.add_argument("--layers", default="conv1,conv2_downsample,conv5,xconv1,xconv5,"
                   "pmconv1,allconv11,allconv15_upsample",
                   help="gated layers shown in gates.jpg")
    a = p.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    image = gi.load_image(a.image)[:, :, :3]
    if a.mask.startswith("box:"):  # an object-sized hole in the middle, W x H pixels
        bw, bh = (int(v) for v in a.mask[4:].split("x"))
        mask = np.zeros(image.shape[:2], np.uint8)
        y, x = (image.shape[0] - bh) // 2, (image.shape[1] - bw) // 2
        mask[y:y + bh, x:x + bw] = 255
    else:
        mask = gi.load_mask(a.mask)
    guide = gi.load_mask(a.guide) if a.guide else None
    h, w = mask.shape[:2]
    hole = (mask.reshape(h, w) > 127)

    # partial convolutions: the rule-updated masks
    rows, table = [], ["| PConv layer | map size | share still invalid |", "|---|---|---|"]
    for info, m in collect(a.pconv, image, mask):
        c = crop(info, m[:, :, 0], h, w)
        invalid = 1 - c.mean()
        table.append(f"| {info['layer']} | {c.shape[1]}x{c.shape[0]} | {100 * invalid:.2f} % |")
        rows.append(tile(c, h, w, f"{info['layer']}: {100 * invalid:.2f} % invalid"))
    cv2.imwrite(os.path.join(a.out, "masks.png"),
                grid([rows[i:i + 4] for i in range(0, len(rows), 4)])[:, :, ::-1])
    print("\n".join(table) + "\n")

    # gated convolutions: soft, per channel
    want = a.layers.split(",")
    plain = {i["layer"]: (i, m) for i, m in collect(a.gated, image, mask)}
    guided = {i["layer"]: (i, m) for i, m in collect(a.gated, image, mask, guide)} \
        if guide is not None else {}
    table = ["| gated layer | map size | channels | mean gate in hole | outside | "
             "spread across channels | change with the guide (in hole) |",
             "|---|---|---|---|---|---|---|"]
    rows = []
    for name in plain:
        info, g = plain[name]
        g = crop(info, g, h, w)
        small = cv2.resize(hole.astype(np.uint8), (g.shape[1], g.shape[0]),
                           interpolation=cv2.INTER_NEAREST).astype(bool)
        spread = g.std(axis=2).mean()
        change = ""
        if name in guided:
            gg = crop(guided[name][0], guided[name][1], h, w)
            change = f"{np.abs(gg - g)[small].mean():.4f}" if small.any() else "-"
        inside = f"{g[small].mean():.3f}" if small.any() else "-"
        table.append(f"| {name} | {g.shape[1]}x{g.shape[0]} | {g.shape[2]} | {inside} | "
                     f"{g[~small].mean():.3f} | {spread:.3f} | {change} |")
        if name in want:
            r = [tile(g.mean(axis=2), h, w, f"{name}: mean of {g.shape[2]}")]
            order = np.argsort(g.reshape(-1, g.shape[2]).std(axis=0))[::-1]
            r += [tile(g[:, :, c], h, w, f"{name}: channel {c}") for c in order[:3]]
            if name in guided:
                gg = crop(guided[name][0], guided[name][1], h, w)
                r.append(tile(gg[:, :, order[0]], h, w, f"channel {order[0]}, with guide"))
            rows.append(r)
    cv2.imwrite(os.path.join(a.out, "gates.jpg"), grid(rows)[:, :, ::-1],
                [cv2.IMWRITE_JPEG_QUALITY, 85])
    print("\n".join(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
