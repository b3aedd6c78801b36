#!/bin/sh
# Set up, build and run every test (see README). Extra arguments go to
# `meson test` of the main build only, e.g. tools/run-tests.sh --suite kernels
# Without arguments the sanitizer runs follow (tools/sanitize.sh, see
# docs/RELIABILITY.md): the C tests, the CLI corpus and the fuzz targets under
# ASan+UBSan (build-asan), the threading tests under TSan (build-tsan).
# The main build's suite already includes the valgrind memcheck runs.
# GI_SANITIZE=0 skips the sanitizer builds.
# GI_NO_SKIP=1 (set by .ci/run): any skipped test fails the run, except the
# tests listed in tests/allowed-skips.txt (docs/RELIABILITY.md, "Skips").
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
    "$sanitizers" "$root/tests/allowed-skips.txt" "${GI_NO_SKIP:-0}" <<'PY' || status=1
import json, os, sys
def load(path, prefix=""):
    rows = (json.loads(l) for l in open(path) if l.strip())
    return [(prefix + j["name"], j["result"]) for j in rows]
res = load(sys.argv[1])
sans = dict(s.split("=") for s in sys.argv[3].split())
if sans.get("asan") in ("ok", "failed") and os.path.exists(sys.argv[2]):
    res += load(sys.argv[2], "asan: ")
elif "asan" in sans:
    res.append(("asan", "SKIP" if sans["asan"] == "skipped" else "FAIL"))
if "tsan" in sans:
    res.append(("tsan", {"ok": "OK", "skipped": "SKIP"}.get(sans["tsan"], "FAIL")))
ok = sum(r in ("OK", "EXPECTEDFAIL") for _, r in res)
skipped = [n for n, r in res if r == "SKIP"]
extra = f" (sanitizers:{' '.join(f'{k} {v}' for k, v in sans.items())})" if sans else ""
for name in skipped:
    print(f"skipped: {name}")  # why: its output in the meson log
print(f"meson: {ok} passed, {len(res) - ok - len(skipped)} failed, {len(skipped)} skipped{extra}")
if sys.argv[5] == "1":
    allowed = {l.split()[0] for l in open(sys.argv[4]) if l.strip() and not l.startswith("#")}
    bad = [n for n in skipped if n.split(" / ")[-1] not in allowed]
    if bad:
        print(f"GI_NO_SKIP=1: {len(bad)} skipped test(s) not in tests/allowed-skips.txt: "
              + ", ".join(bad))
        sys.exit(1)
PY
exit $status
