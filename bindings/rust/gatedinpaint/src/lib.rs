//! Free-form image inpainting with gated convolutions (DeepFill v2) on the
//! CPU: a safe interface to libgatedinpaint.
//!
//! ```no_run
//! use gatedinpaint::{ImageBuf, Model, Session};
//!
//! # fn main() -> Result<(), gatedinpaint::Error> {
//! let model = Model::load_default()?; // embedded; or Model::from_file(path)
//! let mut session = Session::new(&model)?;
//! let image = ImageBuf::load_with_channels("photo.jpg", 3)?;
//! let mask = ImageBuf::load("mask.png")?.to_mask()?; // white = fill
//! let filled = session.inpaint_new(&image.as_image(), &mask.as_image(), None)?;
//! filled.save("filled.png")?;
//! # Ok(())
//! # }
//! ```
//!
//! A [`Model`] is immutable and shared freely between threads (`Send + Sync`,
//! cloning is cheap). A [`Session`] holds scratch memory and is used by one
//! thread at a time (`Send`, not `Sync`): make one per thread. Images are
//! row-major, interleaved channels ([`Image`], [`ImageMut`] borrow your
//! buffers; [`ImageBuf`] owns one) of 8-bit (`u8`, the default) or 16-bit
//! (`u16`) samples: the [`Sample`] type parameter.
//!
//! ## 16-bit images
//!
//! [`ImageBuf::load_16bit`] keeps the samples of a 16-bit PNG or TIFF;
//! [`ImageBuf::save`] writes an `ImageBuf<u16>` as 16-bit PNG or TIFF (JPEG
//! and WebP fail with [`Status::Unsupported`]); [`Session::inpaint`] takes a
//! 16-bit image and output with the usual 8-bit mask and guide. The network
//! sees the image rounded to 8 bits and its fill comes back x257; pixels
//! outside the hole stay bit-identical.
//!
//! ```no_run
//! use gatedinpaint::{ImageBuf, Model, Session};
//!
//! # fn main() -> Result<(), gatedinpaint::Error> {
//! let mut session = Session::new(&Model::load_default()?)?;
//! let scan: ImageBuf<u16> = ImageBuf::load_16bit("scan16.png")?;
//! let mask = ImageBuf::load("mask.png")?.to_mask()?; // masks stay u8
//! let filled = session.inpaint_new(&scan.as_image(), &mask.as_image(), None)?;
//! filled.save("filled16.png")?; // 16-bit PNG
//! # Ok(())
//! # }
//! ```

use std::ffi::{CStr, CString};
use std::fmt;
use std::ops::ControlFlow;
use std::os::raw::{c_char, c_void};
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::ptr::{self, NonNull};

pub use gatedinpaint_sys as sys;

/// What kind of failure a library call reported (the C `GI_E_*` codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// A bad, missing or inconsistent argument.
    InvalidArgument,
    /// Allocation failed or a memory limit was hit.
    OutOfMemory,
    /// A file could not be read, written or decoded.
    Io,
    /// The model file is malformed or inconsistent.
    BadModel,
    /// Valid, but this build or model cannot do it.
    Unsupported,
    /// Image, mask, guide and output sizes do not fit together.
    Shape,
    /// The progress callback asked to stop.
    Cancelled,
    /// A bug in the library.
    Internal,
    /// A code newer than this crate (codes are append-only).
    Other(i32),
}

impl Status {
    fn from_raw(code: sys::gi_status) -> Status {
        match code {
            sys::GI_E_INVALID_ARG => Status::InvalidArgument,
            sys::GI_E_NOMEM => Status::OutOfMemory,
            sys::GI_E_IO => Status::Io,
            sys::GI_E_BAD_MODEL => Status::BadModel,
            sys::GI_E_UNSUPPORTED => Status::Unsupported,
            sys::GI_E_SHAPE => Status::Shape,
            sys::GI_E_CANCELLED => Status::Cancelled,
            sys::GI_E_INTERNAL => Status::Internal,
            other => Status::Other(other),
        }
    }

    /// The C status code.
    pub fn code(self) -> i32 {
        match self {
            Status::InvalidArgument => sys::GI_E_INVALID_ARG,
            Status::OutOfMemory => sys::GI_E_NOMEM,
            Status::Io => sys::GI_E_IO,
            Status::BadModel => sys::GI_E_BAD_MODEL,
            Status::Unsupported => sys::GI_E_UNSUPPORTED,
            Status::Shape => sys::GI_E_SHAPE,
            Status::Cancelled => sys::GI_E_CANCELLED,
            Status::Internal => sys::GI_E_INTERNAL,
            Status::Other(code) => code,
        }
    }
}

