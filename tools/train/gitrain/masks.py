"""Hole masks: the paper's free-form brush strokes, random boxes, and the seeded evaluation
masks. All masks are float32 HxW arrays, 1 = hole. Randomness comes only from the numpy
Generator passed in, so a seed fixes every mask.

Training follows the official recipe (JiahuiYu/generative_inpainting, DeepFill v2): the union
of a free-form stroke mask (1-3 strokes of 4-12 vertices; alternating turn angles around
2*pi/5 +- 2*pi/15; segment lengths ~ N(r, r/2) clipped to [0, 2r] with r = diag/8; brush
widths 12-40 px; round joints; random flips) and a random box (half the image in each
direction, shrunk by up to max_delta/2 on each side).
"""
import math

import cv2
import numpy as np


def brush_stroke_mask(h, w, rng, *, min_vertex=4, max_vertex=12, mean_angle=2 * math.pi / 5,
                      angle_range=2 * math.pi / 15, min_width=12, max_width=40,
                      max_strokes=3):
    mask = np.zeros((h, w), np.uint8)
    avg_radius = math.sqrt(h * h + w * w) / 8
    for _ in range(int(rng.integers(1, max_strokes + 1))):
        n_vertex = int(rng.integers(min_vertex, max_vertex + 1))
        angle_min, angle_max = mean_angle - rng.uniform(0, angle_range), \
            mean_angle + rng.uniform(0, angle_range)
        angles = [2 * math.pi - rng.uniform(angle_min, angle_max) if i % 2 == 0
                  else rng.uniform(angle_min, angle_max) for i in range(n_vertex)]
        vertex = [(int(rng.integers(0, w)), int(rng.integers(0, h)))]
        for i in range(n_vertex):
            r = float(np.clip(rng.normal(avg_radius, avg_radius / 2), 0, 2 * avg_radius))
            x = int(np.clip(vertex[-1][0] + r * math.cos(angles[i]), 0, w - 1))
            y = int(np.clip(vertex[-1][1] + r * math.sin(angles[i]), 0, h - 1))
            vertex.append((x, y))
        width = int(rng.integers(min_width, max_width + 1))
        for a, b in zip(vertex[:-1], vertex[1:]):
            cv2.line(mask, a, b, 1, thickness=width)
        for v in vertex:
            cv2.circle(mask, v, width // 2, 1, thickness=-1)
    if rng.random() > 0.5:
        mask = mask[:, ::-1]
    if rng.random() > 0.5:
        mask = mask[::-1, :]
    return np.ascontiguousarray(mask, dtype=np.float32)


def random_box_mask(h, w, rng, *, box_h=None, box_w=None, max_delta_h=None, max_delta_w=None):
    """The official random_bbox + bbox2mask: a box_h x box_w box at a random position,
    each side pulled in by a random 0..max_delta/2."""
    box_h = box_h or h // 2
    box_w = box_w or w // 2
    max_delta_h = h // 8 if max_delta_h is None else max_delta_h
    max_delta_w = w // 8 if max_delta_w is None else max_delta_w
    top = int(rng.integers(0, h - box_h + 1))
    left = int(rng.integers(0, w - box_w + 1))
    dh = int(rng.integers(0, max_delta_h // 2 + 1))
    dw = int(rng.integers(0, max_delta_w // 2 + 1))
    mask = np.zeros((h, w), np.float32)
    mask[top + dh:top + box_h - dh, left + dw:left + box_w - dw] = 1
    return mask


def training_mask(h, w, rng, *, box_prob=1.0, **stroke_options):
    """Union of a free-form stroke mask and (with probability box_prob) a random box."""
    mask = brush_stroke_mask(h, w, rng, **stroke_options)
    if rng.random() < box_prob:
        mask = np.maximum(mask, random_box_mask(h, w, rng))
    return mask


def eval_mask(h, w, seed, *, lo=0.05, hi=0.20):
    """Deterministic free-form evaluation mask covering lo..hi of the image.

    Strokes as in training, brush widths scaled with the image (12-40 px at a short side
    of 512); strokes are added one by one until the hole covers at least `lo`; a draw that
    overshoots `hi` is discarded and redrawn. uint8, 255 = hole."""
    rng = np.random.default_rng(seed)
    s = min(h, w) / 512
    opts = dict(min_width=max(2, round(12 * s)), max_width=max(3, round(40 * s)),
                max_strokes=1)
    for _ in range(1000):
        mask = np.zeros((h, w), np.float32)
        while mask.mean() < lo:
            mask = np.maximum(mask, brush_stroke_mask(h, w, rng, **opts))
        if mask.mean() <= hi:
            return (mask * 255).astype(np.uint8)
    raise RuntimeError("eval_mask: no mask in range")  # not reached for sane lo/hi
