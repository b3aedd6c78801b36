#!/usr/bin/python3
"""The Python package built by pip from the repository root (pyproject.toml,
meson-python), with libgatedinpaint inside it.

    test_python_package.py wheel SOURCE_DIR     # pip wheel: list its files
    test_python_package.py install SOURCE_DIR   # pip install into a fresh venv, use it

Both copy the source tree to a temporary folder first (meson-python writes
into the folder it builds), make a venv with --system-site-packages (numpy
comes from Debian) and run its pip offline, exactly as docs/python.md says:
    python3 -m venv --system-site-packages VENV
    VENV/bin/pip install --no-build-isolation --no-index SOURCE
Exit 77 (skipped) when the venv module, pip or meson-python is missing
(Debian: python3-venv, python3-pip, python3-mesonpy).
"""
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

from scratch import clean_env, copy_source, run, skip_unless

MODE, SOURCE = sys.argv[1], os.path.abspath(sys.argv[2])


def make_venv(path):
    probe = subprocess.run([sys.executable, "-c", "import venv, ensurepip, mesonpy"],
                           capture_output=True, text=True)
    skip_unless(probe.returncode == 0, "%s cannot make a venv or lacks meson-python "
                "(apt-get install python3-venv python3-mesonpy): %s"
                % (sys.executable, probe.stderr.strip().splitlines()[-1:]))
    skip_unless(shutil.which("meson") and shutil.which("ninja"), "meson or ninja missing")
    run([sys.executable, "-m", "venv", "--system-site-packages", path])
    pip = os.path.join(path, "bin", "pip")
    skip_unless(os.path.exists(pip), "the venv has no pip (apt-get install python3-pip)")
    return pip


def wheel(tmp):
    pip = make_venv(os.path.join(tmp, "venv"))
    src = copy_source(SOURCE, os.path.join(tmp, "src"))
    out = os.path.join(tmp, "wheels")
    run([pip, "wheel", "--no-build-isolation", "--no-index", "--no-deps", "--no-cache-dir",
         "-w", out, src], cwd=tmp)
    wheels = [f for f in os.listdir(out) if f.endswith(".whl")]
    if len(wheels) != 1:
        raise SystemExit("FAIL: expected one wheel, got %s" % wheels)
    failures = []
    with zipfile.ZipFile(os.path.join(out, wheels[0])) as z:
        names = z.namelist()
        print("\n".join(names))
        libs = [n for n in names if n.startswith("gatedinpaint/libgatedinpaint.so.0")]
        if len(libs) != 1:
            failures.append("want one gatedinpaint/libgatedinpaint.so.0*, got %s" % libs)
        else:
            data = z.read(libs[0])
            if not data.startswith(b"\x7fELF"):
                failures.append("%s is not an ELF file" % libs[0])
            if b"GGUF" not in data:  # the embedded default model (models/default.gguf)
                failures.append("%s has no embedded GGUF model" % libs[0])
        for want in ("gatedinpaint/__init__.py", "gatedinpaint/_capi.py",
                     "gatedinpaint/dask.py", "gatedinpaint/web.py", "gatedinpaint/web.html"):
            if want not in names:
                failures.append("missing %s" % want)
        if not any(n.endswith(".dist-info/LICENSE") for n in names):
            failures.append("no LICENSE in the dist-info folder")
        meta = [n for n in names if n.endswith(".dist-info/METADATA")]
        if not meta or b"License" not in z.read(meta[0]):
            failures.append("METADATA without a licence")
        # Only the package and its metadata: no headers, tools or tests.
        stray = [n for n in names if not n.startswith("gatedinpaint/") and ".dist-info/" not in n]
        if stray:
            failures.append("files outside the package: %s" % stray)
    for f in failures:
        print("FAIL:", f)
    if failures:
        sys.exit(1)
    print("wheel test passed:", wheels[0])


USE = r"""
import os, sys
import numpy as np
import gatedinpaint as gi
from gatedinpaint import _capi
here = os.path.dirname(os.path.abspath(gi.__file__))
assert here.startswith(sys.prefix), (here, sys.prefix)
assert os.path.dirname(_capi.path) == here, ("not the bundled library", _capi.path)
maps = [l.split()[-1] for l in open("/proc/self/maps") if "libgatedinpaint" in l]
assert maps and all(m.startswith(here) for m in maps), maps
model = gi.Model.default()
rng = np.random.default_rng(0)
image = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
mask = np.zeros((48, 64), np.uint8)
mask[16:32, 20:44] = 255
with gi.Session(model, threads=1) as session:
    out = session.inpaint(image, mask)
hole = mask > 127
assert out.shape == image.shape and out.dtype == np.uint8
assert np.array_equal(out[~hole], image[~hole]), "pixels outside the hole changed"
assert os.path.isfile(os.path.join(here, "web.html")), "no page for gatedinpaint.web"
print("ok", gi.library_version(), model.family, model.width, _capi.path)
"""


def install(tmp):
    venv = os.path.join(tmp, "venv")
    pip = make_venv(venv)
    src = copy_source(SOURCE, os.path.join(tmp, "src"))
    run([pip, "install", "--no-build-isolation", "--no-index", "--no-cache-dir", src], cwd=tmp)
    python = os.path.join(venv, "bin", "python")
    # Run from an empty folder: only the installed package can be imported.
    work = os.path.join(tmp, "work")
    os.makedirs(work)
    print(run([python, "-c", USE], cwd=work).strip())
    # The bundled copy comes first: a GATEDINPAINT_LIBRARY that does not exist
    # is not even tried.
    print(run([python, "-c", USE], cwd=work,
              env=clean_env(GATEDINPAINT_LIBRARY="/nonexistent/libgatedinpaint.so.0")).strip())
    print("install test passed")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="gi-pypkg-") as tmp:
        {"wheel": wheel, "install": install}[MODE](tmp)