/// A failed call: the status and the library's message, which names the
/// offending argument ("gi_inpaint: mask is 511x512, image is 512x512").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    status: Status,
    message: String,
}

impl Error {
    pub fn status(&self) -> Status {
        self.status
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    fn invalid(message: String) -> Error {
        Error {
            status: Status::InvalidArgument,
            message,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = unsafe { CStr::from_ptr(sys::gi_status_string(self.status.code())) };
        write!(f, "{} ({})", self.message, what.to_string_lossy())
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

fn check(code: sys::gi_status) -> Result<()> {
    if code == sys::GI_OK {
        return Ok(());
    }
    // Read at once: the message is per thread and the next call replaces it.
    let message = unsafe { CStr::from_ptr(sys::gi_last_error()) }
        .to_string_lossy()
        .into_owned();
    Err(Error {
        status: Status::from_raw(code),
        message,
    })
}

fn c_path(path: &Path) -> Result<CString> {
    #[cfg(unix)]
    let bytes = {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    };
    #[cfg(not(unix))]
    let bytes = path
        .to_str()
        .ok_or_else(|| Error::invalid(format!("path {path:?} is not valid Unicode")))?
        .as_bytes()
        .to_vec();
    CString::new(bytes).map_err(|_| Error::invalid(format!("path {path:?} contains a NUL byte")))
}

/// Version of the linked library as (major, minor, patch).
pub fn version() -> (u32, u32, u32) {
    let v = unsafe { sys::gi_version() };
    (v / 10000, v / 100 % 100, v % 100)
}

/// Version of the linked library, "MAJOR.MINOR.PATCH".
pub fn version_string() -> &'static str {
    // Static storage in the library; ASCII digits and dots.
    unsafe { CStr::from_ptr(sys::gi_version_string()) }
        .to_str()
        .unwrap_or("")
}

// ---------------------------------------------------------------------------
// Images

mod sealed {
    pub trait Sealed {}
    impl Sealed for u8 {}
    impl Sealed for u16 {}
}

/// The sample type of an image: `u8` (8-bit, the default) or `u16` (16-bit,
/// native byte order, 0..=65535). Sealed: the library has no other image
/// types.
///
/// Masks and guides are always 8-bit; a 16-bit mask does not compile:
///
/// ```compile_fail
/// # use gatedinpaint::{ImageBuf, Session};
/// # fn f(s: &mut Session, image: &ImageBuf<u16>, mask: &ImageBuf<u16>) {
/// let _ = s.inpaint_new(&image.as_image(), &mask.as_image(), None);
/// # }
/// ```
pub trait Sample:
    sealed::Sealed + Copy + Default + fmt::Debug + PartialEq + Eq + Send + Sync + 'static
{
    /// The C element type, `sys::GI_DTYPE_U8` or `sys::GI_DTYPE_U16`.
    const DTYPE: i32;
}

impl Sample for u8 {
    const DTYPE: i32 = sys::GI_DTYPE_U8;
}

impl Sample for u16 {
    const DTYPE: i32 = sys::GI_DTYPE_U16;
}

// `len` and `stride` count samples; the message counts bytes.
fn check_layout<T: Sample>(
    len: usize,
    width: usize,
    height: usize,
    channels: usize,
    stride: usize,
) -> Result<()> {
    if width == 0 || height == 0 || !(1..=4).contains(&channels) {
        return Err(Error::invalid(format!(
            "image is {width}x{height} with {channels} channels: sides must be >= 1, channels 1..=4"
        )));
    }
    if width > i32::MAX as usize || height > i32::MAX as usize {
        return Err(Error::invalid(format!(
            "image is {width}x{height}: too large"
        )));
    }
    let size = std::mem::size_of::<T>();
    let row = width * channels;
    if stride < row {
        return Err(Error::invalid(format!(
            "row stride {stride} is less than width x channels = {row}"
        )));
    }
    let needed = (height - 1)
        .checked_mul(stride)
        .and_then(|n| n.checked_add(row));
    match needed {
        Some(n) if n <= len => Ok(()),
        _ => Err(Error::invalid(format!(
            "a {width}x{height}x{channels} image with row stride {stride} needs {} bytes, the \
             buffer has {}",
            needed
                .and_then(|n| n.checked_mul(size))
                .map_or_else(|| "more than usize::MAX".to_string(), |n| n.to_string()),
            len * size
        ))),
    }
}

/// A borrowed image: `height` rows of `width * channels` samples,
/// `row_stride` samples apart (bytes for `u8`). The library only reads it.
/// The sample type follows the slice: `&[u8]` gives an `Image<u8>` (8-bit),
/// `&[u16]` an `Image<u16>` (16-bit).
#[derive(Clone, Copy, Debug)]
pub struct Image<'a, T: Sample = u8> {
    data: &'a [T],
    width: usize,
    height: usize,
    channels: usize,
    row_stride: usize,
}

impl<'a, T: Sample> Image<'a, T> {
    /// Rows packed one after the other.
    pub fn new(data: &'a [T], width: usize, height: usize, channels: usize) -> Result<Self> {
        Self::with_stride(data, width, height, channels, width * channels)
    }
    /// Rows `row_stride` samples apart (e.g. a crop of a larger image).
    pub fn with_stride(
        data: &'a [T],
        width: usize,
        height: usize,
        channels: usize,
        row_stride: usize,
    ) -> Result<Self> {
        check_layout::<T>(data.len(), width, height, channels, row_stride)?;
        Ok(Image {
            data,
            width,
            height,
            channels,
            row_stride,
        })
    }
    pub fn width(&self) -> usize {
        self.width
    }
    pub fn height(&self) -> usize {
        self.height
    }
    pub fn channels(&self) -> usize {
        self.channels
    }

    fn tensor(&self) -> Result<Tensor> {
        // gi_tensor_wrap takes a mutable pointer, but the library writes only
        // to tensors passed as outputs, and this one never is.
        Tensor::wrap(
            self.data.as_ptr() as *mut T,
            self.width,
            self.height,
            self.channels,
            self.row_stride,
        )
    }
}

/// A mutably borrowed image, written by [`Session::inpaint`]; as [`Image`].
#[derive(Debug)]
pub struct ImageMut<'a, T: Sample = u8> {
    data: &'a mut [T],
    width: usize,
    height: usize,
    channels: usize,
    row_stride: usize,
}

impl<'a, T: Sample> ImageMut<'a, T> {
    pub fn new(data: &'a mut [T], width: usize, height: usize, channels: usize) -> Result<Self> {
        Self::with_stride(data, width, height, channels, width * channels)
    }
    /// Rows `row_stride` samples apart.
    pub fn with_stride(
        data: &'a mut [T],
        width: usize,
        height: usize,
        channels: usize,
        row_stride: usize,
    ) -> Result<Self> {
        check_layout::<T>(data.len(), width, height, channels, row_stride)?;
        Ok(ImageMut {
            data,
            width,
            height,
            channels,
            row_stride,
        })
    }
    pub fn width(&self) -> usize {
        self.width
    }
    pub fn height(&self) -> usize {
        self.height
    }
    pub fn channels(&self) -> usize {
        self.channels
    }

