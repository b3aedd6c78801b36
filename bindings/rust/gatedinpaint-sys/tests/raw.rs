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

#[test]
fn mask_helpers_through_the_raw_api() {
    // A 0/1 mask: the 1 is a hole, and a dilation by 1 grows it to a 3x3 square.
    let mut pixels = [0u8; 25];
    pixels[12] = 1;
    let mut t: *mut gi_tensor = std::ptr::null_mut();
    let st = unsafe {
        gi_tensor_wrap(GI_DTYPE_U8, 5, 5, 1, pixels.as_mut_ptr().cast(), 5, &mut t)
    };
    assert_eq!(st, GI_OK);
    let mut m: *mut gi_tensor = std::ptr::null_mut();
    assert_eq!(unsafe { gi_mask_normalize(t, &mut m) }, GI_OK);
    assert_eq!(unsafe { gi_mask_dilate(m, 1) }, GI_OK);
    let data = unsafe { std::slice::from_raw_parts(gi_tensor_data(m) as *const u8, 25) };
    let holes: Vec<usize> = (0..25).filter(|&i| data[i] == 255).collect();
    assert_eq!(holes, vec![6, 7, 8, 11, 12, 13, 16, 17, 18]);
    assert_eq!(unsafe { gi_mask_dilate(m, -1) }, GI_E_INVALID_ARG);
    let st = unsafe { gi_blend_feather(t, m, t, -1, t) };
    assert_eq!(st, GI_E_INVALID_ARG);
    let msg = unsafe { CStr::from_ptr(gi_last_error()) }.to_string_lossy();
    assert!(msg.contains("radius"), "message: {msg}");
    unsafe {
        gi_tensor_destroy(m);
        gi_tensor_destroy(t);
    }
}
