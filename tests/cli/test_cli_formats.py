#!/usr/bin/python3
"""gi-inpaint and image formats: grey stays grey, 16-bit stays 16-bit with
the known pixels exact, WebP and TIFF (or the error naming the missing
meson option), --jpeg-quality, EXIF and ICC profile carried to the output,
sizes that differ named with both files.

    test_cli_formats.py GI_INPAINT webp|no-webp tiff|no-tiff

Reads and writes the test pictures with Pillow and OpenCV (16-bit colour).
"""
import io
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np
from PIL import Image, ImageCms

exe = sys.argv[1]
have_webp, have_tiff = sys.argv[2] == "webp", sys.argv[3] == "tiff"
failures = []
checks = 0

W, H = 64, 48
HOLE = np.zeros((H, W), bool)
HOLE[16:28, 20:36] = True


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def run(*args):
    p = subprocess.run([exe, "-t", "1", "-q"] + [str(a) for a in args], capture_output=True,
                       text=True, timeout=120)
    return p.returncode, p.stderr


def texture(channels, dtype=np.uint8):
    rng = np.random.default_rng(channels)
    top = 65536 if dtype == np.uint16 else 256
    a = rng.integers(0, top, (H, W, channels), dtype=np.int64).astype(dtype)
    return a[:, :, 0] if channels == 1 else a


def known_same_hole_changed(a, b, what):
    check(a.shape == b.shape and a.dtype == b.dtype, f"{what}: {b.dtype} {b.shape}, "
          f"expected {a.dtype} {a.shape}")
    if a.shape != b.shape:
        return
    check(np.array_equal(a[~HOLE], b[~HOLE]), f"{what}: known pixels bit-identical")
    check(not np.array_equal(a[HOLE], b[HOLE]), f"{what}: the hole is filled")