    fn tensor(&mut self) -> Result<Tensor> {
        Tensor::wrap(
            self.data.as_mut_ptr(),
            self.width,
            self.height,
            self.channels,
            self.row_stride,
        )
    }
}

/// An owned image with packed rows of 8-bit (`ImageBuf`, `ImageBuf<u8>`) or
/// 16-bit (`ImageBuf<u16>`) samples.
///
/// [`ImageBuf::new`], [`ImageBuf::from_vec`] and the `load` functions make
/// 8-bit images, so that `ImageBuf::new(w, h, c)` needs no type annotation;
/// [`ImageBuf::zeroed`] and [`ImageBuf::from_samples`] make either kind, and
/// [`ImageBuf::load_16bit`] reads 16-bit files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageBuf<T: Sample = u8> {
    data: Vec<T>,
    width: usize,
    height: usize,
    channels: usize,
}

impl ImageBuf {
    /// A black 8-bit image ([`ImageBuf::zeroed`] for any sample type).
    pub fn new(width: usize, height: usize, channels: usize) -> Result<Self> {
        Self::zeroed(width, height, channels)
    }
    /// Takes packed 8-bit rows; `data.len()` must be `width * height *
    /// channels` ([`ImageBuf::from_samples`] for any sample type).
    pub fn from_vec(data: Vec<u8>, width: usize, height: usize, channels: usize) -> Result<Self> {
        Self::from_samples(data, width, height, channels)
    }
    /// Decodes a PNG or JPEG file with its stored channels (1 gray, 2 gray +
    /// alpha, 3 RGB, 4 RGBA); EXIF orientation is applied. 16-bit files are
    /// rounded to 8 bits ([`ImageBuf::load_16bit`] keeps them).
    pub fn load<P: AsRef<Path>>(path: P) -> Result<Self> {
        Self::load_with_channels(path, 0)
    }
    /// As [`ImageBuf::load`], converted to `channels` (1, 3 or 4; 0 = as stored).
    pub fn load_with_channels<P: AsRef<Path>>(path: P, channels: usize) -> Result<Self> {
        load_ex(path.as_ref(), channels, 0, false)?.0.to_buf()
    }
    /// As [`ImageBuf::load`], with the file's EXIF block and ICC colour
    /// profile, to carry to an output with [`ImageBuf::save_with_metadata`].
    pub fn load_with_metadata<P: AsRef<Path>>(path: P) -> Result<(Self, Metadata)> {
        let (t, meta) = load_ex(path.as_ref(), 0, 0, true)?;
        Ok((t.to_buf()?, meta.expect("libgatedinpaint returned no metadata")))
    }

