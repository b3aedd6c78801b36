#!/usr/bin/python3
"""`meson install` into a staging prefix, then every consumer through it.

    test_install.py BUILD_DIR SOURCE_DIR MODEL.gguf

Checks the installed layout (library with soversion links, headers, CLI,
gi-convert, pkg-config file, docs), then builds the C and C++ examples with
`pkg-config --cflags --libs gatedinpaint` against the staged prefix, and runs
them, the installed gi-inpaint, the Python example and the Rust example (when
cargo is present) on examples/dune.jpg. Each must load the staged library,
keep every pixel outside the hole, and all must produce the same image.
The installed gi-convert must read the layer table installed with it and,
with torch present, convert a random checkpoint that gi-inpaint then runs.
The embedded default model is used when the library has one, else MODEL.
With pip present, the Python package is also pip-installed with the library
bundled in it, and must load that copy.

Environment: MESON, CC and CXX (commands; CXX may be empty), VERSION (the
project's), and the install directories PREFIX, LIBDIR, BINDIR, INCLUDEDIR,
DATADIR as meson was configured.
"""
import json
import os
import shlex
import shutil
import subprocess
import sys

BUILD, SOURCE, MODEL = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
failures = []
skipped = []  # parts that could not run: exit 77 (SKIP) at the end


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, flush=True)


def run(cmd, env=None, timeout=300, check=True):
    print("+", " ".join(cmd), flush=True)
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise SystemExit("FAIL: exit status %d from %s\n%s\n%s"
                         % (r.returncode, " ".join(cmd), r.stdout, r.stderr))
    return r


def staged(option):
    path = os.environ[option]
    if not os.path.isabs(path):
        path = os.path.join(os.environ["PREFIX"], path)
    return DEST + path


DEST = os.path.join(os.path.abspath(BUILD), "install-test")
shutil.rmtree(DEST, ignore_errors=True)
run(shlex.split(os.environ["MESON"]) + ["install", "-C", BUILD, "--no-rebuild", "--quiet",
                                        "--destdir", DEST])
libdir, bindir = staged("LIBDIR"), staged("BINDIR")
includedir, datadir = staged("INCLUDEDIR"), staged("DATADIR")

# --- layout: "" = a file, None = a symlink, "name" = a symlink to name
major = os.environ["VERSION"].split(".")[0]  # soversion = major (docs/ABI.md)
soname = os.path.join(libdir, "libgatedinpaint.so.%s" % major)
expected = {
    os.path.join(libdir, "libgatedinpaint.so"): "libgatedinpaint.so.%s" % major,
    soname: None,  # -> the real file, libgatedinpaint.so.X.Y.Z
    os.path.join(includedir, "gatedinpaint.h"): "",
    os.path.join(includedir, "gatedinpaint.hpp"): "",
    os.path.join(libdir, "pkgconfig", "gatedinpaint.pc"): "",
    os.path.join(bindir, "gi-inpaint"): "",
    os.path.join(bindir, "gi-convert"): None,
    os.path.join(datadir, "gatedinpaint", "gimodel", "gguf.py"): "",
    os.path.join(datadir, "gatedinpaint", "gimodel", "deepfill_v2_layers.def"): "",
    os.path.join(datadir, "doc", "libgatedinpaint", "README.md"): "",
    os.path.join(datadir, "doc", "libgatedinpaint", "docs", "ABI.md"): "",
}
for path, link in expected.items():
    if not os.path.exists(path):
        fail("not installed: %s" % path)
    elif link is None and not os.path.islink(path):
        fail("%s should be a symlink" % path)
    elif link and os.readlink(path) != link:
        fail("%s -> %s, expected -> %s" % (path, os.readlink(path), link))
real = os.path.basename(os.path.realpath(soname))
if real != "libgatedinpaint.so." + os.environ["VERSION"]:
    fail("%s -> %s, expected libgatedinpaint.so.%s" % (soname, real, os.environ["VERSION"]))

# Consumers must find the staged library, never the build tree's.
env = {k: v for k, v in os.environ.items()
       if k not in ("LD_LIBRARY_PATH", "GATEDINPAINT_LIBRARY", "PKG_CONFIG_PATH")}
env["PKG_CONFIG_PATH"] = os.path.join(libdir, "pkgconfig")
env["PKG_CONFIG_SYSROOT_DIR"] = DEST  # prefixes the .pc file's -I and -L
run_env = dict(env, LD_LIBRARY_PATH=libdir)

