// Shared by every kernel: one bind group layout, the weight blocks, the activations.
// The host puts the storage bindings in front (storage.wgsl with `alias S = f32` or `f16`, or
// storage_packed.wgsl): kernels go through ld_*/st_*, so arithmetic is f32 whatever the storage.
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
    switch ACT {
        case 1u: { return x / (1.0 + exp(-x)); }
        case 2u: { return clamp(x, 0.0, 6.0); }
        default: { return x; }
    }
}

fn sigmoid(x: f32) -> f32 {
    return 1.0 / (1.0 + exp(-x));
}

// Writes act(acc + bias) (+ the residual) to dst[o], dst[o + 1], ... for the first `count`
// (at most 4) components, and returns their sum. Components are named, not indexed in a
// loop: CPU drivers keep a loop-indexed vector in memory. `aligned` (a constant: the caller
// knows o is a multiple of 4 and count is 4) stores one vec4: on CPU drivers every store
// is a loop over the lanes per component, so this made B0's GEMMs 8% faster on lavapipe.
fn store4(o: u32, count: u32, acc: vec4<f32>, bias: f32, residual: bool, aligned: bool) -> f32 {
    if (aligned) {
        let a = acc + bias;
        var y = vec4<f32>(activate(a.x), activate(a.y), activate(a.z), activate(a.w));
        if (residual) { y += ld_res4(o / 4u); }
        st_dst4(o / 4u, y);
        return y.x + y.y + y.z + y.w;
    }
    var sum = store1(o, acc.x + bias, residual);
    if (count > 1u) { sum += store1(o + 1u, acc.y + bias, residual); }
    if (count > 2u) { sum += store1(o + 2u, acc.z + bias, residual); }
    if (count > 3u) { sum += store1(o + 3u, acc.w + bias, residual); }
    return sum;
}

fn store1(o: u32, v: f32, residual: bool) -> f32 {
    var y = activate(v);
    if (residual) { y += ld_res(o); }
    st_dst(o, y);
    return y;
}
