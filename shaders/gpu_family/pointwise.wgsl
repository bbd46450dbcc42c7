// GPU family: pointwise. Not written yet (src/kernels/gpu_family/pointwise.rs).

@compute @workgroup_size(64)
fn main() {}
