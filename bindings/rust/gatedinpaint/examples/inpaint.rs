//! Fill the white part of MASK in IMAGE and write the result to OUTPUT.
//!
//!     cargo run --example inpaint -- IMAGE MASK OUTPUT [MODEL.gguf]
//!
//! Without MODEL, the model embedded in the library is used.
use std::io::Write;
use std::ops::ControlFlow;
use std::process::ExitCode;

use gatedinpaint::{ImageBuf, Model, Session};

fn run(args: &[String]) -> Result<(), gatedinpaint::Error> {
    let model = match args.get(4) {
        Some(path) => Model::from_file(path)?,
        None => Model::load_default()?,
    };
    let mut session = Session::new(&model)?;
    let image = ImageBuf::load_with_channels(&args[1], 3)?; // RGB
    let mask = ImageBuf::load(&args[2])?.to_mask()?; // 1 channel, > 127 = fill
    let mut out = ImageBuf::new(image.width(), image.height(), image.channels())?;
    session.inpaint_with_progress(
        &image.as_image(),
        &mask.as_image(),
        None,
        &mut out.as_image_mut(),
        |done, stage| {
            eprint!("\r{:3.0}% {:<10}", done * 100.0, stage);
            let _ = std::io::stderr().flush();
            ControlFlow::Continue(()) // ControlFlow::Break(()) would cancel
        },
    )?;
    out.save(&args[3])?;
    eprintln!(
        "\nwrote {} ({}x{}) with {} width {}",
        args[3],
        out.width(),
        out.height(),
        model.family(),
        model.width()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 || args.len() > 5 {
        eprintln!("usage: {} IMAGE MASK OUTPUT [MODEL.gguf]", args[0]);
        return ExitCode::from(2);
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // e.message() names the offending argument; e.status() says what kind.
            eprintln!("\ninpaint: {e} [{:?}]", e.status());
            ExitCode::FAILURE
        }
    }
}
