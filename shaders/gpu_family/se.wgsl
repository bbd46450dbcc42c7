// GPU family: se. Not written yet (src/kernels/gpu_family/se.rs).

@compute @workgroup_size(64)
fn main() {}
