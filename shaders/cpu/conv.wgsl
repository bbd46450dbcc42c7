// Dense k×k convolution + folded BN + activation (+ residual): the stem, Fused-MBConv
// expansion and ConvBnAct. Each invocation computes OUT_X = 4 consecutive outputs of one row
// for CO = 16 output channels: every input row segment is loaded once for all k taps, 4
// outputs and 16 channels (see taps.wgsl). P: ConvParams (src/kernels/cpu/conv.rs, which also
// sets the tile constants CO, OUT_X and WG below).
// Weights are stored in blocks of the CO channels' k values for one (input channel, kernel
// row): [c_out / CO][c_in][k][CO · kp = P.block_stride] with kp = k rounded up to 4,
// channel j's at j·kp + kx (src/kernels/cpu/conv.rs), so for k = 3 a channel's row is one vec4
// and a block 16 vec4s: 2 `shared_quads` loads (one load per 8 vec4s per subgroup where
// tuned: lanes_subgroup.wgsl); 4 for k = 5. Each channel's weights are then named fields, not
// slots picked by a constant index: that code (switches folded away) took lavapipe's
// shader compiler ~1 s per pipeline. The biases follow at bias_off.
// Grid: x = row quads / WG, y = output channels / CO, z = batch.

override HAS_RESIDUAL: u32 = 0u;
// Output rows hold a multiple of 4 values: each row quad is one vec4 store.
override ALIGNED: u32 = 0u;
// Tile constants. The code below is written for CO = 16 (named accumulators) and OUT_X = 4
// (a vec4 of taps); WG is free.
override CO: u32;
override OUT_X: u32;
override WG: u32;
// 1: the kernel rows as a loop rather than unrolled, where the shader compiler cannot take
// the unrolled rows (a browser: src/kernels/cpu/conv.rs, ROW_LOOP).
override ROW_LOOP: u32 = 0u;

