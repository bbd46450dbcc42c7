//! The graph the model lowers to, buffer planning and the GPU executor.

mod bind;
pub mod dispatch;
pub mod executor;
pub mod guard;
pub mod ops;
pub mod plan;
pub mod timer;

pub use executor::{Executor, Input, Output, StageTensor};
pub use ops::{Graph, Op, Shape, TensorId, lower};
pub use timer::{Profile, Timer};