flags = shlex.split(run(["pkg-config", "--cflags", "--libs", "gatedinpaint"], env=env).stdout)
print("pkg-config:", " ".join(flags))
if "-I" + includedir not in flags or "-L" + libdir not in flags:
    fail("pkg-config flags %s do not point into %s" % (flags, DEST))


def uses_staged_library(binary, environment):
    """ldd: libgatedinpaint resolves inside the staging prefix."""
    out = run(["ldd", binary], env=environment).stdout
    lines = [l for l in out.splitlines() if "libgatedinpaint" in l]
    if not lines or DEST not in lines[0]:
        fail("%s does not load the staged library:\n%s" % (binary, out))


work = os.path.join(DEST, "consumers")
os.makedirs(work)
image = os.path.join(SOURCE, "examples", "dune.jpg")
mask = os.path.join(SOURCE, "examples", "dune_mask.png")
programs = {}

c_exe = os.path.join(work, "inpaint-c")
run(shlex.split(os.environ["CC"]) + ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic",
                                     os.path.join(SOURCE, "bindings/c/examples/inpaint.c"),
                                     "-o", c_exe] + flags, env=env)
programs["c"] = [c_exe]
if os.environ.get("CXX"):
    cpp_exe = os.path.join(work, "inpaint-cpp")
    run(shlex.split(os.environ["CXX"]) + ["-std=c++11", "-Wall", "-Wextra", "-Werror",
                                          "-pedantic",
                                          os.path.join(SOURCE, "bindings/cpp/examples/inpaint.cpp"),
                                          "-o", cpp_exe] + flags, env=env)
    programs["c++"] = [cpp_exe]
else:
    skipped.append("no C++ compiler: C++ consumer skipped")
programs["python"] = [sys.executable,
                      os.path.join(SOURCE, "bindings/python/examples/inpaint.py")]
run_env["PYTHONPATH"] = os.path.join(SOURCE, "bindings", "python")
run_env["PYTHONDONTWRITEBYTECODE"] = "1"

# The default model when the library has one; the test model otherwise.
probe = run(programs["c"] + [image, mask, os.path.join(work, "probe.png")], env=run_env,
            check=False)
if probe.returncode == 0:
    model_args, model_note = [], "the embedded default model"
elif "no embedded default model" in probe.stderr:
    model_args, model_note = [MODEL], MODEL
else:
    raise SystemExit("FAIL: C consumer: %s" % probe.stderr)
print("model:", model_note)

outputs = {}
for name, cmd in programs.items():
    outputs[name] = os.path.join(work, "dune-%s.png" % name.replace("+", "p"))
    run(cmd + [image, mask, outputs[name]] + model_args, env=run_env)
    if name != "python":
        uses_staged_library(cmd[0], run_env)

outputs["gi-inpaint"] = os.path.join(work, "dune-cli.png")
run([os.path.join(bindir, "gi-inpaint"), "--quiet", "--image", image, "--mask", mask,
     "--output", outputs["gi-inpaint"]] + ["--model=%s" % m for m in model_args], env=run_env)
uses_staged_library(os.path.join(bindir, "gi-inpaint"), run_env)
help_text = run([os.path.join(bindir, "gi-convert"), "--help"], env=run_env).stdout
if "gi-convert" not in help_text and "usage" not in help_text.lower():
    fail("installed gi-convert --help printed: %s" % help_text)

# The installed gimodel reads the layer table installed next to it (the source tree's
# lib/families/ is not reachable from the staging prefix); gi-convert converts with it.
tools_dir = os.path.join(datadir, "gatedinpaint")
ARCH = ("import json; from gimodel import deepfill; print(json.dumps([deepfill.DEF_PATH, "
        "[(l.name, l.upsample, l.cconv, l.cin, l.k) for l in deepfill.layers(8)]]))")
table, layers = json.loads(run([sys.executable, "-c", ARCH],
                               env=dict(run_env, PYTHONPATH=tools_dir)).stdout)
if table != os.path.join(tools_dir, "gimodel", "deepfill_v2_layers.def"):
    fail("installed gimodel read its layer table from %s" % table)
try:
    import torch
except ImportError:
    torch = None
    skipped.append("torch not found: installed gi-convert conversion skipped")
