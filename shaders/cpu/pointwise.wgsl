// 1×1 convolution as a register-blocked GEMM with everything around it fused:
//   out[n, co, p] = act(bias[co] + sum_ci W[co, ci] * gate[n, ci] * x[n, ci, p]) + res[n, co, p]
// The SE gate scales input channels as they are loaded, so SE costs no extra pass.
// Each invocation computes PIXELS = 4 consecutive pixels × CO output channels; CO and how
// weights reach the lanes are chosen per adapter by `effnet tune` (see src/kernels/tuning.rs): the entry
// point and `shared_quads` come from lanes_plain.wgsl (every lane loads the CO weights of a
// channel) or lanes_subgroup.wgsl (each lane loads 4 and subgroupBroadcast shares them).
// No workgroup memory and no barriers: on CPU drivers (lavapipe) barriers and
// shared-memory staging cost more than they save (measured: 2.5× slower), and on GPUs the x
// loads coalesce across lanes while every lane of a workgroup reads the same weights.
// On lavapipe every load inside a loop is a loop over the SIMD lanes (~14 instructions per
// lane), even at a workgroup-uniform address, so what pays is loads shared by many
// multiply-adds: CO = 32 output channels per input load, and weights loaded once per
// subgroup instead of once per lane (BENCHMARKS.md).
// The input-channel loop takes four channels per step: lavapipe blends every accumulator
// update inside a loop with the loop mask (and spills the accumulators), so one update per
// four channels quarters that work (B0's GEMMs: 2 channels 7% faster than 1, 4 another 7%).
// Grid: x = pixels / (PIXELS × WG), y = channels / CO, z = batch.
// P: PointwiseParams (src/kernels/cpu/pointwise.rs, which also sets the tile constants).

override HAS_GATE: u32 = 0u;
override HAS_RESIDUAL: u32 = 0u;
// Planes hold a multiple of 4 pixels: the 4 pixels of an invocation are one vec4 load.
override ALIGNED: u32 = 0u;
// Tile constants. Output channels: 4, 8, 16 or 32 (`effnet tune` picks per adapter).
override CO: u32;
// Pixels per invocation: the code is written for 4 (a vec4 per input channel).
override PIXELS: u32;
// Invocations per workgroup: 16 on small planes, else 64.
override WG: u32;

