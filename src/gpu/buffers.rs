//! Every GPU buffer effnet makes goes through here and is counted, so tests can check that
//! running a session allocates nothing (the count stays flat) without wgpu's `counters` feature.

use std::sync::atomic::{AtomicUsize, Ordering};
use wgpu::util::DeviceExt;

static CREATED: AtomicUsize = AtomicUsize::new(0);

/// How many GPU buffers effnet has created in this process, over all devices.
pub fn buffers_created() -> usize {
    CREATED.load(Ordering::Relaxed)
}

pub(crate) fn create_buffer(dev: &wgpu::Device, desc: &wgpu::BufferDescriptor) -> wgpu::Buffer {
    CREATED.fetch_add(1, Ordering::Relaxed);
    dev.create_buffer(desc)
}

pub(crate) fn create_buffer_init(
    dev: &wgpu::Device,
    desc: &wgpu::util::BufferInitDescriptor,
) -> wgpu::Buffer {
    CREATED.fetch_add(1, Ordering::Relaxed);
    dev.create_buffer_init(desc)
}

/// A storage buffer the host can fill and read back (activations, logits), rounded up to
/// whole 16-byte elements for the vec4 views of shaders/common/storage.wgsl.
pub(crate) fn create_storage(dev: &wgpu::Device, label: &str, size: u64) -> wgpu::Buffer {
    create_buffer(
        dev,
        &wgpu::BufferDescriptor {
            label: Some(label),
            size: size.next_multiple_of(16),
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_DST
                | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        },
    )
}
