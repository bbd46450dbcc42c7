//! `effnet train`: teach the model new classes. The frozen backbone's pooled features of every
//! image are computed once on the GPU; a new linear head is trained on them on the GPU
//! (`effnet::train`: softmax cross-entropy, AdamW, cosine schedule); the checkpoint written
//! holds the backbone's own tensors, the new classifier, the class names and the settings, so
//! `classify`, `eval` and `features` load it with no flags.

use crate::convert::{Provenance, conversion_metadata};
use crate::models::AtLeastOne;
use crate::output::Output;
use crate::sha256::sha256_hex;
use crate::train_data::{Features, features, split, training_folder, validation_folder};
use clap::Args;
use effnet::checkpoint::{self, StateDict, Tensor};
use effnet::model::loader::remap;
use effnet::model::{Arch, Identified, identify_as, qualified_name, resolve};
use effnet::output::{Content, OutputRules};
use effnet::preprocess::Exif;
use effnet::train::{EpochStats, Examples, Head, TrainOptions, Trainer};
use effnet::{Engine, Error, LoadOptions, Model, Result};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Args)]
pub struct TrainArgs {
    /// ImageFolder root: DIR/<class name>/<image>; the folder names become the labels.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Checkpoint to write (safetensors): the backbone, the new head, the class names.
    #[arg(short = 'o', long, value_name = "FILE.safetensors")]
    out: PathBuf,
    /// The backbone: a checkpoint file (default: the bundled EfficientNet-Lite0).
    #[arg(short = 'm', long, value_name = "FILE")]
    model: Option<String>,
    /// Which model the checkpoint file is, when the file does not say.
    #[arg(long, value_name = "NAME")]
    arch: Option<String>,
    /// Run the checkpoint as --arch even where its own metadata or config.json names another
    /// model (whose padding and preprocessing the weights were made with).
    #[arg(long, requires = "arch")]
    force_arch: bool,
    /// Input resolution (square); defaults to the model's evaluation resolution.
    #[arg(long, value_name = "R", value_parser = AtLeastOne)]
    res: Option<usize>,
    /// Passes over the training images.
    #[arg(long, default_value_t = TrainOptions::default().epochs, value_parser = AtLeastOne)]
    epochs: usize,
    /// Peak learning rate (AdamW, cosine decay).
    #[arg(long, default_value_t = TrainOptions::default().lr)]
    lr: f64,
    /// Images per training step.
    #[arg(short = 'b', long, default_value_t = TrainOptions::default().batch, value_parser = AtLeastOne)]
    batch: usize,
    /// Decoupled weight decay of the head's weights.
    #[arg(long, default_value_t = TrainOptions::default().weight_decay)]
    weight_decay: f64,
    /// Label smoothing in [0, 1).
    #[arg(long, default_value_t = TrainOptions::default().label_smoothing)]
    label_smoothing: f64,
    /// Validation ImageFolder, its folders named like the training classes.
    #[arg(long, value_name = "DIR", conflicts_with = "val_split")]
    val: Option<PathBuf>,
    /// Hold out this fraction of each class's images for validation instead (e.g. 0.2).
    #[arg(long, value_name = "F")]
    val_split: Option<f64>,
    /// Seed of the sample order (and of the augmentation): the same seed gives a
    /// bit-identical head on one adapter.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Random resized crops and horizontal flips, new every epoch: the backbone's features
    /// are then computed again each epoch (slower; without it they are computed once).
    #[arg(long)]
    augment: bool,
    /// Replace FILE even when it exists and is not a safetensors file.
    #[arg(long)]
    force: bool,
    /// Turn photos upright by their EXIF orientation (on) or take the pixels as stored (off).
    /// Default: as the model's reference pipeline does (off for timm and torchvision).
    #[arg(long, value_name = "on|off", value_parser = ["on", "off"])]
    exif: Option<String>,
    /// One JSON object with the results instead of text.
    #[arg(long)]
    json: bool,
}

