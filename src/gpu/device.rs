//! The GPU: adapter selection, or an app's own device and queue; and turning wgpu's
//! out-of-band failures (validation errors, out of memory, device loss) into `Error`s.

use crate::{Error, Result};
use std::sync::{Arc, Mutex};

/// Environment variable naming the adapter to open, by its index in [`Gpu::adapters`].
pub(crate) const ADAPTER_ENV: &str = "EFFNET_ADAPTER";

/// A device and queue with what we know about them.
#[derive(Clone)]
pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    pub features: wgpu::Features,
    /// Kernel shapes for this adapter: the cached result of `effnet tune`, or the defaults.
    /// Public so callers (and tests) can try other shapes.
    pub tuning: super::Tuning,
    /// The fewest lanes a subgroup has on this device; 0 without the SUBGROUP feature.
    pub subgroup_lanes: u32,
    /// Store f16 as native `f16` (SHADER_F16); otherwise as packed pairs in `u32` words.
    /// Public so tests can exercise the packed path on any adapter.
    pub native_f16: bool,
    /// The driver's pipeline cache, persisted on disk (`pipeline_cache.rs`), where the device
    /// has one.
    pub(crate) pipeline_cache: Option<Arc<super::pipeline_cache::DiskCache>>,
    /// What the user may want to know of opening the device that did not stop it: caches
    /// turned off (no home folder) or found damaged and started afresh. One line each; the
    /// `effnet` command prints them as notes.
    pub notes: Vec<String>,
    /// Whether the device enabled the cooperative matrices the GPU family's tensor-core
    /// kernels need (`gpu::coop`), or why not.
    pub(crate) coop_f16: std::result::Result<(), String>,
    health: Arc<Health>,
}

/// What the device callbacks report. wgpu's default uncaptured-error handler panics, which
/// a library must never do; ours records the message for the next call to return.
#[derive(Default)]
struct Health {
    lost: Mutex<Option<String>>,
    uncaptured: Mutex<Option<String>>,
}

impl Gpu {
    /// Picks the best adapter of the backends in `WGPU_BACKEND` (all by default), or the one
    /// `EFFNET_ADAPTER=N` names, and opens a device with the adapter's own limits, so large
    /// models and batches fit where they can.
    pub fn new() -> Result<Self> {
        Self::on_adapter(None)
    }

    /// Opens adapter `index` of [`Gpu::adapters`] (`None`: `EFFNET_ADAPTER`, else the best
    /// one). Blocks: in a browser use [`Gpu::on_adapter_async`].
    pub(crate) fn on_adapter(index: Option<usize>) -> Result<Self> {
        #[cfg(not(target_arch = "wasm32"))]
        return pollster::block_on(Self::on_adapter_async(index));
        #[cfg(target_arch = "wasm32")]
        Err(super::blocking_in_browser(
            &format!("Engine::on_adapter({index:?})"),
            "Engine::new_async",
        ))
    }

    /// Like `new`, without blocking.
    pub(crate) async fn new_async() -> Result<Self> {
        Self::on_adapter_async(None).await
    }

