#!/usr/bin/python3
"""Does a model copy what the photo shows elsewhere? Measured on the kind of sample
`train.py --copy-share` trains on, so that it says whether the training teaches it.

    tools/train/probe_copy.py models/default.gguf runs/a/snap-0003000-raw.gguf --data data/photos

Cases: crops of the held-out photos (DATA/val at 0.6 scale, 3 per photo, seeded) made into
copy scenes (gitrain/data.copy_scene: the hole, a box or strokes of 32-96 px, and an 8-20 px
ring around it repeat another part of the crop exactly, a multiple of 8 px away). Printed
per model, without a guide: the in-hole PSNR of the fill against the twin, the fill's
detail ratio (tools/eval/measures.detail_ratio) beside the twin's own, and the share of
contextual attention's weight that the hole's cells put within one cell of their twin's
(its grid has 8 px cells; spread evenly, about 0.01). A model that finds the twin and
carries it over unblurred scores a high PSNR and the twin's detail; one that smooths the
surroundings into the hole scores what it scores on ordinary holes. The attention share
tells which half fails: finding the twin, or carrying it over.
"""
import argparse
import os
import sys

import cv2
import numpy as np
import torch

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
sys.path.insert(0, os.path.join(_HERE, "..", "eval"))
from gitrain import data, nets, recipe  # noqa: E402
import measures  # noqa: E402

CROP = 256


def copy_cases(folder, per_photo=3, seed=7):
    """(scene, mask, offset): (N, 3, H, W) in [-1, 1], (N, 1, H, W) 0/1 floats, and (N, 2)
    where each twin lies from its hole (px, down and right)."""
    rng = np.random.default_rng(seed)
    scenes, ms, offsets = [], [], []
    for f in data.list_images(folder):
        img = data.load_rgb(f)
        h, w = img.shape[:2]
        s = max(0.6, (CROP + 2) / min(h, w))
        img = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
        h, w = img.shape[:2]
        for _ in range(per_photo):
            y, x = int(rng.integers(0, h - CROP + 1)), int(rng.integers(0, w - CROP + 1))
            scene, mask, offset = data.copy_scene(  # at 256 px: 0 of 500 draws found no room
                np.ascontiguousarray(img[y:y + CROP, x:x + CROP]), rng)
            scenes.append(data.to_tensor(scene))
            ms.append(torch.from_numpy(mask)[None])
            offsets.append(offset)
    return torch.stack(scenes), torch.stack(ms), torch.tensor(offsets)


def twin_share(weights, mask, offset):
    """Mean over the hole's cells (nets.contextual_attention's grid; weights: (B, n, n))
    of the weight within one cell of the twin's cell."""
    b, n, _ = weights.shape
    side = round(n ** 0.5)                       # square crops
    cell = mask.shape[-1] // side
    hole = nets.resize_nn(mask, side, side)[:, 0] > 0.5
    shares = []
    for k in range(b):
        a = weights[k].view(side, side, side, side)
        dy, dx = (int(v) // cell for v in offset[k])
        for py, px in hole[k].nonzero().tolist():
            ty, tx = py + dy, px + dx
            shares.append(float(a[py, px, max(ty - 1, 0):ty + 2, max(tx - 1, 0):tx + 2].sum()))
    return shares


@torch.no_grad()
def probe(g, cases, batch=8):
    """(in-hole PSNR in dB over all cases' hole pixels, mean detail ratio of the fills,
    mean detail ratio of the twins, mean attention share on the twin)."""
    scene, mask, offset = cases
    outs, shares, orig = [], [], nets.contextual_attention
    for i in range(0, len(scene), batch):
        sl = slice(i, i + batch)
        none = torch.zeros_like(mask[sl])
        seen = []
        nets.contextual_attention = lambda f, m, **kw: orig(f, m, weights=seen, **kw)
        try:
            outs.append(recipe.forward_g(g, scene[sl], mask[sl], none, none[:, :, :1, :1])[2])
        finally:
            nets.contextual_attention = orig
        shares += twin_share(seen[0], mask[sl], offset[sl]) if seen else []
    out = torch.cat(outs)
    mse = float((((out - scene) * mask) ** 2).sum() / (mask.sum() * 3)) * 127.5 ** 2
    holes = mask[:, 0].numpy() > 0.5
    fills = [measures.detail_ratio(o, h) for o, h in zip(recipe.to_u8(out), holes)]
    twins = [measures.detail_ratio(t, h) for t, h in zip(recipe.to_u8(scene), holes)]
    return 10 * np.log10(255 ** 2 / max(mse, 1e-12)), float(np.nanmean(fills)), \
        float(np.nanmean(twins)), float(np.mean(shares)) if shares else float("nan")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("models", nargs="+", help="GGUF model files or train.py checkpoints")
    p.add_argument("--data", required=True, help="folder with val/")
    p.add_argument("--raw", action="store_true",
                   help="checkpoints: the trained weights, not the moving average")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    cases = copy_cases(os.path.join(a.data, "val"))
    print(f"{len(cases[0])} copy scenes (hole and ring repeat another part of the crop); "
          "in-hole PSNR against the twin, detail ratio of the fill (the twin's), "
          "attention on the twin")
    for path in a.models:
        psnr, fill, twin, share = probe(recipe.load_generator(path, a.raw), cases)
        print(f"{path}: {psnr:.2f} dB, detail {fill:.2f} ({twin:.2f}), attention on the "
              f"twin {share:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
