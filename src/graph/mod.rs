//! The model as a device-agnostic graph: fused ops over NCHW tensors, the lowering that makes
//! them, and buffer planning by liveness. `runtime::` runs it on the GPU, `reference` on the
//! CPU.

pub(crate) mod lower;
pub(crate) mod ops;
pub(crate) mod output;
pub(crate) mod plan;

pub(crate) use lower::lower_with;
pub use ops::{Graph, Op, Shape, TensorId};
pub use output::{Output, StageTensor};
