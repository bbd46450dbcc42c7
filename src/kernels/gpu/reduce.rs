//! GPU family: how the kernels that sum across lanes (depthwise's SE sums, SE and classifier
//! rows) do it. Each takes its entry point and sums from one of two WGSL files: with
//! subgroup operations (shaders/gpu/reduce_subgroup.wgsl) where the adapter has
//! them, else through workgroup memory (reduce_plain.wgsl). `subgroup_reductions` is the
//! one switch between them.

/// The sums through workgroup memory: every lane a subgroup of its own.
pub(crate) const PLAIN: &str = include_str!("../../../shaders/gpu/reduce_plain.wgsl");
/// The sums by subgroupAdd and subgroupShuffleXor, checked per workgroup.
pub(crate) const SUBGROUP: &str = include_str!("../../../shaders/gpu/reduce_subgroup.wgsl");

/// The fewest lanes per subgroup the subgroup sums are used with: 4, WebGPU's smallest
/// subgroup, already replaces a barrier and 4 serial reads per group with 2 shuffles.
/// (Any size sums correctly: the shader takes the size it runs with.)
pub(crate) const MIN_SUBGROUP_LANES: u32 = 4;

/// Whether the GPU family sums with subgroup operations on an adapter whose subgroups have
/// at least `subgroup_lanes` lanes (0: no SUBGROUP feature). The one place that decides it
/// (`gpu::pipelines::Variants::of` asks), for a tuning switch to narrow later: on lavapipe
/// (8 lanes, B0 at batch 1, GPU family) the subgroup sums took depthwise 3% less time but
/// SE 14% and the classifier 19% more (their share of the pass is small: the whole pass
/// stayed within noise).
pub(crate) fn subgroup_reductions(subgroup_lanes: u32) -> bool {
    subgroup_lanes >= MIN_SUBGROUP_LANES
}
