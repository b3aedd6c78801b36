#!/usr/bin/python3
"""Collect the training / validation photographs from Debian wallpaper packages.

    tools/data/collect_photos.py -o DATA_DIR [--long-side 1280] [--cache DIR] [--quality 95]

Downloads the packages named in tools/data/photos.tsv with `apt-get download` (no root
needed, nothing is installed), unpacks them with `dpkg -x`, and writes each listed photo,
scaled so that its long side is at most --long-side pixels (INTER_AREA), as JPEG to
DATA_DIR/<split>/<package>--<name>.jpg. DATA_DIR/manifest.tsv records, for every file, the
split, package and version, source path, source SHA-256 and size, licence and author;
DATA_DIR/licenses/ holds each package's copyright file. Non-photographic images were
dropped by hand when photos.tsv was written (see tools/data/excluded.tsv).

Splits: "train" (what the default model is trained on), "val" (held out: validation and
the quality evaluation), "example" (examples/dune.jpg: never trained on).
The output is deterministic for a given package version.
"""
import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
LIST = os.path.join(HERE, "photos.tsv")


def read_list(path=LIST):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            package, relpath, split, licence, author = line.rstrip("\n").split("\t")
            rows.append(dict(package=package, path=relpath, split=split, license=licence,
                             author=author))
    return rows


def out_name(row):
    """Unique, readable file name: package--name (Plasma images are all 2560x1600.jpg)."""
    parts = row["path"].split("/")
    if "wallpapers" in parts and "contents" in parts:
        base = parts[parts.index("wallpapers") + 1] + ".jpg"
    else:
        base = os.path.splitext(parts[-1])[0] + ".jpg"
    return f"{row['package']}--{base}"


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
    cache = a.cache or os.path.join(a.output, "debs")
    os.makedirs(os.path.join(a.output, "licenses"), exist_ok=True)
    packages = sorted({r["package"] for r in rows})
    versions = {}
    with tempfile.TemporaryDirectory() as tmp:
        for pkg in packages:
            deb, versions[pkg] = fetch_package(pkg, cache)
            subprocess.run(["dpkg-deb", "-x", deb, os.path.join(tmp, pkg)], check=True)
            shutil.copy(os.path.join(tmp, pkg, "usr/share/doc", pkg, "copyright"),
                        os.path.join(a.output, "licenses", pkg + ".copyright"))
        manifest = ["file\tsplit\tpackage\tversion\tsource_path\tsource_sha256\tsource_size"
                    "\twidth\theight\tlicense\tauthor"]
        for r in rows:
            src = os.path.join(tmp, r["package"], r["path"])
            with open(src, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            img = cv2.imread(src, cv2.IMREAD_COLOR)
            if img is None:
                raise SystemExit(f"collect_photos: cannot read {src}")
            sh, sw = img.shape[:2]
            s = min(1.0, a.long_side / max(sh, sw))
            if s < 1.0:
                img = cv2.resize(img, (round(sw * s), round(sh * s)), interpolation=cv2.INTER_AREA)
            rel = os.path.join(r["split"], out_name(r))
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
