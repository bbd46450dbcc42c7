//! The library API: an `Engine` owns (or shares) a GPU device; a `Model` is an architecture
//! with weights on the CPU; a `LoadedModel` has them on the GPU, is immutable and can be
//! shared across threads; each thread makes `Session`s (batch, resolution) from it.
//!
//! ```
//! use effnet::{Engine, Model, SessionOptions};
//! # fn main() -> effnet::Result<()> {
//! let engine = Engine::new()?; // the best adapter; fails with a hint when there is none
//! println!("running on {}", engine.describe());
//! // Rule-filled weights; `Model::from_file` reads a real checkpoint.
//! let model = engine.load(Model::synthetic("tf_efficientnet_lite0")?);
//! // A small resolution keeps this example fast on a software driver.
//! let options = SessionOptions { height: 32, width: 32, ..model.default_options(1) };
//! let mut session = model.session(options)?;
//! let output = session.run(&vec![0.5; 3 * 32 * 32])?;
//! assert_eq!(output.logits.len(), 1000);
//! # Ok(()) }
//! ```

mod images;

use crate::Result;
use crate::gpu::{Gpu, GpuWeights, Precision};
use crate::graph::{self, Input, Output, guard, lower};
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
    /// Opens the best adapter (`WGPU_BACKEND` / `WGPU_POWER_PREF` are honoured). Without
    /// one, `Error::NoAdapter` names the backends tried and how to install a driver.
    pub fn new() -> Result<Self> {
        Ok(Engine {
            gpu: Arc::new(Gpu::new()?),
        })
    }

    /// Shares a device the application already owns (`info`: `device.adapter_info()`).
    /// effnet installs its device-lost callback and uncaptured-error handler on it, so wgpu
    /// errors become `Error`s rather than panics. See `examples/shared_device.rs`.
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

    /// The adapter: name, vendor, device type, driver.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.gpu.info
    }

    /// The graphics API in use (Vulkan, Metal, DX12, GL).
    pub fn backend(&self) -> wgpu::Backend {
        self.gpu.info.backend
    }

    /// The features the device was opened with.
    pub fn features(&self) -> wgpu::Features {
        self.gpu.features
    }

    /// The device limits sessions are checked against.
    pub fn limits(&self) -> &wgpu::Limits {
        &self.gpu.limits
    }

    /// Uploads a model's weights in f32; the result is shared, immutable and cheap to clone. A
    /// failed upload (device lost, out of memory) is reported by the first `session` call.
    pub fn load(&self, model: Model) -> LoadedModel {
        self.upload(model, Precision::F32)
    }

    /// Uploads a model with weights and activations stored in `precision`.
    pub fn load_with_precision(&self, model: Model, precision: Precision) -> Result<LoadedModel> {
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

/// An architecture with its (batch-norm folded) weights, on the CPU.
#[derive(Clone, Debug)]
pub struct Model {
    pub arch: Arch,
    pub weights: ModelWeights,
    /// Class names where the checkpoint (its metadata or a hub `config.json`) gives them;
    /// `labels()` falls back to ImageNet's for 1000-class models.
    pub labels: Option<Vec<String>>,
}

impl Model {
    /// A model filled by the golden rule (`../shared/golden/README.md`): for tests and benchmarks.
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
    /// `name` (an explicit `--arch`), the file's metadata, a hub `config.json` beside it, a
    /// model name in the file or folder name, or the tensor shapes where only one model fits
    /// them (several that compute differently: an error naming them). The classifier takes
    /// the file's number of classes (none for a headless backbone). Hostile or damaged files
    /// give `Error::BadFile`, `Error::UnsafePickle` or `Error::Weights`, never a panic or
    /// code execution.
    pub fn from_file(path: &Path, name: Option<&str>) -> Result<Self> {
        Self::from_checkpoint(loader::load_checkpoint(path, name)?)
    }

    /// Like [`Model::from_file`], for a checkpoint already in memory; `path` names it (its file
    /// and folder name may identify the model; a `config.json` beside it is read).
    pub fn from_bytes(path: &Path, bytes: &[u8], name: Option<&str>) -> Result<Self> {
        let sd = crate::checkpoint::load_bytes(path, bytes)?;
        Self::from_checkpoint(loader::load_state_dict(path, sd, name)?)
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
            return Err(crate::Error::Input(format!(
                "{} class names for a model with {classes} classes; give one name per class, in \
                 class index order",
                labels.len()
            )));
        }
        self.labels = Some(labels);
        Ok(self)
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

    /// The device this model lives on.
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
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

    /// The largest batch whose tensors fit this device at `height`×`width`, or
    /// `Error::DeviceLimit` (naming the largest resolution that fits) when not even one image
    /// does. Allocates nothing: check this before decoding or resizing images for a session.
    pub fn max_batch(&self, height: usize, width: usize) -> Result<usize> {
        let limit = guard::tensor_limit(&self.gpu.limits);
        guard::max_batch(
            &self.model.arch,
            (height, width),
            self.weights.precision,
            limit,
        )
    }

    /// Makes every buffer, pipeline and bind group for these options. Sizes beyond the
    /// device's limits give `Error::DeviceLimit` with the largest batch or resolution that
    /// fits, before anything is allocated.
    pub fn session(&self, o: SessionOptions) -> Result<Session> {
        let limit = guard::tensor_limit(&self.gpu.limits);
        let size = (o.batch, o.height, o.width);
        guard::check_size(&self.model.arch, size, self.weights.precision, limit)?;
        let graph = lower(&self.model.arch, o.batch, o.height, o.width)?;
        let sizes = se_sizes(&self.model.arch);
        let inner = graph::Session::new(&self.gpu, &self.weights, &sizes, graph, o.capture_stages)?;
        Ok(Session {
            inner,
            options: o,
            gpu: self.gpu.clone(),
            preprocess: self.model.arch.preprocess,
        })
    }
}

/// A prepared forward pass for one batch size and resolution. Runs reuse every buffer:
/// nothing is allocated on the GPU per run.
pub struct Session {
    inner: graph::Session,
    options: SessionOptions,
    gpu: Arc<Gpu>,
    preprocess: crate::model::PreprocessSpec,
}

impl Session {
    pub fn options(&self) -> SessionOptions {
        self.options
    }

    /// Runs on NCHW f32 input of exactly `batch × 3 × height × width` values, blocking until
    /// the results are back.
    pub fn run(&mut self, input: &[f32]) -> Result<Output> {
        let inner = &self.inner;
        self.gpu.scoped("a forward pass", || inner.run(input))
    }

    /// Like `run`, without blocking the async executor: the future completes when the GPU
    /// is done (a helper thread waits in `Device::poll`; nothing spins).
    ///
    /// ```
    /// # use effnet::{Engine, Model, SessionOptions};
    /// # fn main() -> effnet::Result<()> {
    /// # let model = Engine::new()?.load(Model::synthetic("tf_efficientnet_lite0")?);
    /// let mut session = model.session(SessionOptions { height: 32, width: 32, ..model.default_options(1) })?;
    /// let output = pollster::block_on(session.run_async(&vec![0.0; 3 * 32 * 32]))?;
    /// assert_eq!(output.logits.len(), 1000);
    /// # Ok(()) }
    /// ```
    pub async fn run_async(&mut self, input: &[f32]) -> Result<Output> {
        self.gpu.check()?;
        let result = self.inner.run_async(Input::Host(input)).await;
        self.gpu.check()?;
        result
    }

    /// Runs on input already on the GPU: `buffer` (usage `COPY_SRC`, same device) holds NCHW
    /// values from offset 0 in the model's precision (f32 unless loaded with
    /// `load_with_precision`); it is copied into the session on the GPU, no CPU round trip.
    ///
    /// ```
    /// # use effnet::{Engine, Model, SessionOptions};
    /// use wgpu::util::DeviceExt;
    /// # fn main() -> effnet::Result<()> {
    /// let engine = Engine::new()?;
    /// let model = engine.load(Model::synthetic("tf_efficientnet_lite0")?);
    /// let mut session = model.session(SessionOptions { height: 32, width: 32, ..model.default_options(1) })?;
    /// let input = engine.gpu().device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
    ///     label: Some("app frame"),
    ///     contents: bytemuck::cast_slice(&vec![0.5f32; 3 * 32 * 32]),
    ///     usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
    /// });
    /// let from_gpu = session.run_gpu_buffer(&input)?;
    /// let from_host = session.run(&vec![0.5; 3 * 32 * 32])?;
    /// assert_eq!(from_gpu.logits, from_host.logits);
    /// # Ok(()) }
    /// ```
    pub fn run_gpu_buffer(&mut self, buffer: &wgpu::Buffer) -> Result<Output> {
        let inner = &self.inner;
        let input = Input::Gpu(buffer);
        self.gpu.scoped("a forward pass", || inner.run_from(input))
    }

    /// Runs on input already on the GPU and leaves the logits there: returns the buffer
    /// (`[batch, classes]` in the model's precision, usage `STORAGE | COPY_SRC`) without waiting. Work the app
    /// submits to the same queue afterwards sees the results; the next run overwrites them.
    pub fn run_on_gpu(&mut self, buffer: &wgpu::Buffer) -> Result<&wgpu::Buffer> {
        let inner = &self.inner;
        let input = Input::Gpu(buffer);
        self.gpu
            .scoped("a forward pass", || inner.run_on_gpu(input))
    }

    /// Runs on decoded images (exactly `batch` of them), preprocessed the way the model's
    /// checkpoint family expects (resize, centre crop, normalize).
    pub fn run_images(&mut self, images: &[image::RgbImage]) -> Result<Output> {
        let o = self.options;
        let input = images::to_tensor(images, &self.preprocess, o.batch, o.height, o.width)?;
        self.run(&input)
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
