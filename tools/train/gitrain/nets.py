"""Trainable DeepFill v2 generator and SN-PatchGAN discriminator.

The generator is the engine's graph (gimodel/deepfill_torch.py, which reproduces the
official TensorFlow graph; docs/DEEPFILL_V2.md): the same 42 layer names, TF SAME
padding, gated convolutions, nearest x2 upsampling, contextual attention with score fusion
and the two-step mask resize, tanh outputs. The layer arithmetic is taken from deepfill_torch
(gated_conv, resize_nn, upsample2x), so a trained state exported to GGUF runs identically in
the C library. What is new here is batching and differentiability: `contextual_attention`
below is deepfill_torch.contextual_attention for a batch of images, each with its own mask,
written without in-place updates and with a norm whose gradient stays finite.
"""
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

_TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")  # tools/
if _TOOLS not in sys.path:
    sys.path.insert(0, _TOOLS)

from gimodel import deepfill, deepfill_torch  # noqa: E402  (the parity oracle: layer table, semantics)
from gimodel.deepfill import INPUT_FILLS  # noqa: E402  (the model format's fill names)
from gimodel.deepfill_torch import LAYER_NAMES, layer_specs, resize_nn  # noqa: E402,F401


def gated_conv(x, weight, bias, layer):
    """deepfill_torch.gated_conv, with the x2 upsampling done by F.interpolate: the same
    pixel replication, but its backward avoids the index_add that repeat_interleave
    needs (bench/train_step.py: 1.12-1.24x faster CPU steps; tools/train/README.md)."""
    if layer.up:
        x = F.interpolate(x, scale_factor=2, mode="nearest")
    return deepfill_torch.gated_conv(x, weight, bias, layer._replace(up=False))


def _diag3(s):
    """Batched deepfill_torch._diag3: t[p][q] = s[p-1][q-1] + s[p][q] + s[p+1][q+1]."""
    return s + F.pad(s[:, :-1, :-1], (1, 0, 1, 0)) + F.pad(s[:, 1:, 1:], (0, 1, 0, 1))


def contextual_attention(f, mask_s, *, fuse=True, softmax_scale=10.0, hook=None):
    """Contextual attention of the official graph (rate 2, f = b) for a batch.

    f: (B, C, h, w) with h, w even; mask_s: (B, 1, h, w) (or anything resize_nn maps to
    h/2 x w/2), 1 = hole. Equals deepfill_torch.contextual_attention image by image.
    hook: called with the attention weights (B, n, n): row p, the cell p of the h/2 x w/2
    grid (row-major), borrows from the cells of its columns; the weights it returns are
    used instead (probe_copy.py reads them and tries an oracle's; training supervises them
    and forces a teacher's, recipe.attention_targets).
    """
    b, c, h, w = f.shape
    hh, ww = h // 2, w // 2
    n = hh * ww
    raw = F.unfold(f, 4, padding=1, stride=2)                      # (B, C*16, L)
    fd = resize_nn(f, hh, ww)
    patches = F.unfold(fd, 3, padding=1)                           # (B, C*9, L)
    # clamp_min(sqrt(x), 1e-4) == sqrt(clamp_min(x, 1e-8)), but the latter has a finite
    # gradient at all-zero patches (pmconv6 ends in a ReLU, so they occur).
    norm = patches.pow(2).sum(1, keepdim=True).clamp_min(1e-8).sqrt()
    kernels = patches / norm
    m8 = resize_nn(mask_s, hh, ww)
    mm = (F.unfold(m8, 3, padding=1).sum(1) == 0).to(f.dtype)[:, None, :]   # (B, 1, L)
    s = patches.transpose(1, 2) @ kernels                          # (B, L, L): S[p][q]
    if fuse:
        s = _diag3(s)
        s = s.view(b, hh, ww, hh, ww).permute(0, 2, 1, 4, 3).reshape(b, n, n)
        s = _diag3(s)
        s = s.view(b, ww, hh, ww, hh).permute(0, 2, 1, 4, 3).reshape(b, n, n)
    a = torch.softmax(s * mm * softmax_scale, dim=2) * mm
    if hook is not None:
        a = hook(a)
    cols = raw @ a.transpose(1, 2)
    return F.fold(cols, (h, w), 4, padding=1, stride=2) / 4


