// GPU family: classifier. Not written yet (src/kernels/gpu_family/classifier.rs).

@compute @workgroup_size(64)
fn main() {}
