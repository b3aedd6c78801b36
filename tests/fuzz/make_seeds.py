#!/usr/bin/python3
"""Write the seed corpora of the fuzz targets (committed under corpus/).

    make_seeds.py [OUT_DIR]     (default: the corpus/ folder next to this file)

corpus/image: small PNG and JPEG files of every kind the decoder handles
(gray, gray+alpha, RGB, RGBA, palette with and without transparency, 1/2/4/16
bit, Adam7 interlaced, eXIf, text chunks, truncated), so the fuzzer starts
from every branch; the JPEG seeds come from make_jpeg_seeds.c (libjpeg).
corpus/inpaint: parameter blocks for fuzz_inpaint.c.
Standard library only; deterministic: same bytes on every run.
"""
import io
import os
import struct
import sys
import zlib

here = os.path.dirname(os.path.abspath(__file__))


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width, height, depth, colour, rows_fn, interlace=0, extra=b""):
    """Hand-written PNG encoder (filter 0), with Adam7 when interlace=1."""
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    bits = depth * channels

    def pack_row(vals):
        if depth == 16:
            return b"".join(struct.pack(">H", v) for v in vals)
        if depth == 8:
            return bytes(vals)
        out, acc, n = bytearray(), 0, 0
        for v in vals:
            acc = acc << depth | v
            n += depth
            if n == 8:
                out.append(acc)
                acc, n = 0, 0
        if n:
            out.append(acc << (8 - n))
        return bytes(out)

    pixels = [[rows_fn(x, y) for x in range(width)] for y in range(height)]
    raw = bytearray()
    if not interlace:
        for y in range(height):
            raw += b"\0" + pack_row([c for px in pixels[y] for c in px])
    else:
        passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4),
                  (1, 0, 2, 2), (0, 1, 1, 2)]
        for x0, y0, dx, dy in passes:
            xs = list(range(x0, width, dx))
            if not xs:
                continue
            for y in range(y0, height, dy):
                raw += b"\0" + pack_row([c for x in xs for c in pixels[y][x]])
    del bits
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra
            + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b""))


def tiff_orientation(o, big=False):
    e = ">" if big else "<"
    head = (b"MM" if big else b"II") + struct.pack(e + "HI", 42, 8)
    ifd = struct.pack(e + "H", 1) + struct.pack(e + "HHIHH", 0x0112, 3, 1, o, 0) + b"\0\0\0\0"
    return head + ifd


def image_seeds():
    s = {}
    v8 = lambda x, y: (x * 40 + y * 13) % 256  # noqa: E731
    s["png_gray8"] = png(9, 7, 8, 0, lambda x, y: (v8(x, y),))
    s["png_gray1"] = png(13, 5, 1, 0, lambda x, y: ((x + y) % 2,))
    s["png_gray2"] = png(7, 6, 2, 0, lambda x, y: ((x + y) % 4,))
    s["png_gray4_interlaced"] = png(11, 9, 4, 0, lambda x, y: ((x * y) % 16,), interlace=1)
    s["png_gray16"] = png(6, 5, 16, 0, lambda x, y: (x * 9000 + y * 100,))
    s["png_graya8"] = png(5, 5, 8, 4, lambda x, y: (v8(x, y), 255 - v8(x, y)))
    s["png_rgb8"] = png(8, 8, 8, 2, lambda x, y: (v8(x, y), x * 30, y * 30))
    s["png_rgb16_interlaced"] = png(9, 10, 16, 2, lambda x, y: (x * 7000, y * 6000, 300),
                                    interlace=1)
    s["png_rgba8_interlaced"] = png(10, 9, 8, 6, lambda x, y: (x * 25, y * 25, 99, v8(x, y)),
                                    interlace=1)
    s["png_rgba16"] = png(4, 4, 16, 6, lambda x, y: (x * 9999, y * 9999, 1, 65535 - x))
    plte = chunk(b"PLTE", bytes(range(48)))
    s["png_palette4"] = png(8, 4, 4, 3, lambda x, y: ((x + y) % 16,), extra=plte)
    s["png_palette8_trns"] = png(6, 6, 8, 3, lambda x, y: ((x * y) % 16,),
                                 extra=plte + chunk(b"tRNS", bytes([0, 128, 255])))
    s["png_gray_trns"] = png(5, 4, 8, 0, lambda x, y: (x * 50,),
                             extra=chunk(b"tRNS", b"\0\x32"))
    s["png_rgb_trns"] = png(5, 4, 8, 2, lambda x, y: (x * 50, 0, 0),
                            extra=chunk(b"tRNS", b"\0\x32\0\0\0\0"))
    for o in (3, 6, 8):
        s[f"png_exif_o{o}"] = png(6, 4, 8, 2, lambda x, y: (x * 40, y * 60, 7),
                                  extra=chunk(b"eXIf", tiff_orientation(o, big=o == 6)))
    s["png_text_chunks"] = png(4, 4, 8, 0, lambda x, y: (x,),
                               extra=chunk(b"tEXt", b"Comment\0seed") +
                               chunk(b"zTXt", b"Note\0\0" + zlib.compress(b"z" * 64)) +
                               chunk(b"gAMA", struct.pack(">I", 45455)))
    s["png_truncated"] = s["png_rgb8"][:60]

    return s


def inpaint_seeds():
    """fuzz_inpaint.c parameter blocks (see its byte layout) + pixel bytes."""
    px = bytes((i * 73 + 11) % 256 for i in range(700))
    s = {}
    # mode, h-1, w-1, channels/dtype, mask, pads, flags, limits, cancel
    s["rgb_24x20"] = bytes([0, 23, 19, 2, 0, 0, 0, 0, 0]) + px
    s["rgba_strided"] = bytes([0, 16, 30, 3, 0, 0x35, 0x07, 0, 0]) + px
    s["rgb_all_hole"] = bytes([0, 31, 17, 2, 0x40, 0, 0, 1, 0]) + px
    s["rgb_in_place_2thr"] = bytes([1, 20, 20, 2, 0, 0, 0x40, 1, 0]) + px
    s["guide"] = bytes([0, 17, 17, 2, 0, 0, 0x30, 0, 0]) + px
    s["cancel_5"] = bytes([0, 19, 19, 2, 0, 0, 0, 0, 5]) + px
    s["max_pixels_hit"] = bytes([0, 19, 19, 2, 0, 0, 0, 4, 0]) + px
    s["mem_limit_hit"] = bytes([0, 19, 19, 2, 0, 0, 0, 0x10, 0]) + px
    s["mask_mismatch"] = bytes([0, 19, 19, 2, 0x04, 0, 0, 0, 0]) + px
    s["small_1xN"] = bytes([0, 0, 40, 2, 0, 0, 0, 0, 0]) + px
    s["conv"] = bytes([2, 7, 5, 2, 4, 3, 1, 1, 1]) + px
    s["conv_up"] = bytes([2, 3, 3, 1, 3, 2, 1, 2, 0x09]) + px
    s["attention"] = bytes([3, 7, 5, 0x13]) + px
    s["attention_nomask"] = bytes([3, 5, 3, 0x03]) + px
    return s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus")
    for name, seeds in (("image", image_seeds()), ("inpaint", inpaint_seeds())):
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        for k, v in sorted(seeds.items()):
            with open(os.path.join(d, k), "wb") as f:
                f.write(v)
        print(f"{d}: {len(seeds)} seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
