//! What the image commands share: choosing the model (bundled, named or a checkpoint file)
//! and putting it on the GPU.

use clap::Args;
pub use effnet::model::checkpoint_file;
use effnet::{Devices, Engine, Error, LoadOptions, LoadedModel, Model, Precision, Result};
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
    #[arg(long, value_name = "R", value_parser = AtLeastOne)]
    pub res: Option<usize>,
    /// Images per forward pass.
    #[arg(short = 'b', long, value_name = "N", default_value_t = 8, value_parser = AtLeastOne)]
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

/// Parses a count that must be at least 1 (`--batch`, `--res`, `-k`, ...) and says so with
/// the flag's name, where clap's range check would print `not in 1..18446744073709551615`.
/// Its errors are usage errors, like clap's own: exit code 2.
#[derive(Clone, Copy, Debug)]
pub struct AtLeastOne;

impl clap::builder::TypedValueParser for AtLeastOne {
    type Value = usize;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> std::result::Result<usize, clap::Error> {
        let flag = arg.map_or_else(|| "the value".to_string(), flag_name);
        let text = value.to_string_lossy();
        let message = match text.parse::<usize>() {
            Ok(n) if n >= 1 => return Ok(n),
            Ok(_) => format!("{flag} must be at least 1"),
            Err(_) => format!("{flag} takes a whole number of at least 1, not `{text}`"),
        };
        let kind = clap::error::ErrorKind::ValueValidation;
        Err(clap::Error::raw(kind, format!("{message}\n")).with_cmd(cmd))
    }
}

/// `-k/--top-k`, `--batch`: how the user may have spelled the flag.
fn flag_name(arg: &clap::Arg) -> String {
    match (arg.get_short(), arg.get_long()) {
        (Some(s), Some(l)) => format!("-{s}/--{l}"),
        (None, Some(l)) => format!("--{l}"),
        (Some(s), None) => format!("-{s}"),
        (None, None) => arg.get_id().to_string(),
    }
}

/// A model on the GPU with what the commands need to know about it.
pub struct Opened {
    /// On the first device: the architecture, class names and predictions.
    pub loaded: LoadedModel,
    /// One per session to run, in `--device` order (a repeated adapter shares its upload).
    pub devices: Vec<LoadedModel>,
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
    pub fn open(&self, gpu: &crate::GpuArgs) -> Result<Opened> {
        let precision = Precision::parse(&self.precision)?;
        let (mut model, origin) = read_model(
            self.model.as_deref(),
            self.arch.as_deref(),
            self.force_arch,
            true,
        )?;
        if let Some(path) = &self.labels {
            model = with_labels_file(model, path)?;
        }
        let res = self.res.unwrap_or(model.arch.resolution);
        let options = LoadOptions::default().with_precision(precision);
        let devices = load_on_devices(gpu, model, options)?;
        Ok(Opened {
            loaded: devices[0].clone(),
            devices,
            origin,
            res,
        })
    }
}

/// `model` on each device `--device` names: one entry per session, each adapter opened and
/// given the weights once (`0,0` shares them). Never empty.
fn load_on_devices(
    gpu: &crate::GpuArgs,
    model: Model,
    load: LoadOptions,
) -> Result<Vec<LoadedModel>> {
    let Some(devices) = gpu.device.as_ref().filter(|_| gpu.several()) else {
        return Ok(vec![gpu.open()?.load_with(model, load)?]);
    };
    let indices = devices.indices()?;
    if *devices == Devices::All {
        note_all(&indices);
    }
    let mut opened: Vec<(usize, LoadedModel)> = Vec::new();
    let mut models = Vec::with_capacity(indices.len());
    for i in indices {
        if let Some((_, m)) = opened.iter().find(|(j, _)| *j == i) {
            models.push(m.clone());
            continue;
        }
        let engine = gpu.open_adapter(Some(i))?;
        let loaded = engine.load_with(model.clone(), load)?;
        opened.push((i, loaded.clone()));
        models.push(loaded);
    }
    Ok(models)
}

/// What `--device all` found: the adapters it runs on, said plainly where there is only one.
fn note_all(indices: &[usize]) {
    let adapters = Engine::adapters();
    let name = |i: &usize| {
        (adapters.get(*i)).map_or(format!("{i}"), |a| {
            format!("{i}: {} ({:?}, {:?})", a.name, a.backend, a.device_type)
        })
    };
    let named: Vec<String> = indices.iter().map(name).collect();
    match named.len() {
        1 => note!(
            "note: --device all found only one adapter to run on, {} (`effnet devices` lists {}; \
             the same device on another backend, or a CPU driver beside a GPU, is not counted)",
            named[0],
            adapters.len()
        ),
        n => note!(
            "note: --device all runs on {n} adapters: {}",
            named.join("; ")
        ),
    }
}

/// `model` with the class names of `--labels FILE`, or an error that counts them the way
/// `read_labels` does, so a stray blank line is easy to find.
fn with_labels_file(model: Model, path: &Path) -> Result<Model> {
    let labels = effnet::model::hub::read_labels(path)?;
    let (names, classes) = (labels.len(), model.arch.num_classes());
    if names == classes {
        return model.with_labels(labels);
    }
    let blank = labels.iter().filter(|l| l.is_empty()).count();
    let blank = match blank {
        0 => String::new(),
        n => format!(", {n} of them blank lines,"),
    };
    Err(Error::bad_file(
        path,
        format!(
            "{names} class names{blank} for a model with {classes} classes; write one name per \
             line in class index order (every line counts, a blank line in the middle too; blank \
             lines at the end are ignored)"
        ),
    ))
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
    if checkpoint_file(spec)?.is_some() {
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
    let names = effnet::model::known_names();
    let width = names.iter().map(String::len).max().unwrap_or(4);
    if !json {
        out!(
            "{:<width$} {:<11} {:>4} {:>6} {:<12} {:<9} {:>11}  resize and crop",
            "name",
            "source",
            "res",
            "resize",
            "filter",
            "mean/std",
            "parameters"
        );
    }
    for name in names {
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
        let source = arch.source.prefix();
        // OpenCV's filters do not antialias, PIL's do: the same name gives other pixels.
        let filter = match p.pipeline {
            effnet::model::Pipeline::Pil => p.interpolation.name().to_string(),
            _ => format!("cv2 {}", p.interpolation.name()),
        };
        if json {
            let row = serde_json::json!({"name": name, "source": source,
                "resolution": arch.resolution, "resize": resize, "crop_pct": p.crop_pct,
                "interpolation": p.interpolation.name(), "pipeline": p.pipeline,
                "preprocess": p.describe(), "mean": p.mean, "std": p.std,
                "padding": format!("{:?}", arch.padding).to_lowercase(), "bn_eps": arch.bn_eps,
                "parameters": params, "macs": info.macs});
            out!("{row}");
        } else {
            out!(
                "{name:<width$} {source:<11} {r:>4} {resize:>6} {filter:<12} {norm:<9} {params:>11}  {}",
                p.describe()
            );
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}
