//! Weights from checkpoint files: choosing the variant, renaming keys to the variant's
//! source, and one report of every missing, unexpected or mis-shaped tensor.

use super::arch::{Arch, Source};
use super::variants::{known_names, resolve};
use super::weights::{ModelWeights, TensorSource, load_weights};
use crate::checkpoint::{self, KeyScheme, StateDict, detect_scheme};
use crate::{Error, Result};
use std::collections::BTreeSet;
use std::path::Path;

/// Metadata key under which `effnet convert` records the variant name.
pub const META_VARIANT: &str = "effnet.variant";

/// Serves tensors from a state dict and remembers which keys were used.
struct StateDictSource<'a> {
    sd: &'a StateDict,
    used: BTreeSet<String>,
}

impl TensorSource for StateDictSource<'_> {
    fn fetch(&mut self, key: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let t = self
            .sd
            .tensors
            .get(key)
            .ok_or_else(|| Error::Input(format!("missing key {key} {shape:?}")))?;
        self.used.insert(key.to_string());
        // A 1×1 conv stored as a linear weight (or the reverse) has the same elements.
        let same = t.shape == shape
            || t.shape
                .iter()
                .filter(|&&d| d != 1)
                .eq(shape.iter().filter(|&&d| d != 1));
        if !same || t.data.len() != shape.iter().product::<usize>() {
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
/// go into one report.
pub fn weights_from_state_dict(arch: &Arch, sd: &StateDict) -> Result<ModelWeights> {
    let mut src = StateDictSource {
        sd,
        used: BTreeSet::new(),
    };
    let loaded = load_weights(arch, &mut src);
    let unexpected: Vec<String> = (sd.tensors.keys())
        .filter(|k| !src.used.contains(*k) && !k.ends_with("num_batches_tracked"))
        .map(|k| format!("unexpected key {k} {:?}", sd.tensors[k].shape))
        .collect();
    match loaded {
        Ok(w) if unexpected.is_empty() => Ok(w),
        Ok(_) => Err(Error::Weights {
            report: unexpected.join("\n"),
        }),
        Err(Error::Weights { report }) => {
            let all = std::iter::once(report)
                .chain(unexpected)
                .collect::<Vec<_>>()
                .join("\n");
            Err(Error::Weights { report: all })
        }
        Err(e) => Err(e),
    }
}

/// Picks the variant of a checkpoint: the name given, the file's own metadata, a known
/// model name inside the file name, or (for efficientnet_pytorch files, which are TF ports)
/// the `tf_` variant whose tensors fit.
pub fn choose_arch(path: &Path, sd: &StateDict, name: Option<&str>) -> Result<Arch> {
    if let Some(n) = name.or(sd.metadata.get(META_VARIANT).map(String::as_str)) {
        return resolve(n, None);
    }
    let scheme = detect_scheme(sd);
    let stem = path
        .file_name()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let mut candidates: Vec<String> = known_names();
    // Longest names first, so `tf_efficientnet_lite0` wins over `efficientnet_lite0`.
    candidates.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let in_name = candidates.iter().find(|n| {
        let bare = n.split(':').next_back().unwrap_or(n);
        stem.contains(bare) && matches_source(n, scheme)
    });
    if let Some(n) = in_name {
        return resolve(n, None);
    }
    let fits = candidates
        .iter()
        .filter(|n| n.starts_with("tf_") || n.starts_with("torchvision:"))
        .find(|n| {
            resolve(n, None).is_ok_and(|a| {
                matches_source(n, scheme)
                    && remap(sd.clone(), &a).is_ok_and(|s| weights_from_state_dict(&a, &s).is_ok())
            })
        });
    match fits {
        Some(n) => resolve(n, None),
        None => Err(Error::bad_file(
            path,
            "cannot tell which EfficientNet this checkpoint is; pass the model name (e.g. --arch tf_efficientnet_b0)",
        )),
    }
}

fn matches_source(name: &str, scheme: Option<KeyScheme>) -> bool {
    let tv = name.starts_with("torchvision:") || name.starts_with("efficientnet_v2_");
    match scheme {
        Some(KeyScheme::Torchvision) => tv,
        Some(_) => !tv,
        None => true,
    }
}

/// Renames keys into the scheme of `arch`'s source.
pub fn remap(sd: StateDict, arch: &Arch) -> Result<StateDict> {
    match (detect_scheme(&sd), arch.source) {
        (Some(KeyScheme::EfficientNetPytorch), Source::Timm) => {
            let repeats: Vec<usize> = arch.stages.iter().map(|s| s.blocks.len()).collect();
            checkpoint::efficientnet_pytorch_to_timm(sd, &repeats)
        }
        _ => Ok(sd),
    }
}

/// Loads a checkpoint file into the chosen variant.
pub fn load_checkpoint(path: &Path, name: Option<&str>) -> Result<(Arch, ModelWeights)> {
    load_state_dict(path, checkpoint::load(path)?, name)
}

/// Like [`load_checkpoint`], for a state dict already read; `path` is its origin (its file name
/// may name the variant, and error reports mention it).
pub fn load_state_dict(
    path: &Path,
    sd: StateDict,
    name: Option<&str>,
) -> Result<(Arch, ModelWeights)> {
    let arch = choose_arch(path, &sd, name)?;
    let sd = remap(sd, &arch)?;
    let weights = weights_from_state_dict(&arch, &sd).map_err(|e| match e {
        Error::Weights { report } => Error::Weights {
            report: format!("{} as {}:\n{report}", path.display(), arch.name),
        },
        e => e,
    })?;
    Ok((arch, weights))
}