class Generator(nn.Module):
    """DeepFill v2 generator; state_dict keys are "layers.<official name>.weight|bias"."""

    def __init__(self, width=48, guide_channels=0, *, fuse=True, softmax_scale=10.0,
                 init_gain=1.3, input_fill="zeros", residual=False):
        super().__init__()
        if input_fill not in INPUT_FILLS:
            raise ValueError(f"input_fill must be one of {INPUT_FILLS}, got {input_fill!r}")
        if input_fill in ("guided_pushpull", "ring_warp") and not guide_channels:
            raise ValueError(f"input_fill {input_fill} needs a guide channel")
        self.width = width
        self.guide_channels = guide_channels
        self.input_fill = input_fill  # how make_input fills the holes (model metadata)
        self.residual = residual  # each stage adds its output to its input image (metadata)
        self.fuse = fuse
        self.softmax_scale = softmax_scale
        self.specs = {sp.name: sp for sp in layer_specs(width, guide_channels)}
        self.layers = nn.ModuleDict()
        for sp in self.specs.values():
            conv = nn.Conv2d(sp.cin, sp.cconv, sp.k)
            # He normal times init_gain, zero bias. Each gated layer roughly halves the
            # signal (sigmoid gate ~ 0.5), so the official code's Glorot init leaves the
            # output of 42 layers at ~1e-7 and the first thousands of steps barely move.
            # Gain 1.3 gives an output std of ~0.04 and keeps the scale-10 attention tame
            # (gimodel/deepfill_torch.random_weights measured the same regime).
            std = init_gain * math.sqrt(2.0 / (sp.cin * sp.k * sp.k))
            nn.init.normal_(conv.weight, 0.0, std)
            nn.init.zeros_(conv.bias)
            self.layers[sp.name] = conv
        if residual:
            self.zero_outputs()

    def _run(self, x, names):
        for name in names:
            conv = self.layers[name]
            x = gated_conv(x, conv.weight, conv.bias, self.specs[name])
        return x

    def forward(self, x_in, mask, coarse_l1_only=False, attention=None):
        """x_in: (B, 3 [+1] + 2, H, W) = [rgb with holes 0, (edge*mask), ones, mask];
        mask: (B, 1, H, W), 1 = hole; H, W multiples of 8. Returns (x_stage1, x_stage2).
        coarse_l1_only: stage 2 gets stage 1's result without its gradient, so only
        stage 1's own loss trains stage 1 (the same values either way). attention: a hook
        for the attention weights (contextual_attention's)."""
        x = self._run(x_in, LAYER_NAMES[0:6])
        mask_s = resize_nn(mask, x.shape[2], x.shape[3])
        x_stage1 = self._run(x, LAYER_NAMES[6:17])
        if self.residual:
            x_stage1 = x_stage1 + x_in[:, 0:3]
        xnow = x_stage1 * mask + x_in[:, 0:3] * (1 - mask)
        if coarse_l1_only:
            xnow = xnow.detach()
        x_hallu = self._run(xnow, LAYER_NAMES[17:27])
        pm = self._run(xnow, LAYER_NAMES[27:33])
        pm = contextual_attention(pm, mask_s, fuse=self.fuse, softmax_scale=self.softmax_scale,
                                  hook=attention)
        pm = self._run(pm, LAYER_NAMES[33:35])
        x_stage2 = self._run(torch.cat([x_hallu, pm], dim=1), LAYER_NAMES[35:42])
        if self.residual:
            x_stage2 = x_stage2 + xnow
        return x_stage1, x_stage2

    def zero_outputs(self):
        """Zero both stages' last layers: a residual model then returns its input image
        (the pre-fill in the hole) and learns corrections from there."""
        with torch.no_grad():
            for name in (LAYER_NAMES[16], LAYER_NAMES[41]):
                self.layers[name].weight.zero_()
                self.layers[name].bias.zero_()

    def export_weights(self):
        """{"<layer>.weight": float32 numpy OIHW, "<layer>.bias": ...} for gguf.write_model."""
        out = {}
        for name, conv in self.layers.items():
            out[name + ".weight"] = conv.weight.detach().float().cpu().numpy()
            out[name + ".bias"] = conv.bias.detach().float().cpu().numpy()
        return out


