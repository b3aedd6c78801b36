#!/usr/bin/python3
"""Inpainting quality on held-out photos: our model (through libgatedinpaint) against
OpenCV's Telea and Navier-Stokes inpainting.

    tools/eval/eval_quality.py --photos DATA_DIR/val [--model FILE.gguf] [--out docs/quality]

Every photo is scaled (INTER_AREA) to cover --size (768x512) and centre-cropped. Each gets
--masks deterministic free-form masks (gitrain.masks.eval_mask: brush strokes covering
5-20% of the image, seeded by photo index and mask number). Methods: OpenCV Telea and
Navier-Stokes (cv2.inpaint, radius 3), the push-pull fill alone (the pre-fill of
input_fill = pushpull models, and of guided_pushpull models when no guide is given; no
network), our model without a guide and, when the model has a
guide channel, with the Canny edges of the ground truth as guide (an oracle sketch: an
upper bound for a user's drawing). The model runs through the C library (ctypes on
libgatedinpaint.so, 1 thread), exactly as users run it.

Metrics, over hole pixels only, colours in [0, 1]: L1 (mean absolute error), L2 (mean
squared error), PSNR = 10 log10(1 / L2) per image, and SSIM (Wang et al. 2004: Gaussian
window 11 / sigma 1.5, per colour channel on the whole image, averaged over hole pixels).
Reported as the mean over all (photo, mask) cases. Writes OUT/results.md, results.json,
grid.jpg (input / Telea / NS / ours / ours + guide / ground truth) and guide.jpg (a hole
across an outline, filled with a drawn line at and beside the true outline; where each fill
puts the outline is measured, guide_figure).
"""
import argparse
import json
import os
import sys
import time

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "train"))
sys.path.insert(0, HERE)

from gitrain.data import edge_map, list_images, load_rgb  # noqa: E402
from gitrain.masks import eval_mask  # noqa: E402
from gitrain import nets  # noqa: E402
import torch  # noqa: E402
import eval_strategy  # noqa: E402  (object-removal masks, ShiftMap)
import gilib  # noqa: E402
from measures import (CoherenceContext, colour_noise_ratio, detail_ratio,  # noqa: E402
                      incoherence, invented_detail, periodic_detail)


def case_masks(kind, index, h, w, n=3):
    """The masks of held-out photo number `index`: objects, a blob and a box
    (eval_strategy.masks); strokes, n seeded free-form masks."""
    if kind == "objects":
        return [m for _, m in eval_strategy.masks(h, w, index)]
    return [eval_mask(h, w, seed=1000 * index + j) for j in range(n)]


def fit_crop(rgb, w, h):
    ih, iw = rgb.shape[:2]
    s = max(w / iw, h / ih)
    r = cv2.resize(rgb, (max(w, round(iw * s)), max(h, round(ih * s))),
                   interpolation=cv2.INTER_AREA)
    y, x = (r.shape[0] - h) // 2, (r.shape[1] - w) // 2
    return np.ascontiguousarray(r[y:y + h, x:x + w])


def ssim_map(a, b):
    """SSIM map of two float64 HxW images in [0, 1] (Gaussian 11x11, sigma 1.5)."""
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    blur = lambda x: cv2.GaussianBlur(x, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)  # noqa
    mu_a, mu_b = blur(a), blur(b)
    va = blur(a * a) - mu_a ** 2
    vb = blur(b * b) - mu_b ** 2
    cov = blur(a * b) - mu_a * mu_b
    return ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / \
        ((mu_a ** 2 + mu_b ** 2 + c1) * (va + vb + c2))


def metrics(out, gt, hole, coherence=None):
    o = out[:, :, :3].astype(np.float64) / 255
    g = gt[:, :, :3].astype(np.float64) / 255
    d = (o - g)[hole]
    l1, l2 = float(np.abs(d).mean()), float((d * d).mean())
    ssim = float(np.mean([ssim_map(o[:, :, c], g[:, :, c])[hole].mean() for c in range(3)]))
    return {"l1": l1, "l2": l2, "psnr": 10 * np.log10(1 / max(l2, 1e-12)), "ssim": ssim,
            "detail": detail_ratio(out, hole), "colour_noise": colour_noise_ratio(out, hole),
            "invented": invented_detail(out, gt, hole),
            "periodic": periodic_detail(out, gt, hole),
            "incoherence": incoherence(out, gt, hole, coherence)}


def opencv(rgb, mask, flag):
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    out = cv2.inpaint(bgr, (mask > 127).astype(np.uint8), 3, flag)
    return np.ascontiguousarray(out[:, :, ::-1])


