// 1×1 convolution as a register-blocked GEMM with everything around it fused:
//   out[n, co, p] = act(bias[co] + sum_ci W[co, ci] * gate[n, ci] * x[n, ci, p]) + res[n, co, p]
// The SE gate scales input channels as they are loaded, so SE costs no extra pass.
// Each invocation computes 4 consecutive pixels × CO output channels; CO is chosen per adapter
// by `effnet tune` (see src/gpu/tuning.rs). No workgroup memory and no barriers: on CPU drivers (lavapipe) barriers and shared-memory staging cost more
// than they save (measured: 2.5× slower), and on GPUs the x loads coalesce across lanes
// while every lane of a workgroup reads the same weights.
// Grid: x = pixels / (4 × 64), y = channels / CO, z = batch.

override HAS_GATE: u32 = 0u;
override HAS_RESIDUAL: u32 = 0u;
// 4 or 8 (`effnet tune` picks per adapter).
override CO: u32 = 8u;
// Planes hold a multiple of 4 pixels: the 4 pixels of an invocation are one vec4 load.
override ALIGNED: u32 = 0u;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let hw = P.h_in * P.w_in;
    let K = P.c_in;
    let M = P.c_out;
    let n = wid.z;
    let co0 = wid.y * CO;
    let p = (wid.x * 64u + li) * 4u;
    if (p >= hw) { return; }
    // Pixels past the end of the plane re-read the last pixel; their results are not stored.
    let last = hw - 1u;
    let i1 = min(p + 1u, last);
    let i2 = min(p + 2u, last);
    let i3 = min(p + 3u, last);
    // Weights are stored [ci][rows] with rows = c_out rounded up to 4 (P.off1), so the CO
    // weights of one input channel are one or two vec4 loads (zero past c_out). Named
    // accumulators, not an array: CPU drivers keep an array indexed in a loop in memory,
    // which made this kernel 1.5× slower on lavapipe.
    let q0 = co0 / 4u;
    let rows4 = P.off1 / 4u;
    var a0 = vec4<f32>(0.0);
    var a1 = vec4<f32>(0.0);
    var a2 = vec4<f32>(0.0);
    var a3 = vec4<f32>(0.0);
    var a4 = vec4<f32>(0.0);
    var a5 = vec4<f32>(0.0);
    var a6 = vec4<f32>(0.0);
    var a7 = vec4<f32>(0.0);
    for (var ci = 0u; ci < K; ci++) {
        let b = (n * K + ci) * hw;
        var x: vec4<f32>;
        if (ALIGNED != 0u) {
            x = ld_src4((b + p) / 4u);
        } else {
            x = vec4<f32>(ld_src(b + p), ld_src(b + i1), ld_src(b + i2), ld_src(b + i3));
        }
        if (HAS_GATE != 0u) { x *= ld_gate(n * K + ci); }
        let wa = ld_wts4(ci * rows4 + q0);
        a0 += x * wa.x;
        a1 += x * wa.y;
        a2 += x * wa.z;
        a3 += x * wa.w;
        if (CO == 8u) {
            let wb = ld_wts4(ci * rows4 + q0 + 1u);
            a4 += x * wb.x;
            a5 += x * wb.y;
            a6 += x * wb.z;
            a7 += x * wb.w;
        }
    }
    store(n, co0, p, a0);
    store(n, co0 + 1u, p, a1);
    store(n, co0 + 2u, p, a2);
    store(n, co0 + 3u, p, a3);
    if (CO == 8u) {
        store(n, co0 + 4u, p, a4);
        store(n, co0 + 5u, p, a5);
        store(n, co0 + 6u, p, a6);
        store(n, co0 + 7u, p, a7);
    }
}

// Output channel `co` at pixels p .. p + 3 of image n.
fn store(n: u32, co: u32, p: u32, acc: vec4<f32>) {
    let hw = P.h_in * P.w_in;
    if (co >= P.c_out) { return; }
    let bias = ld_wts(P.bias_off + co);
    store4((n * P.c_out + co) * hw + p, min(4u, hw - p), acc, bias, HAS_RESIDUAL != 0u);
}
