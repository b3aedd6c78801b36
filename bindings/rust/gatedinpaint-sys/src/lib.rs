//! Raw declarations of the libgatedinpaint C API (`include/gatedinpaint.h`).
//!
//! Everything here is `unsafe` and mirrors the header one to one; the
//! `gatedinpaint` crate is the safe interface. The library is found by the
//! build script with `pkg-config` (see build.rs).
#![allow(non_camel_case_types)]

use std::marker::{PhantomData, PhantomPinned};
use std::os::raw::{c_char, c_void};

// Opaque handles: never constructed or moved in Rust, only pointed to.
macro_rules! opaque {
    ($($name:ident),*) => {$(
        #[repr(C)]
        pub struct $name {
            _private: [u8; 0],
            _marker: PhantomData<(*mut u8, PhantomPinned)>,
        }
    )*};
}
opaque!(gi_tensor, gi_model, gi_session, gi_metadata);

pub type gi_status = i32;
pub type gi_progress_fn =
    Option<unsafe extern "C" fn(user: *mut c_void, done: f32, stage: *const c_char) -> i32>;

/// Experimental: one intermediate map of the network (the gate viewer).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct gi_map_info {
    pub layer: *const c_char,
    pub kind: *const c_char,
    pub index: i32,
    pub pass: i32,
    pub h: i32,
    pub w: i32,
    pub c: i32,
    pub net_h: i32,
    pub net_w: i32,
}
pub type gi_map_observer_fn = Option<
    unsafe extern "C" fn(user: *mut c_void, info: *const gi_map_info, data: *const f32) -> i32,
>;

pub const GI_VERSION_MAJOR: u32 = 0;
pub const GI_VERSION_MINOR: u32 = 1;
pub const GI_VERSION_PATCH: u32 = 0;
pub const GI_VERSION_NUMBER: u32 =
    GI_VERSION_MAJOR * 10000 + GI_VERSION_MINOR * 100 + GI_VERSION_PATCH;

pub const GI_OK: gi_status = 0;
pub const GI_E_INVALID_ARG: gi_status = -1;
pub const GI_E_NOMEM: gi_status = -2;
pub const GI_E_IO: gi_status = -3;
pub const GI_E_BAD_MODEL: gi_status = -4;
pub const GI_E_UNSUPPORTED: gi_status = -5;
pub const GI_E_SHAPE: gi_status = -6;
pub const GI_E_CANCELLED: gi_status = -7;
pub const GI_E_INTERNAL: gi_status = -8;

pub const GI_DTYPE_U8: i32 = 1;
pub const GI_DTYPE_F32: i32 = 2;
pub const GI_DTYPE_U16: i32 = 3;

pub const GI_LOAD_16BIT: i32 = 1;
pub const GI_META_EXIF: i32 = 1;
pub const GI_META_ICC: i32 = 2;

pub const GI_MODEL_FAMILY: i32 = 1;
pub const GI_MODEL_NAME: i32 = 2;
pub const GI_MODEL_LICENSE: i32 = 3;
pub const GI_MODEL_SOURCE_URL: i32 = 4;
pub const GI_MODEL_CHANNEL_ORDER: i32 = 5;
pub const GI_MODEL_WIDTH: i32 = 16;
pub const GI_MODEL_GUIDE_CHANNELS: i32 = 17;
pub const GI_MODEL_ARCH_VERSION: i32 = 18;
pub const GI_MODEL_PARAM_COUNT: i32 = 19;
pub const GI_MODEL_INPUT_FILL: i32 = 6;
pub const GI_MODEL_RESIDUAL: i32 = 20;
pub const GI_MODEL_WORKING_SIZE: i32 = 21;

pub const GI_OPT_NUM_THREADS: i32 = 1;
pub const GI_OPT_MAX_ISA: i32 = 2;
pub const GI_OPT_ISA: i32 = 3;
pub const GI_OPT_MAX_PIXELS: i32 = 4;
pub const GI_OPT_MEM_LIMIT: i32 = 5;
pub const GI_OPT_STRATEGY: i32 = 6;
pub const GI_OPT_LAST_REGIONS: i32 = 7;
pub const GI_OPT_LAST_SCALE: i32 = 8;

pub const GI_STRATEGY_REGIONS: i64 = 0;
pub const GI_STRATEGY_EXACT: i64 = 1;

pub const GI_ISA_SCALAR: i64 = 0;
pub const GI_ISA_NEON: i64 = 10;
pub const GI_ISA_AVX2: i64 = 20;
pub const GI_ISA_AVX512: i64 = 30;
pub const GI_ISA_BEST: i64 = 1000;

pub const GI_ACT_NONE: i32 = 0;
pub const GI_ACT_ELU_GATED: i32 = 1;
pub const GI_ACT_RELU_GATED: i32 = 2;
pub const GI_ACT_TANH: i32 = 3;

