#!/bin/sh
# `cargo test` of the Rust workspace (bindings/rust) against the built library.
#   cargo_test.sh path/to/Cargo.toml
# meson sets PKG_CONFIG_PATH (the uninstalled .pc), CARGO_TARGET_DIR and
# GATEDINPAINT_TEST_MODEL. Exit 77 (skipped) when cargo is not installed.
set -eu
if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo not found: Rust bindings not tested (apt-get install cargo)"
    exit 77
fi
# --offline: no crates are needed; --locked: Cargo.lock must be up to date.
exec cargo test --offline --locked --manifest-path "$1"
