//! Tests of the safe wrapper against the real library. The model file comes
//! from GATEDINPAINT_TEST_MODEL, or is made once with
//! tools/make_model.py (needs /usr/bin/python3 with PyTorch).
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use gatedinpaint::{blend_feather, Image, ImageBuf, ImageMut, Model, Session, Status};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gatedinpaint-rs-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn model_path() -> PathBuf {
    // Made once per test binary (Mutex::new is const since Rust 1.63, OnceLock is newer).
    static PATH: Mutex<Option<PathBuf>> = Mutex::new(None);
    let mut path = PATH.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = path.as_ref() {
        return p.clone();
    }
    let p = match std::env::var_os("GATEDINPAINT_TEST_MODEL") {
        Some(p) => PathBuf::from(p),
        None => {
            let p = scratch_dir().join("w8.gguf");
            let status = Command::new("/usr/bin/python3")
                .arg(repo().join("tools/make_model.py"))
                .args(["--width", "8", "-o"])
                .arg(&p)
                .status()
                .expect("run make_model.py (or set GATEDINPAINT_TEST_MODEL)");
            assert!(status.success(), "make_model.py failed");
            p
        }
    };
    *path = Some(p.clone());
    p
}

fn model() -> Model {
    Model::from_file(model_path()).expect("load test model")
}

/// A 72x56 crop of the example photo (RGB) and a mask with a rectangular hole.
fn crop() -> (ImageBuf, ImageBuf) {
    let photo = ImageBuf::load_with_channels(repo().join("examples/dune.jpg"), 3).unwrap();
    let (w, h, x0, y0) = (72, 56, 200, 100);
    let mut data = Vec::new();
    for y in y0..y0 + h {
        let start = (y * photo.width() + x0) * 3;
        data.extend_from_slice(&photo.data()[start..start + w * 3]);
    }
    let image = ImageBuf::from_vec(data, w, h, 3).unwrap();
    let mut mask = ImageBuf::new(w, h, 1).unwrap();
    for y in 20..36 {
        for x in 24..50 {
            mask.data_mut()[y * w + x] = 255;
        }
    }
    (image, mask)
}

fn assert_filled(image: &ImageBuf, mask: &ImageBuf, out: &ImageBuf) {
    assert_eq!(
        (out.width(), out.height(), out.channels()),
        (image.width(), image.height(), image.channels())
    );
    let c = image.channels();
    let mut changed = false;
    for (i, &m) in mask.data().iter().enumerate() {
        let (a, b) = (
            &image.data()[i * c..i * c + c],
            &out.data()[i * c..i * c + c],
        );
        if m > 127 {
            changed |= a != b;
        } else {
            assert_eq!(a, b, "pixel {i} outside the hole changed");
        }
    }
    assert!(changed, "nothing changed inside the hole");
}

#[test]
fn model_properties() {
    let m = model();
    assert_eq!(m.family(), "deepfill_v2");
    assert_eq!(m.width(), 8);
    assert_eq!(m.guide_channels(), 0);
    assert!(m.int(gatedinpaint::sys::GI_MODEL_PARAM_COUNT).unwrap() > 0);
    assert_eq!(
        m.string(gatedinpaint::sys::GI_MODEL_CHANNEL_ORDER).unwrap(),
        "rgb"
    );
    let e = m.int(999).unwrap_err();
    assert_eq!(e.status(), Status::InvalidArgument);
    let copy = m.clone();
    drop(m);
    assert_eq!(copy.family(), "deepfill_v2");
}

#[test]
fn model_errors() {
    let e = Model::from_file("/nonexistent/model.gguf").unwrap_err();
    assert_eq!(e.status(), Status::Io);
    assert!(e.message().contains("/nonexistent/model.gguf"), "{e}");
    assert!(e.to_string().contains("input/output"), "{e}");

    let bytes = std::fs::read(model_path()).unwrap();
    assert!(Model::from_bytes(&bytes).is_ok());
    let e = Model::from_bytes(&bytes[..1000]).unwrap_err();
    assert_eq!(e.status(), Status::BadModel);
    assert_eq!(e.status().code(), gatedinpaint::sys::GI_E_BAD_MODEL);

    match Model::load_default() {
        Ok(m) => assert_eq!(m.family(), "deepfill_v2"),
        Err(e) => assert_eq!(e.status(), Status::Unsupported, "{e}"),
    }
}

