//! `Model`: an architecture with its weights and class names, on the CPU.

use crate::model::rule::RuleSource;
use crate::model::{Arch, ModelWeights, load_weights, loader, resolve};
use crate::{Error, Result, imagenet};
use std::path::Path;

/// The bundled EfficientNet-Lite0 ImageNet checkpoint (f16 safetensors, about 9 MB), embedded
/// so that a program built on effnet needs no model files.
static BUNDLED_BYTES: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/assets/models/tf_efficientnet_lite0.f16.safetensors"
));

/// An architecture with its (batch-norm folded) weights, on the CPU;
/// [`Engine::load`](crate::Engine::load) puts it on the GPU.
#[derive(Clone, Debug)]
pub struct Model {
    /// The concrete network: layers, channels, default resolution, preprocessing.
    pub arch: Arch,
    /// The weights, laid out for `arch`.
    pub weights: ModelWeights,
    /// Class names where the checkpoint (its metadata or a hub `config.json`) gives them;
    /// [`Model::class_names`] falls back to ImageNet's for 1000-class models.
    pub labels: Option<Vec<String>>,
}

impl Model {
    /// Where the bundled model's bytes come from in effnet's source tree; error messages and
    /// reports name the bundled model by it.
    pub const BUNDLED_PATH: &'static str = "assets/models/tf_efficientnet_lite0.f16.safetensors";

    /// The bundled EfficientNet-Lite0 with its ImageNet weights (timm's
    /// `tf_efficientnet_lite0`, 224×224, 1000 classes): real predictions with no files.
    ///
    /// ```
    /// let model = effnet::Model::bundled()?;
    /// assert_eq!(model.arch.name, "tf_efficientnet_lite0");
    /// assert_eq!(model.class_names()[1], "goldfish, Carassius auratus");
    /// # Ok::<(), effnet::Error>(())
    /// ```
    pub fn bundled() -> Result<Self> {
        Self::from_bytes(Self::BUNDLED_PATH, BUNDLED_BYTES, None)
    }

    /// The bundled model's checkpoint file, as embedded (for `effnet train`, which writes the
    /// backbone's own tensors beside a new head).
    // Hidden, public for the binary and tests/; not a stable API.
    #[doc(hidden)]
    pub fn bundled_bytes() -> &'static [u8] {
        BUNDLED_BYTES
    }

    /// A model filled by the golden rule (`../shared/golden/README.md`): deterministic, not
    /// trained, so its answers mean nothing. For tests and benchmarks of any named variant
    /// (`effnet models` lists the names).
    pub fn synthetic(name: &str) -> Result<Self> {
        let arch = resolve(name, None)?;
        let weights = load_weights(&arch, &mut RuleSource)?;
        Ok(Model {
            arch,
            weights,
            labels: None,
        })
    }

    /// Loads a checkpoint (safetensors, PyTorch zip or legacy .pth). The model is, in order:
    /// `arch` (a name from `effnet models`), the file's metadata, a hub `config.json` beside
    /// it, a model name in the file or folder name, or the tensor shapes where only one model
    /// fits them (several that compute differently: an error naming them). The classifier
    /// takes the file's number of classes (none for a headless backbone). Hostile or damaged
    /// files give `Error::BadFile`, `Error::UnsafePickle` or `Error::Weights`, never a panic or
    /// code execution. An `arch` that contradicts the model the file's metadata or config
    /// names is refused (`Error::Input`, naming both): see [`Model::from_file_forced`].
    pub fn from_file(path: impl AsRef<Path>, arch: Option<&str>) -> Result<Self> {
        Self::from_checkpoint(loader::load_checkpoint(path.as_ref(), arch)?)
    }

    /// Like [`Model::from_file`], running the file as `arch` even where its own metadata or
    /// `config.json` names another model (which `from_file` refuses): the padding and
    /// preprocessing then are `arch`'s, not the ones the weights were made with.
    pub fn from_file_forced(path: impl AsRef<Path>, arch: &str) -> Result<Self> {
        Self::from_checkpoint(loader::load_checkpoint_forced(path.as_ref(), arch)?)
    }

    /// Like [`Model::from_file`], for a checkpoint already in memory; `path` names it (its file
    /// and folder name may identify the model; a `config.json` beside it is read).
    pub fn from_bytes(path: impl AsRef<Path>, bytes: &[u8], arch: Option<&str>) -> Result<Self> {
        let path = path.as_ref();
        let sd = crate::checkpoint::load_bytes(path, bytes)?;
        Self::from_checkpoint(loader::load_state_dict(path, sd, arch)?)
    }

    fn from_checkpoint(c: loader::LoadedCheckpoint) -> Result<Self> {
        Ok(Model {
            arch: c.arch,
            weights: c.weights,
            labels: c.labels,
        })
    }

    /// Replaces the class names (one per class; `Error::Input` when the count differs).
    pub fn with_labels(mut self, labels: Vec<String>) -> Result<Self> {
        let classes = self.arch.num_classes();
        if labels.len() != classes {
            return Err(Error::Input(format!(
                "{} class names for a model with {classes} classes; give one name per class, in \
                 class index order",
                labels.len()
            )));
        }
        self.labels = Some(labels);
        Ok(self)
    }

    /// One name per class, in class index order: the model's own (`labels`), else
    /// ImageNet's for a 1000-class model, else `class N`. Empty for a headless backbone.
    pub fn class_names(&self) -> Vec<String> {
        if let Some(labels) = &self.labels {
            return labels.clone();
        }
        let classes = self.arch.num_classes();
        if classes == imagenet::NUM_CLASSES {
            return (imagenet::classes().iter())
                .map(|c| c.label.to_string())
                .collect();
        }
        (0..classes).map(|i| format!("class {i}")).collect()
    }
}
