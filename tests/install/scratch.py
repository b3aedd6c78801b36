"""Shared by the tests that follow the documented install routes in a scratch
copy of the repository (test_python_package.py, test_guides.py)."""
import os
import shutil
import subprocess
import sys

SKIP = 77  # meson's exit status for a skipped test


def clean_env(**extra):
    """The environment without what a developer's shell might have set to help
    the code under test find a library: GATEDINPAINT_*, PYTHON*, PIP_*,
    MESON*, LD_LIBRARY_PATH, PKG_CONFIG_PATH, VIRTUAL_ENV."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GATEDINPAINT_", "PYTHON", "PIP_", "MESON")) and
           k not in ("LD_LIBRARY_PATH", "PKG_CONFIG_PATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.update(extra)
    return env


def run(cmd, cwd=None, env=None, timeout=900):
    print("+", " ".join(cmd), flush=True)
    r = subprocess.run(cmd, cwd=cwd, env=clean_env() if env is None else env,
                       capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise SystemExit("FAIL: exit status %d from %s\n%s\n%s"
                         % (r.returncode, " ".join(cmd), r.stdout[-4000:], r.stderr[-4000:]))
    return r.stdout


def skip_unless(ok, why):
    if not ok:
        print("SKIP:", why)
        sys.exit(SKIP)


def copy_source(source, dest):
    """The tracked part of the tree: no build folders, caches or Cargo targets
    (meson-python and cargo write into the folder they build)."""
    anywhere = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", "target", "*.egg-info")
    at_root = shutil.ignore_patterns("build*", ".mesonpy*", "data", "runs")

    def ignore(folder, names):
        skipped = anywhere(folder, names)
        return skipped | at_root(folder, names) if folder == source else skipped
    shutil.copytree(source, dest, ignore=ignore, symlinks=True)
    return dest