#[test]
fn inpaint_fills_only_the_hole_deterministically() {
    let (image, mask) = crop();
    let m = model();
    let mut s = Session::new(&m).unwrap();
    s.set_threads(1).unwrap();
    assert_eq!(s.threads().unwrap(), 1);
    let out = s
        .inpaint_new(&image.as_image(), &mask.as_image(), None)
        .unwrap();
    assert_filled(&image, &mask, &out);

    // Same result through strided views of a wider buffer, in another session.
    let stride = image.width() * 3 + 5;
    let mut wide = vec![0xA5u8; stride * image.height()];
    for y in 0..image.height() {
        wide[y * stride..y * stride + image.width() * 3]
            .copy_from_slice(&image.data()[y * image.width() * 3..(y + 1) * image.width() * 3]);
    }
    let view = Image::with_stride(&wide, image.width(), image.height(), 3, stride).unwrap();
    let mut out_wide = vec![0x5Au8; stride * image.height()];
    let mut s2 = Session::new(&m).unwrap();
    s2.set_threads(2).unwrap();
    let mut out_view =
        ImageMut::with_stride(&mut out_wide, image.width(), image.height(), 3, stride).unwrap();
    s2.inpaint(&view, &mask.as_image(), None, &mut out_view)
        .unwrap();
    for y in 0..image.height() {
        let row = &out_wide[y * stride..(y + 1) * stride];
        assert_eq!(
            &row[..image.width() * 3],
            &out.data()[y * image.width() * 3..(y + 1) * image.width() * 3]
        );
        assert!(
            row[image.width() * 3..].iter().all(|&b| b == 0x5A),
            "padding written"
        );
    }
}

#[test]
fn errors_name_the_argument() {
    let (image, mask) = crop();
    let mut s = Session::new(&model()).unwrap();
    let short = Image::new(&mask.data()[..mask.width() * 10], mask.width(), 10, 1).unwrap();
    let e = s.inpaint_new(&image.as_image(), &short, None).unwrap_err();
    assert_eq!(e.status(), Status::Shape);
    assert!(e.message().contains("mask"), "{e}");
    let e = s
        .inpaint_new(&image.as_image(), &mask.as_image(), Some(&mask.as_image()))
        .unwrap_err();
    assert_eq!(e.status(), Status::InvalidArgument);
    assert!(e.message().contains("guide"), "{e}");
    // Layouts are checked before the library sees the buffer.
    let e = Image::new(&[0u8; 10], 4, 4, 3).unwrap_err();
    assert_eq!(e.status(), Status::InvalidArgument);
    assert!(e.message().contains("needs 48 bytes"), "{e}");
    assert!(Image::with_stride(&[0u8; 100], 4, 4, 3, 11).is_err());
    assert!(ImageBuf::from_vec(vec![0; 5], 2, 2, 1).is_err());
}

#[test]
fn progress_and_cancellation() {
    let (image, mask) = crop();
    let mut s = Session::new(&model()).unwrap();
    s.set_threads(1).unwrap();
    let mut out = ImageBuf::new(image.width(), image.height(), 3).unwrap();
    let mut seen: Vec<(f32, String)> = Vec::new();
    s.inpaint_with_progress(
        &image.as_image(),
        &mask.as_image(),
        None,
        &mut out.as_image_mut(),
        |done, stage| {
            seen.push((done, stage.to_string()));
            ControlFlow::Continue(())
        },
    )
    .unwrap();
    assert!(
        seen.windows(2).all(|w| w[0].0 <= w[1].0),
        "progress went backwards"
    );
    assert_eq!(seen.last().unwrap().0, 1.0);
    assert!(seen.iter().any(|(_, s)| s == "coarse") && seen.iter().any(|(_, s)| s == "refine"));

    let mut untouched = ImageBuf::new(image.width(), image.height(), 3).unwrap();
    let mut calls = 0;
    let e = s
        .inpaint_with_progress(
            &image.as_image(),
            &mask.as_image(),
            None,
            &mut untouched.as_image_mut(),
            |done, _| {
                calls += 1;
                if done > 0.5 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            },
        )
        .unwrap_err();
    assert_eq!(e.status(), Status::Cancelled);
    assert!(calls < seen.len());
    assert!(
        untouched.data().iter().all(|&b| b == 0),
        "cancelled call wrote its output"
    );

    // A panic in the callback cancels the call and comes out here.
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = s.inpaint_with_progress(
            &image.as_image(),
            &mask.as_image(),
            None,
            &mut untouched.as_image_mut(),
            |_, _| -> ControlFlow<()> { panic!("stop here") },
        );
    }));
    let payload = caught.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"stop here"));

    // The session still works and the callback is gone.
    assert_eq!(
        s.inpaint_new(&image.as_image(), &mask.as_image(), None)
            .unwrap(),
        out
    );
}

