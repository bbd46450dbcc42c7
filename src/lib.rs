//! effnet: the EfficientNet family (B0–B8, L2, Lite0–4, V2) on any GPU through WGSL compute
//! shaders on wgpu.
//!
//! An [`Engine`] owns (or shares) a GPU device; a [`Model`] is an architecture with its
//! weights on the CPU ([`Model::bundled`], [`Model::from_file`]); [`Engine::load`] puts it on
//! the GPU as a [`LoadedModel`], immutable and cheap to clone into threads; each thread makes
//! [`Session`]s (batch, resolution, logits or embeddings) from it and runs them many times.
//!
//! ```
//! use effnet::image::{Rgb, RgbImage};
//! use effnet::{Engine, Model, OutputKind};
//! # fn main() -> effnet::Result<()> {
//! // The best adapter; `Error::NoAdapter` says how to install a driver where there is none.
//! let Ok(engine) = Engine::new() else { return Ok(()) };
//! println!("running on {}", engine.describe());
//! let model = engine.load(Model::bundled()?)?; // EfficientNet-Lite0, ImageNet weights
//! // A small resolution keeps this example fast on a software driver; the default
//! // (`model.default_options(1)`) is the model's own, 224×224.
//! let options = model.default_options(1).with_resolution(32, 32);
//! let mut session = model.session(options)?;
//! let photo = RgbImage::from_fn(64, 48, |x, y| Rgb([x as u8 * 4, y as u8 * 5, 90]));
//! for p in &session.classify(&[photo.clone()], 3)?[0] {
//!     println!("{:5.1}% {} {:?}", 100.0 * p.prob, p.label, p.wnid);
//! }
//! let mut embedder = model.session(options.with_output(OutputKind::Embeddings))?;
//! assert_eq!(embedder.embed(&[photo])?[0].len(), 1280);
//! # Ok(()) }
//! ```
//!
//! Every failure is an [`Error`] whose message says what to do. effnet re-exports the
//! [`wgpu`] and [`image`] crates it is built on, so an app can use the same versions.

#![warn(missing_docs)]
// Natively these `Arc`s share a device and weights across threads. In a browser wgpu's types
// are not `Send` (a page has one thread), so the lint's advice, `Rc`, would fork the code for
// nothing.
#![cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]

// Internals, public only because code outside this crate uses them: the `effnet` command
// (src/bin/effnet, a separate crate), tests/, benches/ and the fuzz targets (fuzz/). Hidden
// from the documentation and not a stable API; whatever in them nothing outside uses is
// `pub(crate)`.
// `effnet bench` and `effnet tune`; benches/kernels.rs.
#[doc(hidden)]
pub mod bench;
// The checkpoint readers and writers: `effnet convert`, `train` and `features`, tests, fuzz/.
#[doc(hidden)]
pub mod checkpoint;
// `effnet golden`; tests/golden.rs and tests/web.rs.
#[doc(hidden)]
pub mod golden;
// The device (`Engine::gpu`, `Trainer::new` take and give a `Gpu`): the binary, tests, benches.
#[doc(hidden)]
pub mod gpu;
// Lowering and the kernel families: `effnet bench`, tests/kernels.rs and tests/api.rs.
#[doc(hidden)]
pub mod kernels;
// The CPU oracle: tests/kernels.rs and tests/api.rs.
#[doc(hidden)]
pub mod reference;
// The executor and its size guards: tests/kernels.rs, tests/errors.rs, benches.
#[doc(hidden)]
pub mod runtime;
// The seed fixtures `effnet golden` also checks.
#[doc(hidden)]
pub mod seed;

mod engine;
mod error;
mod graph;
// The kernels' checks on the GPU: outside `kernels`, which `gpu` and `runtime` build on.
pub mod imagenet;
#[cfg(test)]
mod kernel_checks;
pub mod model;
pub mod output;
pub mod preprocess;
pub mod train;

pub use engine::{
    DEVICE_FORMS, Devices, Engine, LoadOptions, LoadedModel, Model, OutputKind, Pool, Prediction,
    Session, SessionOptions, distinct_adapters, softmax, top_k,
};
pub use error::{Error, Result};
pub use gpu::Precision;
pub use graph::{Output, Shape, StageTensor};
pub use image;
pub use kernels::{Family, KERNELS_ENV};
pub use wgpu;

/// README.md's Rust example runs as a doc test, so that the README cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
