"""Fixtures for the converter tests: running the tools in a subprocess with
torch (and optionally numpy) made unimportable."""

import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_testlib import TOOLS  # noqa: E402  (also puts tools/ on sys.path)


def pytest_configure(config):
    # Tests that read the real TF checkpoints in ../shared/data/tf_checkpoints:
    # meson runs them as their own test, converter-tf, the one test allowed to
    # skip in CI (tests/allowed-skips.txt: a clean clone has no ../shared).
    config.addinivalue_line("markers", "tf_fixtures: needs the real TF checkpoint fixtures")


@pytest.fixture(scope="session")
def run_blocked(tmp_path_factory):
    """run_blocked(args, blocked=("torch",), check=True): run this Python with
    the named modules replaced by packages that raise on import, and tools/ on
    the path. `args` is a list of interpreter arguments or a code string."""
    root = tmp_path_factory.mktemp("blocked")

    def run(args, blocked=("torch",), check=True):
        shim = root / "_".join(sorted(blocked))
        for mod in blocked:
            pkg = shim / mod
            if not pkg.exists():
                pkg.mkdir(parents=True)
                (pkg / "__init__.py").write_text(
                    "raise ImportError('%s is blocked in this test')\n" % mod)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(shim), TOOLS])
        argv = args if isinstance(args, list) else ["-c", args]
        proc = subprocess.run([sys.executable] + argv, env=env, capture_output=True,
                              text=True, timeout=300)
        if check and proc.returncode != 0:
            raise AssertionError("subprocess failed (%d):\n%s\n%s"
                                 % (proc.returncode, proc.stdout, proc.stderr))
        return proc

    return run
