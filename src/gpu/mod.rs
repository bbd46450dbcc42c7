//! wgpu plumbing: the device, compiling the WGSL sources `kernels::source` assembles (over
//! one shared bind group layout; nothing here knows of kernel families), buffers, weight
//! upload in the kernels' layouts, and the on-disk caches (tuning, driver pipelines).

pub(crate) mod buffers;
pub(crate) mod coop;
pub(crate) mod device;
pub(crate) mod oneshot;
pub(crate) mod pipeline_cache;
pub mod pipelines;
pub mod tuning;
pub(crate) mod weights;

pub use crate::kernels::Kernel;
pub(crate) use crate::kernels::Tuning;
pub use buffers::buffers_created;
pub(crate) use buffers::{create_buffer, create_buffer_init, create_storage};
pub use device::Gpu;
pub use pipelines::{Pipelines, Precision};
pub use weights::GpuWeights;

/// The error for a blocking call made in a browser, where the page's one thread would wait
/// for the very event loop that has to deliver the result.
#[cfg(target_arch = "wasm32")]
pub(crate) fn blocking_in_browser(what: &str, instead: &str) -> crate::Error {
    crate::Error::Input(format!(
        "{what} blocks until the GPU answers, which a browser page cannot do; use \
         {instead} and `.await` it"
    ))
}
