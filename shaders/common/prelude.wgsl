// Shared by every kernel: one bind group layout, the weight blocks, the activations.
// The host puts the storage bindings in front (storage.wgsl with `alias S = f32` or `f16`, or
// for packed f16 storage_packed.wgsl, the GPU family's gpu/storage_packed.wgsl):
// kernels go through ld_*/st_*, so arithmetic is f32 whatever the storage, except where the
// GPU family stages and multiplies in `H`, which the host declares in front of this file
// (`alias H = f32;`, or `f16` for the GPU family's f16 arithmetic: kernels/formats.rs).
// Shapes travel in the uniform `P`, each kernel's own struct, which the host declares after
// this file from the Rust one (`params!` in src/kernels/mod.rs). Structural choices (kernel,
// stride, activation, flags) and tile sizes are override constants set by the kernel's module
// in src/kernels/, so each (kernel, constants) pair is one pipeline made once per session.

// Blocks of weights as the shared loads of lanes_*.wgsl return them: up to 8 vec4s, or 8
// values.
struct Quads {
    q0: vec4<f32>, q1: vec4<f32>, q2: vec4<f32>, q3: vec4<f32>,
    q4: vec4<f32>, q5: vec4<f32>, q6: vec4<f32>, q7: vec4<f32>,
}
struct Pair { lo: vec4<f32>, hi: vec4<f32> }
// 0: identity, 1: SiLU, 2: ReLU6.
override ACT: u32 = 0u;

fn activate(x: f32) -> f32 {
    return activation(ACT, x);
}

// Activation `code` (as ACT) of x: fused kernels apply another layer's too.
fn activation(code: u32, x: f32) -> f32 {
    switch code {
        case 1u: { return x / (1.0 + exp(-x)); }
        case 2u: { return clamp(x, 0.0, 6.0); }
        default: { return x; }
    }
}

fn sigmoid(x: f32) -> f32 {
    return 1.0 / (1.0 + exp(-x));
}