#[test]
fn one_model_many_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>() {}
    assert_send_sync::<Model>();
    assert_send::<Session>();

    let (image, mask) = crop();
    let m = model();
    let results: Vec<ImageBuf> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (m, image, mask) = (&m, &image, &mask);
                scope.spawn(move || {
                    let mut s = Session::new(m).unwrap();
                    s.set_threads(1).unwrap();
                    s.inpaint_new(&image.as_image(), &mask.as_image(), None)
                        .unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results[0], results[1]);
    assert_filled(&image, &mask, &results[0]);
}

#[test]
fn load_save_roundtrip() {
    let (image, mask) = crop();
    let path = scratch_dir().join("roundtrip.png");
    image.save(&path).unwrap();
    assert_eq!(ImageBuf::load(&path).unwrap(), image);
    assert_eq!(
        ImageBuf::load_with_channels(&path, 4).unwrap().channels(),
        4
    );
    assert_eq!(mask.to_mask().unwrap(), mask);
    let e = image.save(scratch_dir().join("x.bmp")).unwrap_err();
    assert_eq!(e.status(), Status::InvalidArgument, "{e}");
    assert_eq!(
        ImageBuf::load("/nonexistent.png").unwrap_err().status(),
        Status::Io
    );
    assert!(gatedinpaint::version_string().starts_with(&format!("{}.", gatedinpaint::version().0)));
}

#[test]
fn metadata_is_carried() {
    // a JPEG stored turned, with EXIF orientation 6 (the fuzz corpus' seed)
    let src = repo().join("tests/fuzz/corpus/image/jpeg_exif_o6");
    let (image, meta) = ImageBuf::load_with_metadata(&src).unwrap();
    let exif = meta.exif().expect("the EXIF block").to_vec();
    assert!(exif.starts_with(b"II*\0") || exif.starts_with(b"MM\0*"));
    assert!(meta.icc().is_none());
    let out = scratch_dir().join("carried.png");
    image.save_with_metadata(&out, 0, &meta).unwrap();
    drop(meta);
    let (again, meta2) = ImageBuf::load_with_metadata(&out).unwrap();
    assert_eq!(again, image); // upright already: orientation 1 was written
    assert_eq!(meta2.exif(), Some(&exif[..]));
    // a file without metadata
    let plain = scratch_dir().join("plain.png");
    image.save(&plain).unwrap();
    let (_, none) = ImageBuf::load_with_metadata(&plain).unwrap();
    assert!(none.exif().is_none() && none.icc().is_none());
}

#[test]
fn mask_helpers() {
    let (w, h) = (40, 30);
    let mut ones = ImageBuf::new(w, h, 1).unwrap();
    ones.data_mut()[10 * w + 20] = 1;
    let mut hole = ones.normalize_mask().unwrap();
    assert_eq!(ones.data()[10 * w + 20], 1, "the input changed");
    assert_eq!(hole.data().iter().filter(|&&v| v == 255).count(), 1);
    assert_eq!(hole.data()[10 * w + 20], 255);
    hole.dilate_mask(2).unwrap();
    assert_eq!(hole.data().iter().filter(|&&v| v == 255).count(), 25);
    assert_eq!(hole.data()[12 * w + 22], 255);
    assert_eq!(hole.data()[13 * w + 20], 0);

    let (image, _) = crop();
    let e = image.normalize_mask().unwrap_err();
    assert_eq!(e.status(), Status::Shape, "{e}");
    let e = hole.dilate_mask(u32::MAX).unwrap_err();
    assert_eq!(e.status(), Status::InvalidArgument, "{e}");

    // White filled over a grey image, radius 4: alpha 0.5 two pixels away.
    let grey = ImageBuf::from_vec(vec![100; w * h * 3], w, h, 3).unwrap();
    let white = ImageBuf::from_vec(vec![255; w * h * 3], w, h, 3).unwrap();
    let out = blend_feather(&grey.as_image(), &hole.as_image(), &white.as_image(), 4).unwrap();
    let px = |x: usize, y: usize| out.data()[(y * w + x) * 3];
    assert_eq!(px(20, 10), 255, "hole");
    assert!((177..=178).contains(&px(24, 10)), "band: {}", px(24, 10));
    assert_eq!(px(26, 10), 100, "beyond the band");
    assert_eq!(px(0, 0), 100);
    let e = blend_feather(&grey.as_image(), &image.as_image(), &white.as_image(), 4).unwrap_err();
    assert_eq!(e.status(), Status::Shape, "{e}");
}

