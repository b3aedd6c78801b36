#!/bin/sh
# `cargo test` of the Rust workspace (bindings/rust).
#   cargo_test.sh path/to/Cargo.toml
#       against the built library: meson sets PKG_CONFIG_PATH (the uninstalled
#       .pc), CARGO_TARGET_DIR and GATEDINPAINT_TEST_MODEL.
#   cargo_test.sh --from-source path/to/Cargo.toml
#       as on a machine with no libgatedinpaint: PKG_CONFIG_PATH, LD_LIBRARY_PATH
#       and every GATEDINPAINT_* variable removed, so gatedinpaint-sys builds the
#       library from the repository's sources with meson and ninja (its
#       `bundled` feature is turned on when pkg-config still finds an installed
#       one); the tests make their own model.
# Exit 77 (skipped) when cargo (or, from source, meson or ninja) is not installed.
set -eu
if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo not found: Rust bindings not tested (apt-get install cargo)"
    exit 77
fi
features=""
if [ "$1" = --from-source ]; then
    shift
    for tool in meson ninja; do
        if ! command -v $tool >/dev/null 2>&1; then
            echo "$tool not found: the build from source is not tested"
            exit 77
        fi
    done
    unset PKG_CONFIG_PATH LD_LIBRARY_PATH
    for var in $(env | sed -n 's/^\(GATEDINPAINT_[A-Za-z0-9_]*\)=.*/\1/p'); do
        unset "$var"
    done
    if pkg-config --exists gatedinpaint 2>/dev/null; then
        echo "libgatedinpaint is installed: testing the bundled feature"
        features="--features gatedinpaint-sys/bundled"
    fi
fi
# --offline: no crates are needed; --locked: Cargo.lock must be up to date.
# shellcheck disable=SC2086
exec cargo test --offline --locked $features --manifest-path "$1"
