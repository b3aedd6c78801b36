"""pytest for meson with visible skips (docs/RELIABILITY.md, "Skips").

    run_pytest.py PYTEST-ARGS...

Runs pytest.main(PYTEST-ARGS). A test that pytest skips (skip, skipif,
importorskip) turns a passing run into exit status 77, which meson counts as
SKIP, and every skipped test is listed with its reason on stdout; a run in
which nothing was collected also exits 77. Failures keep pytest's status.
pytest alone would exit 0 and meson would report OK for a file whose tests
did not run.
"""
import os
import sys

# As `python -m pytest` would: the working directory on sys.path, not tests/.
sys.path[0] = os.getcwd()
import pytest  # noqa: E402

SKIP = 77  # meson's exit status for a skipped test


class SkipLog:
    def __init__(self):
        self.skipped = []

    def pytest_runtest_logreport(self, report):
        if report.skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(
                report.longrepr)
            self.skipped.append((report.nodeid, reason))

    def pytest_collectreport(self, report):
        if report.skipped:  # a whole module skipped (importorskip at import time)
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(
                report.longrepr)
            self.skipped.append((report.nodeid, reason))


def main(argv):
    log = SkipLog()
    rc = pytest.main(argv, plugins=[log])
    if rc == pytest.ExitCode.NO_TESTS_COLLECTED:
        print("SKIP: no tests collected")
        return SKIP
    if rc == 0 and log.skipped:
        for nodeid, reason in log.skipped:
            print("SKIP: %s: %s" % (nodeid, reason))
        print("SKIP: %d test(s) did not run: the meson test reports SKIP" % len(log.skipped))
        return SKIP
    return int(rc)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
