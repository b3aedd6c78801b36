#!/usr/bin/python3
"""Write the WebP and TIFF seeds of corpus/image (committed; not run by meson).

    make_format_seeds.py [OUT_DIR]     (default: corpus/image next to this file)

Small files of every kind the WebP and TIFF decoders take: WebP lossless and
lossy, with alpha, with ICC and EXIF chunks (orientation 6), animated;
TIFF grey 8/16 bits, grey+alpha, RGB and RGBA at 8 and 16 bits, palette,
1-bit, CMYK, JPEG-compressed YCbCr, raw, LZW, deflate, packbits, planar,
with an ICC profile; and truncated files of both. Needs python3-pil built
with libwebp and libtiff (Debian's is); deterministic for one Pillow build.
"""
import io
import os
import struct
import sys

import numpy as np
from PIL import Image, ImageCms

here = os.path.dirname(os.path.abspath(__file__))


def encode(img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def exif_orientation(o):
    """A little-endian TIFF block with one Orientation entry."""
    return (b"II*\0" + struct.pack("<IH", 8, 1) + struct.pack("<HHIHH", 0x0112, 3, 1, o, 0)
            + struct.pack("<I", 0))


def seeds():
    rng = np.random.default_rng(17)
    rgb = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8), "RGB")
    rgba = Image.fromarray(rng.integers(0, 256, (6, 8, 4), dtype=np.uint8), "RGBA")
    grey = rgb.convert("L")
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    s = {
        "webp_lossless_rgb": encode(rgb, "WEBP", lossless=True),
        "webp_lossless_rgba": encode(rgba, "WEBP", lossless=True),
        "webp_lossy_q50": encode(rgb, "WEBP", quality=50),
        "webp_lossy_alpha": encode(rgba, "WEBP", quality=80),
        "webp_icc_exif_o6": encode(rgb, "WEBP", lossless=True, icc_profile=icc,
                                   exif=b"Exif\0\0" + exif_orientation(6)),
        "webp_animated": encode(rgb, "WEBP", save_all=True, append_images=[grey.convert("RGB")],
                                duration=10, lossless=True),
        "tiff_grey8_raw": encode(grey, "TIFF"),
        "tiff_grey16_deflate": encode(Image.fromarray(
            rng.integers(0, 65536, (6, 8), dtype=np.uint16)), "TIFF", compression="tiff_adobe_deflate"),
        "tiff_greyalpha_lzw": encode(rgba.convert("LA"), "TIFF", compression="tiff_lzw"),
        "tiff_rgb8_packbits": encode(rgb, "TIFF", compression="packbits"),
        "tiff_rgba8_icc": encode(rgba, "TIFF", compression="tiff_lzw", icc_profile=icc),
        "tiff_palette": encode(rgb.convert("P"), "TIFF"),
        "tiff_bilevel_g4": encode(grey.convert("1"), "TIFF", compression="group4"),
        "tiff_cmyk": encode(rgb.convert("CMYK"), "TIFF"),
        "tiff_jpeg_ycbcr": encode(rgb, "TIFF", compression="jpeg"),
    }
    # 16-bit RGB and RGBA, and a planar (separate) layout: written by hand,
    # Pillow does not write them.
    s["tiff_rgb16_raw"] = tiff_by_hand(rng.integers(0, 65536, (6, 8, 3), dtype=np.uint16))
    s["tiff_rgba16_raw"] = tiff_by_hand(rng.integers(0, 65536, (6, 8, 4), dtype=np.uint16))
    s["tiff_rgb8_planar"] = tiff_by_hand(np.asarray(rgb), planar=True)
    s["webp_truncated"] = s["webp_lossless_rgb"][:len(s["webp_lossless_rgb"]) * 2 // 3]
    s["tiff_truncated"] = s["tiff_rgb8_packbits"][:len(s["tiff_rgb8_packbits"]) // 2]
    return s


def tiff_by_hand(a, planar=False):
    """An uncompressed little-endian TIFF of an H x W x C uint8/uint16 array."""
    h, w, c = a.shape
    bps = a.dtype.itemsize * 8
    data = (np.moveaxis(a, 2, 0) if planar else a).astype("<u%d" % a.dtype.itemsize).tobytes()
    entries = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, 1, bps), (259, 3, 1, 1),
               (262, 3, 1, 2), (273, 4, 1, 8), (277, 3, 1, c), (278, 4, 1, h),
               (279, 4, 1, len(data)), (284, 3, 1, 2 if planar else 1)]
    if planar:  # one strip per plane
        per = len(data) // c
        offsets_at = 8 + len(data)
        extra = struct.pack("<%dI" % c, *[8 + i * per for i in range(c)])
        extra += struct.pack("<%dI" % c, *[per] * c)
        entries[5] = (273, 4, c, offsets_at)
        entries[8] = (279, 4, c, offsets_at + 4 * c)
    else:
        extra = b""
    if c == 4:
        entries.append((338, 3, 1, 2))  # unassociated alpha
    entries.sort()
    ifd_at = 8 + len(data) + len(extra)
    out = b"II*\0" + struct.pack("<I", ifd_at) + data + extra + struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        packed = struct.pack("<H", value) + b"\0\0" if kind == 3 and count == 1 else \
            struct.pack("<I", value)
        out += struct.pack("<HHI", tag, kind, count) + packed
    return out + struct.pack("<I", 0)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "image")
    os.makedirs(out, exist_ok=True)
    s = seeds()
    for name, data in sorted(s.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"{out}: {len(s)} WebP and TIFF seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
