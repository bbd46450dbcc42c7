// GPU family: the entry point and cross-lane sums of the kernels that reduce (depthwise's SE
// sums, SE and classifier rows), on any adapter: as if every lane were a subgroup of its
// own, so the kernels sum through workgroup memory. reduce_subgroup.wgsl defines the same
// functions with subgroup operations; src/gpu/pipelines.rs picks one. The kernel defines
// `WG` and `kernel(wid, nwg, li)`.

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
    kernel(wid, nwg, li);
}

// S, the lanes of every subgroup of this workgroup, each subgroup holding local indices
// k·S .. k·S + S - 1: here 1. Called in uniform control flow (it may hold barriers).
fn subgroup_width() -> u32 {
    return 1u;
}

// The sum of `v` over the n lanes from n·⌊li / n⌋ (n ≤ S, a power of two), for each of
// them: with S = 1, v itself.
fn cluster_sum(v: f32, n: u32, S: u32) -> f32 {
    return v;
}
