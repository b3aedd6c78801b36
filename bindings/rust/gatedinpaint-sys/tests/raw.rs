//! The declarations link and agree with the library actually loaded.
use std::ffi::CStr;

use gatedinpaint_sys::*;

#[test]
fn linked_library_matches_these_declarations() {
    let v = unsafe { gi_version() };
    assert_eq!(
        v / 10000,
        GI_VERSION_MAJOR,
        "another major version is another ABI"
    );
    assert!(
        v >= GI_VERSION_NUMBER,
        "library {v} older than {GI_VERSION_NUMBER}"
    );
    let s = unsafe { CStr::from_ptr(gi_version_string()) }
        .to_str()
        .unwrap();
    assert_eq!(s, format!("{}.{}.{}", v / 10000, v / 100 % 100, v % 100));
}

#[test]
fn errors_come_back_through_the_raw_api() {
    let mut m: *mut gi_model = std::ptr::null_mut();
    let st = unsafe { gi_model_load_file(std::ptr::null(), &mut m) };
    assert_eq!(st, GI_E_INVALID_ARG);
    assert!(m.is_null());
    let msg = unsafe { CStr::from_ptr(gi_last_error()) }.to_string_lossy();
    assert!(msg.contains("path"), "message: {msg}");
    let what = unsafe { CStr::from_ptr(gi_status_string(GI_E_INVALID_ARG)) }.to_string_lossy();
    assert_eq!(what, "invalid argument");
    unsafe { gi_model_release(std::ptr::null_mut()) };
}
