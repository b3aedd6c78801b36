#!/usr/bin/python3
"""Collect the training / validation photographs from Debian packages.

    tools/data/collect_photos.py -o DATA_DIR [--long-side 1280] [--cache DIR] [--quality 95]

Downloads the packages named in tools/data/photos.tsv with `apt-get download` (no root
needed, nothing is installed), unpacks them with `dpkg -x`, and writes each listed photo,
scaled so that its long side is at most --long-side pixels (INTER_AREA), as JPEG to
DATA_DIR/<split>/<package>--<name>.jpg. DATA_DIR/manifest.tsv records, for every file, the
split, package and version, source path, source SHA-256 and size, licence and author;
DATA_DIR/licenses/ holds each package's copyright file (where a package's doc folder is a
link to another package's, as gimp-help-en's is to gimp-help-common's, that package is
downloaded too and its copyright file copied under the first one's name). Non-photographic,
too small, duplicate and badly licensed images were dropped by hand when photos.tsv was
written (see tools/data/excluded.tsv, which gives the reason for each).

Sources other than plain image files (JPEG, PNG, WebP):
- "FILE.rcc!MEMBER": MEMBER inside a Qt resource file (GCompris keeps its images in .rcc
  files, one per activity); read with read_rcc() below.
- ".../scipy/misc/face.dat": SciPy's raccoon photo, a bz2-compressed 768x1024 RGB array.
The SHA-256 in the manifest is that of the bytes decoded (the member, or the .dat file).

Splits: "train" (what the default model is trained on), "val" (held out: validation and
the quality evaluation), "example" (examples/dune.jpg: never trained on).
The output is deterministic for a given package version.
"""
import argparse
import bz2
import functools
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
LIST = os.path.join(HERE, "photos.tsv")


SPLITS = ("train", "val", "example")
# Licences a listed photo may have: free ones that allow redistribution and training. A new
# one is added here only after reading it.
LICENCES = {"GPL-2.0-or-later", "LGPL-3.0", "MIT", "BSD-3-Clause", "GFDL",
            "CC0-1.0", "public-domain", "CC-BY-2.0", "CC-BY-3.0", "CC-BY-4.0",
            "CC-BY-SA-3.0", "CC-BY-SA-4.0"}


def read_list(path=LIST):
    """The rows of photos.tsv as dicts. Raises ValueError, naming the line, for a row that is
    not five tab-separated fields, has an empty field, an unknown split or a licence not in
    LICENCES, or repeats an earlier row's package and path."""
    rows = []
    seen = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 5 or not all(x.strip() for x in fields):
                raise ValueError(f"{path}:{n}: want 5 non-empty tab-separated fields "
                                 f"(package, path, split, licence, author), got {fields}")
            package, relpath, split, licence, author = fields
            if split not in SPLITS:
                raise ValueError(f"{path}:{n}: unknown split {split!r} (want one of {SPLITS})")
            if licence not in LICENCES:
                raise ValueError(f"{path}:{n}: licence {licence!r} is not in LICENCES")
            if (package, relpath) in seen:
                raise ValueError(f"{path}:{n}: {package} {relpath} is already on line "
                                 f"{seen[(package, relpath)]}")
            seen[(package, relpath)] = n
            rows.append(dict(package=package, path=relpath, split=split, license=licence,
                             author=author))
    return rows


def _base_name(row):
    if "!" in row["path"]:  # FILE.rcc!MEMBER: name it after the .rcc (the GCompris activity)
        container, member = row["path"].split("!", 1)
        stem = os.path.splitext(os.path.basename(container))[0]
        return stem + "-" + os.path.splitext(os.path.basename(member))[0]
    parts = row["path"].split("/")
    if "wallpapers" in parts and "contents" in parts:  # Plasma images are all 2560x1600.jpg
        return parts[parts.index("wallpapers") + 1]
    return os.path.splitext(parts[-1])[0]


def out_names(rows):
    """Unique, readable file names, package--name.jpg, one per row (in order). A name used by
    two rows of one package gets its folder in front (scribus-template: br2-moon, cal2-moon);
    spaces become underscores."""
    bases = [_base_name(r) for r in rows]
    seen = {}
    for r, b in zip(rows, bases):
        seen[(r["package"], b)] = seen.get((r["package"], b), 0) + 1
    names = []
    for r, b in zip(rows, bases):
        if seen[(r["package"], b)] > 1:
            b = os.path.basename(os.path.dirname(r["path"].split("!")[-1])) + "-" + b
        names.append(f"{r['package']}--{b}.jpg".replace(" ", "_"))
    return names


def out_name(row):
    """The file name of one row on its own (see out_names for the whole list)."""
    return out_names([row])[0]