def pushpull(x, valid):
    """lib/graph/fill.c, batched: the holes (valid == 0) of x (B, C, H, W) filled by
    push-pull. Level l+1 is ceil(H/2) x ceil(W/2), each pixel the mean of the valid pixels
    of its 2x2 block (valid if any is); hole pixels of level l take the 2x bilinear
    upsampling (half-pixel, clamped) of the filled level l+1; a 1x1 level with no valid
    pixel is 0. Smooth, cheap (O(HW)) and differentiable."""
    h, w = x.shape[2:]
    if h == 1 and w == 1:
        return x * valid
    xv = F.pad(x * valid, (0, w % 2, 0, h % 2))
    v = F.pad(valid, (0, w % 2, 0, h % 2))
    s = F.avg_pool2d(xv, 2) * 4
    n = F.avg_pool2d(v, 2) * 4
    coarse = pushpull(s / n.clamp(min=1), (n > 0).to(x.dtype))
    up = F.interpolate(coarse, size=(2 * coarse.shape[2], 2 * coarse.shape[3]),
                       mode="bilinear", align_corners=False)[:, :, :h, :w]
    return x * valid + up * (1 - valid)


GUIDE_RING = 2  # px of known pixels around a hole region that guided_pushpull fills it from


def guided_pushpull(x, valid, edge):
    """lib/graph/fill.c gi_guided_pushpull_fill, batched: like pushpull, but colour does
    not flow across the guide's edges. Guide pixels G = holes with edge > 0.5; each
    4-connected region C of the other hole pixels is filled by pushpull on the window of
    C's bounding box grown by GUIDE_RING px (clipped), from only the known pixels within
    GUIDE_RING px (Chebyshev) of C; a region with no such pixel keeps plain pushpull.
    Last, G is filled by pushpull from every other pixel. Without guide pixels this is
    pushpull. Not differentiable with respect to edge (it only decides the regions)."""
    import cv2
    import numpy as np
    out = pushpull(x, valid)
    hole = (valid[:, 0] == 0).cpu().numpy()
    guide = (edge[:, 0] > 0.5).cpu().numpy() & hole
    r, k = GUIDE_RING, np.ones((2 * GUIDE_RING + 1,) * 2, np.uint8)
    h, w = hole.shape[1:]
    for b in np.flatnonzero(guide.any(axis=(1, 2))):
        known = ~hole[b]
        n, lab, stats, _ = cv2.connectedComponentsWithStats(
            (hole[b] & ~guide[b]).astype(np.uint8), connectivity=4)
        for i in range(1, n):
            x0, y0, bw, bh = stats[i, :4]
            x0, y0, x1, y1 = max(x0 - r, 0), max(y0 - r, 0), min(x0 + bw + r, w), \
                min(y0 + bh + r, h)
            c = lab[y0:y1, x0:x1] == i
            ring = (cv2.dilate(c.astype(np.uint8), k) > 0) & known[y0:y1, x0:x1]
            if not ring.any():
                continue
            win = x[b:b + 1, :, y0:y1, x0:x1]
            f = pushpull(win, torch.from_numpy(ring).to(x)[None, None])[0]
            ct = torch.from_numpy(c).to(x.device)
            out[b, :, y0:y1, x0:x1][:, ct] = f[:, ct]
        g = torch.from_numpy(guide[b]).to(x)[None, None]
        out[b:b + 1] = pushpull(out[b:b + 1], 1 - g)
    return out


# px along a hole's border: how far an anchor looks for the outline its line stands for,
# how near an outline counts as the line's own, and the colour step's half span
WARP_REACH, WARP_NEAR, WARP_STEP = 48, 3, 4
# the share of the window's largest step an outline must reach: the line's own, another
WARP_OWN, WARP_PEAK = 0.3, 0.8


