#!/usr/bin/env python3
"""Run pytest only when what the tests need is installed; else exit 77 (SKIP).

    pytest_if.py [--modules NAME...] [--programs NAME...] -- PYTEST_ARGS...
"""
import importlib.util
import shutil
import sys

import pytest


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
    return pytest.main(argv[split + 1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
