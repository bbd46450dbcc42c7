//! Which model a checkpoint is. In order: the name the caller gives (`--arch`), the file's own
//! metadata (converted files), a hub `config.json` beside it, a known name in the file or
//! folder name, then the tensor shapes. Where shapes fit several models that compute
//! differently (timm's `efficientnet_b0` and `tf_efficientnet_b0` share every shape but pad
//! and normalise differently), it refuses and names the candidates: a silent guess there would
//! give wrong answers with no warning.

use super::arch::{Arch, Source};
use super::hub::{self, Described};
use super::keys::{describe_scheme, remap, same_shape, scheme_of};
use super::meta::{META_SOURCE, META_VARIANT};
use super::variants::{known_names, qualified_name, resolve};
use super::weights::expected_tensors;
use crate::checkpoint::{KeyScheme, StateDict, Tensor, detect_scheme};
use crate::{Error, Result};
use std::path::Path;

/// A checkpoint's model: the architecture (classes as the file has them, the preprocessing of
/// its source or its config) and its class names where the file or its config gives them.
#[derive(Clone, Debug)]
pub struct Identified {
    /// The architecture.
    pub arch: Arch,
    /// Class names, where the file or its config gives them.
    pub labels: Option<Vec<String>>,
    /// How the model was found, for reports: `--arch`, `metadata`, `config.json`, ...
    pub by: &'static str,
    /// Whether the preprocessing is the model's own (a hub config's), not its source's
    /// defaults.
    pub own_preprocess: bool,
}

/// Chooses the model of the checkpoint at `path` (its tensors in `sd`); `name` is the
/// caller's `--arch`. A `name` that contradicts the model the file's own metadata or
/// `config.json` names is refused, naming both: it would silently replace the padding and
/// preprocessing recorded with the weights. With `force` (`--force-arch`) `name` is taken
/// anyway.
pub fn identify_as(
    path: &Path,
    sd: &StateDict,
    name: Option<&str>,
    force: bool,
) -> Result<Identified> {
    let scheme = detect_scheme(sd);
    let described = hub::describe(path, sd)?;
    let (arch, by) = if let Some(n) = name {
        let mut arch = resolve_for(n, scheme)?;
        if !force {
            let own = refuse_contradiction(path, sd, described.as_ref(), (n, &arch), scheme)?;
            arch = own.unwrap_or(arch);
        }
        (arch, "--arch")
    } else if let Some(n) = sd.metadata.get(META_VARIANT) {
        (from_metadata(n, sd)?, "metadata")
    } else if let Some(n) = described.as_ref().and_then(|d| d.architecture.as_deref()) {
        (resolve_for(n, scheme)?, "config.json")
    } else if let Some(n) = mmpretrain_meta(sd, scheme) {
        (resolve_for(n, scheme)?, "the checkpoint's meta")
    } else if let Some(n) = name_in_path(path, scheme) {
        (resolve_for(&n, scheme)?, "file name")
    } else {
        (by_shapes(path, sd, scheme)?, "tensor shapes")
    };
    let classes = classes_in(sd, &arch, scheme);
    let arch = arch.with_classes(classes);
    let own_preprocess = described
        .as_ref()
        .is_some_and(|d| d.preprocess != Default::default());
    let (arch, labels) = match described {
        Some(d) => d.apply(path, arch)?,
        None => (arch, None),
    };
    Ok(Identified {
        arch,
        labels,
        by,
        own_preprocess,
    })
}

/// Refuses `--arch` naming another model than the file's metadata or its `config.json` does.
/// A bare name that is the file's own model in its framework (`efficientnet_b0` for a file
/// converted from `mindcv:efficientnet_b0`, whose keys are now torchvision's) is that model:
/// `Some` of it.
fn refuse_contradiction(
    path: &Path,
    sd: &StateDict,
    described: Option<&Described>,
    (name, chosen): (&str, &Arch),
    scheme: Option<KeyScheme>,
) -> Result<Option<Arch>> {
    let own = match sd.metadata.get(META_VARIANT) {
        Some(n) => Some((from_metadata(n, sd), "its metadata")),
        None => (described.and_then(|d| d.architecture.as_deref()))
            .map(|n| (resolve_for(n, scheme), "the config.json beside it")),
    };
    // A name the file gives that no longer resolves cannot be contradicted: --arch decides.
    let Some((Ok(own_arch), whose)) = own else {
        return Ok(None);
    };
    let (own, chosen) = (qualified_name(&own_arch), qualified_name(chosen));
    if own == chosen {
        return Ok(None);
    }
    if resolve(name, Some(own_arch.source)).is_ok_and(|a| qualified_name(&a) == own) {
        return Ok(Some(own_arch));
    }
    Err(Error::Input(format!(
        "{}: --arch says {chosen} but {whose} says {own}, whose padding and preprocessing \
         the weights were made with; leave --arch out to use the file's own, or pass \
         --force-arch to run it as {chosen} anyway",
        path.display()
    )))
}

