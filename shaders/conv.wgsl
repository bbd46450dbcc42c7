// Dense k×k convolution + folded BN + activation (+ residual): the stem, Fused-MBConv
// expansion and ConvBnAct. Each invocation computes 4 consecutive outputs of one row for
// CO output channels: every input row segment is loaded once for all k taps, 4 outputs and
// CO channels (see taps.wgsl).
// Grid: x = row quads / 64, y = output channels / CO, z = batch.

override HAS_RESIDUAL: u32 = 0u;
const CO: u32 = 4u;
const OUT_X: u32 = 4u;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let quads_per_row = (P.w_out + OUT_X - 1u) / OUT_X;
    let item = gid.x;
    if (item >= P.h_out * quads_per_row) { return; }
    let oy = item / quads_per_row;
    let ox0 = (item % quads_per_row) * OUT_X;
    let n = gid.z;
    let co0 = gid.y * CO;
    let taps = P.c_in * K * K;
    // Weight rows of the 4 output channels (clamped: extra channels are computed, not stored).
    let last = P.c_out - 1u;
    let w0 = co0 * taps;
    let w1 = min(co0 + 1u, last) * taps;
    let w2 = min(co0 + 2u, last) * taps;
    let w3 = min(co0 + 3u, last) * taps;
    let x0 = i32(ox0 * STRIDE) - i32(P.pad_left);
    // Named accumulators, not an array: see taps.wgsl.
    var a0 = vec4<f32>(0.0);
    var a1 = vec4<f32>(0.0);
    var a2 = vec4<f32>(0.0);
    var a3 = vec4<f32>(0.0);
    for (var ci = 0u; ci < P.c_in; ci++) {
        let plane = (n * P.c_in + ci) * P.h_in;
        for (var ky = 0u; ky < K; ky++) {
            let iy = i32(oy * STRIDE + ky) - i32(P.pad_top);
            let off = (ci * K + ky) * K;
            if (fast_taps()) {
                let t = row_taps(plane, iy, x0);
                a0 += row_dot(t, w0 + off);
                a1 += row_dot(t, w1 + off);
                a2 += row_dot(t, w2 + off);
                a3 += row_dot(t, w3 + off);
            } else {
                a0 += row_dot_generic(plane, iy, x0, w0 + off);
                a1 += row_dot_generic(plane, iy, x0, w1 + off);
                a2 += row_dot_generic(plane, iy, x0, w2 + off);
                a3 += row_dot_generic(plane, iy, x0, w3 + off);
            }
        }
    }
    store(n, co0, oy, ox0, a0);
    store(n, co0 + 1u, oy, ox0, a1);
    store(n, co0 + 2u, oy, ox0, a2);
    store(n, co0 + 3u, oy, ox0, a3);
}

fn store(n: u32, co: u32, oy: u32, ox0: u32, acc: vec4<f32>) {
    if (co >= P.c_out) { return; }
    let bias = ld_wts(P.bias_off + co);
    let out_row = ((n * P.c_out + co) * P.h_out + oy) * P.w_out;
    store4(out_row + ox0, min(OUT_X, P.w_out - ox0), acc, bias, HAS_RESIDUAL != 0u);
}
