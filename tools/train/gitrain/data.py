"""Photos -> training batches: random scale, crop and flip, free-form + box masks, and the
edge guide (Canny of the ground truth, kept for a random share of the samples), optionally
with the hole's content displaced so that the guide, not the surroundings, says where its
outlines go (displace_hole)."""
import os

import cv2
import numpy as np
import torch

from . import masks, nets

EXTS = (".jpg", ".jpeg", ".png", ".webp")


def list_images(folder):
    files = sorted(os.path.join(folder, f) for f in os.listdir(folder)
                   if f.lower().endswith(EXTS))
    if not files:
        raise FileNotFoundError(f"no images in {folder}")
    return files


def load_rgb(path):
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        raise OSError(f"cannot read {path}")
    return np.ascontiguousarray(img[:, :, ::-1])


def edge_map(rgb):
    """The guide a user's sketch stands in for: Canny edges of the blurred image, uint8 0/255.
    The blur (sigma 2) keeps the strong outlines and drops fine texture edges (it leaves
    30-80 % of the edge pixels sigma 1.2 gives on the 7 validation photos at 768x512), so
    an edge in the guide is more often an outline, closer to what a person would draw. The engine reads guide pixels > 153
    as edges."""
    gray = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    gray = cv2.GaussianBlur(gray, (0, 0), 2.0)
    return cv2.Canny(gray, 60, 140)


def to_tensor(rgb):
    """uint8 HxWx3 -> float32 (3, H, W) in [-1, 1] (gi_inpaint's v / 127.5 - 1)."""
    return torch.from_numpy(rgb.transpose(2, 0, 1).astype(np.float32) / np.float32(127.5)
                            - np.float32(1.0))


MIN_SHIFT_EDGE = 24  # guide pixels a displaced hole needs: about one outline across a stroke


def hole_weight(mask, taper):
    """How much of a displacement applies at each pixel: 1 in the hole at taper px or more
    from the known pixels, falling linearly to 0 at them (taper 0: 1 in the whole hole),
    0 outside it. float32."""
    hole = (mask > 0.5).astype(np.uint8)
    if taper > 0:
        return np.minimum(cv2.distanceTransform(hole, cv2.DIST_L2, 3) / taper,
                          1.0).astype(np.float32)
    return hole.astype(np.float32)


def displace_hole(big, mask, margin, dx, dy, taper):
    """A training target in which the hole's content is moved by (dx, dy) px while the known
    pixels stay: the sample teaches the network to put structure where the guide draws it,
    even where that disagrees with the outlines entering the hole (a user moving an outline
    with a line). big: (c + 2 margin)-square uint8 RGB, the crop with a margin on each side;
    mask: c x c float, 1 = hole. The displacement is full at taper px or more from the known
    pixels and falls linearly to 0 at them (taper 0: full everywhere in the hole, so outlines
    jump at its border, as when a line is drawn away from an outline). Returns (target, guide
    source): the guide's edges come from the displaced image without the seam at the hole's
    border, which no user would draw."""
    c = mask.shape[0]
    alpha = hole_weight(mask, taper)
    ys, xs = np.mgrid[0:c, 0:c].astype(np.float32)

    def warp(a):
        return cv2.remap(big, xs + margin + a * dx, ys + margin + a * dy, cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REFLECT)
    target = warp(alpha)  # alpha (float32) 0: the known pixels, exactly
    source = target if taper > 0 else warp(np.ones_like(alpha, np.float32))
    return np.ascontiguousarray(target), source


