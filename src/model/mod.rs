//! The EfficientNet family as data: variants, scaling rules, concrete architectures,
//! state-dict key names and weights.

pub mod arch;
mod build;
pub mod frameworks;
// The hidden modules and re-exports below are internals that the `effnet` command
// (src/bin/effnet), the Python package (python/src) and tests/ use; not a stable API, and
// their items nothing outside uses are `pub(crate)`.
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
pub use identify::{Identified, identify_as};
pub use info::{ModelInfo, StageInfo, format_table, info, try_info};
pub use spec::checkpoint_file;
pub use variants::{known_names, qualified_name, resolve};
pub use weights::{ModelWeights, TensorSource, load_weights};
