//! Classifies every image in a folder and prints the top-5 classes of each.
//!
//! ```sh
//! cargo run --release --example classify_folder -- ../shared/images
//! cargo run --release --example classify_folder -- ../shared/images \
//!     --checkpoint ../shared/weights/tf_efficientnet_lite0.timm.pth --res 224
//! ```
//!
//! Without `--checkpoint` the weights are synthetic (the golden rule): the pipeline runs end
//! to end but the classes mean nothing. `--model` names the variant (default
//! `tf_efficientnet_lite0`), `--res` the square input size (default: the model's own).

use effnet::{Engine, Model, SessionOptions};
use std::path::PathBuf;

struct Args {
    folder: PathBuf,
    checkpoint: Option<PathBuf>,
    model: String,
    res: Option<usize>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let mut parsed = Args {
        folder: PathBuf::new(),
        checkpoint: None,
        model: "tf_efficientnet_lite0".into(),
        res: None,
    };
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--checkpoint" => parsed.checkpoint = Some(value()?.into()),
            "--model" => parsed.model = value()?,
            "--res" => parsed.res = Some(value()?.parse().map_err(|e| format!("--res: {e}"))?),
            _ if a.starts_with("--") => return Err(format!("unknown option {a}")),
            _ => parsed.folder = a.into(),
        }
    }
    if parsed.folder.as_os_str().is_empty() {
        return Err(
            "usage: classify_folder FOLDER [--checkpoint FILE] [--model NAME] [--res N]".into(),
        );
    }
    Ok(parsed)
}

/// The `k` best class indices with their softmax probabilities.
fn top_k(logits: &[f32], k: usize) -> Vec<(usize, f32)> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = logits.iter().map(|&l| (l - max).exp()).sum();
    let mut ranked: Vec<(usize, f32)> = logits
        .iter()
        .map(|&l| (l - max).exp() / sum)
        .enumerate()
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    ranked.truncate(k);
    ranked
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args()?;
    let model = match &args.checkpoint {
        Some(path) => Model::from_file(path, Some(&args.model))?,
        None => Model::synthetic(&args.model)?,
    };
    let engine = Engine::new()?;
    eprintln!("{} on {}", model.arch.name, engine.describe());
    let loaded = engine.load(model);
    let res = args.res.unwrap_or(loaded.arch().resolution);
    let options = SessionOptions {
        height: res,
        width: res,
        ..loaded.default_options(1)
    };
    let mut session = loaded.session(options)?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&args.folder)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    for path in files {
        // A file that is not an image is reported and skipped, not fatal.
        let image = match image::open(&path) {
            Ok(img) => img.to_rgb8(),
            Err(e) => {
                eprintln!("{}: skipped: {e}", path.display());
                continue;
            }
        };
        let out = session.run_images(&[image])?;
        let top: Vec<String> = top_k(&out.logits, 5)
            .iter()
            .map(|(c, p)| format!("{c}:{p:.3}"))
            .collect();
        println!("{}\t{}", path.display(), top.join(" "));
    }
    Ok(())
}
