//! What each op means for every kernel family: its typed parameter block (`params!`: the
//! WGSL struct comes from the Rust one), the weight layout both families read, its cost
//! (FLOPs and bytes) and the one-op cases on real EfficientNet shapes that the tests, the
//! benches and the tuner share. One module per op; the families' kernels are in `cpu/` and
//! `gpu/`.

pub(crate) mod classifier;
pub(crate) mod conv;
pub(crate) mod conv_project;
pub(crate) mod depthwise;
pub(crate) mod expand_depthwise;
pub(crate) mod pointwise;
pub(crate) mod se;
