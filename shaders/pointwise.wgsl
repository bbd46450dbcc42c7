// 1×1 convolution as a register-blocked GEMM with everything around it fused:
//   out[n, co, p] = act(bias[co] + sum_ci W[co, ci] * gate[n, ci] * x[n, ci, p]) + res[n, co, p]
// The SE gate scales input channels as they are loaded, so SE costs no extra pass.
// Each invocation computes 4 consecutive pixels × CO output channels; CO is chosen per adapter
// by `effnet tune` (see src/gpu/tuning.rs). No workgroup memory and no barriers: on CPU
// drivers (lavapipe) barriers and shared-memory staging cost more than they save (measured:
// 2.5× slower), and on GPUs the x loads coalesce across lanes while every lane of a workgroup
// reads the same weights. On lavapipe an input load at a per-lane address is a loop over the
// lanes (~25 instructions per lane and component), while a weight load at a workgroup-uniform
// address is one broadcast, so the more channels share each input load the better: CO = 32
// runs B0's GEMMs 1.2× faster than CO = 8 there (BENCHMARKS.md).
// The input-channel loop takes two channels per step: lavapipe blends every accumulator
// update inside a loop with the loop mask, so one update per two channels halves the blends
// (B0 89.5 → 87 ms there).
// Grid: x = pixels / (4 × 64), y = channels / CO, z = batch.

override HAS_GATE: u32 = 0u;
override HAS_RESIDUAL: u32 = 0u;
// 4, 8, 16 or 32 (`effnet tune` picks per adapter).
override CO: u32 = 16u;
// Planes hold a multiple of 4 pixels: the 4 pixels of an invocation are one vec4 load.
override ALIGNED: u32 = 0u;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let hw = P.h_in * P.w_in;
    let K = P.c_in;
    let n = wid.z;
    let co0 = wid.y * CO;
    let p = (wid.x * 64u + li) * 4u;
    if (p >= hw) { return; }
    // Pixels past the end of the plane re-read the last pixel; their results are not stored.
    let last = hw - 1u;
    let i1 = min(p + 1u, last);
    let i2 = min(p + 2u, last);
    let i3 = min(p + 3u, last);
    // Weights are stored [ci][rows] with rows = c_out rounded up to 32 (P.off1), so the CO
    // weights of one input channel are CO / 4 vec4 loads (zero past c_out). Named
    // accumulators, not an array: CPU drivers keep an array indexed in a loop in memory,
    // which made this kernel 1.5× slower on lavapipe.
    let q0 = co0 / 4u;
    let rows4 = P.off1 / 4u;
    var a0 = vec4<f32>(0.0); var a1 = vec4<f32>(0.0); var a2 = vec4<f32>(0.0); var a3 = vec4<f32>(0.0);
    var a4 = vec4<f32>(0.0); var a5 = vec4<f32>(0.0); var a6 = vec4<f32>(0.0); var a7 = vec4<f32>(0.0);
    var a8 = vec4<f32>(0.0); var a9 = vec4<f32>(0.0); var a10 = vec4<f32>(0.0); var a11 = vec4<f32>(0.0);
    var a12 = vec4<f32>(0.0); var a13 = vec4<f32>(0.0); var a14 = vec4<f32>(0.0); var a15 = vec4<f32>(0.0);
    var a16 = vec4<f32>(0.0); var a17 = vec4<f32>(0.0); var a18 = vec4<f32>(0.0); var a19 = vec4<f32>(0.0);
    var a20 = vec4<f32>(0.0); var a21 = vec4<f32>(0.0); var a22 = vec4<f32>(0.0); var a23 = vec4<f32>(0.0);
    var a24 = vec4<f32>(0.0); var a25 = vec4<f32>(0.0); var a26 = vec4<f32>(0.0); var a27 = vec4<f32>(0.0);
    var a28 = vec4<f32>(0.0); var a29 = vec4<f32>(0.0); var a30 = vec4<f32>(0.0); var a31 = vec4<f32>(0.0);
    for (var ci = 0u; ci < K; ci += 2u) {
        // Channels ci and ci + 1; for an odd K the last step's second channel re-reads channel
        // K - 1 with its input zeroed, which adds nothing.
        let c1 = min(ci + 1u, K - 1u);
        let x = load_x(n, K, ci, hw, p, i1, i2, i3);
        let y = select(vec4<f32>(0.0), load_x(n, K, c1, hw, p, i1, i2, i3), ci + 1u < K);
        let w = ci * rows4 + q0;
        let v = c1 * rows4 + q0;
        let w0 = ld_wts4(w + 0u);
        let v0 = ld_wts4(v + 0u);
        a0 += x * w0.x + y * v0.x;
        a1 += x * w0.y + y * v0.y;
        a2 += x * w0.z + y * v0.z;
        a3 += x * w0.w + y * v0.w;
        if (CO >= 8u) {
            let w1 = ld_wts4(w + 1u);
            let v1 = ld_wts4(v + 1u);
            a4 += x * w1.x + y * v1.x;
            a5 += x * w1.y + y * v1.y;
            a6 += x * w1.z + y * v1.z;
            a7 += x * w1.w + y * v1.w;
        }
        if (CO >= 16u) {
            let w2 = ld_wts4(w + 2u);
            let v2 = ld_wts4(v + 2u);
            a8 += x * w2.x + y * v2.x;
            a9 += x * w2.y + y * v2.y;
            a10 += x * w2.z + y * v2.z;
            a11 += x * w2.w + y * v2.w;
            let w3 = ld_wts4(w + 3u);
            let v3 = ld_wts4(v + 3u);
            a12 += x * w3.x + y * v3.x;
            a13 += x * w3.y + y * v3.y;
            a14 += x * w3.z + y * v3.z;
            a15 += x * w3.w + y * v3.w;
        }
        if (CO >= 32u) {
            let w4 = ld_wts4(w + 4u);
            let v4 = ld_wts4(v + 4u);
            a16 += x * w4.x + y * v4.x;
            a17 += x * w4.y + y * v4.y;
            a18 += x * w4.z + y * v4.z;
            a19 += x * w4.w + y * v4.w;
            let w5 = ld_wts4(w + 5u);
            let v5 = ld_wts4(v + 5u);
            a20 += x * w5.x + y * v5.x;
            a21 += x * w5.y + y * v5.y;
            a22 += x * w5.z + y * v5.z;
            a23 += x * w5.w + y * v5.w;
            let w6 = ld_wts4(w + 6u);
            let v6 = ld_wts4(v + 6u);
            a24 += x * w6.x + y * v6.x;
            a25 += x * w6.y + y * v6.y;
            a26 += x * w6.z + y * v6.z;
            a27 += x * w6.w + y * v6.w;
            let w7 = ld_wts4(w + 7u);
            let v7 = ld_wts4(v + 7u);
            a28 += x * w7.x + y * v7.x;
            a29 += x * w7.y + y * v7.y;
            a30 += x * w7.z + y * v7.z;
            a31 += x * w7.w + y * v7.w;
        }
    }
    store_block(n, co0, p, a0, a1, a2, a3);
    if (CO >= 8u) {
        store_block(n, co0 + 4u, p, a4, a5, a6, a7);
    }
    if (CO >= 16u) {
        store_block(n, co0 + 8u, p, a8, a9, a10, a11);
        store_block(n, co0 + 12u, p, a12, a13, a14, a15);
    }
    if (CO >= 32u) {
        store_block(n, co0 + 16u, p, a16, a17, a18, a19);
        store_block(n, co0 + 20u, p, a20, a21, a22, a23);
        store_block(n, co0 + 24u, p, a24, a25, a26, a27);
        store_block(n, co0 + 28u, p, a28, a29, a30, a31);
    }
}

