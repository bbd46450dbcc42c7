// GPU family: conv. Not written yet (src/kernels/gpu_family/conv.rs).

@compute @workgroup_size(64)
fn main() {}
