//! Weights from checkpoint files: identifying the model (`identify.rs`), renaming keys to the
//! model's source (`keys.rs`), and one short report of the missing, unexpected or mis-shaped
//! tensors.

use super::arch::Arch;
use super::identify::{Identified, identify_as};
use super::keys::{describe_scheme, same_shape};
use super::variants::qualified_name;
use super::weights::{ModelWeights, TensorSource, load_weights};
use crate::checkpoint::{self, KeyScheme, META_SKIPPED, StateDict, detect_scheme};
use crate::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Kept at its old path (`effnet::model::loader::remap`), which the binary uses.
pub use super::keys::remap;
pub(crate) use super::keys::scheme_of;

/// How many keys of each kind a report lists before it only counts them.
const REPORT_FIRST: usize = 5;

/// Serves tensors from a state dict and remembers which keys were used.
struct StateDictSource<'a> {
    sd: &'a StateDict,
    used: BTreeSet<String>,
    missing: Vec<String>,
    misshaped: Vec<String>,
    /// Keys the reader left out for their integer or bool dtype, with that dtype.
    skipped: BTreeMap<String, String>,
    /// Needed keys found among `skipped`: `key is BOOL`.
    not_float: Vec<String>,
}

impl TensorSource for StateDictSource<'_> {
    fn fetch(&mut self, key: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let Some(t) = self.sd.tensors.get(key) else {
            let skipped =
                (self.skipped.get(key)).or_else(|| self.skipped.get(&format!("module.{key}")));
            match skipped {
                Some(dtype) => self.not_float.push(format!("{key} is {dtype}")),
                None => self.missing.push(format!("{key} {shape:?}")),
            }
            return Err(Error::Input(format!("missing key {key}")));
        };
        self.used.insert(key.to_string());
        if !same_shape(&t.shape, shape) || t.data.len() != shape.iter().product::<usize>() {
            self.misshaped
                .push(format!("{key}: expected {shape:?}, got {:?}", t.shape));
            return Err(Error::Shape {
                what: key.into(),
                expected: shape.to_vec(),
                got: t.shape.clone(),
            });
        }
        Ok(t.data.clone())
    }
}

/// Loads `sd` into `arch`, strictly: missing keys, unexpected keys and shape mismatches all
/// go into one report that counts them and lists the first few.
pub fn weights_from_state_dict(arch: &Arch, sd: &StateDict) -> Result<ModelWeights> {
    let skipped = (sd.metadata.get(META_SKIPPED))
        .and_then(|list| serde_json::from_str(list).ok())
        .unwrap_or_default();
    let mut src = StateDictSource {
        sd,
        used: BTreeSet::new(),
        missing: vec![],
        misshaped: vec![],
        skipped,
        not_float: vec![],
    };
    let loaded = load_weights(arch, &mut src);
    let unexpected: Vec<String> = (sd.tensors.keys())
        .filter(|k| !src.used.contains(*k) && !k.ends_with("num_batches_tracked"))
        .map(|k| format!("{k} {:?}", sd.tensors[k].shape))
        .collect();
    match loaded {
        Ok(w) if unexpected.is_empty() => Ok(w),
        Ok(_) | Err(Error::Weights { .. }) => Err(Error::Weights {
            report: report(arch, sd, &src, &unexpected),
        }),
        Err(e) => Err(e),
    }
}

/// Counts, the first few of each kind, and what the keys look like.
fn report(arch: &Arch, sd: &StateDict, src: &StateDictSource, unexpected: &[String]) -> String {
    let mut lines = Vec::new();
    for (what, list) in [
        ("missing", &src.missing[..]),
        ("with the wrong shape", &src.misshaped[..]),
        ("stored as integers or bools", &src.not_float[..]),
        ("unexpected", unexpected),
    ] {
        if list.is_empty() {
            continue;
        }
        let shown = list.len().min(REPORT_FIRST);
        let more = list.len() - shown;
        let tail = if more > 0 {
            format!(", and {more} more")
        } else {
            String::new()
        };
        let keys = if list.len() == 1 { "key" } else { "keys" };
        lines.push(format!(
            "{} {keys} {what}: {}{tail}",
            list.len(),
            list[..shown].join(", ")
        ));
    }
    let only_dtypes = src.missing.is_empty() && src.misshaped.is_empty() && unexpected.is_empty();
    if !src.not_float.is_empty() {
        lines.push(
            "weights must be F32, F16 or BF16: convert those tensors to float (in PyTorch, \
             `tensor.float()`) and save the checkpoint again"
                .into(),
        );
        if only_dtypes {
            return lines.join("\n");
        }
    }
    // `sd` is renamed already: a framework's keys are its network's by now.
    let wanted = Some(scheme_of(arch.source.key_names()));
    let scheme = detect_scheme(sd);
    let hint = if scheme != wanted && scheme != Some(KeyScheme::EfficientNetPytorch) {
        format!(
            "{} but {} uses {}'s names: the file is probably another model; pass the right one \
             with --arch NAME",
            describe_scheme(scheme),
            arch.name,
            arch.source.key_names().prefix()
        )
    } else {
        format!(
            "{}, so the checkpoint is probably another variant or size than {}; pass the right \
             one with --arch NAME (`effnet models` lists them)",
            describe_scheme(scheme),
            arch.name
        )
    };
    lines.push(hint);
    lines.join("\n")
}

/// A checkpoint loaded as the model it is.
#[derive(Clone, Debug)]
pub struct LoadedCheckpoint {
    pub arch: Arch,
    pub weights: ModelWeights,
    /// Class names from the file's metadata or a hub `config.json`.
    pub labels: Option<Vec<String>>,
}

/// Loads a checkpoint file into its model; `name` (`--arch`) overrides identification.
pub(crate) fn load_checkpoint(path: &Path, name: Option<&str>) -> Result<LoadedCheckpoint> {
    load_state_dict(path, checkpoint::load(path)?, name)
}

/// Like [`load_checkpoint`], taking `name` even where the file's own metadata or config names
/// another model (`--force-arch`).
pub(crate) fn load_checkpoint_forced(path: &Path, name: &str) -> Result<LoadedCheckpoint> {
    load_identified(path, checkpoint::load(path)?, Some(name), true)
}

/// Like `load_checkpoint`, for a state dict already read; `path` is its origin (its name and
/// folder may name the model, a `config.json` beside it may describe it, errors mention it).
pub fn load_state_dict(path: &Path, sd: StateDict, name: Option<&str>) -> Result<LoadedCheckpoint> {
    load_identified(path, sd, name, false)
}

fn load_identified(
    path: &Path,
    sd: StateDict,
    name: Option<&str>,
    force: bool,
) -> Result<LoadedCheckpoint> {
    let Identified {
        arch, labels, by, ..
    } = identify_as(path, &sd, name, force)?;
    let sd = remap(sd, &arch)?;
    let weights = weights_from_state_dict(&arch, &sd).map_err(|e| match e {
        Error::Weights { report } => Error::Weights {
            report: format!(
                "{} as {} (chosen by {by}):\n{report}",
                path.display(),
                qualified_name(&arch)
            ),
        },
        e => e,
    })?;
    Ok(LoadedCheckpoint {
        arch,
        weights,
        labels,
    })
}
