//! The library API: an `Engine` owns (or shares) a GPU device; a `Model` is an architecture
//! with weights on the CPU; a `LoadedModel` has them on the GPU, is immutable and can be
//! shared across threads; each thread makes `Session`s (batch, resolution) from it.

use crate::Result;
use crate::gpu::{Gpu, GpuWeights, Precision};
use crate::graph::{self, Output, lower};
use crate::model::rule::RuleSource;
use crate::model::weights::se_sizes;
use crate::model::{Arch, ModelWeights, load_weights, loader, resolve};
use std::path::Path;
use std::sync::Arc;

/// A GPU device effnet runs on.
#[derive(Clone)]
pub struct Engine {
    gpu: Arc<Gpu>,
}

impl Engine {
    /// Opens the best adapter (`WGPU_BACKEND` / `WGPU_POWER_PREF` are honoured).
    pub fn new() -> Result<Self> {
        Ok(Engine {
            gpu: Arc::new(Gpu::new()?),
        })
    }

    /// Shares a device the application already owns.
    pub fn from_device(device: wgpu::Device, queue: wgpu::Queue, info: wgpu::AdapterInfo) -> Self {
        Engine {
            gpu: Arc::new(Gpu::from_device(device, queue, info)),
        }
    }

    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    /// Adapter name, backend and driver.
    pub fn describe(&self) -> String {
        self.gpu.describe()
    }

    /// Uploads a model's weights in f32; the result is shared, immutable and cheap to clone.
    pub fn load(&self, model: Model) -> LoadedModel {
        self.upload(model, Precision::F32)
    }

    /// Uploads a model with weights and activations stored in `precision`.
    pub fn load_with_precision(&self, model: Model, precision: Precision) -> Result<LoadedModel> {
        check_precision(&self.gpu, precision)?;
        Ok(self.upload(model, precision))
    }

    fn upload(&self, model: Model, precision: Precision) -> LoadedModel {
        let weights = GpuWeights::new(&self.gpu, &model.weights, precision);
        LoadedModel {
            gpu: self.gpu.clone(),
            model: Arc::new(model),
            weights: Arc::new(weights),
        }
    }
}

/// f16 storage needs the adapter's SHADER_F16 feature.
pub fn check_precision(gpu: &Gpu, precision: Precision) -> Result<()> {
    if precision == Precision::F16 && !gpu.features.contains(wgpu::Features::SHADER_F16) {
        return Err(crate::Error::Input(format!(
            "{} has no SHADER_F16 feature, so f16 storage is unavailable; use --precision f32",
            gpu.info.name
        )));
    }
    Ok(())
}

/// An architecture with its (batch-norm folded) weights, on the CPU.
#[derive(Clone, Debug)]
pub struct Model {
    pub arch: Arch,
    pub weights: ModelWeights,
}

impl Model {
    /// A model filled by the golden rule (`../shared/golden/README.md`): for tests and benchmarks.
    pub fn synthetic(name: &str) -> Result<Self> {
        let arch = resolve(name, None)?;
        let weights = load_weights(&arch, &mut RuleSource)?;
        Ok(Model { arch, weights })
    }

    /// Loads a checkpoint (safetensors, PyTorch zip or legacy .pth). `name` picks the variant
    /// when the file does not say.
    pub fn from_file(path: &Path, name: Option<&str>) -> Result<Self> {
        let (arch, weights) = loader::load_checkpoint(path, name)?;
        Ok(Model { arch, weights })
    }
}

/// A model on the GPU. Clone it into threads; make one `Session` per thread.
#[derive(Clone)]
pub struct LoadedModel {
    gpu: Arc<Gpu>,
    model: Arc<Model>,
    weights: Arc<GpuWeights>,
}

/// What a session is prepared for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionOptions {
    pub batch: usize,
    pub height: usize,
    pub width: usize,
    /// Return every stage's output (stem, each stage, head) with the logits.
    pub capture_stages: bool,
}

impl LoadedModel {
    pub fn arch(&self) -> &Arch {
        &self.model.arch
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// How weights and activations are stored on the GPU.
    pub fn precision(&self) -> Precision {
        self.weights.precision
    }

    /// Kernel shapes sessions of this model use.
    pub fn tuning(&self) -> crate::gpu::Tuning {
        self.gpu.tuning
    }

    /// The adapter this model lives on, in words.
    pub fn gpu_description(&self) -> String {
        self.gpu.describe()
    }

    /// Options for `batch` images at the model's default resolution.
    pub fn default_options(&self, batch: usize) -> SessionOptions {
        let r = self.model.arch.resolution;
        SessionOptions {
            batch,
            height: r,
            width: r,
            capture_stages: false,
        }
    }

    /// Makes every buffer, pipeline and bind group for these options.
    pub fn session(&self, o: SessionOptions) -> Result<Session> {
        let graph = lower(&self.model.arch, o.batch, o.height, o.width)?;
        let sizes = se_sizes(&self.model.arch);
        let inner = graph::Session::new(&self.gpu, &self.weights, &sizes, graph, o.capture_stages)?;
        Ok(Session { inner, options: o })
    }
}

/// A prepared forward pass for one batch size and resolution.
pub struct Session {
    inner: graph::Session,
    options: SessionOptions,
}

impl Session {
    pub fn options(&self) -> SessionOptions {
        self.options
    }

    /// Runs on NCHW f32 input of exactly `batch × 3 × height × width` values.
    pub fn run(&mut self, input: &[f32]) -> Result<Output> {
        self.inner.run(input)
    }

    /// Runs with a GPU timestamp around every dispatch (see `bench`).
    pub fn run_profiled(
        &mut self,
        input: &[f32],
        timer: &graph::Timer,
    ) -> Result<(Output, graph::Profile)> {
        self.inner.run_profiled(input, timer)
    }

    /// Timestamp queries sized for this session; an error where the adapter has none.
    pub fn timer(&self) -> Result<graph::Timer> {
        self.inner.timer()
    }

    /// The lowered graph this session runs.
    pub fn graph(&self) -> &graph::Graph {
        self.inner.graph()
    }

    pub fn dispatch_count(&self) -> usize {
        self.inner.dispatch_count()
    }

    pub fn pipeline_count(&self) -> usize {
        self.inner.pipeline_count()
    }
}
