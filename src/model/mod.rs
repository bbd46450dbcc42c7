//! The EfficientNet family as data: variants, scaling rules, concrete architectures,
//! state-dict key names and weights.

pub mod arch;
pub mod rule;
pub mod weights;

pub use arch::*;
pub use weights::{ModelWeights, TensorSource, load_weights};
