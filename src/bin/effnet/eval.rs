//! `effnet eval`: top-1 / top-5 accuracy over an ImageFolder tree (one subfolder per class,
//! named by the model's class name, WordNet id or class index), with a progress bar and the
//! throughput.

use crate::models::{AtLeastOne, ModelArgs, Opened, require_classifier};
use crate::progress::image_bar;
use crate::runner::{RunOptions, run_images};
use clap::Args;
use effnet::{Error, Result, imagenet, softmax, top_k};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Args)]
pub struct EvalArgs {
    /// ImageFolder root: DIR/<class>/<image>, each folder named by the model's class name
    /// (fine-tuned models), WordNet id (ImageNet models) or class index.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    #[command(flatten)]
    model: ModelArgs,
    /// Evaluate only the first N images (in folder and file name order).
    #[arg(long, value_name = "N", value_parser = AtLeastOne)]
    limit: Option<usize>,
    /// One JSON object: {"images", "top1", "top5", "images_per_s", "failed"}.
    #[arg(long)]
    json: bool,
}

pub fn run(a: EvalArgs, gpu: &crate::GpuArgs) -> Result<ExitCode> {
    let opened = a.model.open(gpu)?;
    require_classifier(&opened)?;
    let samples = labelled_images(&a, &opened)?;
    let paths: Vec<PathBuf> = samples.iter().map(|(p, _)| p.clone()).collect();
    let opts = RunOptions {
        batch: a.model.batch,
        res: opened.res,
        capture_stages: false,
        embeddings: false,
        augment: None,
        exif: a.model.exif()?,
    };
    let bar = image_bar(paths.len() as u64, a.model.batch);
    let (mut top1, mut top5, mut done, mut failed) = (0usize, 0usize, 0usize, 0usize);
    let started = Instant::now();
    bar.set_message("compiling pipelines");
    let timing = run_images(&opened.devices, &opts, &paths, |i, result| {
        if i == 0 {
            // Rate and ETA from here on: start-up is not images per second.
            bar.reset_elapsed();
            bar.reset_eta();
        }
        bar.inc(1);
        match result {
            Ok(o) => {
                let best = top_k(&softmax(&o.logits), 5);
                let truth = samples[i].1;
                top1 += usize::from(best.first() == Some(&truth));
                top5 += usize::from(best.contains(&truth));
                done += 1;
                bar.set_message(format!("top-1 {:.1}%", 100.0 * top1 as f64 / done as f64));
            }
            Err(e) => {
                failed += 1;
                bar.suspend(|| note!("error: {e}"));
            }
        }
    })?;
    bar.finish_and_clear();
    let tally = Tally {
        done,
        failed,
        top1,
        top5,
        seconds: started.elapsed().as_secs_f64(),
        startup: timing.startup.as_secs_f64(),
    };
    print_report(&tally, &opened, a.json);
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The images under `a.dir` with their class index (subfolder names are class names, or
/// WordNet ids for an ImageNet head), at most `a.limit` of them; an error where there are
/// none or a class lies past the model's.
fn labelled_images(a: &EvalArgs, opened: &Opened) -> Result<Vec<(PathBuf, usize)>> {
    let num_classes = opened.loaded.arch().num_classes();
    let mut names = opened.loaded.class_names().to_vec();
    if num_classes == 1000 {
        names.extend(imagenet::classes().iter().map(|c| c.wnid.to_string()));
    }
    let mut samples = image_folder(&a.dir, &names, num_classes)?;
    if let Some(n) = a.limit {
        samples.truncate(n);
    }
    if samples.is_empty() {
        return Err(Error::Input(format!(
            "{}: no images (.jpg, .jpeg, .png) in its subfolders",
            a.dir.display()
        )));
    }
    if let Some((path, label)) = samples.iter().find(|(_, l)| *l >= num_classes) {
        return Err(Error::Input(format!(
            "{}: class {label}, but the model has {num_classes} classes",
            path.display()
        )));
    }
    Ok(samples)
}

/// Counts of one evaluation.
struct Tally {
    done: usize,
    failed: usize,
    top1: usize,
    top5: usize,
    /// The whole run, start-up included.
    seconds: f64,
    /// Making the session: compiling pipelines, allocating buffers.
    startup: f64,
}

/// Throughput counts every image read, the unreadable ones too (all went through decoding),
/// over the time after start-up, which is reported apart.
fn print_report(t: &Tally, opened: &Opened, json: bool) {
    let ratio = |k: usize| {
        if t.done == 0 {
            0.0
        } else {
            k as f64 / t.done as f64
        }
    };
    let per_s = (t.done + t.failed) as f64 / (t.seconds - t.startup).max(1e-9);
    if json {
        let report = serde_json::json!({"images": t.done, "top1": ratio(t.top1),
            "top5": ratio(t.top5), "images_per_s": per_s, "startup_s": t.startup,
            "failed": t.failed, "model": opened.origin, "resolution": opened.res});
        out!("{report}");
        return;
    }
    let unread = if t.failed > 0 {
        format!("; {} could not be read", t.failed)
    } else {
        String::new()
    };
    out!(
        "{} images: top-1 {:.2}%, top-5 {:.2}%, {per_s:.2} images/s after {:.1} s start-up ({} at {}x{}){unread}",
        t.done,
        100.0 * ratio(t.top1),
        100.0 * ratio(t.top5),
        t.startup,
        opened.origin,
        opened.res,
        opened.res,
    );
}

/// `(image, class index)` for every image under `dir`, sorted by folder then file name.
/// `names` are the class names, possibly followed by a second name per class (WordNet ids).
fn image_folder(dir: &Path, names: &[String], classes: usize) -> Result<Vec<(PathBuf, usize)>> {
    let mut samples = Vec::new();
    for folder in sorted_entries(dir)?.into_iter().filter(|p| p.is_dir()) {
        let name = folder.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_default();
        let label = (names.iter().position(|c| *c == name))
            .map(|i| i % classes.max(1))
            .or_else(|| name.parse::<usize>().ok())
            .ok_or_else(|| {
                Error::Input(format!(
                    "{}: a class folder must be named by one of the model's class names, a \
                     WordNet id (ImageNet models, e.g. n01440764) or a class index (0-{})",
                    folder.display(),
                    classes.saturating_sub(1)
                ))
            })?;
        let images = sorted_entries(&folder)?.into_iter().filter(|p| is_image(p));
        samples.extend(images.map(|p| (p, label)));
    }
    Ok(samples)
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    Ok(paths)
}

fn is_image(path: &Path) -> bool {
    let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase());
    matches!(ext.as_deref(), Some("jpg" | "jpeg" | "png"))
}