// One weight block: vec4 i in quad i % 8 of a, b, c, d (c and d for k = 5 only).
struct ConvBlock { a: Quads, b: Quads, c: Quads, d: Quads }

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
        let w = (wid.y * P.c_in + ci) * K * P.block_stride;
        if (ROW_LOOP != 0u && fast_taps()) {
            for (var ky = 0u; ky < K; ky++) {
                conv_row(ky, plane, oy, x0, w, &acc);
            }
        } else if (fast_taps()) {
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
            let kp = (K + 3u) / 4u * 4u;
            for (var ky = 0u; ky < K; ky++) {
                let iy = i32(oy * STRIDE + ky) - i32(P.pad_top);
                let w = w + ky * P.block_stride;
                acc.a0 += row_dot_generic(plane, iy, x0, w);
                acc.a1 += row_dot_generic(plane, iy, x0, w + 1u * kp);
                acc.a2 += row_dot_generic(plane, iy, x0, w + 2u * kp);
                acc.a3 += row_dot_generic(plane, iy, x0, w + 3u * kp);
                acc.a4 += row_dot_generic(plane, iy, x0, w + 4u * kp);
                acc.a5 += row_dot_generic(plane, iy, x0, w + 5u * kp);
                acc.a6 += row_dot_generic(plane, iy, x0, w + 6u * kp);
                acc.a7 += row_dot_generic(plane, iy, x0, w + 7u * kp);
                acc.a8 += row_dot_generic(plane, iy, x0, w + 8u * kp);
                acc.a9 += row_dot_generic(plane, iy, x0, w + 9u * kp);
                acc.a10 += row_dot_generic(plane, iy, x0, w + 10u * kp);
                acc.a11 += row_dot_generic(plane, iy, x0, w + 11u * kp);
                acc.a12 += row_dot_generic(plane, iy, x0, w + 12u * kp);
                acc.a13 += row_dot_generic(plane, iy, x0, w + 13u * kp);
                acc.a14 += row_dot_generic(plane, iy, x0, w + 14u * kp);
                acc.a15 += row_dot_generic(plane, iy, x0, w + 15u * kp);
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

// Kernel row `ky` (a literal where unrolled) of input channel block `w`: its taps times its weights.
fn conv_row(ky: u32, plane: u32, oy: u32, x0: i32, w: u32, acc: ptr<function, Accs>) {
    let iy = i32(oy * STRIDE + ky) - i32(P.pad_top);
    let t = row_taps(plane, iy, x0);
    let b = conv_block(w + ky * P.block_stride);
    if (K == 3u) {
        (*acc).a0 += dot3(t, b.a.q0);
        (*acc).a1 += dot3(t, b.a.q1);
        (*acc).a2 += dot3(t, b.a.q2);
        (*acc).a3 += dot3(t, b.a.q3);
        (*acc).a4 += dot3(t, b.a.q4);
        (*acc).a5 += dot3(t, b.a.q5);
        (*acc).a6 += dot3(t, b.a.q6);
        (*acc).a7 += dot3(t, b.a.q7);
        (*acc).a8 += dot3(t, b.b.q0);
        (*acc).a9 += dot3(t, b.b.q1);
        (*acc).a10 += dot3(t, b.b.q2);
        (*acc).a11 += dot3(t, b.b.q3);
        (*acc).a12 += dot3(t, b.b.q4);
        (*acc).a13 += dot3(t, b.b.q5);
        (*acc).a14 += dot3(t, b.b.q6);
        (*acc).a15 += dot3(t, b.b.q7);
    } else {
        (*acc).a0 += dot5(t, b.a.q0, b.a.q1);
        (*acc).a1 += dot5(t, b.a.q2, b.a.q3);
        (*acc).a2 += dot5(t, b.a.q4, b.a.q5);
        (*acc).a3 += dot5(t, b.a.q6, b.a.q7);
        (*acc).a4 += dot5(t, b.b.q0, b.b.q1);
        (*acc).a5 += dot5(t, b.b.q2, b.b.q3);
        (*acc).a6 += dot5(t, b.b.q4, b.b.q5);
        (*acc).a7 += dot5(t, b.b.q6, b.b.q7);
        (*acc).a8 += dot5(t, b.c.q0, b.c.q1);
        (*acc).a9 += dot5(t, b.c.q2, b.c.q3);
        (*acc).a10 += dot5(t, b.c.q4, b.c.q5);
        (*acc).a11 += dot5(t, b.c.q6, b.c.q7);
        (*acc).a12 += dot5(t, b.d.q0, b.d.q1);
        (*acc).a13 += dot5(t, b.d.q2, b.d.q3);
        (*acc).a14 += dot5(t, b.d.q4, b.d.q5);
        (*acc).a15 += dot5(t, b.d.q6, b.d.q7);
    }
}

// The block at `w` (a multiple of 4): 16 vec4s for k = 3, 32 for k = 5.
fn conv_block(w: u32) -> ConvBlock {
    var b: ConvBlock;
    let q = w / 4u;
    b.a = shared_quads(q, 8u);
    b.b = shared_quads(q + 8u, 8u);
    if (K == 5u) {
        b.c = shared_quads(q + 16u, 8u);
        b.d = shared_quads(q + 24u, 8u);
    }
    return b;
}

// Σ over kernel columns of taps × one channel's weights (k = 3: w.xyz).
fn dot3(t: Taps, w: vec4<f32>) -> vec4<f32> {
    return t.t0 * w.x + t.t1 * w.y + t.t2 * w.z;
}

// The same for k = 5: lo.xyzw, hi.x.
fn dot5(t: Taps, lo: vec4<f32>, hi: vec4<f32>) -> vec4<f32> {
    return dot3(t, lo) + t.t3 * lo.w + t.t4 * hi.x;
}

fn store(n: u32, co: u32, oy: u32, ox0: u32, acc: vec4<f32>) {
    if (co >= P.c_out) { return; }
    let bias = ld_wts(P.bias_off + co);
    let out_row = ((n * P.c_out + co) * P.h_out + oy) * P.w_out;
    let count = min(OUT_X, P.w_out - ox0);
    store4(out_row + ox0, count, acc, bias, HAS_RESIDUAL != 0u, ALIGNED != 0u);
}
