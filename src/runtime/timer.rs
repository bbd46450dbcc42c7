//! GPU timestamps around each dispatch, for the profiler.

use crate::{Error, Result};

/// Per-run timings from `Session::run_profiled`.
#[derive(Clone, Debug)]
pub(crate) struct Profile {
    /// CPU time spent recording and submitting the commands.
    pub host_encode_submit_ns: f64,
    /// GPU start and end of each dispatch, in dispatch order, from the first timestamp.
    pub dispatch_ns: Vec<(f64, f64)>,
}

/// A query set with two timestamps per dispatch and the buffers to read them back.
pub(crate) struct Timer {
    pub(super) queries: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    readback: wgpu::Buffer,
}

impl Timer {
    pub(crate) fn new(device: &wgpu::Device, dispatches: usize) -> Result<Self> {
        if !device.features().contains(wgpu::Features::TIMESTAMP_QUERY) {
            return Err(Error::Gpu(
                "this adapter has no timestamp queries, so per-dispatch GPU times are unavailable"
                    .into(),
            ));
        }
        let count = 2 * dispatches.max(1) as u32;
        let bytes = 8 * count as u64;
        let buffer = |label, usage| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: bytes,
                usage,
                mapped_at_creation: false,
            })
        };
        use wgpu::BufferUsages as U;
        Ok(Timer {
            queries: device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("dispatch timestamps"),
                ty: wgpu::QueryType::Timestamp,
                count,
            }),
            resolve: buffer("timestamps", U::QUERY_RESOLVE | U::COPY_SRC),
            readback: buffer("timestamps readback", U::MAP_READ | U::COPY_DST),
        })
    }

    pub(super) fn resolve(&self, enc: &mut wgpu::CommandEncoder, dispatches: usize) {
        let count = 2 * dispatches as u32;
        enc.resolve_query_set(&self.queries, 0..count, &self.resolve, 0);
        enc.copy_buffer_to_buffer(&self.resolve, 0, &self.readback, 0, 8 * count as u64);
    }

    /// Raw ticks, two per dispatch. Call after the submission that resolved them.
    pub(super) fn read(&self, device: &wgpu::Device, dispatches: usize) -> Result<Vec<u64>> {
        let slice = self.readback.slice(..8 * 2 * dispatches as u64);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu(format!("waiting for the GPU failed: {e}")))?;
        rx.recv()
            .map_err(|_| Error::Gpu("timestamp readback was dropped".into()))?
            .map_err(|e| Error::Gpu(format!("cannot map timestamps: {e}")))?;
        let ticks = {
            let view = slice
                .get_mapped_range()
                .map_err(|e| Error::Gpu(format!("cannot read timestamps: {e}")))?;
            bytemuck::pod_collect_to_vec(&view)
        };
        self.readback.unmap();
        Ok(ticks)
    }
}