def ring_warp_fill(x, valid, edge):
    """guided_pushpull, with the colours at each hole's border warped so that every guide
    line meets the border where the known outline it stands for does: a line drawn 24 px
    beside an outline then moves the outline to it. The reference of lib/graph/ring_warp.c
    (gatedinpaint.input_fill "ring_warp"; models/README.md, "A pre-fill that follows a
    drawn line"). Per image, after guided_pushpull:
    1. Each 8-connected component of the hole has a loop: its outer border, traced
       clockwise from its first pixel in raster order (_border_loop); each loop pixel gets
       the mean colour of the known pixels in its 7 x 7 neighbourhood (none: no colour).
    2. Colour step at each border pixel: the distance between the colours (smoothed along
       the loop, binomial, sigma 1.7 px) WARP_STEP pixels ahead and behind.
    3. Anchors: each run of border pixels that touch the guide (3 x 3) gives p, its middle;
       q is the outline the line stands for: among the local maxima of the step within
       WARP_REACH pixels along the loop, the nearest (the earlier of two as near) of those
       within WARP_NEAR px of p that reach WARP_OWN of the window's largest step (the line
       meets an outline of its own), else of those that reach WARP_PEAK of it and that
       no other line's p is within WARP_NEAR of (an outline another line meets is that
       line's); none: q = p. Anchors whose order along the loop q would break are left
       unmoved (q = p).
    4. Border pixel t takes the colour of pixel t + shift(t), the shift being the sum over
       the anchors of q - p fading linearly to 0 at WARP_REACH pixels from p along the loop
       (_loop_warp): each line's end takes its outline's colours, and the warp stays near
       the lines (a line drawn along a thin stroke moves no colour down its length).
    5. Each region between guide lines (as guided_pushpull's) whose border the warp moved
       (a pixel of it takes another's colour) and that holds border pixels with a colour
       is push-pull filled, on its bounding box, from them alone. The others keep the
       guided fill, which takes the known pixels as they are rather than 7 x 7 means.
    6. The guide pixels last, from everything around them."""
    import cv2
    import numpy as np
    out = guided_pushpull(x, valid, edge)
    hole_all = (valid[:, 0] == 0).cpu().numpy()
    guide_all = (edge[:, 0] > 0.5).cpu().numpy() & hole_all
    for b in np.flatnonzero(guide_all.any(axis=(1, 2))):
        hole, guide = hole_all[b], guide_all[b]
        img = x[b].permute(1, 2, 0).cpu().numpy().astype(np.float64)
        near_guide = cv2.dilate(guide.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        seeds_c = np.zeros(hole.shape + (3,))
        seeds = np.zeros(hole.shape, bool)
        moved = np.zeros(hole.shape, bool)
        ncomp, comp = cv2.connectedComponents(hole.astype(np.uint8), connectivity=8)
        for i in range(1, ncomp):
            py, px = _border_loop(comp == i)
            n = len(px)
            col, has = _loop_colours(img, hole, py, px)
            step = _loop_steps(col, has)
            src = _loop_anchors(near_guide[py, px], step, n)
            t = _loop_warp(src, n)
            seeds[py, px] = has[t]
            seeds_c[py, px] = col[t]
            shifted = t != np.arange(n)
            moved[py[shifted], px[shifted]] = True
        seeds &= ~guide
        nreg, lab = cv2.connectedComponents((hole & ~guide).astype(np.uint8), connectivity=4)
        for r in range(1, nreg):
            ys, xs = np.nonzero((lab == r) & seeds)
            if len(ys) == 0 or not moved[lab == r].any():
                continue
            ry, rx = np.nonzero(lab == r)
            y0, y1, x0, x1 = ry.min(), ry.max() + 1, rx.min(), rx.max() + 1
            v = torch.zeros(1, 1, y1 - y0, x1 - x0, dtype=x.dtype)
            c = torch.zeros(1, 3, y1 - y0, x1 - x0, dtype=x.dtype)
            v[0, 0, ys - y0, xs - x0] = 1
            c[0, :, ys - y0, xs - x0] = torch.from_numpy(seeds_c[ys, xs].T).to(x.dtype)
            f = pushpull(c, v)[0].to(x.device)
            out[b, :, ry, rx] = f[:, ry - y0, rx - x0]
        g = torch.from_numpy(guide).to(x)[None, None]
        out[b:b + 1] = pushpull(out[b:b + 1], 1 - g)
    return out


# the 8 neighbours (dy, dx), clockwise on screen (y down) from the west
_MOORE = ((0, -1), (-1, -1), (-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1))


def _border_loop(region):
    """Step 1 of ring_warp_fill: the outer border of a bool image's one 8-connected region,
    as (ys, xs) arrays: Moore-neighbour tracing, clockwise, from the region's first pixel
    in raster order (entered from the west), until it would leave that pixel for the
    second one again (Jacob's criterion). A pixel where the border touches itself appears
    more than once."""
    import numpy as np
    h, w = region.shape
    y, x = (int(v) for v in np.argwhere(region)[0])
    start, second, back = (y, x), None, 0  # back: direction of the last background pixel
    ys, xs = [y], [x]
    for _ in range(2 * region.size + 7):      # at most 2 h w + 8 entries: the C port's bound
        for k in range(1, 9):
            d = (back + k) % 8
            ny, nx = y + _MOORE[d][0], x + _MOORE[d][1]
            if 0 <= ny < h and 0 <= nx < w and region[ny, nx]:
                break
        else:
            break                           # a single pixel
        if second is None:
            second = (ny, nx)
        elif (y, x) == start and (ny, nx) == second:
            ys.pop()                        # start, appended on arrival, is ys[0]
            xs.pop()
            break
        by, bx = y + _MOORE[(d - 1) % 8][0], x + _MOORE[(d - 1) % 8][1]
        back = _MOORE.index((by - ny, bx - nx))
        y, x = ny, nx
        ys.append(y)
        xs.append(x)
    return np.array(ys), np.array(xs)


def _loop_colours(img, hole, py, px):
    """Step 1's colours: for each loop pixel the mean (float64, summed in raster order of
    the 7 x 7 offsets, as lib/graph/ring_warp.c does) of the known pixels in its 7 x 7
    neighbourhood within the image, and whether there is any."""
    import numpy as np
    h, w = hole.shape
    acc, cnt = np.zeros((len(py), 3)), np.zeros(len(py))
    for dy in range(-3, 4):
        for dx in range(-3, 4):
            yy, xx = py + dy, px + dx
            k = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
            k[k] = ~hole[yy[k], xx[k]]
            acc[k] += img[yy[k], xx[k]]
            cnt += k
    return (acc / np.maximum(cnt, 1)[:, None]).astype(np.float32), cnt > 0


# binomial weights (sigma 1.7 px): integers, so the C port sums them exactly alike
_LOOP_SMOOTH = (1, 12, 66, 220, 495, 792, 924, 792, 495, 220, 66, 12, 1)


def _loop_steps(col, has):
    """Step 2 of ring_warp_fill: the colour step at each pixel of a closed loop, from the
    colours smoothed along it (_LOOP_SMOOTH over the pixels that have one), summed in
    order of the offsets -6..6 as lib/graph/ring_warp.c does."""
    import numpy as np
    n = len(col)
    t = np.arange(n)
    acc, wsum = np.zeros((n, 3)), np.zeros(n)
    for j, k in enumerate(range(-6, 7)):
        wk = _LOOP_SMOOTH[j] * has[(t + k) % n]
        acc += col[(t + k) % n] * wk[:, None]
        wsum += wk
    sm, ok = acc / np.maximum(wsum, 1e-12)[:, None], wsum > 0
    a, b = (t + WARP_STEP) % n, (t - WARP_STEP) % n
    d = sm[a] - sm[b]
    return np.where(ok[a] & ok[b], np.sqrt(d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1]
                                           + d[:, 2] * d[:, 2]), 0.0).astype(np.float32)


