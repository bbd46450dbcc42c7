//! wgpu plumbing: device, pipelines and buffers.

pub mod device;
pub mod pipelines;
pub mod tuning;
pub mod weights;

pub use device::Gpu;
pub use pipelines::{Kernel, Pipelines, Precision};
pub use tuning::Tuning;
pub use weights::GpuWeights;
