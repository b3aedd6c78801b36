#!/usr/bin/env python3
"""Run pytest only when what the tests need is installed; else exit 77 (SKIP).

    pytest_if.py [--modules NAME...] [--programs NAME...] -- PYTEST_ARGS...

The run itself goes through tests/run_pytest.py, so a test skipped inside is a SKIP too.
"""
import importlib.util
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import run_pytest  # noqa: E402


def main(argv):
    split = argv.index("--")
    wanted, kind = {"--modules": [], "--programs": []}, None
    for arg in argv[:split]:
        if arg in wanted:
            kind = arg
        else:
            wanted[kind].append(arg)
    missing = [m for m in wanted["--modules"] if importlib.util.find_spec(m) is None]
    missing += [p for p in wanted["--programs"] if shutil.which(p) is None]
    if missing:
        print("skipped: not installed: " + ", ".join(missing))
        return 77
    return run_pytest.main(argv[split + 1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
