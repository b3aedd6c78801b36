#!/bin/sh
# Set up, build and run every test (see README). Extra arguments go to
# `meson test`, e.g. tools/run-tests.sh --suite kernels
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build"
"$root/tools/setup.sh" "$build"
# One test program at a time: each one uses every core itself.
status=0
meson test -C "$build" --num-processes 1 --print-errorlogs "$@" || status=$?
# A closing line in the common "N passed, N failed" form.
/usr/bin/python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
res = [json.loads(l)["result"] for l in open(sys.argv[1]) if l.strip()]
ok = sum(r in ("OK", "EXPECTEDFAIL") for r in res)
skip = sum(r == "SKIP" for r in res)
print(f"meson: {ok} passed, {len(res) - ok - skip} failed, {skip} skipped")
PY
exit $status