fn kernel(wid: vec3<u32>, li: u32) {
    let hw = P.hw;
    let K = P.c_in;
    let n = wid.z;
    let co0 = wid.y * CO;
    let p = (wid.x * WG + li) * PIXELS;
    // Lanes past the end of the plane stay until their whole subgroup is done (they take
    // part in its broadcasts), re-reading the last pixel; their results are not stored.
    let done = p >= hw;
    if (all_done(done)) { return; }
    let last = hw - 1u;
    let p0 = min(p, last);
    let i1 = min(p + 1u, last);
    let i2 = min(p + 2u, last);
    let i3 = min(p + 3u, last);
    // Weights are stored [ci][rows] with rows = c_out rounded up to 32 (P.rows), so the CO
    // weights of one input channel are CO / 4 vec4s (zero past c_out). Named
    // accumulators, not an array: CPU drivers keep an array indexed in a loop in memory,
    // which made this kernel 1.5× slower on lavapipe.
    let q0 = co0 / 4u;
    let rows4 = P.rows / 4u;
    var a0 = vec4<f32>(0.0); var a1 = vec4<f32>(0.0); var a2 = vec4<f32>(0.0); var a3 = vec4<f32>(0.0);
    var a4 = vec4<f32>(0.0); var a5 = vec4<f32>(0.0); var a6 = vec4<f32>(0.0); var a7 = vec4<f32>(0.0);
    var a8 = vec4<f32>(0.0); var a9 = vec4<f32>(0.0); var a10 = vec4<f32>(0.0); var a11 = vec4<f32>(0.0);
    var a12 = vec4<f32>(0.0); var a13 = vec4<f32>(0.0); var a14 = vec4<f32>(0.0); var a15 = vec4<f32>(0.0);
    var a16 = vec4<f32>(0.0); var a17 = vec4<f32>(0.0); var a18 = vec4<f32>(0.0); var a19 = vec4<f32>(0.0);
    var a20 = vec4<f32>(0.0); var a21 = vec4<f32>(0.0); var a22 = vec4<f32>(0.0); var a23 = vec4<f32>(0.0);
    var a24 = vec4<f32>(0.0); var a25 = vec4<f32>(0.0); var a26 = vec4<f32>(0.0); var a27 = vec4<f32>(0.0);
    var a28 = vec4<f32>(0.0); var a29 = vec4<f32>(0.0); var a30 = vec4<f32>(0.0); var a31 = vec4<f32>(0.0);
    for (var ci = 0u; ci < K; ci += 4u) {
        // Channels ci .. ci + 3; past K - 1 a step re-reads channel K - 1 with its input
        // zeroed, which adds nothing.
        let c1 = min(ci + 1u, K - 1u);
        let c2 = min(ci + 2u, K - 1u);
        let c3 = min(ci + 3u, K - 1u);
        let x = load_x(n, K, ci, hw, p0, i1, i2, i3);
        let y = select(vec4<f32>(0.0), load_x(n, K, c1, hw, p0, i1, i2, i3), ci + 1u < K);
        let z = select(vec4<f32>(0.0), load_x(n, K, c2, hw, p0, i1, i2, i3), ci + 2u < K);
        let u = select(vec4<f32>(0.0), load_x(n, K, c3, hw, p0, i1, i2, i3), ci + 3u < K);
        let w = shared_quads(ci * rows4 + q0, CO / 4u);
        let v = shared_quads(c1 * rows4 + q0, CO / 4u);
        let s = shared_quads(c2 * rows4 + q0, CO / 4u);
        let t = shared_quads(c3 * rows4 + q0, CO / 4u);
        a0 += x * w.q0.x + y * v.q0.x + z * s.q0.x + u * t.q0.x;
        a1 += x * w.q0.y + y * v.q0.y + z * s.q0.y + u * t.q0.y;
        a2 += x * w.q0.z + y * v.q0.z + z * s.q0.z + u * t.q0.z;
        a3 += x * w.q0.w + y * v.q0.w + z * s.q0.w + u * t.q0.w;
        if (CO >= 8u) {
            a4 += x * w.q1.x + y * v.q1.x + z * s.q1.x + u * t.q1.x;
            a5 += x * w.q1.y + y * v.q1.y + z * s.q1.y + u * t.q1.y;
            a6 += x * w.q1.z + y * v.q1.z + z * s.q1.z + u * t.q1.z;
            a7 += x * w.q1.w + y * v.q1.w + z * s.q1.w + u * t.q1.w;
        }
        if (CO >= 16u) {
            a8 += x * w.q2.x + y * v.q2.x + z * s.q2.x + u * t.q2.x;
            a9 += x * w.q2.y + y * v.q2.y + z * s.q2.y + u * t.q2.y;
            a10 += x * w.q2.z + y * v.q2.z + z * s.q2.z + u * t.q2.z;
            a11 += x * w.q2.w + y * v.q2.w + z * s.q2.w + u * t.q2.w;
            a12 += x * w.q3.x + y * v.q3.x + z * s.q3.x + u * t.q3.x;
            a13 += x * w.q3.y + y * v.q3.y + z * s.q3.y + u * t.q3.y;
            a14 += x * w.q3.z + y * v.q3.z + z * s.q3.z + u * t.q3.z;
            a15 += x * w.q3.w + y * v.q3.w + z * s.q3.w + u * t.q3.w;
        }
        if (CO >= 32u) {
            a16 += x * w.q4.x + y * v.q4.x + z * s.q4.x + u * t.q4.x;
            a17 += x * w.q4.y + y * v.q4.y + z * s.q4.y + u * t.q4.y;
            a18 += x * w.q4.z + y * v.q4.z + z * s.q4.z + u * t.q4.z;
            a19 += x * w.q4.w + y * v.q4.w + z * s.q4.w + u * t.q4.w;
            a20 += x * w.q5.x + y * v.q5.x + z * s.q5.x + u * t.q5.x;
            a21 += x * w.q5.y + y * v.q5.y + z * s.q5.y + u * t.q5.y;
            a22 += x * w.q5.z + y * v.q5.z + z * s.q5.z + u * t.q5.z;
            a23 += x * w.q5.w + y * v.q5.w + z * s.q5.w + u * t.q5.w;
            a24 += x * w.q6.x + y * v.q6.x + z * s.q6.x + u * t.q6.x;
            a25 += x * w.q6.y + y * v.q6.y + z * s.q6.y + u * t.q6.y;
            a26 += x * w.q6.z + y * v.q6.z + z * s.q6.z + u * t.q6.z;
            a27 += x * w.q6.w + y * v.q6.w + z * s.q6.w + u * t.q6.w;
            a28 += x * w.q7.x + y * v.q7.x + z * s.q7.x + u * t.q7.x;
            a29 += x * w.q7.y + y * v.q7.y + z * s.q7.y + u * t.q7.y;
            a30 += x * w.q7.z + y * v.q7.z + z * s.q7.z + u * t.q7.z;
            a31 += x * w.q7.w + y * v.q7.w + z * s.q7.w + u * t.q7.w;
        }
    }
    if (done) { return; }
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

// Output channel `co` at pixels p .. p + 3 of image n (one vec4 store on aligned planes).
fn store(n: u32, co: u32, p: u32, acc: vec4<f32>) {
    let hw = P.hw;
    if (co >= P.c_out) { return; }
    let bias = ld_wts(P.bias_off + co);
    let o = (n * P.c_out + co) * hw + p;
    store4(o, min(PIXELS, hw - p), acc, bias, HAS_RESIDUAL != 0u, ALIGNED != 0u);
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
