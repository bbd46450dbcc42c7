// Depthwise k×k convolution + folded BN + activation. Each invocation computes 4 consecutive
// outputs of two rows, loading each input row segment once for all k taps and all 4 outputs
// (k + 3·stride values instead of 4·k; see taps.wgsl) and each input row once for both
// output rows (k + stride rows instead of 2k).
// With HAS_SUMS each invocation also writes the sum of the outputs it produced, so the SE
// block that follows needs no extra pass over the tensor: sums[((n * C + c) * tiles + tile)
// * WG + lane]. One value per invocation instead of a workgroup reduction: barriers cost CPU
// drivers more than the SE kernel's extra additions (B0 on lavapipe, depthwise + SE: 46.2 ms
// with a tree reduction, 37.2 with one barrier, 31.4 with none).
// Grid: x = tiles of WG blocks of 2 rows × 4 columns, y = channels, z = batch.

override HAS_SUMS: u32 = 0u;
const WG: u32 = 64u;
const OUT_X: u32 = 4u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let c = wid.y;
    let n = wid.z;
    let quads_per_row = (P.w_out + OUT_X - 1u) / OUT_X;
    let row_pairs = (P.h_out + 1u) / 2u;
    let item = wid.x * WG + li;
    var local_sum = 0.0;
    if (item < row_pairs * quads_per_row) {
        // Two output rows share the input rows between them: k + stride rows instead of 2k.
        let oy = (item / quads_per_row) * 2u;
        let ox0 = (item % quads_per_row) * OUT_X;
        let plane = (n * P.c_in + c) * P.h_in;
        let x0 = i32(ox0 * STRIDE) - i32(P.pad_left);
        var top = vec4<f32>(0.0);
        var bottom = vec4<f32>(0.0);
        for (var r = 0u; r < K + STRIDE; r++) {
            let iy = i32(oy * STRIDE + r) - i32(P.pad_top);
            if (fast_taps()) {
                let t = row_taps(plane, iy, x0);
                if (r < K) { top += row_dot(t, (c * K + r) * K); }
                if (r >= STRIDE) { bottom += row_dot(t, (c * K + r - STRIDE) * K); }
            } else {
                if (r < K) { top += row_dot_generic(plane, iy, x0, (c * K + r) * K); }
                if (r >= STRIDE) { bottom += row_dot_generic(plane, iy, x0, (c * K + r - STRIDE) * K); }
            }
        }
        let bias = ld_wts(P.bias_off + c);
        let count = min(OUT_X, P.w_out - ox0);
        let out_row = ((n * P.c_out + c) * P.h_out + oy) * P.w_out + ox0;
        local_sum = store4(out_row, count, top, bias, false);
        if (oy + 1u < P.h_out) {
            local_sum += store4(out_row + P.w_out, count, bottom, bias, false);
        }
    }
    if (HAS_SUMS != 0u) {
        st_sums(((n * P.c_out + c) * P.tiles + wid.x) * WG + li, local_sum);
    }
}
