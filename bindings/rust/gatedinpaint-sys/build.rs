//! Finds libgatedinpaint with the `pkg-config` program (no crates: this must
//! build offline). Set PKG_CONFIG_PATH to the folder holding gatedinpaint.pc
//! (an install prefix's lib/.../pkgconfig, or a Meson build's
//! meson-uninstalled), or GATEDINPAINT_LIB_DIR to the folder holding the
//! library itself to skip pkg-config.
use std::env;
use std::process::Command;

// The oldest library these declarations match (docs/ABI.md).
const MIN_VERSION: &str = "0.1.0";

fn main() {
    for var in [
        "GATEDINPAINT_LIB_DIR",
        "PKG_CONFIG",
        "PKG_CONFIG_PATH",
        "PKG_CONFIG_LIBDIR",
        "PKG_CONFIG_SYSROOT_DIR",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }

    let dirs = match env::var("GATEDINPAINT_LIB_DIR") {
        Ok(dir) if !dir.is_empty() => vec![dir],
        _ => pkg_config_lib_dirs(),
    };
    for dir in &dirs {
        println!("cargo:rustc-link-search=native={dir}");
    }
    // Tells dependents' build scripts where the library is
    // (DEP_GATEDINPAINT_LIBDIR), e.g. to set an rpath for their tests; this
    // crate's own tests get one so that `cargo test` runs without
    // LD_LIBRARY_PATH against a library outside the loader's path.
    if let Some(dir) = dirs.first() {
        println!("cargo:libdir={dir}");
        println!("cargo:rustc-link-arg-tests=-Wl,-rpath,{dir}");
    }
    println!("cargo:rustc-link-lib=dylib=gatedinpaint");
}

fn pkg_config_lib_dirs() -> Vec<String> {
    let program = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    let run = |args: &[&str]| {
        let output = Command::new(&program)
            .args(args)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "gatedinpaint-sys: cannot run `{program}` ({e}). Install pkg-config, or set \
                 GATEDINPAINT_LIB_DIR to the folder that holds libgatedinpaint.so"
                )
            });
        if !output.status.success() {
            panic!(
                "gatedinpaint-sys: `{program} {}` failed: {}\nInstall libgatedinpaint >= \
                 {MIN_VERSION}, or point PKG_CONFIG_PATH at the folder that holds \
                 gatedinpaint.pc (PKG_CONFIG_PATH is {:?}).",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim(),
                env::var("PKG_CONFIG_PATH").unwrap_or_default()
            );
        }
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let flags = run(&["--libs-only-L", "gatedinpaint"]);
    // Prints nothing on failure: the message above says which version is needed.
    run(&["--atleast-version", MIN_VERSION, "gatedinpaint"]);
    flags
        .split_whitespace()
        .filter_map(|flag| flag.strip_prefix("-L"))
        .map(str::to_string)
        .collect()
}