/// Images per forward pass of the feature extraction.
const FEATURE_BATCH: usize = 8;

pub fn run(a: TrainArgs, gpu: &crate::GpuArgs) -> Result<ExitCode> {
    let options = options(&a)?;
    let folder = training_folder(&a.dir)?;
    let (train_set, val_set) = match (&a.val, a.val_split) {
        (Some(dir), _) => (folder.samples, validation_folder(dir, &folder.classes)?),
        (None, Some(f)) => held_out(folder.samples, f)?,
        (None, None) => (folder.samples, Vec::new()),
    };
    // Before the work (listing the folders is not): a run that cannot save its result, or
    // whose output is one of its images, should not start.
    let images = train_set.iter().chain(&val_set).map(|(path, _)| path);
    let rules = OutputRules::new(Content::Safetensors)
        .with_inputs(images)
        .with_inputs(a.model.iter())
        .with_force(a.force);
    let output = crate::output::open(&a.out, &rules)?;
    let backbone = Backbone::read(a.model.as_deref(), (a.arch.as_deref(), a.force_arch))?;
    let engine = gpu.open()?;
    let res = a.res.unwrap_or(backbone.found.arch.resolution);
    let loaded = engine.load_with(backbone.model.clone(), LoadOptions::default())?;
    let started = Instant::now();
    let exif = a.exif.as_deref().map(Exif::parse).transpose()?;
    let sizes = (res, FEATURE_BATCH, exif);
    let augment = |epoch: usize| a.augment.then(|| epoch_seed(a.seed, epoch));
    let train = features(&loaded, sizes, &train_set, augment(0))?;
    let val = features(&loaded, sizes, &val_set, None)?;
    let feature_s = started.elapsed().as_secs_f64();
    let classes = folder.classes.len();
    let started = Instant::now();
    // With augmentation every epoch after the first sees new crops of the same images.
    let refresh = |epoch: usize| match augment(epoch) {
        Some(seed) if epoch > 0 => features(&loaded, sizes, &train.kept, Some(seed)).map(Some),
        _ => Ok(None),
    };
    let trained = fit(&engine, (&train, &val), classes, options, a.json, refresh)?;
    let train_s = started.elapsed().as_secs_f64();
    let head = &trained.head;
    backbone.write(output, head, &folder.classes, (&options, a.augment))?;
    let last = trained.history.last().copied();
    let summary = serde_json::json!({
        "out": a.out.display().to_string(), "classes": folder.classes,
        "train_images": train.labels.len(), "val_images": val.labels.len(),
        "skipped": train.skipped + val.skipped, "epochs": options.epochs,
        "train_accuracy": last.map(|s| s.train_accuracy),
        "val_accuracy": last.and_then(|s| s.val_accuracy),
        "feature_seconds": feature_s, "train_seconds": train_s, "resolution": res,
    });
    report(&a, &summary, train.skipped + val.skipped);
    Ok(ExitCode::SUCCESS)
}

/// Prints the run's `summary` (`--json`: as it is) and a note on the `skipped` images.
fn report(a: &TrainArgs, summary: &serde_json::Value, skipped: usize) {
    if a.json {
        out!("{summary}");
    } else {
        let number = |k: &str| summary[k].as_f64().unwrap_or_default();
        let val = summary["val_accuracy"].as_f64();
        let val = val.map_or(String::new(), |v| {
            format!(", validation accuracy {:.1}%", 100.0 * v)
        });
        out!(
            "wrote {}: {} classes, {} training images{val}; features {:.1} s, training {:.1} s",
            a.out.display(),
            summary["classes"].as_array().map_or(0, Vec::len),
            number("train_images"),
            number("feature_seconds"),
            number("train_seconds"),
        );
    }
    if skipped > 0 {
        note!("note: {skipped} images could not be read and were skipped (see above)");
    }
}

