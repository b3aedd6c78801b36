//! Tests and examples of this crate run straight from `cargo test` / `cargo
//! run`: give them an rpath to the library gatedinpaint-sys found, which may
//! be outside the loader's path (a build tree or a private prefix). Programs
//! that depend on this crate are not affected.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_GATEDINPAINT_LIBDIR");
    if let Ok(dir) = std::env::var("DEP_GATEDINPAINT_LIBDIR") {
        println!("cargo:rustc-link-arg-tests=-Wl,-rpath,{dir}");
        println!("cargo:rustc-link-arg-examples=-Wl,-rpath,{dir}");
    }
}