    /// Each sample x257 (0 -> 0, 255 -> 65535): the 16-bit image with the same
    /// values, as the library widens its 8-bit fill.
    pub fn to_u16(&self) -> ImageBuf<u16> {
        ImageBuf {
            data: self.data.iter().map(|&v| u16::from(v) * 257).collect(),
            width: self.width,
            height: self.height,
            channels: self.channels,
        }
    }

    /// The 1-channel mask [`Session::inpaint`] wants, from a decoded mask
    /// image: a non-uniform alpha channel is the mask (painted = opaque),
    /// otherwise the brightest colour channel is. > 127 = fill.
    pub fn to_mask(&self) -> Result<ImageBuf> {
        let t = self.as_image().tensor()?;
        let mut raw = ptr::null_mut();
        check(unsafe { sys::gi_image_to_mask(t.0.as_ptr(), &mut raw) })?;
        Tensor::own(raw).to_buf()
    }

    /// The one mask rule for a 1-channel mask: if its largest value is 1 (a
    /// 0/1 mask), non-zero is a hole, otherwise > 127 is. A new mask of 0 and 255.
    pub fn normalize_mask(&self) -> Result<ImageBuf> {
        let t = self.as_image().tensor()?;
        let mut raw = ptr::null_mut();
        check(unsafe { sys::gi_mask_normalize(t.0.as_ptr(), &mut raw) })?;
        Tensor::own(raw).to_buf()
    }
    /// Grows the holes (> 127) of this 1-channel mask in place by `radius`
    /// pixels with a square (Chebyshev distance); the result is 0/255.
    pub fn dilate_mask(&mut self, radius: u32) -> Result<()> {
        let radius = c_radius(radius)?;
        let t = self.as_image_mut().tensor()?;
        check(unsafe { sys::gi_mask_dilate(t.0.as_ptr(), radius) })
    }
}

impl ImageBuf<u16> {
    /// Decodes an image file keeping 16-bit samples: a 16-bit PNG or TIFF
    /// gives its samples unchanged (0..=65535). Formats that hold only 8 bits
    /// (JPEG, WebP, 8-bit PNG and TIFF) are widened x257 ([`ImageBuf::to_u16`]),
    /// so 8-bit 255 reads 65535. Channels and EXIF orientation as
    /// [`ImageBuf::load`].
    pub fn load_16bit<P: AsRef<Path>>(path: P) -> Result<Self> {
        Self::load_16bit_with_channels(path, 0)
    }
    /// As [`ImageBuf::load_16bit`], converted to `channels` (1, 3 or 4; 0 = as stored).
    pub fn load_16bit_with_channels<P: AsRef<Path>>(path: P, channels: usize) -> Result<Self> {
        load_ex(path.as_ref(), channels, sys::GI_LOAD_16BIT, false)?
            .0
            .to_buf16()
    }
    /// As [`ImageBuf::load_16bit`], with the file's EXIF block and ICC colour
    /// profile ([`ImageBuf::load_with_metadata`]).
    pub fn load_16bit_with_metadata<P: AsRef<Path>>(path: P) -> Result<(Self, Metadata)> {
        let (t, meta) = load_ex(path.as_ref(), 0, sys::GI_LOAD_16BIT, true)?;
        Ok((t.to_buf16()?, meta.expect("libgatedinpaint returned no metadata")))
    }
}

// gi_image_load_ex, with the metadata when asked for.
fn load_ex(
    path: &Path,
    channels: usize,
    flags: i32,
    with_meta: bool,
) -> Result<(Tensor, Option<Metadata>)> {
    let path = c_path(path)?;
    let (mut raw, mut meta) = (ptr::null_mut(), ptr::null_mut());
    let meta_out = if with_meta { &mut meta as *mut _ } else { ptr::null_mut() };
    let channels = channels.min(i32::MAX as usize) as i32;
    check(unsafe { sys::gi_image_load_ex(path.as_ptr(), channels, flags, &mut raw, meta_out) })?;
    let meta = NonNull::new(meta).map(Metadata); // owned before anything can fail
    Ok((Tensor::own(raw), meta))
}