    /// Like `on_adapter`, without blocking.
    pub(crate) async fn on_adapter_async(index: Option<usize>) -> Result<Self> {
        let desc = wgpu::InstanceDescriptor::new_without_display_handle().with_env();
        let backends = format!("{:?}", desc.backends);
        let all = desc.backends;
        let instance = wgpu::Instance::new(desc);
        let chosen = index
            .map(|i| i.to_string())
            .or(std::env::var(ADAPTER_ENV).ok());
        let adapter = match chosen {
            Some(n) => Self::nth_adapter(&instance, all, &n).await?,
            None => {
                let options = wgpu::RequestAdapterOptions {
                    power_preference: wgpu::PowerPreference::from_env()
                        .unwrap_or(wgpu::PowerPreference::HighPerformance),
                    ..Default::default()
                };
                (instance.request_adapter(&options).await).map_err(|e| no_adapter(backends, e))?
            }
        };
        let limits = adapter.limits();
        // Half precision, subgroups and timestamps where the adapter has them, and the
        // cooperative matrices of the tensor-core kernels where it has their shape; nothing
        // else is needed.
        let info = adapter.get_info();
        let shapes = adapter.cooperative_matrix_properties();
        let coop_f16 = super::coop::f16_tiles(adapter.features(), &shapes, &info)
            .and_then(|()| super::coop::opted_in());
        let features = adapter.features()
            & (wgpu::Features::SHADER_F16
                | wgpu::Features::SUBGROUP
                | wgpu::Features::TIMESTAMP_QUERY
                | wgpu::Features::PIPELINE_CACHE)
            | super::coop::features(&coop_f16);
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("effnet"),
                required_features: features,
                required_limits: limits.clone(),
                experimental_features: super::coop::experimental(&coop_f16),
                ..Default::default()
            })
            .await
            .map_err(|e| Error::Gpu(format!("cannot open the device: {e}")))?;
        let mut gpu = Self::from_device(device, queue, info);
        gpu.coop_f16 = coop_f16;
        Ok(gpu)
    }

    /// Every adapter wgpu finds on the backends in `WGPU_BACKEND` (all by default), in the
    /// order `EFFNET_ADAPTER` / `effnet --device N` count them.
    pub fn adapters() -> Vec<wgpu::AdapterInfo> {
        // A page cannot block for the list; a browser offers its one adapter to
        // `request_adapter` anyway.
        if cfg!(target_arch = "wasm32") {
            return Vec::new();
        }
        let desc = wgpu::InstanceDescriptor::new_without_display_handle().with_env();
        let backends = desc.backends;
        let instance = wgpu::Instance::new(desc);
        let found = pollster::block_on(instance.enumerate_adapters(backends));
        found.iter().map(|a| a.get_info()).collect()
    }

    async fn nth_adapter(
        instance: &wgpu::Instance,
        backends: wgpu::Backends,
        n: &str,
    ) -> Result<wgpu::Adapter> {
        let mut found = instance.enumerate_adapters(backends).await;
        let count = found.len();
        match n.trim().parse::<usize>() {
            Ok(i) if i < count => Ok(found.swap_remove(i)),
            _ => Err(Error::Input(format!(
                "adapter {n} was asked for (--device or {ADAPTER_ENV}) but there are {count} \
                 adapters, numbered from 0; `effnet devices` lists them"
            ))),
        }
    }

    /// Wraps a device the application already owns, so effnet shares it. Installs effnet's
    /// device-lost callback and uncaptured-error handler on it (replacing any the app set).
    pub(crate) fn from_device(
        device: wgpu::Device,
        queue: wgpu::Queue,
        info: wgpu::AdapterInfo,
    ) -> Self {
        let limits = device.limits();
        let features = device.features();
        let subgroup_lanes = if features.contains(wgpu::Features::SUBGROUP) {
            info.subgroup_min_size
        } else {
            0
        };
        let (tuning, tuning_note) = super::tuning::cached(&info, subgroup_lanes);
        let tuning = tuning.unwrap_or_else(|| super::Tuning::default_for(&info, subgroup_lanes));
        let no_cache = super::tuning::cache_dir().err();
        let health = Arc::new(Health::default());
        let h = health.clone();
        device.set_device_lost_callback(move |reason, message| {
            *h.lost.lock().unwrap_or_else(|p| p.into_inner()) =
                Some(format!("{reason:?}: {message}"));
        });
        let h = health.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            *h.uncaptured.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
        }));
        let (pipeline_cache, pipeline_note) = super::pipeline_cache::open(&device, &info);
        let pipeline_cache = pipeline_cache.map(Arc::new);
        // A browser has no cache folder, and no one to tell.
        let no_cache = no_cache.filter(|_| !cfg!(target_arch = "wasm32"));
        Gpu {
            notes: [no_cache, tuning_note, pipeline_note]
                .into_iter()
                .flatten()
                .collect(),
            pipeline_cache,
            native_f16: features.contains(wgpu::Features::SHADER_F16),
            device,
            queue,
            info,
            limits,
            features,
            tuning,
            subgroup_lanes,
            coop_f16: Err(
                "an application's own device: effnet cannot see which cooperative \
                           matrix shapes its adapter has"
                    .into(),
            ),
            health,
        }
    }

    /// The tuning a session in `precision` describes its kernels with: the adapter's, with
    /// the cooperative-matrix kernels allowed where the device enabled them and storage is
    /// native f16 (`Tuning::gpu_coop_f16`).
    pub(crate) fn session_tuning(&self, precision: super::Precision) -> super::Tuning {
        let storage = crate::kernels::formats::Storage::for_precision(precision, self.native_f16);
        super::Tuning {
            gpu_coop_f16: self.coop_f16.is_ok() && storage == crate::kernels::formats::Storage::F16,
            ..self.tuning
        }
    }

    /// One line naming the adapter, backend and driver.
    pub fn describe(&self) -> String {
        let i = &self.info;
        format!(
            "{} ({:?}, {} {})",
            i.name, i.backend, i.driver, i.driver_info
        )
    }

    /// Why the device was lost, once it has been.
    pub(crate) fn lost_reason(&self) -> Option<String> {
        self.health
            .lost
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// `Error::DeviceLost` once the device is gone; else a pending uncaptured error, if any.
    pub(crate) fn check(&self) -> Result<()> {
        if let Some(reason) = self.lost_reason() {
            return Err(Error::DeviceLost { reason });
        }
        let pending = self
            .health
            .uncaptured
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        match pending {
            Some(message) => Err(Error::Gpu(message)),
            None => Ok(()),
        }
    }

    /// Runs `f` inside validation and out-of-memory error scopes, so a failure inside becomes
    /// this call's error instead of a panic or a message to some other call. A lost device
    /// wins over whatever else went wrong, since it explains it. In a browser this is an
    /// error (nothing may block there): use [`Gpu::scoped_async`].
    pub(crate) fn scoped<T>(&self, what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        #[cfg(not(target_arch = "wasm32"))]
        return pollster::block_on(self.scoped_async(what, f));
        #[cfg(target_arch = "wasm32")]
        {
            drop(f);
            Err(super::blocking_in_browser(what, "the `_async` method"))
        }
    }

    /// Like [`Gpu::scoped`], awaiting the error scopes instead of blocking on them.
    pub(crate) async fn scoped_async<T>(
        &self,
        what: &str,
        f: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        self.check()?;
        let oom = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let result = f();
        let invalid = validation.pop().await;
        let out_of_memory = oom.pop().await;
        self.check()?;
        if let Some(e) = out_of_memory {
            return Err(Error::OutOfMemory {
                what: what.into(),
                message: e.to_string(),
            });
        }
        if let Some(e) = invalid {
            return Err(Error::Gpu(format!("{what}: {e}")));
        }
        result
    }
}

/// No adapter: natively a missing driver; in a browser, WebGPU missing or turned off.
fn no_adapter(backends: String, e: wgpu::RequestAdapterError) -> Error {
    if cfg!(target_arch = "wasm32") {
        return Error::NoWebGpu {
            reason: e.to_string(),
        };
    }
    Error::NoAdapter { backends }
}