/// The training options of the flags, refused in the flags' own words (the library's checks
/// name its fields, which a command-line user never sees).
fn options(a: &TrainArgs) -> Result<TrainOptions> {
    let bad = |m: &str| Err(Error::Input(m.into()));
    if !(a.lr.is_finite() && a.lr > 0.0) {
        return bad("--lr must be a positive learning rate, such as 0.001");
    }
    if !(a.weight_decay.is_finite() && a.weight_decay >= 0.0) {
        return bad("--weight-decay must be 0 or more");
    }
    if !(0.0..1.0).contains(&a.label_smoothing) {
        return bad("--label-smoothing must be at least 0 and below 1, such as 0.1");
    }
    let options = TrainOptions {
        epochs: a.epochs,
        lr: a.lr,
        batch: a.batch,
        weight_decay: a.weight_decay,
        label_smoothing: a.label_smoothing,
        seed: a.seed,
        ..TrainOptions::default()
    };
    // Anything the flags above let through but the library refuses is a bug in this list.
    effnet::train::check_options(&options)?;
    Ok(options)
}

/// `--val-split`: the training and validation images, with a warning where the split leaves
/// no validation image (a class's only image always stays in training).
fn held_out(samples: Vec<(PathBuf, u32)>, fraction: f64) -> Result<Split> {
    let [train, val] = split(samples, fraction)?;
    if val.is_empty() {
        note!(
            "warning: --val-split {fraction} leaves no validation images: a class's first image \
             always stays in training, and no class has a second one; add images to the \
             classes or pass a validation folder with --val"
        );
    }
    Ok((train, val))
}

/// Training and validation images with their class index.
type Split = (Vec<(PathBuf, u32)>, Vec<(PathBuf, u32)>);

/// The augmentation seed of one epoch.
fn epoch_seed(seed: u64, epoch: usize) -> u64 {
    effnet::model::rule::splitmix64(seed ^ (epoch as u64).wrapping_mul(0xD1B5_4A32_D192_ED03))
}

/// Trains the head with a bar over the epochs showing loss and accuracy; `refresh(epoch)`
/// gives new training features for an epoch (augmentation), or `None` to keep them.
fn fit(
    engine: &Engine,
    (train, val): (&Features, &Features),
    classes: usize,
    options: TrainOptions,
    json: bool,
    refresh: impl Fn(usize) -> Result<Option<Features>>,
) -> Result<effnet::train::Trained> {
    if train.labels.is_empty() {
        // Said here, in terms of images: the library would speak of feature vectors.
        return Err(Error::Input(
            "no training image could be read (each one's error is above); fix or replace them"
                .into(),
        ));
    }
    let examples = Examples::new(&train.data, train.width, &train.labels);
    let mut trainer = Trainer::new(engine.gpu(), examples, classes, options)?;
    if !val.labels.is_empty() {
        trainer = trainer.with_validation(Examples::new(&val.data, val.width, &val.labels))?;
    }
    let bar = crate::progress::count_bar(options.epochs as u64, "epochs");
    for epoch in 0..options.epochs {
        if let Some(f) = bar.suspend(|| refresh(epoch))? {
            if f.labels != train.labels {
                return Err(Error::Input(
                    "an image that was read in the first epoch could not be read again; keep \
                     the training images in place while training"
                        .into(),
                ));
            }
            trainer.set_features(&f.data)?;
        }
        let Some(stats) = trainer.next() else { break };
        let s = stats?;
        bar.inc(1);
        bar.set_message(epoch_line(&s));
        if !json && s.epoch % 10 == 0 {
            bar.suspend(|| note!("epoch {}: {}", s.epoch, epoch_line(&s)));
        }
    }
    bar.finish_and_clear();
    trainer.run(|_| {})
}