def outline_scene(a, b, mask, rng, shift_px, taper):
    """A training sample in which a drawn line alone says where an outline goes: the two
    patches a and b (c x c uint8 RGB) joined along a gently curved outline through a random
    hole pixel, whose part in the hole is moved sideways by up to shift_px px
    (hole_weight(mask, taper) of it at each pixel; 0 px too, so that a line on the outline
    keeps it). A line drawn in a hole whose surroundings say otherwise: each side of the
    line is to continue the patch on the same side of the outline outside. Returns (image,
    guide): the guide is the moved outline as a user would draw it, 2 px wide, and nothing
    else (uint8 0/255)."""
    c = mask.shape[0]
    ys, xs = np.nonzero(mask > 0.5)
    i = int(rng.integers(len(ys)))
    theta = rng.uniform(0, np.pi)
    wave = rng.uniform(40, 160)                     # px per period of the bend
    amp = rng.uniform(0, 0.4) * wave / (2 * np.pi)  # the bend's slope stays under 0.4
    yy, xx = np.mgrid[0:c, 0:c].astype(np.float32)
    yy, xx = yy - ys[i], xx - xs[i]
    along = -np.sin(theta) * xx + np.cos(theta) * yy
    side = (np.cos(theta) * xx + np.sin(theta) * yy
            + amp * np.sin(2 * np.pi * along / wave + rng.uniform(0, 2 * np.pi)))
    side -= rng.uniform(-shift_px, shift_px) * hole_weight(mask, taper)
    right = side > 0
    image = np.where(right[:, :, None], b, a)
    # the pixels on either side of the outline: a 2 px line however the taper bends it
    cross = np.zeros_like(right)
    cross[1:] |= right[1:] != right[:-1]
    cross[:-1] |= right[1:] != right[:-1]
    cross[:, 1:] |= right[:, 1:] != right[:, :-1]
    cross[:, :-1] |= right[:, 1:] != right[:, :-1]
    return np.ascontiguousarray(image), (cross * 255).astype(np.uint8)


COPY_STEP = 8  # px: contextual attention moves features by whole cells of its 1/8 grid