/// The model name mmpretrain writes into its checkpoints' `meta` (`efficientnet-b0_3rdparty_8xb32_in1k`).
fn mmpretrain_meta(sd: &StateDict, scheme: Option<KeyScheme>) -> Option<&str> {
    let name = sd.metadata.get("meta.model")?;
    let mmpretrain = Some(Source::Mmpretrain);
    (scheme == Some(KeyScheme::Mmpretrain) && super::frameworks::find(name, mmpretrain).is_some())
        .then_some(name.as_str())
}

/// `name`, from the library whose keys the file uses where both libraries have that name.
fn resolve_for(name: &str, scheme: Option<KeyScheme>) -> Result<Arch> {
    let source = match scheme {
        Some(KeyScheme::Torchvision) => Some(Source::Torchvision),
        Some(KeyScheme::Timm | KeyScheme::EfficientNetPytorch) => Some(Source::Timm),
        Some(KeyScheme::Mmpretrain) => Some(Source::Mmpretrain),
        Some(KeyScheme::MindVision) => Some(Source::MindVision),
        Some(KeyScheme::MindCv) => Some(Source::MindCv),
        None => None,
    };
    // A bare name picks the file's library where it has the name, else whichever has it.
    let bare = name.split('.').next().unwrap_or(name);
    resolve(bare, source).or_else(|_| resolve(bare, None))
}

/// Converted files name the model exactly; older ones without the `torchvision:` prefix
/// still say which library in `effnet.key_scheme`.
fn from_metadata(name: &str, sd: &StateDict) -> Result<Arch> {
    let source = match sd.metadata.get(META_SOURCE).map(String::as_str) {
        Some("torchvision") => Some(Source::Torchvision),
        Some("timm") => Some(Source::Timm),
        _ => None,
    };
    // A framework's model is converted to its network's key names, but its name keeps the
    // framework's prefix, which wins over the key scheme.
    resolve(name, source)
}

/// A known model name in the file name, else in its folder's (hub downloads are
/// `NAME/model.safetensors`; the Hugging Face cache keeps `models--ORG--NAME/snapshots/HASH/`).
fn name_in_path(path: &Path, scheme: Option<KeyScheme>) -> Option<String> {
    let mut names: Vec<String> = known_names();
    // Longest first, so `tf_efficientnet_lite0` wins over `efficientnet_lite0`.
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let file = path.file_name()?.to_string_lossy().to_lowercase();
    let folders: Vec<String> = (path.ancestors().skip(1).take(4))
        .filter_map(|p| p.file_name())
        .map(|s| s.to_string_lossy().to_lowercase().replace('-', "_"))
        .collect();
    let cache_folder = folders
        .iter()
        .position(|f| f == "snapshots")
        .and_then(|i| folders.get(i + 1));
    let candidates = std::iter::once(&file)
        .chain(folders.first())
        .chain(cache_folder);
    for text in candidates {
        let found = names.iter().find(|n| {
            let bare = n.split(':').next_back().unwrap_or(n);
            text.contains(bare) && source_fits(n, scheme)
        });
        if let Some(n) = found {
            return Some(n.clone());
        }
    }
    None
}

/// Whether the model `name` can have keys of `scheme` (efficientnet_pytorch files are ports of
/// the TensorFlow weights, so they load into timm's `tf_*` models).
fn source_fits(name: &str, scheme: Option<KeyScheme>) -> bool {
    let Ok(arch) = resolve(name, None) else {
        return false;
    };
    match scheme {
        Some(KeyScheme::EfficientNetPytorch) => arch.name.starts_with("tf_"),
        Some(scheme) => scheme_of(arch.source) == scheme,
        None => true,
    }
}

