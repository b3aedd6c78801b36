#!/usr/bin/python3
"""Does a model put the hole's structure where the guide draws it? Measured on the kind of
sample `train.py --guide-shift` trains on, so that it says whether the training teaches it.

    tools/train/probe_guide.py models/default.gguf runs/a/last.pt --data data/photos
    tools/train/probe_guide.py runs/a/last.pt --raw --data data/photos   # trained weights

Cases: crops of the held-out photos (DATA/val at 0.6 scale, 3 per photo, seeded) with an
80 px square hole whose content is moved 24 px left or right (gitrain/data.displace_hole,
no taper: the outlines jump at the hole's border, as when a user draws a line 24 px away
from an outline), the guide being the moved content's edges (data.edge_map). Cases whose
hole holds fewer than 40 guide pixels are skipped. Printed per model, over the pixels where
the moved and the unmoved content differ by more than 0.25 (in [-1, 1] units, any channel):
the share of them at which the fill is closer to the moved content than to the unmoved
one, without a guide and with the moved edges as guide. A model that follows the guide
fully scores about 1 with it; one that continues the surroundings scores what it scores
without it.

--prefill FILL: the guided passes get that input fill (nets.fill_rgb: guided_pushpull,
ring_warp, ...) instead of the model's own, to compare pre-fills on the same weights
(models/README.md, "A pre-fill that follows a drawn line"). --figure OUT.jpg: also the guide figure of docs/QUALITY.md
(tools/eval/eval_quality.py guide_figure: lines drawn at the outline and 24 px to either
side of it), filled here in torch rather than by the library, and its outline columns.
"""
import os
import sys

import cv2
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gitrain import data, nets, recipe  # noqa: E402

CROP, HOLE, SHIFT, MIN_EDGE, DIFFER = 256, 80, 24, 40, 0.25


def shifted_cases(folder, per_photo=3, seed=5):
    """(unmoved, moved, mask, moved edges) as (N, c, H, W) float tensors ([-1, 1], 0/1)."""
    rng = np.random.default_rng(seed)
    m = SHIFT
    mask = np.zeros((CROP, CROP), np.float32)
    o = (CROP - HOLE) // 2
    mask[o:o + HOLE, o:o + HOLE] = 1
    orig, moved, edges = [], [], []
    for f in data.list_images(folder):
        img = data.load_rgb(f)
        h, w = img.shape[:2]
        s = max(0.6, (CROP + 2 * m + 2) / min(h, w))
        img = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
        h, w = img.shape[:2]
        for _ in range(per_photo):
            y = int(rng.integers(0, h - CROP - 2 * m + 1))
            x = int(rng.integers(0, w - CROP - 2 * m + 1))
            big = np.ascontiguousarray(img[y:y + CROP + 2 * m, x:x + CROP + 2 * m])
            dx = int(rng.choice([-SHIFT, SHIFT]))
            target, source = data.displace_hole(big, mask, m, dx, 0, 0.0)
            e = (data.edge_map(source) > 0).astype(np.float32)
            if (e * mask).sum() < MIN_EDGE:
                continue
            orig.append(data.to_tensor(big[m:m + CROP, m:m + CROP]))
            moved.append(data.to_tensor(target))
            edges.append(torch.from_numpy(e)[None])
    n = len(orig)
    mk = torch.from_numpy(mask)[None, None].expand(n, 1, CROP, CROP).contiguous()
    return torch.stack(orig), torch.stack(moved), mk, torch.stack(edges)


def follow_share(out, orig, moved):
    """Share of the pixels where moved and orig differ (in the hole only: outside it they
    are the same) at which out is closer to moved than to orig."""
    differ = (moved - orig).abs().amax(1, keepdim=True) > DIFFER
    closer = (out - moved).abs().sum(1, keepdim=True) < (out - orig).abs().sum(1, keepdim=True)
    return float((closer & differ).sum() / differ.sum().clamp_min(1))


def guided_rgb(prefill, image, mask, edge, keep):
    """The guided input's filled rgb planes by the fill named `prefill`, or None for
    "model" (forward_g then fills as the model says)."""
    return None if prefill == "model" else nets.fill_rgb(image, mask, edge * keep, prefill)


@torch.no_grad()
def probe(g, cases, batch=8, prefill="model"):
    """(share without a guide, share with the moved edges as guide)."""
    orig, moved, mask, edge = cases
    shares = []
    for keep in (0.0, 1.0):
        outs = []
        for i in range(0, len(orig), batch):
            sl = slice(i, i + batch)
            kept = torch.full((len(orig[sl]), 1, 1, 1), keep)
            rgb = guided_rgb(prefill, moved[sl], mask[sl], edge[sl], kept) if keep else None
            outs.append(recipe.forward_g(g, moved[sl], mask[sl], edge[sl], kept, False,
                                         rgb)[2])
        shares.append(follow_share(torch.cat(outs), orig, moved))
    return tuple(shares)


class TorchInpainter:
    """gilib.Inpainter's call (uint8 RGB image, uint8 mask, optional uint8 guide ->
    uint8 RGB) by the torch generator, at the image's size (a multiple of 8)."""

    def __init__(self, g, prefill="model"):
        self.g, self.prefill = g, prefill

    @torch.no_grad()
    def __call__(self, image, mask, guide=None):
        im = data.to_tensor(image)[None]
        m = torch.from_numpy((mask > 127).astype(np.float32))[None, None]
        e = torch.from_numpy((guide > 127).astype(np.float32) if guide is not None
                             else np.zeros(mask.shape, np.float32))[None, None]
        keep = torch.full((1, 1, 1, 1), float(guide is not None))
        rgb = guided_rgb(self.prefill, im, m, e, keep) if guide is not None else None
        out = recipe.forward_g(self.g, im, m, e, keep, False, rgb)[2][0]
        return ((out.permute(1, 2, 0).numpy() + 1) * 127.5).round().clip(0, 255) \
            .astype(np.uint8)


def main(argv=None):
    p = recipe.probe_parser(__doc__)
    p.add_argument("--prefill", choices=("model",) + nets.INPUT_FILLS, default="model",
                   help="the guided passes' pre-fill: the model's own, or another")
    p.add_argument("--figure", metavar="OUT.jpg",
                   help="also the guide figure (one model), filled in torch")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    cases = shifted_cases(os.path.join(a.data, "val"))
    print(f"{len(cases[0])} cases: hole {HOLE} px, content moved {SHIFT} px; share of the "
          f"differing pixels closer to the moved content; guided pre-fill: {a.prefill}")
    for path in a.models:
        g = recipe.load_generator(path, a.raw)
        none, guided = probe(g, cases, prefill=a.prefill)
        print(f"{path}: no guide {none:.3f}, moved edges as guide {guided:.3f}")
        if a.figure:
            sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                            "..", "eval"))
            import eval_quality
            c = eval_quality.guide_figure(TorchInpainter(g, a.prefill),
                                          data.list_images(os.path.join(a.data, "val")),
                                          768, 512, a.figure)
            print(f"{a.figure}: outline {c['truth_column']:.1f}; " + ", ".join(
                f"{k} {v:.1f}" for k, v in c["column"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
