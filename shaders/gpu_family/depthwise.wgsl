// GPU family: depthwise. Not written yet (src/kernels/gpu_family/depthwise.rs).

@compute @workgroup_size(64)
fn main() {}