def cases(d):
    mask = os.path.join(d, "mask.png")
    Image.fromarray(HOLE.astype(np.uint8)).save(mask)  # a 0/1 mask

    # Grey in, grey out; grey+alpha keeps both channels.
    for mode, channels in (("L", 1), ("LA", 2)):
        src, out = os.path.join(d, f"{mode}.png"), os.path.join(d, f"{mode}_out.png")
        Image.fromarray(texture(channels), mode).save(src)
        rc, err = run("-i", src, "-m", mask, "-o", out)
        check(rc == 0, f"{mode} PNG: exit {rc} {err!r}")
        if rc == 0:
            check(Image.open(out).mode == mode, f"{mode} PNG in, {mode} out: {Image.open(out).mode}")
            known_same_hole_changed(np.asarray(Image.open(src)), np.asarray(Image.open(out)),
                                    f"{mode} PNG")
    grey_jpg, grey_jpg_out = os.path.join(d, "grey.jpg"), os.path.join(d, "grey_out.jpg")
    Image.fromarray(texture(1)).save(grey_jpg, quality=95)
    rc, err = run("-i", grey_jpg, "-m", mask, "-o", grey_jpg_out)
    check(rc == 0 and Image.open(grey_jpg_out).mode == "L", f"grey JPEG stays grey: {rc} {err!r}")

    # 16-bit PNG in, 16-bit out, known samples exact, the fill x257.
    deep = texture(3, np.uint16)
    src16, out16 = os.path.join(d, "deep.png"), os.path.join(d, "deep_out.png")
    cv2.imwrite(src16, deep)
    rc, err = run("-i", src16, "-m", mask, "-o", out16)
    check(rc == 0, f"16-bit PNG: exit {rc} {err!r}")
    if rc == 0:
        got = cv2.imread(out16, cv2.IMREAD_UNCHANGED)
        known_same_hole_changed(deep, got, "16-bit PNG")
        check(got.dtype == np.uint16 and (got[HOLE] % 257 == 0).all(), "16-bit: the fill x257")
    rc, err = run("-i", src16, "-m", mask, "-o", os.path.join(d, "deep.jpg"))
    check(rc == 3 and "8 bits" in err and ".png" in err, f"16-bit to JPEG: an error: {rc} {err!r}")

    # WebP and TIFF, or the error that names the option.
    rgb = texture(3)
    for fmt, built, option in ((".webp", have_webp, "-Dwebp"), (".tif", have_tiff, "-Dtiff")):
        src, out = os.path.join(d, "rgb" + fmt), os.path.join(d, "rgb_out" + fmt)
        png = os.path.join(d, "rgb.png")
        Image.fromarray(rgb).save(png)
        if not built:
            rc, err = run("-i", png, "-m", mask, "-o", out)
            check(rc == 3 and option in err, f"{fmt} not built: {rc} {err!r}")
            continue
        Image.fromarray(rgb).save(src, **({"lossless": True} if fmt == ".webp" else {}))
        rc, err = run("-i", src, "-m", mask, "-o", out)
        check(rc == 0, f"{fmt}: exit {rc} {err!r}")
        if rc == 0:
            known_same_hole_changed(rgb, np.asarray(Image.open(out).convert("RGB")), fmt)
    if have_tiff:
        src, out = os.path.join(d, "deep.tif"), os.path.join(d, "deep_out.tif")
        cv2.imwrite(src, deep)
        rc, err = run("-i", src, "-m", mask, "-o", out)
        check(rc == 0, f"16-bit TIFF: exit {rc} {err!r}")
        if rc == 0:
            known_same_hole_changed(deep, cv2.imread(out, cv2.IMREAD_UNCHANGED), "16-bit TIFF")

    # --jpeg-quality: lower quality, smaller file; out-of-range values refused.
    png = os.path.join(d, "rgb.png")
    sizes = {}
    for q in (None, 30):
        out = os.path.join(d, f"q{q}.jpg")
        rc, err = run("-i", png, "-m", mask, "-o", out, *(["--jpeg-quality", q] if q else []))
        check(rc == 0, f"--jpeg-quality {q}: {rc} {err!r}")
        sizes[q] = os.path.getsize(out) if rc == 0 else 0
    check(0 < sizes[30] < sizes[None] * 0.8, f"--jpeg-quality 30 is smaller than 95: {sizes}")
    for bad in ("0", "101", "x", "9.5"):
        rc, err = run("-i", png, "-m", mask, "-o", os.path.join(d, "bad.jpg"), "--jpeg-quality", bad)
        check(rc == 2 and "--jpeg-quality" in err and "1 to 100" in err,
              f"--jpeg-quality {bad}: usage error: {rc} {err!r}")

    # EXIF (orientation 6: the file stores the picture turned) and the ICC
    # profile reach the output; the output is upright and says so.
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "TestCam"
    turned = os.path.join(d, "turned.jpg")
    Image.fromarray(np.ascontiguousarray(np.rot90(rgb, 1))).save(
        turned, quality=95, exif=exif.tobytes(), icc_profile=icc)  # stored W x H swapped
    for ext in (".jpg", ".png") + ((".webp",) if have_webp else ()):
        out = os.path.join(d, "turned_out" + ext)
        rc, err = run("-i", turned, "-m", mask, "-o", out)
        check(rc == 0, f"EXIF/ICC {ext}: exit {rc} {err!r}")
        if rc != 0:
            continue
        im = Image.open(out)
        check(im.size == (W, H), f"{ext}: upright {im.size}")
        check(im.info.get("icc_profile") == icc, f"{ext}: the ICC profile is carried")
        got = im.getexif()
        check(got.get(0x010F) == "TestCam" and got.get(0x0112) == 1,
              f"{ext}: EXIF carried, orientation 1: {dict(got)}")

    # Sizes that differ: both files named.
    small = os.path.join(d, "small_mask.png")
    Image.fromarray(np.zeros((H, W - 1), np.uint8)).save(small)
    rc, err = run("-i", png, "-m", small, "-o", os.path.join(d, "x.png"))
    check(rc == 5 and small in err and png in err and "63x48" in err and "64x48" in err,
          f"sizes differ: both files named: {rc} {err!r}")


def main():
    with tempfile.TemporaryDirectory(prefix="gi-test-cli-formats-") as d:
        cases(d)
    print(f"{checks} checks, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