def _loop_anchors(touch, step, n):
    """Step 3: [(p, q)] along a loop of n pixels, q - p as a signed offset, in order of p."""
    import numpy as np
    idx = np.flatnonzero(touch)
    if len(idx) == 0 or len(idx) == n:
        return []
    # runs of touching pixels, the loop's wrap joined; p: each one's middle
    ps = []
    for s0 in idx[np.flatnonzero(~touch[(idx - 1) % n])]:
        length = 0
        while touch[(s0 + length) % n]:
            length += 1
        ps.append(int((s0 + length // 2) % n))
    anchors = []
    offs = np.arange(-WARP_REACH, WARP_REACH + 1)
    for p in ps:
        win = (p + offs) % n
        sw = step[win].astype(np.float64)
        # local maxima within the window (its ends compared inwards only)
        top = (sw >= np.r_[-np.inf, sw[:-1]]) & (sw >= np.r_[sw[1:], -np.inf])
        own = top & (sw >= WARP_OWN * sw.max()) & (np.abs(offs) <= WARP_NEAR)
        peak = own if own.any() else top & (sw >= WARP_PEAK * sw.max())
        if not own.any():  # an outline another line meets is that line's
            for p2 in ps:
                d = (win - p2) % n
                peak &= (p2 == p) | (np.minimum(d, n - d) > WARP_NEAR)
        off = 0 if sw.max() <= 0 or not peak.any() else \
            int(offs[peak][np.argmin(np.abs(offs[peak]))])
        anchors.append((p, off))
    anchors.sort()
    for i in range(1, len(anchors) + 1):  # q's order along the loop must follow p's
        (p0, o0), (p1, o1) = anchors[i - 1], anchors[i % len(anchors)]
        gap = (p1 - p0) % n or n
        if gap + o1 - o0 <= 0:
            anchors[i % len(anchors)] = (p1, 0)
    return anchors


def _loop_warp(anchors, n):
    """Step 4: for each loop pixel t, the pixel whose colour it takes: t shifted by the sum
    over the anchors of each one's offset, fading linearly to 0 at WARP_REACH pixels
    (along the loop) from its p, rounded half to even."""
    import numpy as np
    t = np.arange(n)
    shift = np.zeros(n)
    for p, off in anchors:
        d = np.abs(t - p)
        d = np.minimum(d, n - d)
        shift += off * np.maximum(0.0, 1.0 - d / WARP_REACH)
    return np.round(t + shift).astype(int) % n


def fill_rgb(image, mask, edge=None, fill="zeros"):
    """The rgb planes of make_input: image with its holes 0 (fill "zeros"), or filled by
    pushpull(image, 1 - mask) ("pushpull", or any fill without a guide channel), or by
    guided_pushpull(image, 1 - mask, edge * mask) ("guided_pushpull"), or by
    ring_warp_fill(image, 1 - mask, edge * mask) ("ring_warp"). They depend on the
    data alone, so training computes them in the data workers (data.PhotoCrops input_fill):
    the guided fill is a loop over each image's hole regions, about 80 % of a batch-32
    step's operations when it ran in the training process (models/README.md, "GPU runs 32
    to 35")."""
    if fill == "zeros":
        return image * (1 - mask)
    if fill == "pushpull" or edge is None:
        return pushpull(image, 1 - mask)
    if fill == "ring_warp":
        return ring_warp_fill(image, 1 - mask, edge * mask)
    return guided_pushpull(image, 1 - mask, edge * mask)


def make_input(image, mask, edge=None, fill="zeros", rgb=None):
    """Stage-1 input as gi_inpaint builds it (deepfill_torch.prepare), batched.

    image: (B, 3, H, W) in [-1, 1]; mask: (B, 1, H, W) in {0, 1}; edge: (B, 1, H, W) in
    {0, 1} or None (no guide channel). Returns [rgb, edge*mask, ones, mask], rgb =
    fill_rgb(image, mask, edge, fill) unless given (a model trained with a fill carries
    gatedinpaint.input_fill = its name)."""
    planes = [fill_rgb(image, mask, edge, fill) if rgb is None else rgb]
    if edge is not None:
        planes.append(edge * mask)
    planes += [torch.ones_like(mask), mask]
    return torch.cat(planes, dim=1)


# ----------------------------------------------------------------------------------------
# SN-PatchGAN

def tf_same_pad(x, k, stride):
    """TF 'SAME' zero padding for a k x k convolution with the given stride."""
    top, bottom = deepfill_torch.tf_same_pads(x.shape[2], k, stride, 1)
    left, right = deepfill_torch.tf_same_pads(x.shape[3], k, stride, 1)
    return F.pad(x, (left, right, top, bottom))


class SNConv2d(nn.Module):
    """Convolution whose weight is divided by its spectral norm, estimated by power
    iteration (Miyato et al. 2018): one iteration per training forward, u persistent.

    The weight is viewed as a matrix W of shape (out, in*k*k). u (out,) is a buffer;
    v = normalize(W^T u), u = normalize(W v), sigma = u^T W v, with u, v held constant for
    the gradient (as in the paper and the official code)."""

    def __init__(self, cin, cout, k=5, stride=2, n_power_iterations=1, eps=1e-12):
        super().__init__()
        self.k, self.stride = k, stride
        self.n_power_iterations = n_power_iterations
        self.eps = eps
        self.weight = nn.Parameter(torch.empty(cout, cin, k, k))
        self.bias = nn.Parameter(torch.zeros(cout))
        nn.init.xavier_uniform_(self.weight)
        u = torch.randn(cout)
        self.register_buffer("u", u / u.norm().clamp_min(eps))

    def power_iteration(self, n=None):
        """Update u (and return (u, v)) with n power iterations; no gradient."""
        with torch.no_grad():
            w = self.weight.reshape(self.weight.shape[0], -1)
            u = self.u
            v = None
            for _ in range(self.n_power_iterations if n is None else n):
                v = F.normalize(w.t() @ u, dim=0, eps=self.eps)
                u = F.normalize(w @ v, dim=0, eps=self.eps)
            if v is None:
                v = F.normalize(w.t() @ u, dim=0, eps=self.eps)
            self.u.copy_(u)
        return u.clone(), v.clone()

    def sigma(self, update=None):
        """Spectral norm estimate; runs the power iteration first when training (or when
        update is True)."""
        if update is None:
            update = self.training
        u, v = self.power_iteration(None if update else 0)
        w = self.weight.reshape(self.weight.shape[0], -1)
        return u @ (w @ v)

    def forward(self, x):
        w = self.weight / self.sigma()
        return F.conv2d(tf_same_pad(x, self.k, self.stride), w, self.bias, stride=self.stride)


class Discriminator(nn.Module):
    """SN-PatchGAN: six 5x5 stride-2 SN convolutions (cnum x 1, 2, 4, 4, 4, 4), TF SAME
    padding, each followed by leaky ReLU 0.2 (as the official discriminator); the output is
    the (B, 4*cnum, H/64, W/64) patch map, flattened. Input: image (3) + mask (1)
    [+ guide (1)].

    blur (not in the official network): a [1 2 1] x [1 2 1] / 16 low-pass before each
    stride-2 convolution (anti-aliased downsampling, Zhang 2019). A stride-2 convolution
    cannot tell a pattern at the sampling frequency from a smooth one it aliases to, so the
    generator can add such patterns without being judged for them; the blur removes the
    Nyquist frequency (a one-pixel checkerboard) before each subsampling, so the
    discriminator sees it as it is rather than aliased.

    gray (not in the official network): the discriminator sees the mean of the three colour
    channels instead of them. Its gradient is then the same for R, G and B, so the generator's
    GAN term can add only achromatic patterns (texture, shading); colour comes from the L1
    terms alone. With a discriminator at chance (CPU runs 7-12) the GAN term added whatever
    its random colour filters preferred: cyan and pink speckles."""

    def __init__(self, in_channels=4, cnum=64, blur=False, gray=False):
        super().__init__()
        self.gray = gray
        chans = [in_channels - 2 if gray else in_channels,  # grey: one plane for R, G, B
                 cnum, 2 * cnum, 4 * cnum, 4 * cnum, 4 * cnum, 4 * cnum]
        self.convs = nn.ModuleList(SNConv2d(chans[i], chans[i + 1]) for i in range(6))
        self.blur = blur
        k = torch.tensor([1.0, 2.0, 1.0])
        self.register_buffer("_kernel", (k[:, None] * k[None, :] / 16)[None, None],
                             persistent=False)

    def _lowpass(self, x):
        c = x.shape[1]
        return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"),
                        self._kernel.expand(c, 1, 3, 3), groups=c)

    def forward(self, x):
        if self.gray:
            x = torch.cat([x[:, :3].mean(1, keepdim=True), x[:, 3:]], dim=1)
        for conv in self.convs:
            x = F.leaky_relu(conv(self._lowpass(x) if self.blur else x), 0.2)
        return x.flatten(1)


def macs(width, guide_channels, size):
    """Multiply-adds of one size x size forward pass, as the C engine counts them: the 42
    convolutions and the contextual attention's matching and paste products
    (gimodel.deepfill.macs without the fuse)."""
    parts = deepfill.macs(width, guide_channels, size, size)
    return sum(v for k, v in parts.items() if k != "CA fuse")
