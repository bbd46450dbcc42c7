// Dense k×k convolution + folded BN + activation (+ residual): the stem, Fused-MBConv
// expansion and ConvBnAct. Each invocation computes 4 consecutive outputs of one row for
// CO = 16 output channels: every input row segment is loaded once for all k taps, 4 outputs
// and 16 channels (see taps.wgsl).
// Weights are stored in blocks of the CO channels' k values for one (input channel, kernel
// row): [c_out / CO][c_in][k][CO · k padded to 8 = P.off1], channel j's at j·k + kx
// (src/gpu/weights.rs), so for k = 3 and 5 a block is 12 or 20 vec4s, 2 or 3 `shared_quads`
// loads (one load per 8 vec4s per subgroup where tuned: lanes_subgroup.wgsl). The biases
// follow at bias_off.
// 16 channels rather than 4: on lavapipe each input row load then serves 4× the
// multiply-adds (EfficientNetV2-S at 300: fused-MBConv convs 2× faster).
// Grid: x = row quads / WG, y = output channels / CO, z = batch.

override HAS_RESIDUAL: u32 = 0u;
// Output rows hold a multiple of 4 values: each row quad is one vec4 store.
override ALIGNED: u32 = 0u;
const CO: u32 = 16u;
const OUT_X: u32 = 4u;
const WG: u32 = 64u;

// One weight block as vec4s: slots 4·i .. 4·i + 3 in quad i of a (i < 8), b (8 ≤ i < 16), c.
struct ConvBlock { a: Quads, b: Quads, c: Quads }

// The 16 output channels' accumulators.
struct Accs {
    a0: vec4<f32>, a1: vec4<f32>, a2: vec4<f32>, a3: vec4<f32>,
    a4: vec4<f32>, a5: vec4<f32>, a6: vec4<f32>, a7: vec4<f32>,
    a8: vec4<f32>, a9: vec4<f32>, a10: vec4<f32>, a11: vec4<f32>,
    a12: vec4<f32>, a13: vec4<f32>, a14: vec4<f32>, a15: vec4<f32>,
}

fn kernel(wid: vec3<u32>, li: u32) {
    let quads_per_row = (P.w_out + OUT_X - 1u) / OUT_X;
    let items = P.h_out * quads_per_row;
    let item = wid.x * WG + li;
    // Lanes past the last item compute it again and store nothing (they take part in the
    // weight broadcasts); whole subgroups of them leave.
    if (all_done(item >= items)) { return; }
    let it = min(item, items - 1u);
    let oy = it / quads_per_row;
    let ox0 = (it % quads_per_row) * OUT_X;
    let n = wid.z;
    let co0 = wid.y * CO;
    let x0 = i32(ox0 * STRIDE) - i32(P.pad_left);
    // Named accumulators (struct fields), not an array: see taps.wgsl.
    var acc: Accs;
    for (var ci = 0u; ci < P.c_in; ci++) {
        let plane = (n * P.c_in + ci) * P.h_in;
        let w = (wid.y * P.c_in + ci) * K * P.off1;
        if (fast_taps()) {
            // Kernel rows unrolled (K is a constant): each accumulator is written once per
            // input channel, and CPU drivers blend every loop-carried write with the mask.
            conv_row(0u, plane, oy, x0, w, &acc);
            conv_row(1u, plane, oy, x0, w, &acc);
            conv_row(2u, plane, oy, x0, w, &acc);
            if (K == 5u) {
                conv_row(3u, plane, oy, x0, w, &acc);
                conv_row(4u, plane, oy, x0, w, &acc);
            }
        } else {
            for (var ky = 0u; ky < K; ky++) {
                let iy = i32(oy * STRIDE + ky) - i32(P.pad_top);
                let w = w + ky * P.off1;
                acc.a0 += row_dot_generic(plane, iy, x0, w);
                acc.a1 += row_dot_generic(plane, iy, x0, w + 1u * K);
                acc.a2 += row_dot_generic(plane, iy, x0, w + 2u * K);
                acc.a3 += row_dot_generic(plane, iy, x0, w + 3u * K);
                acc.a4 += row_dot_generic(plane, iy, x0, w + 4u * K);
                acc.a5 += row_dot_generic(plane, iy, x0, w + 5u * K);
                acc.a6 += row_dot_generic(plane, iy, x0, w + 6u * K);
                acc.a7 += row_dot_generic(plane, iy, x0, w + 7u * K);
                acc.a8 += row_dot_generic(plane, iy, x0, w + 8u * K);
                acc.a9 += row_dot_generic(plane, iy, x0, w + 9u * K);
                acc.a10 += row_dot_generic(plane, iy, x0, w + 10u * K);
                acc.a11 += row_dot_generic(plane, iy, x0, w + 11u * K);
                acc.a12 += row_dot_generic(plane, iy, x0, w + 12u * K);
                acc.a13 += row_dot_generic(plane, iy, x0, w + 13u * K);
                acc.a14 += row_dot_generic(plane, iy, x0, w + 14u * K);
                acc.a15 += row_dot_generic(plane, iy, x0, w + 15u * K);
            }
        }
    }
    if (item >= items) { return; }
    store(n, co0, oy, ox0, acc.a0);
    store(n, co0 + 1u, oy, ox0, acc.a1);
    store(n, co0 + 2u, oy, ox0, acc.a2);
    store(n, co0 + 3u, oy, ox0, acc.a3);
    store(n, co0 + 4u, oy, ox0, acc.a4);
    store(n, co0 + 5u, oy, ox0, acc.a5);
    store(n, co0 + 6u, oy, ox0, acc.a6);
    store(n, co0 + 7u, oy, ox0, acc.a7);
    store(n, co0 + 8u, oy, ox0, acc.a8);
    store(n, co0 + 9u, oy, ox0, acc.a9);
    store(n, co0 + 10u, oy, ox0, acc.a10);
    store(n, co0 + 11u, oy, ox0, acc.a11);
    store(n, co0 + 12u, oy, ox0, acc.a12);
    store(n, co0 + 13u, oy, ox0, acc.a13);
    store(n, co0 + 14u, oy, ox0, acc.a14);
    store(n, co0 + 15u, oy, ox0, acc.a15);
}