fn epoch_line(s: &EpochStats) -> String {
    let val = match (s.val_loss, s.val_accuracy) {
        (Some(l), Some(a)) => format!(", val loss {l:.3} acc {:.1}%", 100.0 * a),
        _ => String::new(),
    };
    format!(
        "loss {:.3} acc {:.1}%{val}",
        s.train_loss,
        100.0 * s.train_accuracy
    )
}

/// The backbone: its raw tensors (renamed to its source's keys), what it is, and the model
/// built from them.
struct Backbone {
    sd: StateDict,
    found: Identified,
    model: Model,
    path: PathBuf,
    sha: String,
}

impl Backbone {
    fn read(spec: Option<&str>, (arch, force_arch): (Option<&str>, bool)) -> Result<Self> {
        let (path, bytes) = match spec {
            None => (
                PathBuf::from(Model::BUNDLED_PATH),
                Model::bundled_bytes().to_vec(),
            ),
            Some(file) if crate::models::checkpoint_file(file)?.is_some() => {
                let bytes = std::fs::read(file).map_err(|e| Error::io(file, e))?;
                (PathBuf::from(file), bytes)
            }
            Some(other) => {
                return Err(Error::Input(format!(
                    "{other}: no such file; training needs a backbone with real weights: a \
                     checkpoint file, or no --model for the bundled Lite0"
                )));
            }
        };
        let sd = checkpoint::load_bytes(&path, &bytes)?;
        let found = identify_as(&path, &sd, arch, force_arch)?;
        let sd = remap(sd, &found.arch)?;
        let model = Model::from_bytes(&path, &bytes, arch)?;
        let sha = sha256_hex(&bytes);
        Ok(Backbone {
            sd,
            found,
            model,
            path,
            sha,
        })
    }

    /// The backbone's tensors with `head` as its classifier, the class names and the
    /// training settings in the metadata.
    fn write(
        &self,
        out: Output,
        head: &Head,
        names: &[String],
        (o, augment): (&TrainOptions, bool),
    ) -> Result<()> {
        let arch = with_head(&self.found.arch, head.classes)?;
        let mut sd = self.sd.clone();
        if let Some(old) = &self.found.arch.classifier {
            sd.tensors.remove(&old.weight);
            sd.tensors.remove(&old.bias);
        }
        let c = arch
            .classifier
            .as_ref()
            .expect("with_head gives a classifier");
        let weight = Tensor {
            shape: vec![head.classes, head.width],
            data: head.weight.clone(),
        };
        let bias = Tensor {
            shape: vec![head.classes],
            data: head.bias.clone(),
        };
        sd.tensors.insert(c.weight.clone(), weight);
        sd.tensors.insert(c.bias.clone(), bias);
        let found = Identified {
            arch,
            labels: None,
            ..self.found.clone()
        };
        let src = Provenance {
            input: &self.path,
            sha: &self.sha,
            f16: false,
        };
        let mut meta = conversion_metadata(&found, Some(names), &sd, &src);
        let settings = serde_json::json!({"epochs": o.epochs, "lr": o.lr, "batch": o.batch,
            "weight_decay": o.weight_decay, "label_smoothing": o.label_smoothing,
            "seed": o.seed, "augment": augment, "optimizer": "adamw", "schedule": "cosine"});
        meta.insert(
            "effnet.trained_by".into(),
            format!("effnet train {}", env!("CARGO_PKG_VERSION")),
        );
        meta.insert("effnet.train_settings".into(), settings.to_string());
        sd.metadata.clear();
        out.commit(&checkpoint::encode_safetensors(&sd, &meta, false)?)
    }
}

/// `arch` with a classifier of `classes` outputs, named as its source names it (a headless
/// backbone gets the classifier its full model has).
fn with_head(arch: &Arch, classes: usize) -> Result<Arch> {
    let full = resolve(&qualified_name(arch), None)?;
    let mut out = arch.clone();
    out.classifier = full.classifier;
    Ok(out.with_classes(classes))
}