impl<T: Sample> ImageBuf<T> {
    /// A black image of any sample type: `ImageBuf::<u16>::zeroed(w, h, c)`.
    pub fn zeroed(width: usize, height: usize, channels: usize) -> Result<Self> {
        let len = width
            .checked_mul(height)
            .and_then(|n| n.checked_mul(channels))
            .ok_or_else(|| {
                Error::invalid(format!("image is {width}x{height}x{channels}: too large"))
            })?;
        Self::from_samples(vec![T::default(); len], width, height, channels)
    }
    /// Takes packed rows of any sample type; `data.len()` must be `width *
    /// height * channels`.
    pub fn from_samples(data: Vec<T>, width: usize, height: usize, channels: usize) -> Result<Self> {
        check_layout::<T>(data.len(), width, height, channels, width * channels)?;
        if data.len() != width * height * channels {
            return Err(Error::invalid(format!(
                "{} samples for a {width}x{height}x{channels} image",
                data.len()
            )));
        }
        Ok(ImageBuf {
            data,
            width,
            height,
            channels,
        })
    }
    /// As [`ImageBuf::save_with_quality`], writing `meta` where the format
    /// holds it (PNG, JPEG, WebP: EXIF and ICC; TIFF: ICC), the ICC profile
    /// only when its colour space (grey or RGB) is this image's.
    pub fn save_with_metadata<P: AsRef<Path>>(
        &self,
        path: P,
        quality: u8,
        meta: &Metadata,
    ) -> Result<()> {
        self.save_ex(path.as_ref(), quality, meta.0.as_ptr())
    }
    /// Encodes as PNG or JPEG (WebP, TIFF where built), chosen by the
    /// extension (.png, .jpg, .jpeg, .webp, .tif, .tiff). An `ImageBuf<u16>`
    /// is written with 16-bit samples to PNG and TIFF; JPEG and WebP hold only
    /// 8 bits, so it fails there with [`Status::Unsupported`] rather than
    /// being cut.
    pub fn save<P: AsRef<Path>>(&self, path: P) -> Result<()> {
        self.save_with_quality(path, 0)
    }
    /// `quality`: JPEG quality 1..=100, 0 = default; ignored for PNG.
    pub fn save_with_quality<P: AsRef<Path>>(&self, path: P, quality: u8) -> Result<()> {
        self.save_ex(path.as_ref(), quality, ptr::null())
    }
    // gi_image_save_ex; `meta` may be null.
    fn save_ex(&self, path: &Path, quality: u8, meta: *const sys::gi_metadata) -> Result<()> {
        let path = c_path(path)?;
        let t = self.as_image().tensor()?;
        check(unsafe { sys::gi_image_save_ex(path.as_ptr(), t.0.as_ptr(), i32::from(quality), meta) })
    }

    pub fn as_image(&self) -> Image<'_, T> {
        Image {
            data: &self.data,
            width: self.width,
            height: self.height,
            channels: self.channels,
            row_stride: self.width * self.channels,
        }
    }
    pub fn as_image_mut(&mut self) -> ImageMut<'_, T> {
        ImageMut {
            row_stride: self.width * self.channels,
            data: &mut self.data,
            width: self.width,
            height: self.height,
            channels: self.channels,
        }
    }
    pub fn width(&self) -> usize {
        self.width
    }
    pub fn height(&self) -> usize {
        self.height
    }
    pub fn channels(&self) -> usize {
        self.channels
    }
    /// Packed rows.
    pub fn data(&self) -> &[T] {
        &self.data
    }
    pub fn data_mut(&mut self) -> &mut [T] {
        &mut self.data
    }
    pub fn into_vec(self) -> Vec<T> {
        self.data
    }
}

fn c_radius(radius: u32) -> Result<i32> {
    i32::try_from(radius).map_err(|_| Error::invalid(format!("radius {radius} is too large")))
}

/// `filled` over `image` with a soft band outside the hole of `mask` (1
/// channel, > 127 = hole): `filled` in the hole, `alpha * filled + (1 - alpha)
/// * image` at Euclidean distance `d < radius` from it with `alpha = 1 - d /
/// radius`, and `image` bit-identical beyond. `image` and `filled` have the
/// same shape; the result too. Fill the mask grown by `radius`
/// ([`ImageBuf::dilate_mask`]) first, so `filled` holds useful pixels there.
/// `image` and `filled` are 8-bit or both 16-bit; the mask is 8-bit.
pub fn blend_feather<T: Sample>(
    image: &Image<T>,
    mask: &Image,
    filled: &Image<T>,
    radius: u32,
) -> Result<ImageBuf<T>> {
    let radius = c_radius(radius)?;
    let mut out = ImageBuf::zeroed(image.width, image.height, image.channels)?;
    let (ti, tm, tf) = (image.tensor()?, mask.tensor()?, filled.tensor()?);
    let to = out.as_image_mut().tensor()?;
    check(unsafe {
        sys::gi_blend_feather(
            ti.0.as_ptr(),
            tm.0.as_ptr(),
            tf.0.as_ptr(),
            radius,
            to.0.as_ptr(),
        )
    })?;
    drop(to);
    Ok(out)
}

