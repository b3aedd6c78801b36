#!/usr/bin/python3
"""The bad-input corpus through gi-inpaint: every class maps to its exit code
(2 usage, 3 file, 4 model, 5 inpainting) with one line on stderr that starts
with "gi-inpaint: " and names the problem, and nothing is written.

Usage: test_cli_bad.py GI_INPAINT TEST_BAD   (TEST_BAD --write DIR makes the models)
GI_CLI_WRAPPER: a command prefix (e.g. valgrind and its options) for every run.
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

USAGE, IO, MODEL, INPAINT = 2, 3, 4, 5
exe, test_bad = sys.argv[1], sys.argv[2]
wrapper = os.environ.get("GI_CLI_WRAPPER", "").split()
failures, checks = [], 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png(path, width, height, channels, value=0, pixels=None, declared=None):
    colour = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    w, h = declared or (width, height)
    if pixels is None:
        raw = (b"\0" + bytes([value]) * (width * channels)) * height
    else:
        raw = b"".join(b"\0" + bytes(r) for r in pixels)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, colour, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def run(args):
    p = subprocess.run(wrapper + [exe, "-q"] + args, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def expect(name, args, code, *needles, out=None):
    rc, so, se = run(args)
    check(rc == code, f"{name}: exit {rc}, expected {code}; stderr {se!r}")
    if code == 0:
        return
    check(so == "", f"{name}: stdout {so!r}")
    check(se.startswith("gi-inpaint: ") and se.count("\n") == 1 and se.endswith("\n"),
          f"{name}: one line on stderr, got {se!r}")
    for n in needles:
        check(n in se, f"{name}: stderr mentions {n!r}: {se!r}")
    if out:
        check(not os.path.exists(out), f"{name}: {out} written on failure")


def main():
    tmp = tempfile.mkdtemp(prefix="gi-test-bad-cli-")
    try:
        subprocess.run([test_bad, "--write", tmp], check=True)
        cases(tmp)
    finally:
        shutil.rmtree(tmp)
    print(f"{checks} checks, {len(failures)} failed")
    return 1 if failures else 0


def cases(tmp):
    p = lambda name: os.path.join(tmp, name)  # noqa: E731
    model = p("tiny.gguf")
    out = p("out.png")
    write_png(p("img.png"), 20, 24, 3, 90)
    write_png(p("mask.png"), 20, 24, 1,
              pixels=[[255 if 8 <= y < 13 else 0] * 20 for y in range(24)])
    write_png(p("allhole.png"), 20, 24, 1, 255)
    write_png(p("nohole.png"), 20, 24, 1, 0)
    write_png(p("graya.png"), 20, 24, 2, 77)
    write_png(p("one.png"), 1, 1, 3, 1)
    write_png(p("one_mask.png"), 1, 1, 1, 255)
    write_png(p("row.png"), 40, 1, 3, 1)
    write_png(p("row_mask.png"), 40, 1, 1, pixels=[[255] * 10 + [0] * 30])
    write_png(p("giga.png"), 1, 1, 3, 0, declared=(100000, 100000))
    write_png(p("mask_wide.png"), 21, 24, 1, 255)
    with open(p("empty.png"), "wb"):
        pass
    with open(p("text.jpg"), "w") as f:
        f.write("not a jpeg\n")
    with open(p("img.png"), "rb") as f:
        data = f.read()
    with open(p("cut.png"), "wb") as f:
        f.write(data[: len(data) // 2])
    # truncated WebP and TIFF: the fuzz seeds (the formats may not be built:
    # then the message says so; either way a file error naming the format)
    seeds = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz", "corpus", "image")
    for seed, name in (("webp_truncated", "cut.webp"), ("tiff_truncated", "cut.tif")):
        shutil.copyfile(os.path.join(seeds, seed), p(name))

    base = ["--model", model, "-o", out]
    # the good cases first: they must work
    for name, img, mask in (("valid", "img.png", "mask.png"),
                            ("no hole", "img.png", "nohole.png"), ("gray+alpha", "graya.png", "mask.png")):
        expect(name, ["-i", p(img), "-m", p(mask)] + base, 0)
        check(os.path.exists(out), f"{name}: output written")
        if os.path.exists(out):
            os.remove(out)

    # models
    for name, needle in (("truncated.gguf", "truncated"), ("nan.gguf", "NaN"),
                         ("family.gguf", "lama"), ("missing.gguf", "missing.gguf"),
                         ("img.png", "not a GGUF file")):
        expect(f"model {name}", ["-i", p("img.png"), "-m", p("mask.png"), "--model", p(name),
                                 "-o", out], MODEL, needle, out=out)
    # image files
    for name, needle in (("giga.png", "100000x100000"), ("empty.png", "empty"),
                         ("text.jpg", "is not a PNG, JPEG, WebP or TIFF file"),
                         ("cut.png", "cannot decode PNG"), ("cut.webp", "WebP"), ("cut.tif", "TIFF"),
                         ("missing.png", "missing.png")):
        expect(f"image {name}", ["-i", p(name), "-m", p("mask.png")] + base, IO, needle, out=out)
        expect(f"mask {name}", ["-i", p("img.png"), "-m", p(name)] + base, IO, needle, out=out)
    # an all-hole mask leaves nothing to fill from (a 1x1 mask is one)
    expect("all-hole", ["-i", p("img.png"), "-m", p("allhole.png")] + base, INPAINT,
           "covers the whole image", out=out)
    expect("1x1", ["-i", p("one.png"), "-m", p("one_mask.png")] + base, INPAINT,
           "covers the whole image", out=out)
    # sizes the network refuses, mismatches
    expect("40x1", ["-i", p("row.png"), "-m", p("row_mask.png")] + base, INPAINT,
           "minimum is 16x16", out=out)
    expect("mask size", ["-i", p("img.png"), "-m", p("mask_wide.png")] + base, INPAINT,
           "21x24", "20x24", out=out)
    expect("guide on a model without one", ["-i", p("img.png"), "-m", p("mask.png"),
                                            "-g", p("mask.png")] + base, INPAINT,
           "no guide channel", out=out)
    # outputs and usage
    expect("output dir", ["-i", p("img.png"), "-m", p("mask.png"), "--model", model,
                          "-o", p("no/such/dir/out.png")], IO, "no/such/dir/out.png")
    expect("threads", ["-i", p("img.png"), "-m", p("mask.png"), "-t", "x"] + base, USAGE,
           "--threads")


if __name__ == "__main__":
    sys.exit(main())
