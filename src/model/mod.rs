//! The EfficientNet family as data: variants, scaling rules, concrete architectures,
//! state-dict key names and weights.

pub mod arch;
mod build;
pub mod frameworks;
#[doc(hidden)]
pub mod hub;
mod identify;
pub mod info;
mod keys;
#[doc(hidden)]
pub mod loader;
#[doc(hidden)]
pub mod meta;
#[doc(hidden)]
pub mod pretrained;
#[doc(hidden)]
pub mod rule;
mod spec;
pub mod variants;
pub mod weights;

pub use arch::*;
#[doc(hidden)]
pub use identify::{Identified, identify, identify_as, identify_forced};
pub use info::{ModelInfo, StageInfo, format_table, info, try_info};
pub use spec::checkpoint_file;
pub use variants::{known_names, qualified_name, resolve};
pub use weights::{ModelWeights, TensorSource, load_weights};
