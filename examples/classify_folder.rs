//! Classifies every image in a folder and prints the top-5 classes of each.
//!
//! ```sh
//! cargo run --release --example classify_folder -- ../shared/images
//! cargo run --release --example classify_folder -- ../shared/images \
//!     --checkpoint ../shared/weights/tf_efficientnet_b0.safetensors
//! ```
//!
//! The model is the bundled EfficientNet-Lite0 (ImageNet weights), or `--checkpoint FILE`,
//! whose variant comes from the file itself (its metadata, a `config.json` beside it, its name
//! or its tensor shapes); `--arch NAME` says which model it is where the file does not.
//! `--synthetic` uses rule-filled weights for `--arch` (default `tf_efficientnet_lite0`): the
//! pipeline runs end to end but the classes mean nothing. `--res N` sets the square input
//! size (default: the model's own).

use effnet::{Engine, Model};
use std::path::PathBuf;

/// Images per forward pass; the last batch may be shorter.
const BATCH: usize = 4;

#[derive(Default)]
struct Args {
    folder: PathBuf,
    checkpoint: Option<PathBuf>,
    arch: Option<String>,
    synthetic: bool,
    res: Option<usize>,
}

const USAGE: &str = "usage: classify_folder FOLDER [--checkpoint FILE] [--arch NAME] [--synthetic] \
                     [--res N]";

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let mut parsed = Args::default();
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value; {USAGE}"));
        match a.as_str() {
            "--checkpoint" => parsed.checkpoint = Some(value()?.into()),
            "--arch" => parsed.arch = Some(value()?),
            "--synthetic" => parsed.synthetic = true,
            "--res" => parsed.res = Some(value()?.parse().map_err(|e| format!("--res: {e}"))?),
            _ if a.starts_with("--") => return Err(format!("unknown option {a}; {USAGE}")),
            _ => parsed.folder = a.into(),
        }
    }
    if parsed.folder.as_os_str().is_empty() {
        return Err(USAGE.into());
    }
    if parsed.synthetic && parsed.checkpoint.is_some() {
        return Err(format!(
            "--synthetic and --checkpoint exclude each other; {USAGE}"
        ));
    }
    Ok(parsed)
}

/// The model the arguments ask for.
fn model(args: &Args) -> effnet::Result<Model> {
    match (&args.checkpoint, args.synthetic) {
        (Some(path), _) => Model::from_file(path, args.arch.as_deref()),
        (None, true) => Model::synthetic(args.arch.as_deref().unwrap_or("tf_efficientnet_lite0")),
        (None, false) => Model::bundled(),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let model = model(&args)?;
    let engine = Engine::new()?;
    eprintln!("{} on {}", model.arch.name, engine.describe());
    let loaded = engine.load(model)?;
    let res = args.res.unwrap_or(loaded.arch().resolution);
    let mut session = loaded.session(loaded.default_options(BATCH).with_resolution(res, res))?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&args.folder)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    // A file that is not an image is reported and skipped, not fatal.
    let (paths, images): (Vec<PathBuf>, Vec<effnet::image::RgbImage>) = (files.into_iter())
        .filter_map(|path| match effnet::preprocess::load_image(&path) {
            Ok(image) => Some((path, image)),
            Err(e) => {
                eprintln!("skipped: {e}");
                None
            }
        })
        .unzip();
    for (paths, images) in paths.chunks(BATCH).zip(images.chunks(BATCH)) {
        for (path, top) in paths.iter().zip(session.classify(images, 5)?) {
            println!("{}", path.display());
            for p in top {
                let wnid = p.wnid.as_deref().unwrap_or("-");
                println!("  {:6.2}%  {wnid:<9}  {}", 100.0 * p.prob, p.label);
            }
        }
    }
    Ok(())
}