if torch is not None:
    # Random width-8 weights under the TF-compatible PyTorch port's key names.
    state = {}
    for name, up, cconv, cin, k in layers:
        key = name + (".conv.conv." if up else ".conv.")
        state[key + "weight"] = torch.randn(cconv, cin, k, k) * 0.1
        state[key + "bias"] = torch.zeros(cconv)
    pth = os.path.join(work, "random8.pth")
    torch.save({"G": state}, pth)
    converted = os.path.join(work, "converted8.gguf")
    run([os.path.join(bindir, "gi-convert"), pth, "-o", converted], env=run_env)
    run([os.path.join(bindir, "gi-inpaint"), "--quiet", "--image", image, "--mask", mask,
         "--output", os.path.join(work, "dune-converted.png"), "--model=" + converted],
        env=run_env)

LOADED_FROM = ("import gatedinpaint\n"
               "print([l.split()[-1] for l in open('/proc/self/maps') if 'libgatedinpaint' in l][0])")
where = run([sys.executable, "-c", LOADED_FROM], env=run_env).stdout.strip()
if not where.startswith(DEST):
    fail("Python loaded %s, not the staged library" % where)

# The Python package as pip installs it, with the library bundled inside: found
# without LD_LIBRARY_PATH. Built from a copy so the source tree stays clean.
if run([sys.executable, "-m", "pip", "--version"], check=False).returncode == 0:
    package = os.path.join(work, "python-package")
    shutil.copytree(os.path.join(SOURCE, "bindings", "python"), package,
                    ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    shutil.copy2(soname, os.path.join(package, "gatedinpaint", os.path.basename(soname)))
    site = os.path.join(work, "site-packages")
    run([sys.executable, "-m", "pip", "install", "--quiet", "--no-build-isolation", "--no-deps",
         "--no-index", "--target", site, package],
        env=dict(env, PIP_ROOT_USER_ACTION="ignore", PYTHONDONTWRITEBYTECODE="1"))
    where = run([sys.executable, "-c", LOADED_FROM], env=dict(env, PYTHONPATH=site)).stdout
    if not where.strip().startswith(os.path.join(site, "gatedinpaint") + os.sep):
        fail("pip-installed package loaded %s, not its bundled library" % where.strip())
    if not os.path.isfile(os.path.join(site, "gatedinpaint", "web.html")):
        fail("pip-installed package has no web.html (the page of gatedinpaint.web)")
else:
    skipped.append("pip not found: Python packaging skipped")

if shutil.which("cargo"):
    rust_env = dict(env, CARGO_TARGET_DIR=os.path.join(os.path.abspath(BUILD),
                                                       "cargo-target-install"))
    manifest = os.path.join(SOURCE, "bindings", "rust", "Cargo.toml")
    run(["cargo", "build", "--offline", "--locked", "--quiet", "--example", "inpaint",
         "--manifest-path", manifest], env=rust_env)
    rust_exe = os.path.join(rust_env["CARGO_TARGET_DIR"], "debug", "examples", "inpaint")
    outputs["rust"] = os.path.join(work, "dune-rust.png")
    # No LD_LIBRARY_PATH: the example's rpath points at the staged library.
    run([rust_exe, image, mask, outputs["rust"]] + model_args, env=env)
    uses_staged_library(rust_exe, env)
else:
    skipped.append("cargo not found: Rust consumer skipped")

# --- results: through the staged library itself
os.environ["GATEDINPAINT_LIBRARY"] = soname
sys.path.insert(0, os.path.join(SOURCE, "bindings", "python"))
import numpy as np  # noqa: E402

import gatedinpaint as gi  # noqa: E402

original = gi.load_image(image, 3)
hole = gi.load_mask(mask) > 127
reference = None
for name, path in outputs.items():
    result = gi.load_image(path)
    if result.shape != original.shape:
        fail("%s: output is %s, input %s" % (name, result.shape, original.shape))
        continue
    if not np.array_equal(result[~hole], original[~hole]):
        fail("%s: pixels outside the hole changed" % name)
    if np.array_equal(result[hole], original[hole]):
        fail("%s: the hole was not filled" % name)
    if reference is None:
        reference = (name, result)
    elif not np.array_equal(result, reference[1]):
        fail("%s and %s differ" % (name, reference[0]))

print("consumers: %s" % ", ".join(outputs))
if failures:
    raise SystemExit("%d install check(s) failed" % len(failures))
if skipped:
    for why in skipped:
        print("SKIP:", why)
    raise SystemExit(77)  # meson: SKIP, not a pass with parts missing
print("install test passed")
