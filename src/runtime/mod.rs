//! The graph on the GPU: the executor that makes every buffer, pipeline and bind group once
//! and runs the dispatches `kernels::` describes, the size guard that checks a session
//! against the device first, and the timestamp timer for the profiler.

mod bind;
pub(crate) mod executor;
pub mod guard;
pub(crate) mod timer;

pub use executor::Executor;
pub(crate) use executor::Input;
pub(crate) use timer::{Profile, Timer};
