//! `effnet convert`: any supported checkpoint to a canonical safetensors file in the variant's
//! own key scheme, un-folded (the state dict as the source library names it), with metadata
//! that lets it load with no flags and says where it came from.

use crate::sha256::sha256_hex;
use clap::Args;
use effnet::checkpoint::{self, StateDict};
use effnet::model::hub;
use effnet::model::loader::{remap, weights_from_state_dict};
use effnet::model::meta::{META_LABELS, META_PREPROCESS_ORIGIN, META_SOURCE, META_VARIANT};
use effnet::model::{Arch, Identified, Padding, identify_as, qualified_name};
use effnet::output::{Content, OutputRules};
use effnet::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
pub struct ConvertArgs {
    /// Checkpoint to read: safetensors, PyTorch zip or legacy .pth (timm, torchvision or
    /// efficientnet_pytorch key names).
    #[arg(value_name = "IN")]
    input: PathBuf,
    /// safetensors file to write.
    #[arg(value_name = "OUT.safetensors")]
    output: PathBuf,
    /// Store tensors as f16 (half the size; rounding to nearest).
    #[arg(long)]
    f16: bool,
    /// Which model the checkpoint is, when neither its metadata, a `config.json` beside it nor
    /// its file name says (e.g. `tf_efficientnet_b0`; `effnet models` lists them).
    #[arg(long, value_name = "NAME")]
    arch: Option<String>,
    /// Run the checkpoint as --arch even where its own metadata or config.json names another
    /// model (whose padding and preprocessing the weights were made with).
    #[arg(long, requires = "arch")]
    force_arch: bool,
    /// Class names to store, one per line in class index order (fine-tuned heads), so that
    /// the converted file classifies with its own names and no flags.
    #[arg(long, value_name = "FILE")]
    labels: Option<PathBuf>,
    /// Replace OUT even when it exists and is not a safetensors file.
    #[arg(long)]
    force: bool,
    /// One JSON object describing the result.
    #[arg(long)]
    json: bool,
}

