//! The images `effnet train` learns from: an ImageFolder tree (one subfolder per class, the
//! folder names become the labels), an optional validation tree or a held-out fraction, and
//! the backbone's pooled features of every image, computed once on the GPU.

use crate::progress::image_bar;
use crate::runner::{RunOptions, run_images};
use effnet::preprocess::Exif;
use effnet::{Error, LoadedModel, Result};
use std::path::{Path, PathBuf};

/// Images with their class index, and the class names.
pub struct Folder {
    pub classes: Vec<String>,
    pub samples: Vec<(PathBuf, u32)>,
}

fn is_image(path: &Path) -> bool {
    let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase());
    matches!(ext.as_deref(), Some("jpg" | "jpeg" | "png"))
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    Ok(paths)
}

/// The training tree: classes in sorted folder order. At least two classes, each with an
/// image, or an error naming what to fix.
pub fn training_folder(dir: &Path) -> Result<Folder> {
    let mut classes = Vec::new();
    let mut samples = Vec::new();
    for folder in sorted_entries(dir)?.into_iter().filter(|p| p.is_dir()) {
        let images: Vec<PathBuf> = sorted_entries(&folder)?
            .into_iter()
            .filter(|p| is_image(p))
            .collect();
        if images.is_empty() {
            return Err(Error::Input(format!(
                "{}: an empty class folder (no .jpg, .jpeg or .png); add images of that class \
                 or remove the folder",
                folder.display()
            )));
        }
        let label = classes.len() as u32;
        classes.push(
            folder
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
        );
        samples.extend(images.into_iter().map(|p| (p, label)));
    }
    if classes.len() < 2 {
        return Err(Error::Input(format!(
            "{}: {} class folder(s); a classifier needs at least two, one subfolder of images \
             per class",
            dir.display(),
            classes.len()
        )));
    }
    Ok(Folder { classes, samples })
}

/// A validation tree whose folders are named like the training classes (a subset will do).
pub fn validation_folder(dir: &Path, classes: &[String]) -> Result<Vec<(PathBuf, u32)>> {
    let mut samples = Vec::new();
    for folder in sorted_entries(dir)?.into_iter().filter(|p| p.is_dir()) {
        let name = folder
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let label = classes.iter().position(|c| *c == name).ok_or_else(|| {
            Error::Input(format!(
                "{}: no training class is named `{name}`; validation folders must be named \
                 like the training ones ({})",
                folder.display(),
                classes.join(", ")
            ))
        })?;
        let images = sorted_entries(&folder)?.into_iter().filter(|p| is_image(p));
        samples.extend(images.map(|p| (p, label as u32)));
    }
    if samples.is_empty() {
        return Err(Error::Input(format!(
            "{}: no validation images",
            dir.display()
        )));
    }
    Ok(samples)
}

/// Holds out every `1/fraction`-th image of each class (a deterministic split, the same in
/// every run), keeping at least one image per class for training.
pub fn split(samples: Vec<(PathBuf, u32)>, fraction: f64) -> Result<[Vec<(PathBuf, u32)>; 2]> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(Error::Input(format!(
            "--val-split {fraction}: give a fraction between 0 and 1, e.g. 0.2"
        )));
    }
    let (mut train, mut val) = (Vec::new(), Vec::new());
    let mut seen = std::collections::HashMap::new();
    let mut held = std::collections::HashMap::new();
    for (path, label) in samples {
        let n = seen.entry(label).or_insert(0usize);
        *n += 1;
        let h = held.entry(label).or_insert(0usize);
        // Hold out while the class's held-out share is below `fraction`, never its first.
        if *n > 1 && (*h as f64) < fraction * *n as f64 {
            *h += 1;
            val.push((path, label));
        } else {
            train.push((path, label));
        }
    }
    Ok([train, val])
}

/// Pooled features of the images that could be read, `[kept, width]`, their labels, the
/// samples they came from, and the number skipped (each reported on stderr).
pub struct Features {
    pub data: Vec<f32>,
    pub width: usize,
    pub labels: Vec<u32>,
    pub kept: Vec<(PathBuf, u32)>,
    pub skipped: usize,
}

/// Runs the backbone once over `samples` (embeddings on the GPU, a progress bar), with the
/// evaluation transform or, given a seed, random resized crops and flips; `exif` as `--exif`.
pub fn features(
    loaded: &LoadedModel,
    (res, batch, exif): (usize, usize, Option<Exif>),
    samples: &[(PathBuf, u32)],
    augment: Option<u64>,
) -> Result<Features> {
    let paths: Vec<PathBuf> = samples.iter().map(|(p, _)| p.clone()).collect();
    let opts = RunOptions {
        batch,
        res,
        capture_stages: false,
        embeddings: true,
        augment,
        exif,
    };
    let bar = image_bar(paths.len() as u64, batch);
    bar.set_message("features");
    let mut out = Features {
        data: Vec::new(),
        width: 0,
        labels: Vec::new(),
        kept: Vec::new(),
        skipped: 0,
    };
    run_images(std::slice::from_ref(loaded), &opts, &paths, |i, result| {
        bar.inc(1);
        match result {
            Ok(o) => {
                out.width = o.logits.len();
                out.data.extend_from_slice(&o.logits);
                out.labels.push(samples[i].1);
                out.kept.push(samples[i].clone());
            }
            Err(e) => {
                out.skipped += 1;
                bar.suspend(|| note!("skipped: {e}"));
            }
        }
    })?;
    bar.finish_and_clear();
    Ok(out)
}