/// The EXIF block and ICC colour profile of an image file
/// ([`ImageBuf::load_with_metadata`]). The EXIF orientation reads 1: the
/// pixels were turned upright on loading.
#[derive(Debug)]
pub struct Metadata(NonNull<sys::gi_metadata>);

// Read-only after loading; the library keeps no reference to it.
unsafe impl Send for Metadata {}
unsafe impl Sync for Metadata {}

impl Metadata {
    fn block(&self, kind: i32) -> Option<&[u8]> {
        let (mut data, mut size) = (ptr::null(), 0usize);
        let st = unsafe { sys::gi_metadata_get(self.0.as_ptr(), kind, &mut data, &mut size) };
        if st != sys::GI_OK || data.is_null() {
            return None;
        }
        // The block lives inside the metadata, as long as `self`.
        Some(unsafe { std::slice::from_raw_parts(data as *const u8, size) })
    }
    /// The EXIF block (a TIFF structure), if the file had one.
    pub fn exif(&self) -> Option<&[u8]> {
        self.block(sys::GI_META_EXIF)
    }
    /// The ICC colour profile, if the file had one.
    pub fn icc(&self) -> Option<&[u8]> {
        self.block(sys::GI_META_ICC)
    }
}

impl Drop for Metadata {
    fn drop(&mut self) {
        unsafe { sys::gi_metadata_destroy(self.0.as_ptr()) }
    }
}

/// An owned gi_tensor handle.
struct Tensor(NonNull<sys::gi_tensor>);

impl Tensor {
    fn own(raw: *mut sys::gi_tensor) -> Tensor {
        Tensor(NonNull::new(raw).expect("libgatedinpaint returned GI_OK and no tensor"))
    }

    // Callers guarantee `data` covers the layout (check_layout ran on it);
    // `stride` counts samples.
    fn wrap<T: Sample>(
        data: *mut T,
        width: usize,
        height: usize,
        channels: usize,
        stride: usize,
    ) -> Result<Tensor> {
        let stride_bytes = stride
            .checked_mul(std::mem::size_of::<T>())
            .ok_or_else(|| Error::invalid(format!("row stride {stride}: too large")))?;
        let mut raw = ptr::null_mut();
        check(unsafe {
            sys::gi_tensor_wrap(
                T::DTYPE,
                height as i32,
                width as i32,
                channels as i32,
                data as *mut c_void,
                stride_bytes,
                &mut raw,
            )
        })?;
        Ok(Tensor::own(raw))
    }

    /// A copy of the library's tensor, which must hold `T` samples.
    fn to_buf<T: Sample>(&self) -> Result<ImageBuf<T>> {
        let dtype = unsafe { sys::gi_tensor_dtype(self.0.as_ptr()) };
        if dtype != T::DTYPE {
            return Err(Error {
                status: Status::Internal,
                message: format!("tensor dtype is {dtype}, expected {}", T::DTYPE),
            });
        }
        let (mut h, mut w, mut c) = (0i32, 0i32, 0i32);
        check(unsafe { sys::gi_tensor_shape(self.0.as_ptr(), &mut h, &mut w, &mut c) })?;
        let (h, w, c) = (h as usize, w as usize, c as usize);
        let stride = unsafe { sys::gi_tensor_row_stride(self.0.as_ptr()) };
        let base = unsafe { sys::gi_tensor_data(self.0.as_ptr()) } as *const u8;
        let mut data = Vec::with_capacity(h * w * c);
        for y in 0..h {
            // Row y is w*c samples of the tensor's dtype (checked above) at
            // base + y*stride bytes, inside the tensor and aligned.
            data.extend_from_slice(unsafe {
                std::slice::from_raw_parts(base.add(y * stride) as *const T, w * c)
            });
        }
        ImageBuf::from_samples(data, w, h, c)
    }

    /// A 16-bit copy: U16 samples as they are, U8 ones x257.
    fn to_buf16(&self) -> Result<ImageBuf<u16>> {
        if unsafe { sys::gi_tensor_dtype(self.0.as_ptr()) } == sys::GI_DTYPE_U16 {
            self.to_buf()
        } else {
            Ok(self.to_buf::<u8>()?.to_u16())
        }
    }
}

impl Drop for Tensor {
    fn drop(&mut self) {
        unsafe { sys::gi_tensor_destroy(self.0.as_ptr()) }
    }
}

// ---------------------------------------------------------------------------
// Models and sessions

/// A loaded model. Immutable: clone it (a reference count) and use it from
/// any number of threads and sessions.
#[derive(Debug)]
pub struct Model(NonNull<sys::gi_model>);

