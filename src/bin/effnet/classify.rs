//! `effnet classify`: the top-k ImageNet classes of each image, with probabilities.

use crate::models::{ModelArgs, require_classifier};
use crate::progress::image_bar;
use crate::runner::{RunOptions, run_images};
use clap::Args;
use effnet::{Result, softmax, top_k};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ClassifyArgs {
    /// JPEG or PNG files.
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
    /// How many classes to print per image.
    #[arg(short = 'k', long, value_name = "K", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..))]
    top_k: u64,
    /// One JSON object per image and line: {"file", "top": [{"index", "label", "prob"}]}
    /// (or {"file", "error"} for an image that could not be read).
    #[arg(long)]
    json: bool,
}

pub fn run(a: ClassifyArgs) -> Result<ExitCode> {
    let opened = a.model.open()?;
    require_classifier(&opened)?;
    let names = opened.loaded.class_names();
    if !a.json {
        eprintln!("model: {} at {}x{}", opened.origin, opened.res, opened.res);
    }
    let opts = RunOptions {
        batch: a.model.batch,
        res: opened.res,
        capture_stages: false,
    };
    let bar = image_bar(a.images.len() as u64, a.model.batch);
    let mut failed = 0usize;
    run_images(&opened.loaded, &opts, &a.images, |i, result| {
        bar.inc(1);
        let file = a.images[i].display().to_string();
        let output = match result {
            Ok(o) => o,
            Err(e) => {
                failed += 1;
                bar.suspend(|| report_failure(&file, &e, a.json));
                return;
            }
        };
        let probs = softmax(&output.logits);
        let top: Vec<(usize, String, f64)> = top_k(&probs, a.top_k as usize)
            .into_iter()
            .map(|c| (c, names[c].clone(), probs[c]))
            .collect();
        bar.suspend(|| print_top(&file, &top, a.json));
    })?;
    bar.finish_and_clear();
    if failed > 0 {
        eprintln!(
            "error: {failed} of {} images could not be classified (see above)",
            a.images.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn report_failure(file: &str, e: &effnet::Error, json: bool) {
    eprintln!("error: {e}");
    if json {
        out!(
            "{}",
            serde_json::json!({"file": file, "error": e.to_string()})
        );
    }
}

fn print_top(file: &str, top: &[(usize, String, f64)], json: bool) {
    if json {
        let top: Vec<_> = top
            .iter()
            .map(|(index, label, prob)| serde_json::json!({"index": index, "label": label, "prob": prob}))
            .collect();
        out!("{}", serde_json::json!({"file": file, "top": top}));
        return;
    }
    out!("{file}");
    for (index, label, prob) in top {
        out!("  {:>6.2}%  {index:>4}  {label}", prob * 100.0);
    }
}
