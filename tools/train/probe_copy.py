#!/usr/bin/python3
"""Does a model copy what the photo shows elsewhere? Measured on the kind of sample
`train.py --copy-share` trains on, so that it says whether the training teaches it.

    tools/train/probe_copy.py models/default.gguf runs/a/snap-0003000-raw.gguf --data data/photos

Cases: crops of the held-out photos (DATA/val at 0.6 scale, 3 per photo, seeded) made into
copy scenes (gitrain/data.copy_scene: the hole, a box or strokes of 32-96 px, and an 8-20 px
ring around it repeat another part of the crop exactly, a multiple of 8 px away). Printed
per model, without a guide: the in-hole PSNR of the fill against the twin, the fill's detail
ratio (tools/eval/measures.detail_ratio) beside the twin's own, and the share of contextual
attention's weight that the hole's cells put within one cell of their twin's (its grid has
8 px cells; spread evenly, about 0.01) and the entropy of those weights (0: one source; near
log(1024) = 6.9: spread over the whole crop), and the PSNR and detail of the fill with an
oracle's attention, which borrows each hole cell from its twin's cell alone. A model that
finds the twin and carries it over unblurred scores a high PSNR and the twin's detail; one
that smooths the surroundings into the hole scores what it scores on ordinary holes. The
attention share and the oracle's fill tell which half fails: finding the twin, or carrying
it over (a decoder that ignores the attention fills alike with the oracle's).
"""
import os
import sys

import cv2
import numpy as np
import torch
import torch.nn.functional as F

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _HERE)
sys.path.insert(0, os.path.join(_HERE, "..", "eval"))
from gitrain import data, recipe  # noqa: E402
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


def twin_cells(n, offset, cell=8):
    """(B, n): the index of each cell's twin cell in the attention's square grid of n cells
    (clamped to the grid; only the hole's cells' twins matter)."""
    side = round(n ** 0.5)
    cells = torch.arange(n)
    dy, dx = (offset // cell).T
    return ((cells // side + dy[:, None]).clamp(0, side - 1) * side
            + (cells % side + dx[:, None]).clamp(0, side - 1))


def oracle(weights, mask, offset):
    """The weights with each hole cell's row borrowing from its twin's cell alone (the
    training's teacher, with the twins as its targets)."""
    return recipe.teacher_weights(weights, twin_cells(weights.shape[1], offset),
                                  recipe.attention_cells(mask)[0])


def twin_share(weights, mask, offset):
    """The weight within one cell of the twin's cell, for each of the hole's cells
    (recipe.attention_cells; weights: (B, n, n) of a square grid), as a list."""
    b, n, _ = weights.shape
    side = round(n ** 0.5)
    # each row's weights summed over 3 x 3 cells around every cell, read at its twin's
    box = F.avg_pool2d(weights.reshape(b * n, 1, side, side), 3, 1, 1,
                       count_include_pad=True).reshape(b, n, n) * 9
    near = box.gather(2, twin_cells(n, offset)[:, :, None])[:, :, 0]
    return near[recipe.attention_cells(mask)[0]].tolist()


def attention_entropy(weights, mask):
    """The entropy (nats) of each hole cell's attention weights, as a list: 0 when it
    borrows from one cell, log(n) when evenly from n. A cross-entropy the attention
    cannot pay by finding its target is paid by spreading (CPU runs 49 and 50)."""
    w = weights[recipe.attention_cells(mask)[0]]
    return (-(w.clamp_min(1e-12).log() * w).sum(1)).tolist()


@torch.no_grad()
def probe(g, cases, batch=8):
    """{"psnr": in-hole PSNR in dB over all cases' hole pixels, "detail": mean detail ratio
    of the fills, "twin_detail": of the twins, "attention": mean attention share on the
    twin, "entropy": mean entropy of the hole cells' attention (attention_entropy),
    "oracle_psnr", "oracle_detail": the fills' with the oracle's attention}."""
    scene, mask, offset = cases

    def fill(with_oracle):
        outs, shares, spread = [], [], []
        for i in range(0, len(scene), batch):
            sl = slice(i, i + batch)

            def look(a, sl=sl):
                if with_oracle:
                    return oracle(a, mask[sl], offset[sl])
                shares.extend(twin_share(a, mask[sl], offset[sl]))
                spread.extend(attention_entropy(a, mask[sl]))
                return a
            none = torch.zeros_like(mask[sl])
            outs.append(recipe.forward_g(g, scene[sl], mask[sl], none, none[:, :, :1, :1],
                                         attention=look)[2])
        return torch.cat(outs), shares, spread

    def measure(out):
        mse = float((((out - scene) * mask) ** 2).sum() / (mask.sum() * 3)) * 127.5 ** 2
        holes = mask[:, 0].numpy() > 0.5
        detail = [measures.detail_ratio(o, h) for o, h in zip(recipe.to_u8(out), holes)]
        return 10 * np.log10(255 ** 2 / max(mse, 1e-12)), float(np.nanmean(detail))

    out, shares, spread = fill(False)
    r = dict(zip(("psnr", "detail"), measure(out)))
    r["twin_detail"] = measure(scene)[1]
    r["attention"] = float(np.mean(shares)) if shares else float("nan")
    r["entropy"] = float(np.mean(spread)) if spread else float("nan")
    r["oracle_psnr"], r["oracle_detail"] = measure(fill(True)[0])
    return r


def main(argv=None):
    p = recipe.probe_parser(__doc__)
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    cases = copy_cases(os.path.join(a.data, "val"))
    print(f"{len(cases[0])} copy scenes (hole and ring repeat another part of the crop); "
          "in-hole PSNR against the twin, detail ratio of the fill (the twin's), "
          "attention on the twin, the fill with an oracle's attention")
    for path in a.models:
        r = probe(recipe.load_generator(path, a.raw), cases)
        print(f"{path}: {r['psnr']:.2f} dB, detail {r['detail']:.2f} "
              f"({r['twin_detail']:.2f}), attention on the twin {r['attention']:.2f} "
              f"(entropy {r['entropy']:.2f}); "
              f"with the oracle's attention {r['oracle_psnr']:.2f} dB, detail "
              f"{r['oracle_detail']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
