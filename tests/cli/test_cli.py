#!/usr/bin/python3
"""gi-inpaint behaviour: help, version, argument errors, unreadable inputs,
size mismatches (no model needed); with the built-in model: folder (batch)
mode, mask rules, --dilate and --feather. Each failure of a single-file run
must be one line on stderr starting with "gi-inpaint: " and exit with the
documented code.

Usage: test_cli.py GI_INPAINT VERSION
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

EXIT_USAGE, EXIT_IO, EXIT_MODEL, EXIT_INPAINT, EXIT_SOME_FAILED = 2, 3, 4, 5, 6

exe, version = sys.argv[1], sys.argv[2]
failures = []
skipped = []  # parts that could not run: exit 77 (SKIP) at the end
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


def write_png_pixels(path, width, height, channels, pixel):
    """A PNG whose pixel (x, y) is the tuple pixel(x, y) (channels values)."""
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    raw = b"".join(b"\0" + bytes(v for x in range(width) for v in pixel(x, y))
                   for y in range(height))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8,
                                           colour_type, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw)))
        f.write(chunk(b"IEND", b""))


def read_png(path):
    """(width, height, channels, rows) of an 8-bit non-interlaced PNG; rows
    are bytes objects. Enough for what gi-inpaint writes."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, colour_type = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and body[12] == 0, path
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    channels = {0: 1, 4: 2, 2: 3, 6: 4}[colour_type]
    raw, bpp, stride = zlib.decompress(idat), channels, width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows


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
    if failures:
        return 1
    for why in skipped:
        print("SKIP:", why)
    return 77 if skipped else 0  # meson: SKIP, not a pass with parts missing


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

    for opt in ("--jobs", "-j", "--dilate", "--feather"):
        expect_error(base + [opt, "x"], EXIT_USAGE, opt)
    expect_error(base + ["--jobs", "0"], EXIT_USAGE, "--jobs")
    expect_error(base + ["--dilate", "-2"], EXIT_USAGE, "--dilate")
    expect_error(base + ["--feather", "-1"], EXIT_USAGE, "--feather")

    batch_args = None
    # Without --model the built-in model is used; a build without one says so.
    part = os.path.join(tmp, "part.png")
    write_png_pixels(part, 32, 24, 1, lambda x, y: (255 if 8 <= x < 20 and 6 <= y < 14 else 0,))
    part_base = ["--image", img, "--mask", part, "--output", out]
    rc, _, err = run(part_base + ["-q"])
    if rc != 0:
        check(rc == EXIT_USAGE and "--model is required" in err
              and err.count("\n") == 1, f"no --model: {rc} {err!r}")
        skipped.append("no built-in model: folder mode and mask cases skipped")
    else:  # the closing line says how the regions strategy ran
        for strategy, needle in (("regions", "1 region"), ("exact", "inpainting")):
            rc, _, err = run(part_base + ["--strategy", strategy])
            check(rc == 0 and needle in err and (strategy == "regions") == ("region" in err),
                  f"--strategy {strategy}: {rc} {err!r}")
        # An all-hole mask is an error, also when --dilate makes it one.
        os.remove(out)
        expect_error(base, EXIT_INPAINT, "covers the whole image", mask)
        expect_error(part_base + ["--dilate", "40"], EXIT_INPAINT, "covers the whole image",
                     "--dilate")
        check(not os.path.exists(out), "no output for an all-hole mask")
        mask_cases(tmp)
        batch_args = folder_cases(tmp)

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
        if batch_args:  # threads, one session each, failures on the way
            rc, _, err = run(batch_args, vg)
            check(rc == EXIT_SOME_FAILED, f"valgrind batch: {rc} {err!r}")
    else:
        skipped.append("valgrind not found: leak checks skipped")


W, H = 64, 48
HOLE = (20, 16, 36, 28)  # x0, y0, x1, y1


def texture(x, y):
    return ((x * 37 + y * 91 + (x * y * 13) % 251) % 256, (x * 11 + y * 5) % 256,
            ((x ^ y) * 4) % 256)


def in_hole(x, y):
    return HOLE[0] <= x < HOLE[2] and HOLE[1] <= y < HOLE[3]


