//! The EfficientNet family as data: variants, scaling rules, concrete architectures,
//! state-dict key names and weights.

pub mod arch;

pub use arch::*;
