#!/usr/bin/python3
"""Does a model copy what the photo shows elsewhere? Measured on the kind of sample
`train.py --copy-share` trains on, so that it says whether the training teaches it.

    tools/train/probe_copy.py models/default.gguf runs/a/snap-0003000-raw.gguf --data data/photos

Cases: crops of the held-out photos (DATA/val at 0.6 scale, 3 per photo, seeded) made into
copy scenes (gitrain/data.copy_scene: the hole, a box or strokes of 32-96 px, and an 8-20 px
ring around it repeat another part of the crop exactly). Printed per model, without a guide:
the in-hole PSNR of the fill against the twin, and the fill's detail ratio
(tools/eval/measures.detail_ratio) beside the twin's own. A model that finds the twin and
carries it over unblurred scores a high PSNR and the twin's detail; one that smooths the
surroundings into the hole scores what it scores on ordinary holes (about 20 dB, detail
0.1 for the default).
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
from gitrain import data, recipe  # noqa: E402
import measures  # noqa: E402

CROP = 256


def copy_cases(folder, per_photo=3, seed=7):
    """(scene, mask) as (N, 3, H, W) in [-1, 1] and (N, 1, H, W) 0/1 float tensors."""
    rng = np.random.default_rng(seed)
    scenes, ms = [], []
    for f in data.list_images(folder):
        img = data.load_rgb(f)
        h, w = img.shape[:2]
        s = max(0.6, (CROP + 2) / min(h, w))
        img = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
        h, w = img.shape[:2]
        for _ in range(per_photo):
            y, x = int(rng.integers(0, h - CROP + 1)), int(rng.integers(0, w - CROP + 1))
            scene, mask = data.copy_scene(np.ascontiguousarray(img[y:y + CROP, x:x + CROP]),
                                          rng)  # at 256 px: 0 of 500 draws found no room
            scenes.append(data.to_tensor(scene))
            ms.append(torch.from_numpy(mask)[None])
    return torch.stack(scenes), torch.stack(ms)


@torch.no_grad()
def probe(g, cases, batch=8):
    """(in-hole PSNR in dB over all cases' hole pixels, mean detail ratio of the fills,
    mean detail ratio of the twins)."""
    scene, mask = cases
    outs = []
    for i in range(0, len(scene), batch):
        sl = slice(i, i + batch)
        none = torch.zeros_like(mask[sl])
        outs.append(recipe.forward_g(g, scene[sl], mask[sl], none, none[:, :, :1, :1])[2])
    out = torch.cat(outs)
    mse = float((((out - scene) * mask) ** 2).sum() / (mask.sum() * 3)) * 127.5 ** 2
    holes = mask[:, 0].numpy() > 0.5
    fills = [measures.detail_ratio(o, h) for o, h in zip(recipe.to_u8(out), holes)]
    twins = [measures.detail_ratio(t, h) for t, h in zip(recipe.to_u8(scene), holes)]
    return 10 * np.log10(255 ** 2 / max(mse, 1e-12)), float(np.nanmean(fills)), \
        float(np.nanmean(twins))


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
          "in-hole PSNR against the twin, detail ratio of the fill (the twin's)")
    for path in a.models:
        psnr, fill, twin = probe(recipe.load_generator(path, a.raw), cases)
        print(f"{path}: {psnr:.2f} dB, detail {fill:.2f} ({twin:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
