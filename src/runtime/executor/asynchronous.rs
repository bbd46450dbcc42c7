//! The executor's non-blocking half: preparing a session and waiting for a run without
//! blocking the caller's thread. Natively a helper thread waits in `Device::poll`; in a
//! browser there are no threads and `poll` does nothing, but the browser resolves the map
//! itself from its event loop, so awaiting the callback is all it takes.

use super::{Executor, Input};
use crate::gpu::{Gpu, GpuWeights, oneshot};
use crate::graph::{Graph, Output};
use crate::kernels::candidates::Choice;
use crate::{Error, Result};

impl Executor {
    /// Like `new`, awaiting the device's verdict on the buffers and pipelines instead
    /// of blocking for it (the only way in a browser).
    pub(crate) async fn new_async(
        gpu: &Gpu,
        weights: &GpuWeights,
        graph: Graph,
        capture_stages: bool,
        kernels: impl Into<Choice>,
    ) -> Result<Self> {
        let kernels = kernels.into();
        gpu.scoped_async("the session's buffers and pipelines", || {
            Self::build(gpu, weights, graph, capture_stages, kernels)
        })
        .await
    }

    /// Like `run_from`, but waits for the GPU without blocking the caller's executor.
    pub(crate) async fn run_async(&self, input: Input<'_>) -> Result<Output> {
        let index = self.submit(input, false)?;
        let (done, mapped) = oneshot::channel();
        self.staging
            .slice(..)
            .map_async(wgpu::MapMode::Read, move |r| done.send(r));
        drive(&self.device, index);
        mapped
            .await
            .ok_or_else(|| Error::Gpu("readback was dropped".into()))?
            .map_err(|e| Error::Gpu(format!("cannot map the readback buffer: {e}")))?;
        self.collect()
    }
}

/// Makes the map callback fire once submission `index` is done: a helper thread sleeps in
/// `Device::poll` until then, so nothing spins.
#[cfg(not(target_arch = "wasm32"))]
fn drive(device: &wgpu::Device, index: wgpu::SubmissionIndex) {
    let device = device.clone();
    std::thread::spawn(move || {
        let _ = device.poll(wgpu::PollType::Wait {
            submission_index: Some(index),
            timeout: None,
        });
    });
}

/// The browser's event loop fires the map callback by itself; there is nothing to drive.
#[cfg(target_arch = "wasm32")]
fn drive(_device: &wgpu::Device, _index: wgpu::SubmissionIndex) {}