// Kernel row `ky` (a literal) of input channel block `w`: its taps times its weights.
fn conv_row(ky: u32, plane: u32, oy: u32, x0: i32, w: u32, acc: ptr<function, Accs>) {
    let iy = i32(oy * STRIDE + ky) - i32(P.pad_top);
    let t = row_taps(plane, iy, x0);
    let b = conv_block(w + ky * P.off1);
    (*acc).a0 += block_dot(t, b, 0u);
    (*acc).a1 += block_dot(t, b, 1u);
    (*acc).a2 += block_dot(t, b, 2u);
    (*acc).a3 += block_dot(t, b, 3u);
    (*acc).a4 += block_dot(t, b, 4u);
    (*acc).a5 += block_dot(t, b, 5u);
    (*acc).a6 += block_dot(t, b, 6u);
    (*acc).a7 += block_dot(t, b, 7u);
    (*acc).a8 += block_dot(t, b, 8u);
    (*acc).a9 += block_dot(t, b, 9u);
    (*acc).a10 += block_dot(t, b, 10u);
    (*acc).a11 += block_dot(t, b, 11u);
    (*acc).a12 += block_dot(t, b, 12u);
    (*acc).a13 += block_dot(t, b, 13u);
    (*acc).a14 += block_dot(t, b, 14u);
    (*acc).a15 += block_dot(t, b, 15u);
}

// The block at `w` (a multiple of 4): 12 vec4s for k = 3, 20 for k = 5, as 2 or 3
// `shared_quads` loads (one lane loop each for a subgroup where tuned).
fn conv_block(w: u32) -> ConvBlock {
    var b: ConvBlock;
    let q = w / 4u;
    b.a = shared_quads(q, 8u);
    if (K == 3u) { b.b = shared_quads(q + 8u, 4u); }
    if (K == 5u) {
        b.b = shared_quads(q + 8u, 8u);
        b.c = shared_quads(q + 16u, 4u);
    }
    return b;
}

// Σ over kernel columns of taps × channel j's weights. `j` is a literal and K a constant,
// so every slot index is a constant and the switches below fold away.
fn block_dot(t: Taps, b: ConvBlock, j: u32) -> vec4<f32> {
    let s = j * K;
    var acc = t.t0 * slot(b, s) + t.t1 * slot(b, s + 1u) + t.t2 * slot(b, s + 2u);
    if (K == 5u) { acc += t.t3 * slot(b, s + 3u) + t.t4 * slot(b, s + 4u); }
    return acc;
}

fn slot(b: ConvBlock, i: u32) -> f32 {
    switch i / 32u {
        case 0u: { return pick(b.a, i % 32u); }
        case 1u: { return pick(b.b, i % 32u); }
        default: { return pick(b.c, i % 32u); }
    }
}

fn pick(q: Quads, i: u32) -> f32 {
    var v: vec4<f32>;
    switch i / 4u {
        case 0u: { v = q.q0; }
        case 1u: { v = q.q1; }
        case 2u: { v = q.q2; }
        case 3u: { v = q.q3; }
        case 4u: { v = q.q4; }
        case 5u: { v = q.q5; }
        case 6u: { v = q.q6; }
        default: { v = q.q7; }
    }
    switch i % 4u {
        case 0u: { return v.x; }
        case 1u: { return v.y; }
        case 2u: { return v.z; }
        default: { return v.w; }
    }
}

fn store(n: u32, co: u32, oy: u32, ox0: u32, acc: vec4<f32>) {
    if (co >= P.c_out) { return; }
    let bias = ld_wts(P.bias_off + co);
    let out_row = ((n * P.c_out + co) * P.h_out + oy) * P.w_out;
    let count = min(OUT_X, P.w_out - ox0);
    store4(out_row + ox0, count, acc, bias, HAS_RESIDUAL != 0u, ALIGNED != 0u);
}
