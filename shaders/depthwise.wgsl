// Depthwise k×k convolution + folded BN + activation. Each invocation computes 4 consecutive
// outputs of one row, loading each input row segment once for all k taps and all 4 outputs
// (k + 3·stride values instead of 4·k; see taps.wgsl).
// With HAS_SUMS each invocation also writes the sum of the outputs it produced, so the SE
// block that follows needs no extra pass over the tensor: sums[((n * C + c) * tiles + tile)
// * WG + lane]. One value per invocation instead of a workgroup reduction: barriers cost CPU
// drivers more than the SE kernel's extra additions (B0 on lavapipe, depthwise + SE: 46.2 ms
// with a tree reduction, 37.2 with one barrier, 31.4 with none).
// Grid: x = tiles of WG row quads, y = channels, z = batch.

override HAS_SUMS: u32 = 0u;
const WG: u32 = 64u;
const OUT_X: u32 = 4u;

fn quad(c: u32, n: u32, oy: u32, ox0: u32) -> vec4<f32> {
    let plane = (n * P.c_in + c) * P.h_in;
    let x0 = i32(ox0 * STRIDE) - i32(P.pad_left);
    var acc = vec4<f32>(0.0);
    for (var ky = 0u; ky < K; ky++) {
        let iy = i32(oy * STRIDE + ky) - i32(P.pad_top);
        let w = (c * K + ky) * K;
        if (fast_taps()) {
            acc += row_dot(row_taps(plane, iy, x0), w);
        } else {
            acc += row_dot_generic(plane, iy, x0, w);
        }
    }
    return acc;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let c = wid.y;
    let n = wid.z;
    let quads_per_row = (P.w_out + OUT_X - 1u) / OUT_X;
    let item = wid.x * WG + li;
    var local_sum = 0.0;
    if (item < P.h_out * quads_per_row) {
        let oy = item / quads_per_row;
        let ox0 = (item % quads_per_row) * OUT_X;
        let acc = quad(c, n, oy, ox0);
        let bias = ld_wts(P.bias_off + c);
        let out_row = ((n * P.c_out + c) * P.h_out + oy) * P.w_out;
        local_sum = store4(out_row + ox0, min(OUT_X, P.w_out - ox0), acc, bias, false);
    }
    if (HAS_SUMS != 0u) {
        st_sums(((n * P.c_out + c) * P.tiles + wid.x) * WG + li, local_sum);
    }
}
