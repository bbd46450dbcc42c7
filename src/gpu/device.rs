//! The GPU: adapter selection, or an app's own device and queue.

use crate::{Error, Result};

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
}

impl Gpu {
    /// Picks the best adapter of the backends in `WGPU_BACKEND` (all by default) and opens a
    /// device with the adapter's own limits, so large models and batches fit where they can.
    pub fn new() -> Result<Self> {
        pollster::block_on(Self::new_async())
    }

    pub async fn new_async() -> Result<Self> {
        let desc = wgpu::InstanceDescriptor::new_without_display_handle().with_env();
        let backends = format!("{:?}", desc.backends);
        let instance = wgpu::Instance::new(desc);
        let options = wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::from_env()
                .unwrap_or(wgpu::PowerPreference::HighPerformance),
            ..Default::default()
        };
        let adapter = instance
            .request_adapter(&options)
            .await
            .map_err(|_| Error::NoAdapter { backends })?;
        let limits = adapter.limits();
        // Half precision and timestamps where the adapter has them; nothing else is needed.
        let features =
            adapter.features() & (wgpu::Features::SHADER_F16 | wgpu::Features::TIMESTAMP_QUERY);
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("effnet"),
                required_features: features,
                required_limits: limits.clone(),
                ..Default::default()
            })
            .await
            .map_err(|e| Error::Gpu(format!("cannot open the device: {e}")))?;
        let info = adapter.get_info();
        let tuning = super::tuning::cached(&info).unwrap_or_default();
        Ok(Gpu {
            device,
            queue,
            info,
            limits,
            features,
            tuning,
        })
    }

    /// Wraps a device the application already owns, so effnet shares it.
    pub fn from_device(device: wgpu::Device, queue: wgpu::Queue, info: wgpu::AdapterInfo) -> Self {
        let limits = device.limits();
        let features = device.features();
        let tuning = super::tuning::cached(&info).unwrap_or_default();
        Gpu {
            device,
            queue,
            info,
            limits,
            features,
            tuning,
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
}