// Output channels co .. co + 3 at pixels p .. p + 3 of image n.
fn store_block(n: u32, co: u32, p: u32, a: vec4<f32>, b: vec4<f32>, c: vec4<f32>, d: vec4<f32>) {
    store(n, co, p, a);
    store(n, co + 1u, p, b);
    store(n, co + 2u, p, c);
    store(n, co + 3u, p, d);
}

// Output channel `co` at pixels p .. p + 3 of image n.
fn store(n: u32, co: u32, p: u32, acc: vec4<f32>) {
    let hw = P.h_in * P.w_in;
    if (co >= P.c_out) { return; }
    let bias = ld_wts(P.bias_off + co);
    store4((n * P.c_out + co) * hw + p, min(4u, hw - p), acc, bias, HAS_RESIDUAL != 0u);
}

// The 4 pixels of input channel ci of image n, scaled by the SE gate.
fn load_x(n: u32, K: u32, ci: u32, hw: u32, p: u32, i1: u32, i2: u32, i3: u32) -> vec4<f32> {
    let b = (n * K + ci) * hw;
    var x: vec4<f32>;
    if (ALIGNED != 0u) {
        x = ld_src4((b + p) / 4u);
    } else {
        x = vec4<f32>(ld_src(b + p), ld_src(b + i1), ld_src(b + i2), ld_src(b + i3));
    }
    if (HAS_GATE != 0u) { x *= ld_gate(n * K + ci); }
    return x;
}