@functools.lru_cache(maxsize=4)
def read_rcc(path):
    """{name: bytes} of the files in a Qt binary resource (.rcc, format versions 1-3).

    Layout (Qt's rcc.cpp): "qres", then big-endian u32 version and the offsets of the tree,
    data and names sections. A tree node is name offset (u32), flags (u16: 1 zlib, 2 folder,
    4 zstd), then for a folder child count and first child (u32 each), for a file country and
    language (u16 each) and data offset (u32); version 2 and later add a u64 time stamp.
    A name is u16 length, u32 hash, UTF-16BE text; data is u32 size then the bytes (zlib
    data start with a u32 uncompressed size, as qCompress writes)."""
    with open(path, "rb") as f:
        b = f.read()
    if b[:4] != b"qres":
        raise ValueError(f"{path}: not a Qt resource file")
    version, tree, data, names = struct.unpack(">IIII", b[4:20])
    node = 22 if version >= 2 else 14

    def name(off):
        n, = struct.unpack(">H", b[names + off:names + off + 2])
        return b[names + off + 6:names + off + 6 + 2 * n].decode("utf-16-be")

    out = {}

    def walk(i, prefix):
        o = tree + i * node
        name_off, flags = struct.unpack(">IH", b[o:o + 6])
        here = prefix + name(name_off) if i else ""
        if flags & 2:
            count, first = struct.unpack(">II", b[o + 6:o + 14])
            for c in range(count):
                walk(first + c, here + "/" if i else "")
        else:
            data_off, = struct.unpack(">I", b[o + 10:o + 14])
            size, = struct.unpack(">I", b[data + data_off:data + data_off + 4])
            raw = b[data + data_off + 4:data + data_off + 4 + size]
            if flags & 4:
                raise ValueError(f"{path}: {here} is zstd-compressed (not supported)")
            out[here] = zlib.decompress(raw[4:]) if flags & 1 else raw

    walk(0, "")
    return out


def read_source(root, relpath):
    """(encoded bytes, decoded BGR image or None) for a photos.tsv path under root."""
    import cv2  # python3-opencv
    import numpy as np
    if "!" in relpath:
        container, member = relpath.split("!", 1)
        raw = read_rcc(os.path.join(root, container))[member]
        return raw, cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)
    with open(os.path.join(root, relpath), "rb") as f:
        raw = f.read()
    if relpath.endswith("scipy/misc/face.dat"):
        rgb = np.frombuffer(bz2.decompress(raw), np.uint8).reshape(768, 1024, 3)
        return raw, np.ascontiguousarray(rgb[:, :, ::-1])
    return raw, cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR)


def fetch_package(package, cache):
    """apt-get download into cache (reused when present); returns (deb path, version)."""
    os.makedirs(cache, exist_ok=True)
    debs = [f for f in os.listdir(cache) if f.startswith(package + "_") and f.endswith(".deb")]
    if not debs:
        subprocess.run(["apt-get", "download", "-q", package], cwd=cache, check=True)
        debs = [f for f in os.listdir(cache) if f.startswith(package + "_") and f.endswith(".deb")]
    deb = os.path.join(cache, sorted(debs)[-1])
    version = subprocess.run(["dpkg-deb", "-f", deb, "Version"], check=True,
                             capture_output=True, text=True).stdout.strip()
    return deb, version


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-o", "--output", required=True, help="data folder to write")
    p.add_argument("--long-side", type=int, default=1280,
                   help="scale photos down so that the long side is at most this (default 1280)")
    p.add_argument("--quality", type=int, default=95, help="JPEG quality (default 95)")
    p.add_argument("--cache", default=None, help="where .deb files are kept (default OUTPUT/debs)")
    a = p.parse_args(argv)
    import cv2  # python3-opencv

    rows = read_list()
    names = out_names(rows)
    cache = a.cache or os.path.join(a.output, "debs")
    os.makedirs(os.path.join(a.output, "licenses"), exist_ok=True)
    packages = sorted({r["package"] for r in rows})
    versions = {}
    with tempfile.TemporaryDirectory() as tmp:
        for pkg in packages:
            deb, versions[pkg] = fetch_package(pkg, cache)
            subprocess.run(["dpkg-deb", "-x", deb, os.path.join(tmp, pkg)], check=True)
            doc = os.path.join(tmp, pkg, "usr/share/doc", pkg)
            if os.path.islink(doc):  # e.g. gimp-help-en -> gimp-help-common
                other = os.path.basename(os.readlink(doc))
                other_root = os.path.join(tmp, "doc-of", other)
                if not os.path.isdir(other_root):
                    other_deb, _ = fetch_package(other, cache)
                    os.makedirs(os.path.dirname(other_root), exist_ok=True)
                    subprocess.run(["dpkg-deb", "-x", other_deb, other_root], check=True)
                doc = os.path.join(other_root, "usr/share/doc", other)
            shutil.copy(os.path.join(doc, "copyright"),
                        os.path.join(a.output, "licenses", pkg + ".copyright"))
        manifest = ["file\tsplit\tpackage\tversion\tsource_path\tsource_sha256\tsource_size"
                    "\twidth\theight\tlicense\tauthor"]
        for r, name in zip(rows, names):
            raw, img = read_source(os.path.join(tmp, r["package"]), r["path"])
            digest = hashlib.sha256(raw).hexdigest()
            if img is None:
                raise SystemExit(f"collect_photos: cannot read {r['package']}: {r['path']}")
            sh, sw = img.shape[:2]
            s = min(1.0, a.long_side / max(sh, sw))
            if s < 1.0:
                img = cv2.resize(img, (round(sw * s), round(sh * s)), interpolation=cv2.INTER_AREA)
            rel = os.path.join(r["split"], name)
            os.makedirs(os.path.join(a.output, r["split"]), exist_ok=True)
            cv2.imwrite(os.path.join(a.output, rel), img, [cv2.IMWRITE_JPEG_QUALITY, a.quality])
            manifest.append("\t".join([rel, r["split"], r["package"], versions[r["package"]],
                                       r["path"], digest, f"{sw}x{sh}", str(img.shape[1]),
                                       str(img.shape[0]), r["license"], r["author"]]))
    with open(os.path.join(a.output, "manifest.tsv"), "w", encoding="utf-8") as f:
        f.write("\n".join(manifest) + "\n")
    counts = {s: sum(r["split"] == s for r in rows) for s in ("train", "val", "example")}
    print(f"collect_photos: {counts} -> {a.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
