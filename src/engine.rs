//! The library API: an `Engine` owns (or shares) a GPU device; a `Model` is an architecture
//! with weights on the CPU; a `LoadedModel` has them on the GPU, is immutable and can be
//! shared across threads; each thread makes `Session`s (batch, resolution, output) from it.

mod asynchronous;
mod devices;
mod images;
mod model;
mod pool;
mod predict;
mod session;

pub use devices::{DEVICE_FORMS, Devices, distinct_adapters};
pub use model::Model;
pub use pool::Pool;
pub use predict::{Prediction, softmax, top_k};
pub use session::{OutputKind, Session, SessionOptions};

use crate::Result;
use crate::gpu::{Gpu, GpuWeights, Precision};
use crate::kernels::Family;
use crate::model::Arch;
use crate::runtime::guard;
use predict::Classes;
use std::sync::Arc;

/// A GPU device effnet runs on. Cheap to clone; clones share the device.
#[derive(Clone)]
pub struct Engine {
    gpu: Arc<Gpu>,
    /// The kernel family its sessions run unless their options choose one.
    kernels: Family,
}

impl Engine {
    /// Opens the best adapter (`WGPU_BACKEND` / `WGPU_POWER_PREF` are honoured). Without
    /// one, `Error::NoAdapter` names the backends tried and how to install a driver. Blocks:
    /// in a browser use [`Engine::new_async`].
    pub fn new() -> Result<Self> {
        Self::on_adapter(None)
    }

    /// Opens adapter `index` of [`Engine::adapters`] (`None`: `EFFNET_ADAPTER`, else the best
    /// one). An index past the list is `Error::Input` saying how many there are.
    pub fn on_adapter(index: Option<usize>) -> Result<Self> {
        // A misspelt EFFNET_KERNELS is an error before any work.
        Family::from_env()?;
        Ok(Self::from_gpu(Gpu::on_adapter(index)?))
    }

    /// Every adapter wgpu finds, in the order [`Engine::on_adapter`] counts them (empty in a
    /// browser, which offers its one adapter to [`Engine::new_async`]).
    pub fn adapters() -> Vec<wgpu::AdapterInfo> {
        Gpu::adapters()
    }

    /// Shares a device the application already owns (`info`: `device.adapter_info()`).
    /// effnet installs its device-lost callback and uncaptured-error handler on it, so wgpu
    /// errors become `Error`s rather than panics. See `examples/shared_device.rs`.
    pub fn from_device(device: wgpu::Device, queue: wgpu::Queue, info: wgpu::AdapterInfo) -> Self {
        Self::from_gpu(Gpu::from_device(device, queue, info))
    }

    /// An engine on `gpu` as given (tests and tools set its tuning first), running the
    /// family `EFFNET_KERNELS` names, else the adapter's default
    /// ([`Family::default_for`]). A variable naming no family leaves the default, with a
    /// note ([`Engine::notes`]): an app's own device cannot fail here.
    // Hidden, public for tests/ (a shared or tuned `Gpu`); not a stable API.
    #[doc(hidden)]
    pub fn from_gpu(mut gpu: Gpu) -> Self {
        let default = Family::default_for(gpu.info.device_type);
        let kernels = match Family::from_env() {
            Ok(chosen) => chosen.unwrap_or(default),
            Err(e) => {
                (gpu.notes).push(format!("{e}; the {} family runs", default.name()));
                default
            }
        };
        Engine {
            gpu: Arc::new(gpu),
            kernels,
        }
    }

    /// The same engine with its sessions running the kernels of `family` unless their
    /// options choose ([`SessionOptions::with_kernels`]).
    pub fn with_kernels(self, family: Family) -> Self {
        Engine {
            kernels: family,
            ..self
        }
    }

    /// The kernel family its sessions run unless their options choose.
    pub fn kernels(&self) -> Family {
        self.kernels
    }

    /// effnet's view of the device (tuning, limits, error scopes).
    // Hidden, public for `Trainer::new`, the binary, tests and benches; not a stable API.
    #[doc(hidden)]
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    /// The device, for the app's own buffers and work (e.g. input for
    /// [`Session::run_gpu_buffer`]).
    pub fn device(&self) -> &wgpu::Device {
        &self.gpu.device
    }

