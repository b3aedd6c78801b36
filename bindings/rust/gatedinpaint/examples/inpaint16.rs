//! Fill the white part of MASK in a 16-bit IMAGE and write a 16-bit OUTPUT.
//!
//!     cargo run --example inpaint16 -- IMAGE MASK OUTPUT.png
//!
//! A 16-bit PNG or TIFF keeps its samples; an 8-bit file is widened x257.
//! OUTPUT must be .png or .tif: JPEG and WebP hold only 8 bits.
use std::process::ExitCode;

use gatedinpaint::{ImageBuf, Model, Session};

fn run(args: &[String]) -> Result<(), gatedinpaint::Error> {
    let mut session = Session::new(&Model::load_default()?)?;
    let image: ImageBuf<u16> = ImageBuf::load_16bit(&args[1])?;
    let mask = ImageBuf::load(&args[2])?.to_mask()?; // masks stay 8-bit
    let filled = session.inpaint_new(&image.as_image(), &mask.as_image(), None)?;
    filled.save(&args[3])?; // 16-bit samples; outside the hole bit-identical
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: {} IMAGE MASK OUTPUT.png", args[0]);
        return ExitCode::from(2);
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("inpaint16: {e} [{:?}]", e.status());
            ExitCode::FAILURE
        }
    }
}
