// Dense k×k convolution + folded BN + activation (+ residual): the stem, Fused-MBConv
// expansion and ConvBnAct. Each invocation computes 4 consecutive outputs of one row for
// CO output channels: every input row segment is loaded once for all k taps, 4 outputs and
// CO channels. Out-of-image taps are zeroed by `select` (see depthwise.wgsl).
// Grid: x = row quads / 64, y = output channels / CO, z = batch.

override K: u32 = 3u;
override STRIDE: u32 = 1u;
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
    let seg_len = (OUT_X - 1u) * STRIDE + K;
    let x0 = i32(ox0 * STRIDE) - i32(P.pad_left);
    var acc: array<vec4<f32>, CO>;
    for (var ci = 0u; ci < P.c_in; ci++) {
        let plane = (n * P.c_in + ci) * P.h_in;
        for (var ky = 0u; ky < K; ky++) {
            let iy = i32(oy * STRIDE + ky) - i32(P.pad_top);
            let seg = row_segment(plane, iy, x0, seg_len);
            for (var kx = 0u; kx < K; kx++) {
                let v = vec4<f32>(seg[kx], seg[STRIDE + kx], seg[2u * STRIDE + kx], seg[3u * STRIDE + kx]);
                let tap = (ci * K + ky) * K + kx;
                for (var j = 0u; j < CO; j++) {
                    acc[j] += v * ld_wts(min(co0 + j, P.c_out - 1u) * taps + tap);
                }
            }
        }
    }
    let ohw = P.h_out * P.w_out;
    for (var j = 0u; j < CO; j++) {
        let co = co0 + j;
        if (co >= P.c_out) { break; }
        let bias = ld_wts(P.bias_off + co);
        let out_row = (n * P.c_out + co) * ohw + oy * P.w_out;
        for (var i = 0u; i < OUT_X; i++) {
            if (ox0 + i >= P.w_out) { break; }
            let o = out_row + ox0 + i;
            var y = activate(acc[j][i] + bias);
            if (HAS_RESIDUAL != 0u) { y += ld_res(o); }
            st_dst(o, y);
        }
    }
}
