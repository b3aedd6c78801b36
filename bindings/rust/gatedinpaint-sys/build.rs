//! Finds libgatedinpaint, or builds it (no crates: this must build offline).
//!
//! In order:
//! 1. `GATEDINPAINT_LIB_DIR`: the folder holding libgatedinpaint.so (no
//!    pkg-config);
//! 2. unless the `bundled` feature is on, the `pkg-config` program
//!    (`PKG_CONFIG_PATH` may name the folder holding gatedinpaint.pc: an
//!    install prefix's lib/.../pkgconfig, or a Meson build's
//!    meson-uninstalled);
//! 3. otherwise the library is built from its C sources with `meson` and
//!    `ninja` into OUT_DIR (`-Dlibrary_only=true`, release, default model
//!    embedded). The sources are `GATEDINPAINT_SOURCE_DIR`, else
//!    `vendor/libgatedinpaint` inside this crate (where a published crate
//!    would carry them), else the repository this crate sits in (../../..).
use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

// The oldest library these declarations match (docs/ABI.md).
const MIN_VERSION: &str = "0.1.0";

fn main() {
    for var in [
        "GATEDINPAINT_LIB_DIR",
        "GATEDINPAINT_SOURCE_DIR",
        "PKG_CONFIG",
        "PKG_CONFIG_PATH",
        "PKG_CONFIG_LIBDIR",
        "PKG_CONFIG_SYSROOT_DIR",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }

    let dirs = match env::var("GATEDINPAINT_LIB_DIR") {
        Ok(dir) if !dir.is_empty() => vec![dir],
        _ if env::var_os("CARGO_FEATURE_BUNDLED").is_some() => vec![build_bundled()],
        _ => match pkg_config_lib_dirs() {
            Ok(dirs) => dirs,
            Err(why) => {
                println!("cargo:warning=gatedinpaint-sys: {why}; building libgatedinpaint from source");
                vec![build_bundled()]
            }
        },
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

/// `pkg-config`'s -L folders, or why it found no usable library.
fn pkg_config_lib_dirs() -> Result<Vec<String>, String> {
    let program = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    let run = |args: &[&str]| -> Result<String, String> {
        let output = Command::new(&program)
            .args(args)
            .output()
            .map_err(|e| format!("cannot run `{program}` ({e})"))?;
        if !output.status.success() {
            return Err(format!(
                "`{program} {}` found no libgatedinpaint >= {MIN_VERSION} ({}; PKG_CONFIG_PATH is {:?})",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim().replace('\n', " "),
                env::var("PKG_CONFIG_PATH").unwrap_or_default()
            ));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let flags = run(&["--libs-only-L", "gatedinpaint"])?;
    run(&["--atleast-version", MIN_VERSION, "gatedinpaint"])?;
    Ok(flags
        .split_whitespace()
        .filter_map(|flag| flag.strip_prefix("-L"))
        .map(str::to_string)
        .collect())
}

fn source_dir() -> PathBuf {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let candidates = [
        env::var_os("GATEDINPAINT_SOURCE_DIR").map(PathBuf::from),
        Some(manifest.join("vendor").join("libgatedinpaint")),
        Some(manifest.join("..").join("..").join("..")),
    ];
    for dir in candidates.into_iter().flatten() {
        if dir.join("meson.build").is_file() && dir.join("include/gatedinpaint.h").is_file() {
            return dir.canonicalize().unwrap_or(dir);
        }
    }
    panic!(
        "gatedinpaint-sys: no installed libgatedinpaint and no sources to build it from: set \
         GATEDINPAINT_SOURCE_DIR to a libgatedinpaint checkout, PKG_CONFIG_PATH to the folder \
         holding gatedinpaint.pc, or GATEDINPAINT_LIB_DIR to the folder holding the library"
    );
}

fn run_tool(cmd: &mut Command) {
    let shown = format!("{cmd:?}");
    let status = cmd.status().unwrap_or_else(|e| {
        panic!(
            "gatedinpaint-sys: cannot run {shown} ({e}); building libgatedinpaint needs meson and \
             ninja (Debian: apt-get install meson ninja-build libpng-dev libjpeg62-turbo-dev)"
        )
    });
    if !status.success() {
        panic!("gatedinpaint-sys: {shown} failed ({status})");
    }
}

/// Builds the library with meson and ninja into OUT_DIR; returns its folder.
fn build_bundled() -> String {
    let source = source_dir();
    for path in ["meson.build", "meson_options.txt", "include", "lib", "models/default.gguf"] {
        println!("cargo:rerun-if-changed={}", source.join(path).display());
    }
    let build = Path::new(&env::var("OUT_DIR").unwrap()).join("libgatedinpaint");
    if !build.join("build.ninja").is_file() {
        // Meson writes its progress to stdout, which Cargo keeps out of the way.
        run_tool(
            Command::new("meson")
                .arg("setup")
                .arg("--buildtype=release")
                .arg("-Dlibrary_only=true")
                .arg(&build)
                .arg(&source),
        );
    }
    run_tool(Command::new("ninja").arg("-C").arg(&build));
    build.display().to_string()
}
