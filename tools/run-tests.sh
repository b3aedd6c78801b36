#!/bin/sh
# Set up, build and run every test (see README). Extra arguments go to
# `meson test` of the main build only, e.g. tools/run-tests.sh --suite kernels
# Without arguments the sanitizer runs follow (tools/sanitize.sh, see
# docs/RELIABILITY.md): the C tests, the CLI corpus and the fuzz targets under
# ASan+UBSan (build-asan), the threading tests under TSan (build-tsan).
# The main build's suite already includes the valgrind memcheck runs.
# GI_SANITIZE=0 skips the sanitizer builds.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build"
"$root/tools/setup.sh" "$build"
# One test program at a time: each one uses every core itself.
status=0
meson test -C "$build" --num-processes 1 --print-errorlogs "$@" || status=$?

sanitizers=""
if [ $# -eq 0 ] && [ "${GI_SANITIZE:-1}" != 0 ]; then
    for mode in asan tsan; do
        echo "== sanitizer run: $mode"
        rc=0
        "$root/tools/sanitize.sh" "$mode" || rc=$?
        case $rc in
        0) sanitizers="$sanitizers $mode=ok" ;;
        77) sanitizers="$sanitizers $mode=skipped" ;;
        *) sanitizers="$sanitizers $mode=failed"; status=1 ;;
        esac
    done
fi

# A closing line in the common "N passed, N failed" form: the main build's
# tests, the ASan build's tests, and the TSan run as one more test.
/usr/bin/python3 - "$build/meson-logs/testlog.json" "$root/build-asan/meson-logs/testlog.json" \
    "$sanitizers" <<'PY'
import json, os, sys
res = [json.loads(l)["result"] for l in open(sys.argv[1]) if l.strip()]
sans = dict(s.split("=") for s in sys.argv[3].split())
if sans.get("asan") in ("ok", "failed") and os.path.exists(sys.argv[2]):
    res += [json.loads(l)["result"] for l in open(sys.argv[2]) if l.strip()]
elif "asan" in sans:
    res.append("SKIP" if sans["asan"] == "skipped" else "FAIL")
if "tsan" in sans:
    res.append({"ok": "OK", "skipped": "SKIP"}.get(sans["tsan"], "FAIL"))
ok = sum(r in ("OK", "EXPECTEDFAIL") for r in res)
skip = sum(r == "SKIP" for r in res)
extra = f" (sanitizers:{' '.join(f'{k} {v}' for k, v in sans.items())})" if sans else ""
print(f"meson: {ok} passed, {len(res) - ok - skip} failed, {skip} skipped{extra}")
PY
exit $status
