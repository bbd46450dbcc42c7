//! The model as a device-agnostic graph: fused ops over NCHW tensors, the lowering that makes
//! them, the fusion of an expansion into the depthwise conv after it (where a kernel takes
//! the pair: the caller says), and buffer planning by liveness. `runtime::` runs it on the GPU, `reference` on the
//! CPU.

pub mod fuse;
pub mod lower;
pub mod ops;
pub mod output;
pub mod plan;

pub use lower::{SePartials, lower_with};
pub use ops::{Graph, Op, Shape, TensorId};
pub use output::{Output, StageTensor};
