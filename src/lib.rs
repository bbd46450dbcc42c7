//! effnet: the EfficientNet family (B0–B8, L2, Lite0–4, V2) on any GPU through WGSL
//! compute shaders on wgpu.

pub mod bench;
pub mod checkpoint;
pub mod engine;
pub mod error;
pub mod golden;
pub mod gpu;
pub mod graph;
pub mod model;
pub mod preprocess;
pub mod reference;

pub use engine::{Engine, LoadedModel, Model, Session, SessionOptions};
pub use error::{Error, Result};