def pushpull(rgb, mask):
    """The push-pull fill alone (what pushpull models get as stage-1 input in the hole)."""
    x = torch.from_numpy(rgb.astype(np.float32).transpose(2, 0, 1))[None]
    valid = torch.from_numpy((mask <= 127).astype(np.float32))[None, None]
    out = nets.pushpull(x, valid)[0].numpy().transpose(1, 2, 0)
    return np.clip(np.floor(out + 0.5), 0, 255).astype(np.uint8)


def show_hole(rgb, mask):
    v = rgb.copy()
    v[mask > 127] = 255
    return v


def label(img, text):
    img = img.copy()
    cv2.putText(img, text, (6, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(img, text, (6, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1,
                cv2.LINE_AA)
    return img


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--photos", required=True, help="folder of held-out photos")
    p.add_argument("--model", default=None, help="GGUF file (default: the embedded model)")
    p.add_argument("--lib", default=None, help="libgatedinpaint.so (default: build/)")
    p.add_argument("--size", default="768x512", help="WxH of the test images")
    p.add_argument("--masks", type=int, default=3, help="masks per photo")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=os.path.join(HERE, "..", "..", "docs", "quality"))
    p.add_argument("--grid-rows", type=int, default=4)
    p.add_argument("--mask-kind", choices=("strokes", "objects"), default="strokes",
                   help="strokes: free-form brush masks (default); objects: a person-sized "
                        "blob and a box per photo (object removal, eval_strategy.masks)")
    p.add_argument("--compare", default=None,
                   help="a second model file, run the same way (e.g. the current default "
                        "when judging a new one)")
    p.add_argument("--shiftmap", action="store_true",
                   help="also OpenCV's patch-based xphoto ShiftMap (slow)")
    p.add_argument("--guide-only", action="store_true",
                   help="only the guide figure and its columns (seconds; for training "
                        "snapshots): writes guide.jpg and guide.json to --out")
    a = p.parse_args(argv)
    w, h = (int(v) for v in a.size.lower().split("x"))
    os.makedirs(a.out, exist_ok=True)
    if a.guide_only:
        return guide_only(a, w, h)
    per_photo = 2 if a.mask_kind == "objects" else a.masks

    # the network alone, as the official graph runs it (no region windows)
    ours = gilib.Inpainter(a.model, threads=a.threads, lib=a.lib, strategy="exact")
    guided = True
    names = ["telea", "ns", "pushpull", "ours"]
    other = None
    if a.compare:
        other = gilib.Inpainter(a.compare, threads=a.threads, lib=a.lib, strategy="exact")
        names.append("compare")
    if a.shiftmap:
        names.append("shiftmap")
    files = list_images(a.photos)
    cases, grid_rows = [], []
    t_ours = 0.0
    for i, path in enumerate(files):
        gt = fit_crop(load_rgb(path), w, h)
        edges = edge_map(gt)
        for j, mask in enumerate(case_masks(a.mask_kind, i, h, w, a.masks)):
            hole = mask > 127
            res = {"telea": opencv(gt, mask, cv2.INPAINT_TELEA),
                   "ns": opencv(gt, mask, cv2.INPAINT_NS), "pushpull": pushpull(gt, mask)}
            inp = gt.copy()
            inp[hole] = 0
            t = time.time()
            res["ours"] = ours(inp, mask)
            t_ours += time.time() - t
            if other:
                res["compare"] = other(inp, mask)
            if a.shiftmap:
                res["shiftmap"] = eval_strategy.shiftmap(gt, mask)
            if guided:
                try:
                    res["ours_guide"] = ours(inp, mask, edges)
                    if "ours_guide" not in names:
                        names.append("ours_guide")
                except RuntimeError:
                    guided = False
            case = {"photo": os.path.basename(path), "mask": j,
                    "hole": float(hole.mean())}
            coherence = CoherenceContext(gt, hole)  # the photo's part, for every fill
            for k, out in res.items():
                assert np.array_equal(out[~hole], gt[~hole]), k
                case[k] = metrics(out, gt, hole, coherence)
            cases.append(case)
            print(f"{case['photo']} mask {j} hole {case['hole']:.3f} " +
                  " ".join(f"{k} {case[k]['psnr']:.2f}dB" for k in names), flush=True)
            if j == 0 and len(grid_rows) < a.grid_rows:
                cols = [label(show_hole(gt, mask), "input")] + \
                    [label(res[k], {"telea": "OpenCV Telea", "ns": "OpenCV NS",
                                    "ours": "ours", "ours_guide": "ours + edge guide",
                                    "compare": "compared model",
                                    "shiftmap": "OpenCV ShiftMap"}[k])
                     for k in names if k != "pushpull"] + [label(gt, "ground truth")]
                grid_rows.append(np.concatenate([cv2.resize(c, (w // 2, h // 2),
                                                             interpolation=cv2.INTER_AREA)
                                                 for c in cols], axis=1))
    summary = {}
    for k in names:
        summary[k] = {m: float(np.mean([c[k][m] for c in cases]))
                      for m in ("l1", "l2", "psnr", "ssim", "detail", "colour_noise",
                                "invented", "periodic", "incoherence")}
        summary[k]["wins_l1_vs_telea"] = int(sum(c[k]["l1"] < c["telea"]["l1"] for c in cases))
    meta = {"photos": len(files), "masks_per_photo": per_photo, "mask_kind": a.mask_kind, "cases": len(cases),
            "size": a.size, "mean_hole": float(np.mean([c["hole"] for c in cases])),
            "model": a.model or "embedded default", "ours_seconds_per_image":
            t_ours / max(len(cases), 1), "threads": a.threads}
    doc = {"meta": meta, "summary": summary, "cases": cases}
    if guided:
        doc["guide"] = guide_figure(ours, files, w, h, os.path.join(a.out, "guide.jpg"))
    ours.close()
    if other:
        other.close()
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(doc, f, indent=1)
    pretty = {"telea": "OpenCV Telea", "ns": "OpenCV Navier-Stokes",
              "pushpull": "push-pull fill alone (no network)",
              "ours": "ours (no guide)", "ours_guide": "ours + Canny edges of the truth",
              "compare": "compared model (%s, no guide)" % a.compare,
              "shiftmap": "OpenCV xphoto ShiftMap"}
    lines = [f"{len(files)} held-out photos x {per_photo} {a.mask_kind} masks = {len(cases)} cases, "
             f"{a.size}, mean hole {100 * meta['mean_hole']:.1f}% of the image.", "",
             "| method | L1 (in hole) | L2 (in hole) | PSNR dB (in hole) | SSIM (in hole) "
             "| detail ratio | colour noise ratio | invented detail (0-255) "
             "| periodic detail (0-255) | incoherence (0-255) | cases with lower L1 than Telea |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for k in names:
        s = summary[k]
        lines.append(f"| {pretty[k]} | {s['l1']:.4f} | {s['l2']:.5f} | {s['psnr']:.2f} | "
                     f"{s['ssim']:.4f} | {s['detail']:.2f} | {s['colour_noise']:.2f} | "
                     f"{s['invented']:.2f} | {s['periodic']:.2f} | {s['incoherence']:.2f} | "
                     f"{s['wins_l1_vs_telea']}/{len(cases)} |")
    if guided:
        c = doc["guide"]
        lines += ["", f"guide.jpg ({c['photo']}, {c['hole'][2]} px hole across an outline at "
                  f"column {c['truth_column']:.1f}): where each fill puts the outline "
                  "(boundary_column) and its sharpest colour step (step_column), and how "
                  "much the guide changes the unguided fill (mean, 0-255):", "",
                  "| guide | outline column | step column | change |", "|---|---|---|---|"]
        lines += [f"| {k} | {c['column'][k]:.1f} | {c['step'][k]:.0f} | {c['change'][k]:.1f} |"
                  for k in c["column"]]
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    cv2.imwrite(os.path.join(a.out, "grid.jpg"), np.concatenate(grid_rows)[:, :, ::-1],
                [cv2.IMWRITE_JPEG_QUALITY, 88])
    return 0


GUIDE_PHOTO = "Kleiber"        # a held-out photo with a clean outline: bark against blue
GUIDE_HOLE = (278, 110, 96)    # hole centre x, y and side at 768x512, across the outline
GUIDE_SHIFT = 24               # px the drawn outline is moved left and right of the truth


def _outline_projection(img, cx, cy, hole):
    """The hole's colours projected on the line from the mean colour left of the hole
    (0) to the mean colour right of it (1): (rows x hole columns, x0, x1)."""
    y0, y1, x0, x1 = cy - hole // 2, cy + hole // 2, cx - hole // 2, cx + hole // 2
    f = img.astype(np.float64)
    left = f[y0:y1, x0 - 12:x0 - 2].reshape(-1, 3).mean(0)
    right = f[y0:y1, x1 + 2:x1 + 12].reshape(-1, 3).mean(0)
    d = right - left
    return ((f[y0:y1, x0:x1] - left) @ d) / (d @ d), x0, x1


def boundary_column(img, cx, cy, hole):
    """Where the fill puts the outline, per hole row: where the projection
    (_outline_projection) passes one half (the count of 'right' pixels, from the right
    edge). Returns the mean column over the rows."""
    s, _, x1 = _outline_projection(img, cx, cy, hole)
    return float(np.mean(x1 - (s > 0.5).sum(axis=1)))


def step_column(img, cx, cy, hole):
    """Where the fill puts its sharpest colour step, per hole row: the column where the
    projection changes most, after a 5-tap binomial smoothing along the row (which keeps it
    3 px from the hole's sides). Returns the median over the rows of the first column past
    the step. Unlike boundary_column it finds a step between two blends."""
    s, x0, _ = _outline_projection(img, cx, cy, hole)
    k = np.array([1, 4, 6, 4, 1]) / 16.0
    ss = np.stack([np.convolve(r, k, mode="valid") for r in s])  # column i: hole column i + 2
    jump = np.abs(np.diff(ss, axis=1))                 # between hole columns i + 2 and i + 3
    return float(np.median(x0 + 3 + np.argmax(jump, axis=1)))


def guide_only(a, w, h):
    ours = gilib.Inpainter(a.model, threads=a.threads, lib=a.lib, strategy="exact")
    c = guide_figure(ours, list_images(a.photos), w, h, os.path.join(a.out, "guide.jpg"))
    ours.close()
    with open(os.path.join(a.out, "guide.json"), "w") as f:
        json.dump(c, f, indent=1)
    print(f"outline {c['truth_column']:.1f}: " + ", ".join(
        f"{k} {c['column'][k]:.1f} (step {c['step'][k]:.0f})" for k in c["column"]))
    return 0


def guide_figure(ours, files, w, h, path):
    """Does the guide steer the fill? A square hole across an outline of a held-out photo,
    filled without a guide, with the true edges, and with a single drawn line at the true
    outline and GUIDE_SHIFT px to either side of it. Shown at full resolution (a 256 px
    crop). Returns the outline's column in each fill (boundary_column), the column of its
    sharpest colour step (step_column) and the mean absolute change (0-255) each guide
    makes to the unguided fill inside the hole."""
    path_photo = next(f for f in files if GUIDE_PHOTO in os.path.basename(f))
    gt = fit_crop(load_rgb(path_photo), w, h)
    cx, cy, hole = GUIDE_HOLE
    mask = np.zeros((h, w), np.uint8)
    mask[cy - hole // 2:cy + hole // 2, cx - hole // 2:cx + hole // 2] = 255
    inside = mask > 127
    inp = gt.copy()
    inp[inside] = 0
    truth = boundary_column(gt, cx, cy, hole)

    def line(x):
        g = np.zeros((h, w), np.uint8)
        cv2.line(g, (round(x), 0), (round(x), h - 1), 255, 2)
        return g
    guides = {"none": None, "true edges": edge_map(gt)}
    for dx in (-GUIDE_SHIFT, 0, GUIDE_SHIFT):
        guides[f"line at {dx:+d} px"] = line(truth + dx)
    outs = {k: ours(inp, mask, g) if g is not None else ours(inp, mask)
            for k, g in guides.items()}
    res = {"photo": os.path.basename(path_photo), "hole": list(GUIDE_HOLE),
           "truth_column": truth, "column": {}, "step": {}, "change": {}}
    for k, o in outs.items():
        res["column"][k] = boundary_column(o, cx, cy, hole)
        res["step"][k] = step_column(o, cx, cy, hole)
        res["change"][k] = float(np.abs(o.astype(np.int16) - outs["none"])[inside].mean())

    def with_guide(img, g):
        v = img.copy()
        v[(g > 153) & inside] = (255, 0, 255)
        return v

    # a drawn line is marked by ticks just above and below the hole, so that the fill
    # under it stays visible
    band = np.zeros_like(inside)
    band[cy - hole // 2 - 14:cy - hole // 2, cx - hole // 2:cx + hole // 2] = True
    band[cy + hole // 2:cy + hole // 2 + 14, cx - hole // 2:cx + hole // 2] = True

    def with_ticks(img, g):
        v = img.copy()
        v[(g > 153) & band] = (255, 0, 255)
        return v

    def crop(img):
        y = min(max(0, cy - 128), h - 256)
        x = min(max(0, cx - 128), w - 256)
        return img[y:y + 256, x:x + 256]
    top = [label(crop(show_hole(gt, mask)), "input"), label(crop(outs["none"]), "no guide"),
           label(crop(gt), "ground truth"), label(crop(with_guide(gt, guides["true edges"])),
                                                  "true edges")]
    rows = [np.concatenate(top, axis=1)]
    pairs = [k for k in guides if k.startswith("line")]
    bottom = []
    for k in pairs:
        bottom += [label(crop(with_ticks(outs[k], guides[k])), "guide: " + k[5:])]
    bottom.append(label(crop(outs["true edges"]), "guide: true edges"))
    rows.append(np.concatenate(bottom, axis=1))
    cv2.imwrite(path, np.concatenate(rows)[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 90])
    return res


if __name__ == "__main__":
    sys.exit(main())