extern "C" {
    pub fn gi_version() -> u32;
    pub fn gi_version_string() -> *const c_char;
    pub fn gi_status_string(status: gi_status) -> *const c_char;
    pub fn gi_last_error() -> *const c_char;

    pub fn gi_tensor_create(
        dtype: i32,
        height: i32,
        width: i32,
        channels: i32,
        out: *mut *mut gi_tensor,
    ) -> gi_status;
    pub fn gi_tensor_wrap(
        dtype: i32,
        height: i32,
        width: i32,
        channels: i32,
        data: *mut c_void,
        row_stride: usize,
        out: *mut *mut gi_tensor,
    ) -> gi_status;
    pub fn gi_tensor_destroy(t: *mut gi_tensor);
    pub fn gi_tensor_shape(
        t: *const gi_tensor,
        height: *mut i32,
        width: *mut i32,
        channels: *mut i32,
    ) -> gi_status;
    pub fn gi_tensor_dtype(t: *const gi_tensor) -> i32;
    pub fn gi_tensor_data(t: *mut gi_tensor) -> *mut c_void;
    pub fn gi_tensor_row_stride(t: *const gi_tensor) -> usize;

    pub fn gi_image_load(path: *const c_char, channels: i32, out: *mut *mut gi_tensor)
        -> gi_status;
    pub fn gi_image_save(path: *const c_char, image: *const gi_tensor, quality: i32) -> gi_status;
    pub fn gi_image_load_ex(
        path: *const c_char,
        channels: i32,
        flags: i32,
        out: *mut *mut gi_tensor,
        meta: *mut *mut gi_metadata,
    ) -> gi_status;
    pub fn gi_image_save_ex(
        path: *const c_char,
        image: *const gi_tensor,
        quality: i32,
        meta: *const gi_metadata,
    ) -> gi_status;
    pub fn gi_metadata_get(
        meta: *const gi_metadata,
        kind: i32,
        data: *mut *const c_void,
        size: *mut usize,
    ) -> gi_status;
    pub fn gi_metadata_destroy(meta: *mut gi_metadata);
    pub fn gi_image_to_mask(image: *const gi_tensor, out: *mut *mut gi_tensor) -> gi_status;
    pub fn gi_mask_normalize(mask: *const gi_tensor, out: *mut *mut gi_tensor) -> gi_status;
    pub fn gi_mask_dilate(mask: *mut gi_tensor, radius: i32) -> gi_status;
    pub fn gi_blend_feather(
        image: *const gi_tensor,
        mask: *const gi_tensor,
        filled: *const gi_tensor,
        radius: i32,
        out: *mut gi_tensor,
    ) -> gi_status;

    pub fn gi_model_load_file(path: *const c_char, out: *mut *mut gi_model) -> gi_status;
    pub fn gi_model_load_memory(
        data: *const c_void,
        size: usize,
        out: *mut *mut gi_model,
    ) -> gi_status;
    pub fn gi_model_load_default(out: *mut *mut gi_model) -> gi_status;
    pub fn gi_model_retain(m: *mut gi_model) -> *mut gi_model;
    pub fn gi_model_release(m: *mut gi_model);
    pub fn gi_model_get_string(m: *const gi_model, prop: i32, out: *mut *const c_char)
        -> gi_status;
    pub fn gi_model_get_int(m: *const gi_model, prop: i32, out: *mut i64) -> gi_status;

    pub fn gi_session_create(model: *mut gi_model, out: *mut *mut gi_session) -> gi_status;
    pub fn gi_session_destroy(s: *mut gi_session);
    pub fn gi_session_set_int(s: *mut gi_session, option: i32, value: i64) -> gi_status;
    pub fn gi_session_get_int(s: *const gi_session, option: i32, value: *mut i64) -> gi_status;
    pub fn gi_session_set_progress(
        s: *mut gi_session,
        fn_: gi_progress_fn,
        user: *mut c_void,
    ) -> gi_status;

    pub fn gi_inpaint(
        s: *mut gi_session,
        image: *const gi_tensor,
        mask: *const gi_tensor,
        guide: *const gi_tensor,
        out: *mut gi_tensor,
    ) -> gi_status;

    pub fn gi_op_gated_conv2d(
        s: *mut gi_session,
        input: *const gi_tensor,
        weight: *const f32,
        bias: *const f32,
        cconv: i32,
        kernel: i32,
        stride: i32,
        dilation: i32,
        act: i32,
        upsample2x: i32,
        output: *mut gi_tensor,
    ) -> gi_status;
    pub fn gi_op_contextual_attention(
        s: *mut gi_session,
        features: *const gi_tensor,
        mask: *const gi_tensor,
        fuse: i32,
        softmax_scale: f32,
        output: *mut gi_tensor,
    ) -> gi_status;
    pub fn gi_session_set_map_observer(
        s: *mut gi_session,
        fn_: gi_map_observer_fn,
        user: *mut c_void,
    ) -> gi_status;
}
