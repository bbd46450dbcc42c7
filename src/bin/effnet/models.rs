//! What the image commands share: choosing the model (bundled, named or a checkpoint file)
//! and putting it on the GPU.

use clap::Args;
use effnet::{Engine, Error, LoadOptions, LoadedModel, Model, Precision, Result};
use std::path::{Path, PathBuf};

/// Model options shared by `classify`, `features` and `eval`.
#[derive(Args, Clone, Debug)]
pub struct ModelArgs {
    /// A checkpoint file (.safetensors, .pth, .pt, .bin) or a model name such as
    /// `tf_efficientnet_b0` (a name gets synthetic weights: for timing and testing only).
    /// Default: the bundled EfficientNet-Lite0 with ImageNet weights.
    #[arg(short = 'm', long, value_name = "NAME_OR_FILE")]
    pub model: Option<String>,
    /// Which model a checkpoint file is, when neither its metadata, a `config.json` beside it
    /// nor its file name says (e.g. `efficientnet_b0` vs `tf_efficientnet_b0`, which share
    /// every tensor shape): a name from `effnet models`.
    #[arg(long, value_name = "NAME")]
    pub arch: Option<String>,
    /// Run the checkpoint as --arch even where its own metadata or config.json names another
    /// model (whose padding and preprocessing the weights were made with).
    #[arg(long, requires = "arch")]
    pub force_arch: bool,
    /// Class names, one per line in class index order (default: the checkpoint's own, else
    /// ImageNet's for 1000-class models, else `class N`).
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,
    /// Input resolution (square); defaults to the model's evaluation resolution.
    #[arg(long, value_name = "R")]
    pub res: Option<usize>,
    /// Images per forward pass.
    #[arg(short = 'b', long, value_name = "N", default_value_t = 8)]
    pub batch: usize,
    /// GPU storage precision of weights and activations: f32 or f16.
    #[arg(long, default_value = "f32", value_parser = ["f32", "f16"])]
    pub precision: String,
    /// Turn photos upright by their EXIF orientation (on) or take the pixels as stored (off).
    /// Default: as the model's reference pipeline does: off for timm and torchvision, whose
    /// PIL loading ignores the tag.
    #[arg(long, value_name = "on|off", value_parser = ["on", "off"])]
    pub exif: Option<String>,
}

/// A model on the GPU with what the commands need to know about it.
pub struct Opened {
    pub loaded: LoadedModel,
    /// The file or name it came from, for reports.
    pub origin: String,
    /// Square input resolution to run at.
    pub res: usize,
}

impl ModelArgs {
    /// `--exif` as given; `None`: as the model's source does.
    pub fn exif(&self) -> Result<Option<effnet::preprocess::Exif>> {
        (self.exif.as_deref())
            .map(effnet::preprocess::Exif::parse)
            .transpose()
    }

    /// Checks the numbers, loads the model and uploads it.
    pub fn open(&self) -> Result<Opened> {
        if self.batch == 0 || self.res == Some(0) {
            return Err(Error::Input("--batch and --res must be at least 1".into()));
        }
        let precision = Precision::parse(&self.precision)?;
        let (mut model, origin) = read_model(self.model.as_deref(), self.arch.as_deref(), self.force_arch, true)?;
        if let Some(path) = &self.labels {
            model = model.with_labels(effnet::model::hub::read_labels(path)?)?;
        }
        let res = self.res.unwrap_or(model.arch.resolution);
        let engine = Engine::from_gpu(crate::open_gpu()?);
        let loaded = engine.load_with(model, LoadOptions::default().with_precision(precision))?;
        Ok(Opened {
            loaded,
            origin,
            res,
        })
    }
}

/// The bundled model, a checkpoint file (`arch`: which model it is, where the file does not
/// say; `force_arch`: even where it says otherwise), or synthetic weights for a model name (with a warning where answers matter:
/// `warn_synthetic`; `bench` and `info` use them on purpose).
pub fn read_model(
    spec: Option<&str>,
    arch: Option<&str>,
    force_arch: bool,
    warn_synthetic: bool,
) -> Result<(Model, String)> {
    let Some(spec) = spec else {
        if arch.is_some() {
            return Err(Error::Input(
                "--arch says which model a checkpoint file is; give the file with --model (the \
                 bundled model needs no --arch)"
                    .into(),
            ));
        }
        let origin = format!("{} (bundled)", Model::BUNDLED_PATH);
        return Ok((Model::bundled()?, origin));
    };
    let path = Path::new(spec);
    if path.is_file() {
        // Name the model the file was taken for, so a surprising identification shows.
        let model = match arch {
            Some(name) if force_arch => Model::from_file_forced(path, name)?,
            _ => Model::from_file(path, arch)?,
        };
        let name = effnet::model::qualified_name(&model.arch);
        return Ok((model, format!("{spec} ({name})")));
    }
    if arch.is_some() {
        return Err(Error::Input(format!(
            "{spec}: no such file; --arch says which model a checkpoint file is, so --model must \
             name a file"
        )));
    }
    if path.components().count() > 1 || path.extension().is_some() {
        return Err(Error::Input(format!(
            "{spec}: no such file; --model takes a checkpoint file or a model name"
        )));
    }
    let model = Model::synthetic(spec)?;
    if !warn_synthetic {
        return Ok((model, format!("{spec} (synthetic weights)")));
    }
    note!(
        "warning: `{spec}` is a model name, so its weights are synthetic (a deterministic rule, \
         not trained): the answers are meaningless. Pass a checkpoint file to --model for real \
         predictions, or leave --model out to use the bundled Lite0."
    );
    Ok((model, format!("{spec} (synthetic weights)")))
}

/// The error for `classify` / `eval` on a backbone without a classifier.
pub fn require_classifier(opened: &Opened) -> Result<()> {
    if opened.loaded.arch().classifier.is_none() {
        return Err(Error::Input(format!(
            "{} has no classifier (a headless backbone, e.g. timm's num_classes=0): it gives \
             embeddings, not classes; use `effnet features`, or a checkpoint with a classifier",
            opened.origin
        )));
    }
    Ok(())
}

/// `effnet models`: every known name with what defines its answers.
pub fn list(json: bool) -> Result<std::process::ExitCode> {
    if !json {
        out!(
            "{:<29} {:<11} {:>4} {:>6} {:<8} {:<9} {:>11}",
            "name",
            "source",
            "res",
            "resize",
            "filter",
            "mean/std",
            "parameters"
        );
    }
    for name in effnet::model::known_names() {
        let arch = effnet::model::resolve(&name, None)?;
        let p = arch.preprocess;
        let info = effnet::model::info(&arch, arch.resolution, arch.resolution, 1);
        let params = info.params;
        let norm = if p.mean == [0.5; 3] {
            "0.5/0.5"
        } else {
            "imagenet"
        };
        let r = arch.resolution;
        let resize = effnet::preprocess::Transform::from_spec(&p, r, r).resize_short;
        let source = format!("{:?}", arch.source).to_lowercase();
        if json {
            let row = serde_json::json!({"name": name, "source": source,
                "resolution": arch.resolution, "resize": resize, "crop_pct": p.crop_pct,
                "interpolation": p.interpolation.name(), "mean": p.mean, "std": p.std,
                "padding": format!("{:?}", arch.padding).to_lowercase(), "bn_eps": arch.bn_eps,
                "parameters": params, "macs": info.macs});
            out!("{row}");
        } else {
            out!(
                "{name:<29} {source:<11} {r:>4} {resize:>6} {:<8} {norm:<9} {params:>11}",
                p.interpolation.name(),
            );
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}