// The C API documents models as immutable after load and thread-safe to share;
// its reference count is atomic.
unsafe impl Send for Model {}
unsafe impl Sync for Model {}

impl Model {
    fn own(raw: *mut sys::gi_model) -> Model {
        Model(NonNull::new(raw).expect("libgatedinpaint returned GI_OK and no model"))
    }

    /// Loads and validates a GGUF model file.
    pub fn from_file<P: AsRef<Path>>(path: P) -> Result<Model> {
        let path = c_path(path.as_ref())?;
        let mut raw = ptr::null_mut();
        check(unsafe { sys::gi_model_load_file(path.as_ptr(), &mut raw) })?;
        Ok(Model::own(raw))
    }

    /// Loads a model from the bytes of a GGUF file (copied; `data` may go).
    pub fn from_bytes(data: &[u8]) -> Result<Model> {
        let mut raw = ptr::null_mut();
        check(unsafe {
            sys::gi_model_load_memory(data.as_ptr() as *const c_void, data.len(), &mut raw)
        })?;
        Ok(Model::own(raw))
    }

    /// The model embedded in the library; an error with
    /// [`Status::Unsupported`] when this build carries none.
    pub fn load_default() -> Result<Model> {
        let mut raw = ptr::null_mut();
        check(unsafe { sys::gi_model_load_default(&mut raw) })?;
        Ok(Model::own(raw))
    }

    /// A string property (`sys::GI_MODEL_*`); it lives as long as the model.
    pub fn string(&self, prop: i32) -> Result<&str> {
        let mut out: *const c_char = ptr::null();
        check(unsafe { sys::gi_model_get_string(self.0.as_ptr(), prop, &mut out) })?;
        unsafe { CStr::from_ptr(out) }
            .to_str()
            .map_err(|_| Error::invalid(format!("model property {prop} is not UTF-8")))
    }

    /// An integer property (`sys::GI_MODEL_*`).
    pub fn int(&self, prop: i32) -> Result<i64> {
        let mut out = 0i64;
        check(unsafe { sys::gi_model_get_int(self.0.as_ptr(), prop, &mut out) })?;
        Ok(out)
    }

    // Every loaded model has these: the loader validated them.
    fn known_string(&self, prop: i32) -> &str {
        self.string(prop).unwrap_or("")
    }
    fn known_int(&self, prop: i32) -> i64 {
        self.int(prop).unwrap_or(0)
    }

    /// Network family, e.g. "deepfill_v2".
    pub fn family(&self) -> &str {
        self.known_string(sys::GI_MODEL_FAMILY)
    }
    pub fn name(&self) -> &str {
        self.known_string(sys::GI_MODEL_NAME)
    }
    pub fn license(&self) -> &str {
        self.known_string(sys::GI_MODEL_LICENSE)
    }
    /// Base channel count (48 for the official weights).
    pub fn width(&self) -> i64 {
        self.known_int(sys::GI_MODEL_WIDTH)
    }
    /// 1 if the model takes a guide (sketch) channel, else 0.
    pub fn guide_channels(&self) -> i64 {
        self.known_int(sys::GI_MODEL_GUIDE_CHANNELS)
    }
}

impl Clone for Model {
    fn clone(&self) -> Model {
        Model::own(unsafe { sys::gi_model_retain(self.0.as_ptr()) })
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        unsafe { sys::gi_model_release(self.0.as_ptr()) }
    }
}

/// Runs a model; owns scratch memory reused between calls. `Send` but not
/// `Sync`: one thread at a time, one session per thread for parallel work.
#[derive(Debug)]
pub struct Session(NonNull<sys::gi_session>);

// A session may move between threads; `&mut self` on every call that runs
// it keeps it to one thread at a time.
unsafe impl Send for Session {}

struct ProgressState<F> {
    callback: F,
    panic: Option<Box<dyn std::any::Any + Send + 'static>>,
}

unsafe extern "C" fn progress_trampoline<F>(
    user: *mut c_void,
    done: f32,
    stage: *const c_char,
) -> i32
where
    F: FnMut(f32, &str) -> ControlFlow<()>,
{
    let state = &mut *(user as *mut ProgressState<F>);
    let stage = if stage.is_null() {
        ""
    } else {
        CStr::from_ptr(stage).to_str().unwrap_or("")
    };
    // A panic must not unwind into C: keep it, cancel, resume it afterwards.
    match panic::catch_unwind(AssertUnwindSafe(|| (state.callback)(done, stage))) {
        Ok(ControlFlow::Continue(())) => 0,
        Ok(ControlFlow::Break(())) => 1,
        Err(payload) => {
            state.panic = Some(payload);
            1
        }
    }
}

