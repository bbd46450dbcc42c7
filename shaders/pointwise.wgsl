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
    // Weight rows of the CO output channels (clamped: extra channels are computed, not
    // stored). Named accumulators, not an array: CPU drivers keep an array indexed in a
    // loop in memory, which made this kernel 1.5× slower on lavapipe.
    let last_co = M - 1u;
    let r0 = co0 * K;
    let r1 = min(co0 + 1u, last_co) * K;
    let r2 = min(co0 + 2u, last_co) * K;
    let r3 = min(co0 + 3u, last_co) * K;
    let r4 = min(co0 + 4u, last_co) * K;
    let r5 = min(co0 + 5u, last_co) * K;
    let r6 = min(co0 + 6u, last_co) * K;
    let r7 = min(co0 + 7u, last_co) * K;
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
        var x = vec4<f32>(ld_src(b + p), ld_src(b + i1), ld_src(b + i2), ld_src(b + i3));
        if (HAS_GATE != 0u) { x *= ld_gate(n * K + ci); }
        a0 += x * ld_wts(r0 + ci);
        a1 += x * ld_wts(r1 + ci);
        a2 += x * ld_wts(r2 + ci);
        a3 += x * ld_wts(r3 + ci);
        if (CO == 8u) {
            a4 += x * ld_wts(r4 + ci);
            a5 += x * ld_wts(r5 + ci);
            a6 += x * ld_wts(r6 + ci);
            a7 += x * ld_wts(r7 + ci);
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