def copy_scene(patch, rng, *, size=(32, 96), ring=(8, 20), feather=6, box_prob=0.5,
               tries=20, step=COPY_STEP):
    """A training sample whose hole has an exact twin elsewhere in the crop: a block (the
    hole, ring px of known pixels around it) is overwritten by another block of the same
    crop. L1 on natural photos pays the mean of the likely fills, a smudge; here it pays
    only the copy, which contextual attention can find by the ring (the default model's
    puts 0.34 of its weight within one cell of the twin: probe_copy.py). The pasted block's
    outer feather px blend into the crop, so a hard seam around the hole does not signal
    "copy mode". The twin lies a multiple of step px away in each direction: the attention
    borrows patches of a grid of 8 px cells, so only such a copy can it make exactly; at
    another offset its best is a blend of two shifted copies, and L1 would pay for blur
    again. patch: c x c uint8 RGB. Returns (image, mask, (dy, dx)) with mask float32,
    1 = hole (a box or brush strokes inside the block, 32-96 px) and (dy, dx) where the
    twin lies from the hole, or None when no two blocks fit apart."""
    c = patch.shape[0]
    for _ in range(tries):
        ih, iw = (int(v) for v in rng.integers(size[0], size[1] + 1, 2))
        r = int(rng.integers(ring[0], ring[1] + 1))
        bh, bw = ih + 2 * r, iw + 2 * r
        if bh > c or bw > c:
            continue
        by, bx = int(rng.integers(0, c - bh + 1)), int(rng.integers(0, c - bw + 1))
        sy = by % step + step * int(rng.integers(0, (c - bh - by % step) // step + 1))
        sx = bx % step + step * int(rng.integers(0, (c - bw - bx % step) // step + 1))
        if abs(by - sy) >= bh or abs(bx - sx) >= bw:
            break
    else:
        return None
    if rng.random() < box_prob:
        inner = np.ones((ih, iw), np.float32)
    else:
        inner = masks.brush_stroke_mask(ih, iw, rng, min_width=8,
                                        max_width=max(9, min(ih, iw) // 3), max_strokes=2)
    mask = np.zeros((c, c), np.float32)
    mask[by + r:by + r + ih, bx + r:bx + r + iw] = inner
    y, x = np.mgrid[0:bh, 0:bw]
    border = np.minimum(np.minimum(y, bh - 1 - y), np.minimum(x, bw - 1 - x))
    alpha = np.clip((border + 1) / feather, 0, 1)[:, :, None]
    image = patch.copy()
    block = patch[by:by + bh, bx:bx + bw].astype(np.float32)
    twin = patch[sy:sy + bh, sx:sx + bw].astype(np.float32)
    image[by:by + bh, bx:bx + bw] = np.rint(alpha * twin + (1 - alpha) * block).astype(np.uint8)
    return image, mask, (sy - by, sx - bx)


class PhotoCrops(torch.utils.data.IterableDataset):
    """Endless random training samples from a folder of photos (held in memory).

    Each sample: image (3, c, c) in [-1, 1], mask (1, c, c) 1 = hole, edge (1, c, c) 0/1,
    keep (1, 1, 1): 1 when the guide is given for this sample, 0 when it is dropped.
    guide_shift: the share of the guided samples whose hole content is displaced
    (displace_hole) by 3 to shift_px px in a random direction, with a taper of 0 (half of
    them) or 2-16 px. guide_outline: the share of the guided samples that are instead two
    photos' patches joined along an outline moved in the hole, with that line alone as the
    guide (outline_scene; up to shift_px px, the same tapers); it is drawn first.
    copy_share: the share of all samples that are copy scenes (copy_scene: the hole and its
    ring repeat another part of the crop) instead; drawn before the guide's displacements.
    input_fill other than "zeros" (the generator's, with guide: whether it has a guide
    channel): a fifth tensor, the network input's filled rgb (3, c, c)
    (nets.fill_rgb), made here in the data workers rather than in the training step."""

    def __init__(self, folder, *, crop=128, scale=(0.35, 0.9), guide_keep=0.5, box_prob=1.0,
                 min_width=12, max_width=40, guide_shift=0.0, shift_px=24, guide_outline=0.0,
                 copy_share=0.0, input_fill="zeros", guide=True, seed=0):
        super().__init__()
        self.images = [load_rgb(p) for p in list_images(folder)]
        self.crop, self.scale, self.guide_keep = crop, scale, guide_keep
        self.guide_shift, self.margin = guide_shift, (shift_px if guide_shift > 0 else 0)
        self.guide_outline, self.shift_px = guide_outline, shift_px
        self.box_prob, self.copy_share = box_prob, copy_share
        self.input_fill, self.guide = input_fill, guide
        self.stroke = dict(min_width=min_width, max_width=max_width)
        self.seed = seed

    @classmethod
    def from_args(cls, folder, a, seed):
        """The training samples a train.py run's options (a dict: vars(args), or a
        checkpoint's "args", which may predate the later options) describe."""
        return cls(folder, crop=a["crop"], scale=(a["scale_min"], a["scale_max"]),
                   guide_keep=a["guide_keep"], box_prob=a["box_prob"],
                   min_width=a["min_width"], max_width=a["max_width"],
                   guide_shift=a.get("guide_shift", 0.0), shift_px=a.get("shift_px", 24),
                   guide_outline=a.get("guide_outline", 0.0),
                   copy_share=a.get("copy_share", 0.0),
                   input_fill=a.get("input_fill", "zeros") if a.get("family") != "pconv_unet"
                   else "zeros", guide=bool(a.get("guide", 1)), seed=seed)

    def patch(self, rng, c):
        """A random c x c patch of a random photo at a random scale, flipped or not."""
        img = self.images[int(rng.integers(len(self.images)))]
        h, w = img.shape[:2]
        s = rng.uniform(*self.scale)
        s = max(s, (c + 1) / min(h, w))
        sh, sw = max(c, round(h * s)), max(c, round(w * s))
        # crop a window of the source that maps to c x c after scaling: cheaper than
        # resizing the whole photo
        ch, cw = min(h, round(c / s) + 2), min(w, round(c / s) + 2)
        y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        patch = cv2.resize(img[y:y + ch, x:x + cw], (round(cw * sw / w), round(ch * sh / h)),
                           interpolation=cv2.INTER_AREA)
        py = int(rng.integers(0, patch.shape[0] - c + 1))
        px = int(rng.integers(0, patch.shape[1] - c + 1))
        patch = patch[py:py + c, px:px + c]
        if rng.random() < 0.5:
            patch = patch[:, ::-1]
        return np.ascontiguousarray(patch)

    def sample(self, rng):
        m, c = self.margin, self.crop
        big = self.patch(rng, c + 2 * m)  # the crop and its margin, cut off below
        patch = np.ascontiguousarray(big[m:m + c, m:m + c])
        mask = masks.training_mask(c, c, rng, box_prob=self.box_prob, **self.stroke)
        keep = np.float32(rng.random() < self.guide_keep)
        copied = (copy_scene(patch, rng)
                  if self.copy_share and rng.random() < self.copy_share else None)
        if copied is not None:
            patch, mask = copied[:2]
        edge = (edge_map(patch) > 0).astype(np.float32)
        # a copy scene teaches the twin, not a moved outline
        if copied is None and self.guide_outline and keep and rng.random() < self.guide_outline:
            t = rng.uniform(2, 16) if rng.random() < 0.5 else 0.0
            scene, line = outline_scene(patch, self.patch(rng, c), mask, rng, self.shift_px, t)
            line = (line > 0).astype(np.float32)
            if (line * mask).sum() >= MIN_SHIFT_EDGE:  # else the line left the hole
                patch, edge = scene, line
        elif copied is None and m and keep and rng.random() < self.guide_shift:
            r, a = rng.uniform(3, m), rng.uniform(0, 2 * np.pi)
            t = rng.uniform(2, 16) if rng.random() < 0.5 else 0.0
            moved, source = displace_hole(big, mask, m, round(r * np.cos(a)),
                                          round(r * np.sin(a)), t)
            moved_edge = (edge_map(source) > 0).astype(np.float32)
            # without an outline in the hole the guide cannot say where the content went:
            # such a sample would teach the network to ignore the surroundings
            if (moved_edge * mask).sum() >= MIN_SHIFT_EDGE:
                patch, edge = moved, moved_edge
        out = (to_tensor(patch), torch.from_numpy(mask)[None], torch.from_numpy(edge)[None],
               torch.full((1, 1, 1), float(keep)))
        if self.input_fill == "zeros":  # as cheap in the step: not worth the transfer
            return out
        image, m, e, k = (t[None] for t in out)
        with torch.no_grad():
            rgb = nets.fill_rgb(image, m, e * k * m if self.guide else None, self.input_fill)
        return out + (rgb[0],)

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        wid = info.id if info else 0
        rng = np.random.default_rng([self.seed, wid])
        while True:
            yield self.sample(rng)


def batches(dataset, batch, workers=0):
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch, num_workers=workers,
                                         persistent_workers=workers > 0)
    return iter(loader)


def fixed_val_set(folder, *, n=8, crop=256, scale=0.6, seed=1234):
    """A fixed validation batch: centre-ish crops of the held-out photos at the evaluation
    scale, with seeded free-form masks (no boxes)."""
    rng = np.random.default_rng(seed)
    files = list_images(folder)
    imgs, ms, es = [], [], []
    for i in range(n):
        img = load_rgb(files[i % len(files)])
        h, w = img.shape[:2]
        s = max(scale, crop / min(h, w))  # small photos: enlarged until the crop fits
        img = cv2.resize(img, (max(crop, round(w * s)), max(crop, round(h * s))),
                         interpolation=cv2.INTER_AREA)
        h, w = img.shape[:2]
        y, x = int(rng.integers(0, h - crop + 1)), int(rng.integers(0, w - crop + 1))
        patch = np.ascontiguousarray(img[y:y + crop, x:x + crop])
        imgs.append(to_tensor(patch))
        ms.append(torch.from_numpy(masks.eval_mask(crop, crop, seed + i).astype(np.float32)
                                   / 255)[None])
        es.append(torch.from_numpy((edge_map(patch) > 0).astype(np.float32))[None])
    return torch.stack(imgs), torch.stack(ms), torch.stack(es)