impl Session {
    /// A session over `model` (it keeps its own reference to the model).
    pub fn new(model: &Model) -> Result<Session> {
        let mut raw = ptr::null_mut();
        check(unsafe { sys::gi_session_create(model.0.as_ptr(), &mut raw) })?;
        Ok(Session(
            NonNull::new(raw).expect("libgatedinpaint returned GI_OK and no session"),
        ))
    }

    /// Worker threads; 0 = all cores (the default).
    pub fn set_threads(&mut self, threads: usize) -> Result<()> {
        self.set_int(
            sys::GI_OPT_NUM_THREADS,
            threads.min(i64::MAX as usize) as i64,
        )
    }
    pub fn threads(&self) -> Result<usize> {
        self.int(sys::GI_OPT_NUM_THREADS).map(|n| n as usize)
    }
    /// An option (`sys::GI_OPT_*`), e.g. `GI_OPT_MAX_ISA` with a `GI_ISA_*` cap.
    pub fn set_int(&mut self, option: i32, value: i64) -> Result<()> {
        check(unsafe { sys::gi_session_set_int(self.0.as_ptr(), option, value) })
    }
    pub fn int(&self, option: i32) -> Result<i64> {
        let mut value = 0i64;
        check(unsafe { sys::gi_session_get_int(self.0.as_ptr(), option, &mut value) })?;
        Ok(value)
    }

    /// Fills `image` (RGB or RGBA) where `mask` (1 channel, same size) is
    /// above 127, writing `out` (same shape as `image`). `guide`: a 1-channel
    /// sketch of the wanted edges, for models with a guide channel. Pixels
    /// outside the hole are copied unchanged, alpha passes through.
    ///
    /// `image` and `out` are both 8-bit or both 16-bit; mask and guide are
    /// 8-bit. A 16-bit image reaches the network rounded to 8 bits and the
    /// fill comes back x257; pixels outside the hole keep all 16 bits.
    pub fn inpaint<T: Sample>(
        &mut self,
        image: &Image<T>,
        mask: &Image,
        guide: Option<&Image>,
        out: &mut ImageMut<T>,
    ) -> Result<()> {
        self.run(image, mask, guide, out)
    }

    /// As [`Session::inpaint`], calling `progress(done, stage)` as it goes
    /// (`done` rises from 0 to 1). Returning `ControlFlow::Break(())`
    /// cancels: the call then fails with [`Status::Cancelled`] and `out` is
    /// left unchanged. A panic in `progress` cancels and is resumed here.
    pub fn inpaint_with_progress<T, F>(
        &mut self,
        image: &Image<T>,
        mask: &Image,
        guide: Option<&Image>,
        out: &mut ImageMut<T>,
        progress: F,
    ) -> Result<()>
    where
        T: Sample,
        F: FnMut(f32, &str) -> ControlFlow<()>,
    {
        let mut state = ProgressState {
            callback: progress,
            panic: None,
        };
        check(unsafe {
            sys::gi_session_set_progress(
                self.0.as_ptr(),
                Some(progress_trampoline::<F>),
                &mut state as *mut ProgressState<F> as *mut c_void,
            )
        })?;
        let result = self.run(image, mask, guide, out);
        // `state` dies here: the library must not keep a pointer to it.
        unsafe { sys::gi_session_set_progress(self.0.as_ptr(), None, ptr::null_mut()) };
        if let Some(payload) = state.panic {
            panic::resume_unwind(payload);
        }
        result
    }

    /// As [`Session::inpaint`], into a new image of the same sample type.
    pub fn inpaint_new<T: Sample>(
        &mut self,
        image: &Image<T>,
        mask: &Image,
        guide: Option<&Image>,
    ) -> Result<ImageBuf<T>> {
        let mut out = ImageBuf::zeroed(image.width, image.height, image.channels)?;
        self.run(image, mask, guide, &mut out.as_image_mut())?;
        Ok(out)
    }

    fn run<T: Sample>(
        &mut self,
        image: &Image<T>,
        mask: &Image,
        guide: Option<&Image>,
        out: &mut ImageMut<T>,
    ) -> Result<()> {
        let image = image.tensor()?;
        let mask = mask.tensor()?;
        let guide = guide.map(|g| g.tensor()).transpose()?;
        let out = out.tensor()?;
        check(unsafe {
            sys::gi_inpaint(
                self.0.as_ptr(),
                image.0.as_ptr(),
                mask.0.as_ptr(),
                guide.as_ref().map_or(ptr::null(), |g| g.0.as_ptr()),
                out.0.as_ptr(),
            )
        })
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        unsafe { sys::gi_session_destroy(self.0.as_ptr()) }
    }
}
