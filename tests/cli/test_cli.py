#!/usr/bin/python3
"""gi-inpaint behaviour that needs no model: help, version, argument errors,
unreadable inputs, size mismatches. Each failure must be one line on stderr
starting with "gi-inpaint: " and exit with the documented code.

Usage: test_cli.py GI_INPAINT VERSION
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

EXIT_USAGE, EXIT_IO, EXIT_MODEL, EXIT_INPAINT = 2, 3, 4, 5

exe, version = sys.argv[1], sys.argv[2]
failures = []
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def write_png(path, width, height, channels, value=0):
    """A flat PNG with the standard library only."""
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    row = b"\0" + bytes([value]) * (width * channels)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8,
                                           colour_type, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(row * height)))
        f.write(chunk(b"IEND", b""))


def run(args, prefix=()):
    p = subprocess.run(list(prefix) + [exe] + args, capture_output=True,
                       text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def expect_error(args, code, *needles):
    rc, out, err = run(args)
    name = " ".join(args) or "(no arguments)"
    check(rc == code, f"{name}: exit {rc}, expected {code}; stderr: {err!r}")
    check(out == "", f"{name}: nothing on stdout, got {out!r}")
    check(err.startswith("gi-inpaint: ") and err.endswith("\n")
          and err.count("\n") == 1, f"{name}: one-line message, got {err!r}")
    for n in needles:
        check(n in err, f"{name}: message mentions {n!r}: {err!r}")
    return err


def main():
    tmp = tempfile.mkdtemp(prefix="gi-test-cli-")
    try:
        run_cases(tmp)
    finally:
        shutil.rmtree(tmp)
    print(f"{checks} checks, {len(failures)} failed")
    return 1 if failures else 0


def run_cases(tmp):
    img = os.path.join(tmp, "img.png")
    gray = os.path.join(tmp, "gray.png")
    mask = os.path.join(tmp, "mask.png")
    small = os.path.join(tmp, "small.png")
    garbage = os.path.join(tmp, "garbage.png")
    out = os.path.join(tmp, "out.png")
    write_png(img, 32, 24, 3, 100)
    write_png(gray, 32, 24, 1, 100)
    write_png(mask, 32, 24, 4, 255)
    write_png(small, 31, 24, 1, 255)
    with open(garbage, "wb") as f:
        f.write(b"this is not an image\n")

    for flag in ("--help", "-h"):
        rc, so, se = run([flag])
        check(rc == 0 and "--image" in so and "--model" in so and se == "",
              f"{flag}: exit 0 and usage on stdout ({rc}, {se!r})")
    for flag in ("--version", "-V"):
        rc, so, se = run([flag])
        check(rc == 0 and so.startswith("gi-inpaint") and version in so
              and se == "", f"{flag}: exit 0 and version {version} ({rc}, {so!r})")

    base = ["--image", img, "--mask", mask, "--output", out]
    expect_error([], EXIT_USAGE, "--image")
    expect_error(["--image", img, "--output", out], EXIT_USAGE, "--mask")
    expect_error(["-i", img, "-m", mask], EXIT_USAGE, "--output")
    expect_error(base + ["--frobnicate"], EXIT_USAGE, "--frobnicate")
    expect_error(base + ["-x"], EXIT_USAGE, "'-x'")
    expect_error(base + ["stray"], EXIT_USAGE, "stray")
    expect_error(["--mask", mask, "--output", out, "--image"], EXIT_USAGE,
                 "--image needs a value")
    expect_error(base + ["--threads", "two"], EXIT_USAGE, "two")
    expect_error(base + ["-t", "-1"], EXIT_USAGE, "--threads")
    expect_error(base + ["--strategy", "fast"], EXIT_USAGE, "--strategy", "regions", "exact")
    expect_error(base + ["-s"], EXIT_USAGE, "-s needs a value")
    expect_error(["-i", img, "-m", mask, "-o", os.path.join(tmp, "out.bmp")],
                 EXIT_USAGE, "out.bmp")

    missing = os.path.join(tmp, "missing.png")
    expect_error(["-i", missing, "-m", mask, "-o", out], EXIT_IO, missing,
                 "No such file")
    expect_error(["-i", garbage, "-m", mask, "-o", out], EXIT_IO, garbage)
    expect_error(["-i", img, "-m", missing, "-o", out], EXIT_IO, missing)
    expect_error(base + ["--guide", garbage], EXIT_IO, garbage)
    expect_error(["-i", img, "-m", small, "-o", out], EXIT_INPAINT,
                 "31x24", "32x24")
    expect_error(["-i", gray, "-m", mask, "-g", small, "-o", out], EXIT_INPAINT,
                 "guide", "31x24")
    bad_model = os.path.join(tmp, "missing.gguf")
    expect_error(base + ["--model", bad_model], EXIT_MODEL, bad_model)
    expect_error(base + ["--model", garbage], EXIT_MODEL, garbage)
    check(not os.path.exists(out), "no output written on failure")

    # Without --model the built-in model is used; a build without one says so.
    rc, _, err = run(base + ["-q"])
    if rc != 0:
        check(rc == EXIT_USAGE and "--model is required" in err
              and err.count("\n") == 1, f"no --model: {rc} {err!r}")
    else:  # the closing line says how the regions strategy ran (an all-hole mask here)
        for strategy, needle in (("regions", "1 region"), ("exact", "inpainting")):
            rc, _, err = run(base + ["--strategy", strategy])
            check(rc == 0 and needle in err and (strategy == "regions") == ("region" in err),
                  f"--strategy {strategy}: {rc} {err!r}")

    # The error paths free what they allocated.
    valgrind = shutil.which("valgrind")
    if valgrind:
        vg = [valgrind, "-q", "--leak-check=full",
              "--errors-for-leak-kinds=definite,indirect", "--error-exitcode=99"]
        for args in (base + ["-g", mask, "--model", bad_model],
                     ["-i", img, "-m", small, "-o", out],
                     ["-i", garbage, "-m", mask, "-o", out],
                     base + ["--bogus"]):
            rc, _, err = run(args, vg)
            check(rc not in (0, 99), f"valgrind {' '.join(args)}: {rc} {err!r}")
    else:
        print("valgrind not found: leak checks skipped")


if __name__ == "__main__":
    sys.exit(main())
