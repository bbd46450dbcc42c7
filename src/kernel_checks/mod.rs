//! The kernels' checks against the GPU: every kernel of `kernels::` run through
//! `runtime::Executor` on its cases and compared with `reference.rs` (f64 accumulation),
//! in f32, packed f16 and f16 arithmetic, under each tuning that changes its code.
//!
//! They live here, outside `kernels::`, because running a kernel needs `gpu::` (compiling,
//! uploading) and `runtime::` (binding, dispatching), which themselves use `kernels::`:
//! inside it these tests made `kernels` import its own users. Tests of a kernel's Rust side
//! that need no GPU (tile limits, cost-model choices) stay in the kernel's module.
//!
//! [`check`] is the harness (and the no-GPU checks that each kernel's parameter block and
//! override constants agree with its WGSL, over every case of `bench::cases`); [`cpu`] runs
//! it on each op's real-shape cases in the CPU family. One module per GPU-family kernel
//! holds that family's odd shapes (the fused kernels' in [`gpu_expand_depthwise`] and
//! [`gpu_conv_project`]); [`whole_words`] runs them in f16 packed in u32 words,
//! and [`reduce`] checks the sums across lanes they share. The tensor-core pointwise kernel
//! runs where the adapter has cooperative matrices ([`gpu_pointwise_coop`]); elsewhere its
//! source with those operations emulated does ([`coop_emulated`]).

pub(crate) mod check;
mod coop_emulated;
mod cpu;
mod gpu_classifier;
mod gpu_conv;
mod gpu_conv_project;
mod gpu_depthwise;
mod gpu_expand_depthwise;
mod gpu_nhwc;
mod gpu_pointwise;
mod gpu_pointwise_coop;
mod gpu_se;
mod reduce;
mod whole_words;
