//! effnet: the EfficientNet family (B0–B8, L2, Lite0–4, V2) on any GPU through WGSL
//! compute shaders on wgpu.

pub mod error;
pub mod model;
pub mod preprocess;

pub use error::{Error, Result};