    /// The queue effnet submits to; work the app submits after a run sees its results.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.gpu.queue
    }

    /// Adapter name, backend and driver.
    pub fn describe(&self) -> String {
        self.gpu.describe()
    }

    /// What opening the device found worth a line to the user without stopping it: caches
    /// turned off (no home folder) or found damaged and started afresh.
    pub fn notes(&self) -> &[String] {
        &self.gpu.notes
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

    /// Uploads a model's weights with the default [`LoadOptions`] (f32). The result is
    /// shared, immutable and cheap to clone. A failed upload (device lost, out of GPU memory)
    /// is an error here.
    pub fn load(&self, model: Model) -> Result<LoadedModel> {
        self.load_with(model, LoadOptions::default())
    }

    /// Like [`Engine::load`], with options:
    ///
    /// ```
    /// use effnet::{Engine, LoadOptions, Model, Precision};
    /// # fn main() -> effnet::Result<()> {
    /// let Ok(engine) = Engine::new() else { return Ok(()) };
    /// let options = LoadOptions::default().with_precision(Precision::F16);
    /// let model = engine.load_with(Model::bundled()?, options)?;
    /// assert_eq!(model.precision(), Precision::F16);
    /// # Ok(()) }
    /// ```
    pub fn load_with(&self, model: Model, options: LoadOptions) -> Result<LoadedModel> {
        let weights = self.gpu.scoped("the model's weights", || {
            Ok(GpuWeights::new(
                &self.gpu,
                &model.weights,
                options.precision,
            ))
        })?;
        Ok(self.loaded(model, weights))
    }

    /// The model with its weights on this device.
    fn loaded(&self, model: Model, weights: GpuWeights) -> LoadedModel {
        let classes = Classes::new(model.class_names());
        LoadedModel {
            gpu: self.gpu.clone(),
            kernels: self.kernels,
            model: Arc::new(model),
            weights: Arc::new(weights),
            classes: Arc::new(classes),
        }
    }
}

/// How [`Engine::load_with`] puts a model on the GPU. `LoadOptions::default()` is what
/// [`Engine::load`] uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoadOptions {
    /// How weights and activations are stored (f32 by default; arithmetic is f32 either way).
    pub precision: Precision,
}

impl LoadOptions {
    /// The same options with weights and activations stored in `precision`.
    pub fn with_precision(self, precision: Precision) -> Self {
        LoadOptions { precision }
    }
}

/// A model on the GPU. Clone it into threads; make one [`Session`] per thread.
#[derive(Clone)]
pub struct LoadedModel {
    gpu: Arc<Gpu>,
    /// The engine's kernel family, for sessions that do not choose.
    kernels: Family,
    model: Arc<Model>,
    weights: Arc<GpuWeights>,
    /// Class names, resolved once for every prediction of every session.
    classes: Arc<Classes>,
}

impl LoadedModel {
    /// The architecture.
    pub fn arch(&self) -> &Arch {
        &self.model.arch
    }

    /// The model as loaded (architecture, CPU weights, class names).
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// One name per class ([`Model::class_names`]).
    pub fn class_names(&self) -> &[String] {
        &self.classes.names
    }

    /// The top `k` classes of one image's logits (a row of [`Output::logits`](crate::Output)),
    /// best first: for logits from [`Session::run`] and the other `run` methods. A row of
    /// another length is `Error::Shape`.
    pub fn predictions(&self, logits: &[f32], k: usize) -> Result<Vec<Prediction>> {
        let classes = self.classes.names.len();
        if logits.len() != classes {
            return Err(crate::Error::Shape {
                what: "the logits of one image (pass one row of a batch's logits; a model \
                       without a classifier has none)"
                    .into(),
                expected: vec![classes],
                got: vec![logits.len()],
            });
        }
        Ok(self.classes.predict(logits, k))
    }

    /// The device this model lives on.
    // Hidden, public for tests/ (errors.rs); not a stable API.
    #[doc(hidden)]
    pub fn gpu(&self) -> &Gpu {
        &self.gpu
    }

    /// How weights and activations are stored on the GPU.
    pub fn precision(&self) -> Precision {
        self.weights.precision
    }

    /// Kernel shapes sessions of this model use.
    pub(crate) fn tuning(&self) -> crate::gpu::Tuning {
        self.gpu.tuning
    }

    /// The adapter this model lives on, in words.
    pub fn gpu_description(&self) -> String {
        self.gpu.describe()
    }

    /// Options for `batch` images at the model's default resolution, logits only.
    pub fn default_options(&self, batch: usize) -> SessionOptions {
        let r = self.model.arch.resolution;
        SessionOptions::new(batch, r, r)
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
    pub fn session(&self, options: SessionOptions) -> Result<Session> {
        Session::new(self, options)
    }
}