/// The crop as 16 bits with low bits that 8 bits cannot hold, chosen so
/// that rounding to 8 bits gives the crop back: v * 257 + d, |d| <= 100.
fn crop16(image: &ImageBuf) -> ImageBuf<u16> {
    let wide = image.to_u16();
    let data = wide
        .data()
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let d = (i * 37 % 201) as i32 - 100;
            (i32::from(v) + d).clamp(0, 65535) as u16
        })
        .collect();
    ImageBuf::from_samples(data, image.width(), image.height(), image.channels()).unwrap()
}

#[test]
fn sixteen_bit_files() {
    let (image, _) = crop();
    let deep = crop16(&image);
    assert!(deep.data().iter().any(|&v| v > 255 && v % 257 != 0));
    let path = scratch_dir().join("deep.png");
    deep.save(&path).unwrap();
    assert_eq!(ImageBuf::load_16bit(&path).unwrap(), deep);
    // the 8-bit load rounds to 8 bits: the crop again
    assert_eq!(ImageBuf::load(&path).unwrap(), image);
    assert_eq!(
        ImageBuf::load_16bit_with_channels(&path, 4).unwrap().data()[3],
        65535
    );
    // an 8-bit file is widened x257
    let shallow = scratch_dir().join("shallow.png");
    image.save(&shallow).unwrap();
    assert_eq!(ImageBuf::load_16bit(&shallow).unwrap(), image.to_u16());
    // TIFF keeps 16 bits where the library has TIFF
    let tif = scratch_dir().join("deep.tif");
    match deep.save(&tif) {
        Ok(()) => assert_eq!(ImageBuf::load_16bit(&tif).unwrap(), deep),
        Err(e) => assert_eq!(e.status(), Status::Unsupported, "{e}"),
    }
    // JPEG and WebP hold 8 bits: refused, not cut
    for name in ["deep.jpg", "deep.webp"] {
        let e = deep.save(scratch_dir().join(name)).unwrap_err();
        assert_eq!(e.status(), Status::Unsupported, "{name}: {e}");
    }
    // metadata follows a 16-bit image too
    let (again, meta) = ImageBuf::load_16bit_with_metadata(&path).unwrap();
    assert_eq!(again, deep);
    let out = scratch_dir().join("deep_meta.png");
    again.save_with_metadata(&out, 0, &meta).unwrap();
    assert_eq!(ImageBuf::load_16bit(&out).unwrap(), deep);
    // layouts count samples; the message counts bytes
    let e = Image::new(&[0u16; 10], 4, 4, 3).unwrap_err();
    assert!(e.message().contains("needs 96 bytes, the buffer has 20"), "{e}");
}

#[test]
fn inpaint_sixteen_bit() {
    let (image, mask) = crop();
    let deep = crop16(&image);
    let mut s = Session::new(&model()).unwrap();
    s.set_threads(1).unwrap();
    let shallow = s
        .inpaint_new(&image.as_image(), &mask.as_image(), None)
        .unwrap();
    let filled = s
        .inpaint_new(&deep.as_image(), &mask.as_image(), None)
        .unwrap();
    let c = image.channels();
    let mut holes = 0;
    for (i, &m) in mask.data().iter().enumerate() {
        for k in i * c..i * c + c {
            let (was, got) = (deep.data()[k], filled.data()[k]);
            if m > 127 {
                // the network saw the same 8-bit picture: the same fill x257
                let diff = (f64::from(got) / 257.0 - f64::from(shallow.data()[k])).abs();
                assert!(diff <= 1.0, "sample {k}: {got} / 257 vs {}", shallow.data()[k]);
                holes += 1;
            } else {
                assert_eq!(was, got, "sample {k} outside the hole changed");
            }
        }
    }
    assert!(holes > 0);
    assert_ne!(filled, deep, "nothing filled");

    // The same through a strided 16-bit output view, with progress.
    let (w, h) = (image.width(), image.height());
    let stride = w * c + 3;
    let mut wide = vec![0xBEEFu16; stride * h];
    let mut view = ImageMut::with_stride(&mut wide, w, h, c, stride).unwrap();
    let mut calls = 0;
    s.inpaint_with_progress(&deep.as_image(), &mask.as_image(), None, &mut view, |_, _| {
        calls += 1;
        ControlFlow::Continue(())
    })
    .unwrap();
    assert!(calls > 0);
    for y in 0..h {
        let row = &wide[y * stride..(y + 1) * stride];
        assert_eq!(&row[..w * c], &filled.data()[y * w * c..(y + 1) * w * c]);
        assert!(row[w * c..].iter().all(|&v| v == 0xBEEF), "padding written");
    }

    // blend_feather takes 16-bit images with the 8-bit mask
    let soft = blend_feather(&deep.as_image(), &mask.as_image(), &filled.as_image(), 0).unwrap();
    assert_eq!(soft, filled);
}