pub fn run(a: ConvertArgs) -> Result<ExitCode> {
    let rules = OutputRules::new(Content::Safetensors)
        .with_inputs([&a.input])
        .with_inputs(a.labels.iter())
        .with_force(a.force);
    let output = crate::output::open(&a.output, &rules)?;
    let bytes = std::fs::read(&a.input).map_err(|e| Error::io(&a.input, e))?;
    let source_sha = sha256_hex(&bytes);
    let sd = checkpoint::load_bytes(&a.input, &bytes)?;
    drop(bytes);
    let found = identify_as(&a.input, &sd, a.arch.as_deref(), a.force_arch)?;
    let labels = class_names(&a, &found)?;
    let arch = &found.arch;
    let mut sd = remap(sd, arch)?;
    // Strict check before writing: every key used, every shape right, nothing left over.
    weights_from_state_dict(arch, &sd).map_err(|e| with_origin(e, &a.input, arch))?;
    let source = Provenance {
        input: &a.input,
        sha: &source_sha,
        f16: a.f16,
    };
    let metadata = conversion_metadata(&found, labels.as_deref(), &sd, &source);
    sd.metadata.clear();
    let written = checkpoint::encode_safetensors(&sd, &metadata, a.f16)?;
    output.commit(&written)?;
    let params: usize = sd.tensors.values().map(|t| t.numel()).sum();
    let summary = serde_json::json!({
        "input": a.input.display().to_string(),
        "input_sha256": source_sha,
        "output": a.output.display().to_string(),
        "output_sha256": sha256_hex(&written),
        "variant": qualified_name(arch),
        "classes": arch.num_classes(),
        "identified_by": found.by,
        "tensors": sd.tensors.len(),
        "values": params,
        "dtype": if a.f16 { "f16" } else { "f32" },
    });
    if a.json {
        out!("{summary}");
    } else {
        out!(
            "wrote {}: {} ({} classes; identified by {}) ({} tensors, {} values, {}), {} bytes\ninput sha256  {source_sha}\noutput sha256 {}",
            a.output.display(),
            qualified_name(arch),
            arch.num_classes(),
            found.by,
            sd.tensors.len(),
            params,
            summary["dtype"].as_str().unwrap_or_default(),
            written.len(),
            summary["output_sha256"].as_str().unwrap_or_default(),
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The class names to write: `--labels`' file, else the checkpoint's own, if any; an error
/// where their count is not the model's.
fn class_names(a: &ConvertArgs, found: &Identified) -> Result<Option<Vec<String>>> {
    let labels = match &a.labels {
        Some(path) => Some(hub::read_labels(path)?),
        None => found.labels.clone(),
    };
    if let Some(l) = labels
        .as_ref()
        .filter(|l| l.len() != found.arch.num_classes())
    {
        return Err(Error::Input(format!(
            "{} class names for a model with {} classes; give one name per class",
            l.len(),
            found.arch.num_classes()
        )));
    }
    Ok(labels)
}

fn with_origin(e: Error, path: &Path, arch: &Arch) -> Error {
    match e {
        Error::Weights { report } => Error::Weights {
            report: format!("{} as {}:\n{report}", path.display(), arch.name),
        },
        e => e,
    }
}

/// Where a conversion's input came from.
pub struct Provenance<'a> {
    pub input: &'a Path,
    pub sha: &'a str,
    pub f16: bool,
}

/// What a later load (and a reader) needs to know: the exact model name and everything that
/// defines its numerics, class names, plus provenance. Metadata the source carried is kept
/// unless it is ours.
pub fn conversion_metadata(
    found: &Identified,
    labels: Option<&[String]>,
    sd: &StateDict,
    src: &Provenance,
) -> BTreeMap<String, String> {
    let arch = &found.arch;
    let mut m: BTreeMap<String, String> = sd
        .metadata
        .iter()
        .filter(|(k, _)| !k.starts_with("effnet."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let list = |v: [f32; 3]| v.map(|x| x.to_string()).join(",");
    let p = &arch.preprocess;
    let source_name = src
        .input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    // A hub config's preprocessing is the model's own: it must override the table on load.
    let preprocess_origin = if found.own_preprocess {
        "config.json"
    } else {
        "source"
    };
    let entries = [
        (META_VARIANT, qualified_name(arch)),
        // The tensors are written under the network's key names (a framework's are renamed).
        (META_SOURCE, arch.source.key_names().prefix().into()),
        ("effnet.padding", padding_name(arch.padding).into()),
        ("effnet.bn_eps", arch.bn_eps.to_string()),
        ("effnet.resolution", arch.resolution.to_string()),
        ("effnet.preprocess.mean", list(p.mean)),
        ("effnet.preprocess.std", list(p.std)),
        ("effnet.preprocess.crop_pct", p.crop_pct.to_string()),
        (
            "effnet.preprocess.interpolation",
            p.interpolation.name().into(),
        ),
        (META_PREPROCESS_ORIGIN, preprocess_origin.into()),
        // mmpretrain's and MindSpore's resize and crop (OpenCV-style), for a reader; a load
        // takes them from the model name.
        ("effnet.preprocess.pipeline", p.describe()),
        ("effnet.framework", arch.source.prefix().into()),
        ("effnet.classes", arch.num_classes().to_string()),
        ("effnet.source_file", source_name.unwrap_or_default()),
        ("effnet.source_sha256", src.sha.into()),
        ("effnet.dtype", if src.f16 { "f16" } else { "f32" }.into()),
        ("effnet.bn_folded", "false".into()),
        (
            "effnet.converted_by",
            format!("effnet {}", env!("CARGO_PKG_VERSION")),
        ),
    ];
    m.extend(entries.into_iter().map(|(k, v)| (k.to_string(), v)));
    if let Some(labels) = labels {
        let json = serde_json::to_string(labels).expect("strings serialize");
        m.insert(META_LABELS.into(), json);
    }
    m
}

fn padding_name(padding: Padding) -> &'static str {
    match padding {
        Padding::Same => "tf_same",
        Padding::Symmetric => "symmetric",
    }
}