/// The models whose every tensor the file has, with the right shape, and nothing else; one
/// is taken, several are refused.
fn by_shapes(path: &Path, sd: &StateDict, scheme: Option<KeyScheme>) -> Result<Arch> {
    // Shapes only: candidates are renamed and compared without copying any tensor data.
    let probe = StateDict {
        tensors: (sd.tensors.iter())
            .map(|(k, t)| {
                (
                    k.clone(),
                    Tensor {
                        shape: t.shape.clone(),
                        data: vec![],
                    },
                )
            })
            .collect(),
        metadata: Default::default(),
    };
    let fitting: Vec<(String, Arch)> = known_names()
        .into_iter()
        .filter(|n| source_fits(n, scheme))
        .filter_map(|n| resolve(&n, None).ok().map(|a| (n, a)))
        .map(|(n, a)| {
            let classes = classes_in(sd, &a, scheme);
            (n, a.with_classes(classes))
        })
        .filter(|(_, a)| shapes_fit(a, &probe))
        .collect();
    match &fitting[..] {
        [(_, arch)] => Ok(arch.clone()),
        [] => Err(Error::bad_file(
            path,
            format!(
                "cannot tell which EfficientNet this checkpoint is: its tensors fit no known model \
                 ({}); pass the model name with --arch NAME (`effnet models` lists them)",
                describe_scheme(scheme)
            ),
        )),
        several => {
            let names: Vec<&str> = several.iter().map(|(n, _)| n.as_str()).collect();
            Err(Error::bad_file(
                path,
                format!(
                    "the tensors fit {} models that pad, normalise or preprocess differently: {}; \
                     pass the one it is with --arch NAME (e.g. --arch {}), or keep the hub's \
                     config.json beside the file",
                    names.len(),
                    names.join(", "),
                    names[0]
                ),
            ))
        }
    }
}

/// Whether `arch` takes exactly the tensors of `probe` (after renaming to its key scheme).
fn shapes_fit(arch: &Arch, probe: &StateDict) -> bool {
    let Ok(sd) = remap(probe.clone(), arch) else {
        return false;
    };
    let expected = expected_tensors(arch);
    expected.len() == sd.tensors.len()
        && expected.iter().all(|(key, shape)| {
            sd.tensors
                .get(key)
                .is_some_and(|t| same_shape(&t.shape, shape))
        })
}

/// Rows of the classifier weight in the file: fine-tuned heads have any number, a headless
/// backbone none (then the model has no classifier). Without a classifier key of `arch`'s
/// scheme, 0; the strict load reports any other key that does not fit.
fn classes_in(sd: &StateDict, arch: &Arch, scheme: Option<KeyScheme>) -> usize {
    let Some(c) = &arch.classifier else { return 0 };
    let key = match scheme {
        Some(KeyScheme::EfficientNetPytorch) => "_fc.weight",
        Some(KeyScheme::Mmpretrain) => "head.fc.weight",
        Some(KeyScheme::MindVision) => "head.dense.weight",
        Some(KeyScheme::MindCv) => "mlp_head.weight",
        _ => c.weight.as_str(),
    };
    let classifier_like = ["classifier", "_fc", "head.fc", "head.dense", "mlp_head"];
    match sd.tensors.get(key) {
        Some(t) => t.shape.first().copied().unwrap_or(0),
        None if (sd.tensors.keys()).any(|k| classifier_like.iter().any(|c| k.contains(c))) => {
            c.out_features
        }
        None => 0,
    }
}

/// What a hub `config.json` or a converted file's metadata adds to the model.
impl Described {
    fn apply(self, path: &Path, mut arch: Arch) -> Result<(Arch, Option<Vec<String>>)> {
        if let Some(classes) = self.num_classes
            && classes != arch.num_classes()
        {
            return Err(Error::bad_file(
                path,
                format!(
                    "{} says num_classes {classes} but the checkpoint's classifier has {} classes; \
                     fix the config or use the matching checkpoint",
                    self.origin,
                    arch.num_classes()
                ),
            ));
        }
        self.preprocess.apply(&mut arch);
        let labels = match self.labels {
            Some(l) if l.len() != arch.num_classes() => {
                return Err(Error::bad_file(
                    path,
                    format!(
                        "{} has {} class names but the model has {} classes; fix the names or \
                         pass --labels FILE",
                        self.origin,
                        l.len(),
                        arch.num_classes()
                    ),
                ));
            }
            l => l,
        };
        Ok((arch, labels))
    }
}
