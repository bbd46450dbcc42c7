//! The EfficientNet family as data: variants, scaling rules, concrete architectures,
//! state-dict key names and weights.

pub mod arch;
mod build;
pub mod info;
pub mod variants;

pub use arch::*;
pub use info::{ModelInfo, StageInfo, format_table, info};
pub use variants::{known_names, resolve};