def hole_mask(value=255):
    return lambda x, y: (value if in_hole(x, y) else 0,)


def hole_distance(x, y):
    """Euclidean distance from (x, y) to the nearest hole pixel."""
    dx = max(HOLE[0] - x, 0, x - (HOLE[2] - 1))
    dy = max(HOLE[1] - y, 0, y - (HOLE[3] - 1))
    return (dx * dx + dy * dy) ** 0.5


def changed_pixels(a, b):
    """{(x, y)} where two decoded PNGs of one size differ."""
    _, _, c, rows_a = read_png(a)
    _, _, c2, rows_b = read_png(b)
    assert c == c2
    return {(x, y) for y, (ra, rb) in enumerate(zip(rows_a, rows_b))
            for x in range(len(ra) // c) if ra[x * c:(x + 1) * c] != rb[x * c:(x + 1) * c]}


def file_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def mask_cases(tmp):
    d = os.path.join(tmp, "masks-rule")
    os.mkdir(d)
    img = os.path.join(d, "img.png")
    write_png_pixels(img, W, H, 3, texture)
    m255, m01, empty = (os.path.join(d, n) for n in ("m255.png", "m01.png", "empty.png"))
    write_png_pixels(m255, W, H, 1, hole_mask(255))
    write_png_pixels(m01, W, H, 1, hole_mask(1))
    write_png_pixels(empty, W, H, 1, lambda x, y: (0,))
    o255, o01, oempty = (os.path.join(d, n) for n in ("o255.png", "o01.png", "oempty.png"))
    one = ["-t", "1", "-q"]

    rc, _, err = run(["-i", img, "-m", m255, "-o", o255] + one)
    check(rc == 0, f"0/255 mask: {rc} {err!r}")
    changed = changed_pixels(img, o255)
    check(changed and all(in_hole(x, y) for x, y in changed),
          f"0/255 mask: {len(changed)} pixels changed, all in the hole")
    # A 0/1 mask is the same mask: the same result.
    rc, _, err = run(["-i", img, "-m", m01, "-o", o01] + one)
    check(rc == 0 and file_bytes(o01) == file_bytes(o255), f"0/1 mask = 0/255 mask: {rc} {err!r}")

    # An empty mask: a warning, exit 0, the input written unchanged.
    rc, _, err = run(["-i", img, "-m", empty, "-o", oempty, "-q"])
    check(rc == 0 and "warning" in err and "no hole" in err and empty in err,
          f"empty mask: warning and exit 0: {rc} {err!r}")
    check(os.path.exists(oempty) and file_bytes(oempty) == file_bytes(img),
          "empty mask: the input written unchanged")

    # --dilate: a square of N px more, nothing beyond.
    od = os.path.join(d, "dilate.png")
    rc, _, err = run(["-i", img, "-m", m255, "-o", od, "--dilate", "3"] + one)
    changed = changed_pixels(img, od)
    grown = {(x, y) for x in range(W) for y in range(H)
             if HOLE[0] - 3 <= x < HOLE[2] + 3 and HOLE[1] - 3 <= y < HOLE[3] + 3}
    check(rc == 0 and changed <= grown, f"--dilate 3: changes only in the grown hole: {rc} {err!r}")
    check(any(not in_hole(x, y) for x, y in changed), "--dilate 3: the ring around the hole changes")
    check((HOLE[0] - 3, HOLE[1] - 3) in changed or (HOLE[2] + 2, HOLE[3] + 2) in changed
          or any(x == HOLE[0] - 3 for x, _ in changed), "--dilate 3: the square reaches 3 px")

    # --feather: a band of N px outside the hole, bit-identical beyond.
    of = os.path.join(d, "feather.png")
    rc, _, err = run(["-i", img, "-m", m255, "-o", of, "--feather", "4"] + one)
    check(rc == 0, f"--feather 4: {rc} {err!r}")
    changed = changed_pixels(img, of)
    outside = [(x, y) for x, y in changed if hole_distance(x, y) >= 4]
    check(not outside, f"--feather 4: {len(outside)} pixels beyond the band changed: {outside[:5]}")
    band = [(x, y) for x, y in changed if 0 < hole_distance(x, y) < 4]
    check(len(band) > 10, f"--feather 4: the band is blended ({len(band)} pixels changed)")
    # The blend itself: the fill of hole + band (what --dilate 4 writes) weighted
    # by alpha = 1 - d / 4 against the input.
    og = os.path.join(d, "grown4.png")
    rc, _, err = run(["-i", img, "-m", m255, "-o", og, "--dilate", "4"] + one)
    _, _, _, rows_in = read_png(img)
    _, _, _, rows_f = read_png(of)
    _, _, _, rows_g = read_png(og)
    off = []
    for y in range(H):
        for x in range(W):
            dist = hole_distance(x, y)
            if dist >= 4:
                continue
            alpha = 1 - dist / 4
            for k in range(3):
                want = alpha * rows_g[y][3 * x + k] + (1 - alpha) * rows_in[y][3 * x + k]
                if abs(rows_f[y][3 * x + k] - want) > 0.51:
                    off.append((x, y, k))
    check(rc == 0 and not off, f"--feather 4: the band is the linear blend: {off[:5]} {err!r}")


def folder_cases(tmp):
    d = os.path.join(tmp, "batch")
    imgs, masks, out = (os.path.join(d, n) for n in ("imgs", "masks", "out"))
    for p in (imgs, masks):
        os.makedirs(p)
    for name in ("a", "b", "e", "f", "c", "d", "g"):
        write_png_pixels(os.path.join(imgs, name + ".png"), W, H, 3, texture)
    write_png_pixels(os.path.join(masks, "a.png"), W, H, 1, hole_mask())
    write_png_pixels(os.path.join(masks, "b_mask.png"), W, H, 1, hole_mask())
    write_png_pixels(os.path.join(masks, "e.mask.PNG"), W, H, 1, hole_mask())
    write_png_pixels(os.path.join(masks, "f.png"), W, H, 1, hole_mask(1))
    write_png_pixels(os.path.join(masks, "c.png"), W - 1, H, 1, hole_mask())
    write_png_pixels(os.path.join(masks, "g.png"), W, H, 1, lambda x, y: (0,))
    write_png_pixels(os.path.join(masks, "bad.png"), W, H, 1, hole_mask())
    # d has no mask. Mixed files: not images, a subfolder, a garbage image,
    # a symlink loop and a symlink to a folder (never entered).
    with open(os.path.join(imgs, "notes.txt"), "w") as f:
        f.write("not an image\n")
    with open(os.path.join(imgs, "bad.png"), "wb") as f:
        f.write(b"not a png\n")
    os.makedirs(os.path.join(imgs, "sub"))
    write_png_pixels(os.path.join(imgs, "sub", "deep.png"), W, H, 3, texture)
    os.symlink("loop.png", os.path.join(imgs, "loop.png"))
    with open(os.path.join(imgs, ".hidden.png"), "wb") as f:  # hidden: ignored
        f.write(b"not a png\n")
    os.symlink(".", os.path.join(imgs, "self"))

    rc, so, err = run(["-i", imgs, "-m", masks, "-o", out, "--jobs", "2", "-t", "2"])
    lines = err.splitlines()
    check(rc == EXIT_SOME_FAILED, f"batch with failures: exit {rc}, expected 6: {err!r}")
    written = sorted(os.listdir(out)) if os.path.isdir(out) else []
    check(written == ["a.png", "b.png", "e.png", "f.png", "g.png"],
          f"batch: outputs {written}")
    for name in ("a", "b", "e", "f"):
        p = os.path.join(out, name + ".png")
        if os.path.exists(p):
            ch = changed_pixels(os.path.join(imgs, name + ".png"), p)
            check(ch and all(in_hole(x, y) for x, y in ch), f"batch: {name} filled in the hole")
    check(os.path.exists(os.path.join(out, "g.png")) and
          file_bytes(os.path.join(out, "g.png")) == file_bytes(os.path.join(imgs, "g.png")),
          "batch: empty mask copies the image")

    def said(*needles):
        return any(all(n in line for n in needles) for line in lines)

    check(said("notes.txt", "skipping"), f"batch: notes.txt skipped with a note: {err!r}")
    check(said("sub", "not entered"), "batch: subfolder noted, not entered")
    check(said("self", "not entered"), "batch: link to a folder not entered")
    check(not os.path.exists(os.path.join(out, "deep.png")), "batch: no recursion")
    check(said("loop.png", "cannot read"), "batch: symlink loop reported")
    check(said("bad.png", "cannot read the image"), "batch: garbage image reported")
    check(said("differ in size", "c.png", "63x48", "64x48"), "batch: size mismatch names both")
    check(said("no mask for", "d.png"), "batch: missing mask reported")
    check(said("warning", "no hole", "g.png"), "batch: empty mask warned")
    check(lines and "failed" in lines[-1] and "4 failed" in lines[-1]
          and "5 of 9 images written" in lines[-1], f"batch: summary last: {lines[-1:]!r}")
    check(so == "", "batch: nothing on stdout")

    # One mask file for every image; all good: exit 0; outputs go into a new folder.
    good = os.path.join(d, "good")
    os.makedirs(good)
    for name in ("p", "q"):
        write_png_pixels(os.path.join(good, name + ".png"), W, H, 3, texture)
    one_mask = os.path.join(masks, "a.png")
    out2 = os.path.join(d, "out2")
    rc, _, err = run(["-i", good, "-m", one_mask, "-o", out2, "-j", "3"])
    check(rc == 0 and sorted(os.listdir(out2)) == ["p.png", "q.png"],
          f"batch: one mask for all: {rc} {err!r}")
    check(file_bytes(os.path.join(out2, "p.png")) == file_bytes(os.path.join(out, "a.png")),
          "batch: one mask for all gives the per-image result")

    check("[1/2] wrote" in err and "[2/2] wrote" in err, f"batch: plain count lines: {err!r}")
    # On a terminal: one progress line with the count, the rate and the time left.
    master, slave = os.openpty()
    p = subprocess.run([exe, "-i", good, "-m", one_mask, "-o", os.path.join(d, "out-tty")],
                       stdout=subprocess.DEVNULL, stderr=slave, timeout=120)
    os.close(slave)
    tty = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        tty += chunk
    os.close(master)
    tty = tty.decode(errors="replace")
    check(p.returncode == 0 and "[2/2]" in tty and "images/s" in tty and "ETA" in tty
          and "wrote" not in tty and "2 of 2 images written" in tty,
          f"batch on a terminal: progress line: {tty!r}")

    # Never overwrite an input.
    before = {n: file_bytes(os.path.join(good, n)) for n in os.listdir(good)}
    expect_error(["-i", good, "-m", one_mask, "-o", good], EXIT_USAGE, "overwrite")
    link = os.path.join(d, "link-to-good")
    os.symlink(good, link)
    expect_error(["-i", good, "-m", one_mask, "-o", link], EXIT_USAGE, "overwrite")
    expect_error(["-i", os.path.join(good, "p.png"), "-m", one_mask, "-o",
                  os.path.join(good, "p.png")], EXIT_IO, "refusing to overwrite")
    expect_error(["-i", os.path.join(good, "p.png"), "-m", one_mask, "-o",
                  os.path.join(good, "..", "good", "p.png")], EXIT_IO, "refusing to overwrite")
    expect_error(["-i", os.path.join(good, "p.png"), "-m", one_mask, "-o", good],
                 EXIT_IO, "refusing to overwrite")
    # An output that already exists as a link to an input, and outputs into the mask folder.
    out3 = os.path.join(d, "out3")
    os.makedirs(out3)
    os.symlink(os.path.join(good, "p.png"), os.path.join(out3, "p.png"))
    rc, _, err = run(["-i", good, "-m", one_mask, "-o", out3, "-q"])
    check(rc == EXIT_SOME_FAILED and "refusing to overwrite" in err and "1 failed" in err,
          f"batch: output linked to an input refused: {rc} {err!r}")
    rc, _, err = run(["-i", imgs, "-m", masks, "-o", masks, "-q"])
    check(rc == EXIT_SOME_FAILED and "refusing to overwrite" in err,
          f"batch: outputs into the mask folder do not overwrite masks: {rc} {err!r}")
    check(file_bytes(os.path.join(masks, "a.png")) != file_bytes(os.path.join(out, "a.png")),
          "batch: mask a.png kept")
    after = {n: file_bytes(os.path.join(good, n)) for n in os.listdir(good)}
    check(before == after, "no input was changed")

    # Output names stay in the output folder: the input's basename only.
    esc = os.path.join(d, "esc")
    os.makedirs(esc)
    outside = os.path.join(d, "outside.png")
    write_png_pixels(outside, W, H, 3, texture)
    os.symlink(os.path.join("..", "outside.png"), os.path.join(esc, "x.png"))
    out4 = os.path.join(d, "out4")
    rc, _, err = run(["-i", esc, "-m", one_mask, "-o", out4, "-q"])
    check(rc == 0 and os.listdir(out4) == ["x.png"], f"link name: output inside: {rc} {err!r}")
    check(file_bytes(outside) != file_bytes(os.path.join(out4, "x.png")) and
          os.path.exists(outside), "link target not overwritten")
    rc, _, err = run(["-i", os.path.join(good, "..", "good", "q.png"), "-m", one_mask, "-o",
                      out4, "-q"])
    check(rc == 0 and sorted(os.listdir(out4)) == ["q.png", "x.png"],
          f"single image into a folder: basename only: {rc} {err!r}")
    # Masks kept with the images: NAME_mask.png is a mask, not an image.
    mixed = os.path.join(d, "mixed")
    os.makedirs(mixed)
    write_png_pixels(os.path.join(mixed, "m.png"), W, H, 3, texture)
    write_png_pixels(os.path.join(mixed, "m_mask.png"), W, H, 1, hole_mask())
    out7 = os.path.join(d, "out7")
    rc, _, err = run(["-i", mixed, "-m", mixed, "-o", out7, "-q"])
    check(rc == 0 and os.listdir(out7) == ["m.png"], f"masks beside the images: {rc} {err!r}")

    # Output extension: the input's for .png/.jpg/.jpeg (any case), else .png
    # (the format is read from the bytes, so a PNG may be called scan.dat).
    jpgs = os.path.join(d, "jpgs")
    os.makedirs(jpgs)
    empty = os.path.join(masks, "g.png")
    rc, _, err = run(["-i", os.path.join(good, "p.png"), "-m", empty, "-o",
                      os.path.join(jpgs, "j.JPG"), "-q"])
    check(rc == 0 and file_bytes(os.path.join(jpgs, "j.JPG"))[:2] == b"\xff\xd8",
          f"a JPEG made: {rc} {err!r}")
    out6 = os.path.join(d, "out6")
    rc, _, err = run(["-i", jpgs, "-m", one_mask, "-o", out6, "-q"])
    check(rc == 0 and os.listdir(out6) == ["j.JPG"]
          and file_bytes(os.path.join(out6, "j.JPG"))[:2] == b"\xff\xd8",
          f"batch: .JPG stays .JPG: {rc} {err!r}")
    dat = os.path.join(d, "scan.dat")
    shutil.copy(os.path.join(good, "p.png"), dat)
    rc, _, err = run(["-i", dat, "-m", one_mask, "-o", out6, "-q"])
    check(rc == 0 and sorted(os.listdir(out6)) == ["j.JPG", "scan.png"],
          f"scan.dat into a folder: scan.png: {rc} {err!r}")

    # Guides by name, from a folder: a missing guide fails that image only, as a
    # missing mask does (not filled unguided); the others are written.
    guides = os.path.join(d, "guides")
    os.makedirs(guides)
    write_png_pixels(os.path.join(guides, "p.png"), W, H, 1, lambda x, y: (0,))
    out5 = os.path.join(d, "out5")
    rc, _, err = run(["-i", good, "-m", one_mask, "-g", guides, "-o", out5, "-q"])
    check(rc == EXIT_SOME_FAILED and "no guide for" in err and "q.png" in err
          and "1 failed" in err and os.listdir(out5) == ["p.png"],
          f"guide folder: {rc} {err!r} {os.listdir(out5)}")
    return ["-i", good, "-m", one_mask, "-g", guides, "-o", os.path.join(d, "out-vg"),
            "-j", "2", "--feather", "2", "-q"]


if __name__ == "__main__":
    sys.exit(main())
