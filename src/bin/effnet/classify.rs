//! `effnet classify`: the top-k classes of each image, with probabilities.

use crate::models::{AtLeastOne, ModelArgs, require_classifier};
use crate::progress::image_bar;
use crate::runner::{RunOptions, run_images};
use clap::Args;
use effnet::{Prediction, Result};
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
    #[arg(short = 'k', long, value_name = "K", default_value_t = 5, value_parser = AtLeastOne)]
    top_k: usize,
    /// One JSON object per image and line: {"file", "top": [{"index", "label", "prob"}]}
    /// (or {"file", "error"} for an image that could not be read).
    #[arg(long)]
    json: bool,
}

pub fn run(a: ClassifyArgs, gpu: &crate::GpuArgs) -> Result<ExitCode> {
    let opened = a.model.open(gpu)?;
    require_classifier(&opened)?;
    let about = Run {
        json: a.json,
        model: &opened.origin,
        res: opened.res,
    };
    if !a.json {
        note!("model: {} at {}x{}", opened.origin, opened.res, opened.res);
    }
    let opts = RunOptions {
        batch: a.model.batch,
        res: opened.res,
        capture_stages: false,
        embeddings: false,
        augment: None,
        exif: a.model.exif()?,
    };
    let bar = image_bar(a.images.len() as u64, a.model.batch);
    let mut failed = 0usize;
    run_images(&opened.devices, &opts, &a.images, |i, result| {
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
        match opened.loaded.predictions(&output.logits, a.top_k) {
            Ok(top) => bar.suspend(|| print_top(&file, &top, &about)),
            Err(e) => {
                failed += 1;
                bar.suspend(|| report_failure(&file, &e, a.json));
            }
        }
    })?;
    bar.finish_and_clear();
    if failed > 0 {
        note!(
            "error: {failed} of {} images could not be classified (see above)",
            a.images.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn report_failure(file: &str, e: &effnet::Error, json: bool) {
    note!("error: {e}");
    if json {
        out!(
            "{}",
            serde_json::json!({"file": file, "error": e.to_string()})
        );
    }
}

/// What every printed answer says about the run.
struct Run<'a> {
    json: bool,
    model: &'a str,
    res: usize,
}

fn print_top(file: &str, top: &[Prediction], run: &Run) {
    if run.json {
        let top: Vec<_> = (top.iter())
            .map(|p| {
                let mut o = serde_json::json!({"index": p.index, "label": p.label, "prob": p.prob});
                if let Some(w) = &p.wnid {
                    o["wnid"] = w.as_str().into();
                }
                o
            })
            .collect();
        let line = serde_json::json!({"file": file, "model": run.model,
            "resolution": run.res, "top": top});
        out!("{line}");
        return;
    }
    out!("{file}");
    for p in top {
        out!("  {:>6.2}%  {:>4}  {}", p.prob * 100.0, p.index, p.label);
    }
}
