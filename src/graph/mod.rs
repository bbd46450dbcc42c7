//! The model as a device-agnostic graph: fused ops over NCHW tensors, the lowering that makes
//! them, the fusion of an expansion into the depthwise conv after it (where a kernel takes
//! the pair: the caller says), and buffer planning by liveness. `runtime::` runs it on the GPU, `reference` on the
//! CPU.

pub(crate) mod fuse;
pub(crate) mod lower;
pub(crate) mod ops;
pub(crate) mod output;
pub(crate) mod plan;

pub(crate) use lower::lower_with;
pub use ops::{Graph, Op, Shape, TensorId};
pub use output::{Output, StageTensor};
