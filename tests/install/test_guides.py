#!/usr/bin/python3
"""Follow a language guide literally: run the shell blocks it marks for testing.

    test_guides.py PAGE SOURCE_DIR      # PAGE: c, cpp, python or rust

docs/PAGE.md marks a fenced `sh` block with `<!-- test: sh -->` on the line
before its opening fence. The marked blocks run in order, in one `sh -eu`
script, from the root of a scratch copy of the repository, with HOME a scratch
folder (the guides install into ~/.local and ~/venvs) and no variables that
would help find a library (no GATEDINPAINT_*, PKG_CONFIG_PATH or
LD_LIBRARY_PATH). Each guide must have at least one marked block, and every
block must succeed. Exit 77 (skipped) when a tool the guide needs is missing.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

from scratch import clean_env, copy_source, skip_unless

PAGE, SOURCE = sys.argv[1], os.path.abspath(sys.argv[2])
MARKED = re.compile(r"<!-- test: sh -->\n(`{3,})sh\n(.*?)\n\1\n", re.S)

# What each guide's commands need, and how to get it on Debian 12.
NEEDS = {
    "c": ["meson", "ninja", "cc", "pkg-config"],
    "cpp": ["meson", "ninja", "c++", "pkg-config"],
    "python": ["meson", "ninja", "cc", "pkg-config"],
    "rust": ["meson", "ninja", "cc", "pkg-config", "cargo"],
}


def blocks(page):
    with open(os.path.join(SOURCE, "docs", page + ".md")) as f:
        return [body for _, body in MARKED.findall(f.read())]


def main():
    script = blocks(PAGE)
    if not script:
        raise SystemExit("FAIL: docs/%s.md marks no block with <!-- test: sh -->" % PAGE)
    for tool in NEEDS[PAGE]:
        skip_unless(shutil.which(tool), "%s not found: docs/%s.md not followed" % (tool, PAGE))
    if PAGE == "python":
        probe = subprocess.run(["/usr/bin/python3", "-c", "import venv, ensurepip, mesonpy, numpy"],
                               capture_output=True, text=True)
        skip_unless(probe.returncode == 0, "/usr/bin/python3 lacks venv, pip, meson-python or "
                    "numpy (python3-venv python3-pip python3-mesonpy python3-numpy)")
    with tempfile.TemporaryDirectory(prefix="gi-guide-%s-" % PAGE) as tmp:
        root = copy_source(SOURCE, os.path.join(tmp, "src"))
        home = os.path.join(tmp, "home")
        os.makedirs(home)
        env = clean_env(HOME=home)
        for var in ("CARGO_TARGET_DIR", "RUSTFLAGS"):
            env.pop(var, None)
        if PAGE == "rust" and "CARGO_HOME" not in env:
            # HOME moved: keep using the real cargo home (the toolchain and its config).
            real = os.path.join(os.path.expanduser("~"), ".cargo")
            if os.path.isdir(real):
                env["CARGO_HOME"] = real
            if "RUSTUP_HOME" not in os.environ and os.path.isdir(os.path.expanduser("~/.rustup")):
                env["RUSTUP_HOME"] = os.path.expanduser("~/.rustup")
        # One shell, as a reader typing the blocks one after another.
        text = "set -eux\n" + "\n".join(script) + "\n"
        print(text, flush=True)
        r = subprocess.run(["sh", "-c", text], cwd=root, env=env, timeout=900)
        if r.returncode != 0:
            raise SystemExit("FAIL: docs/%s.md: exit status %d" % (PAGE, r.returncode))
        outputs = [f for f in ("filled.png", "bindings/rust/filled.png")
                   if os.path.exists(os.path.join(root, f))]
        if not outputs:
            raise SystemExit("FAIL: docs/%s.md wrote no filled.png" % PAGE)
    print("docs/%s.md followed: %d block(s) ran" % (PAGE, len(script)))


if __name__ == "__main__":
    main()
