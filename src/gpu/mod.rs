//! wgpu plumbing: device, pipelines and buffers.

pub mod buffers;
pub mod device;
pub(crate) mod oneshot;
pub mod pipeline_cache;
pub mod pipelines;
pub mod tuning;
pub mod weights;

pub use buffers::buffers_created;
pub(crate) use buffers::{create_buffer, create_buffer_init, create_storage};
pub use device::Gpu;
pub use pipelines::{Kernel, Pipelines, Precision};
pub use tuning::Tuning;
pub use weights::GpuWeights;
