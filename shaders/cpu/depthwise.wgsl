// Depthwise k×k convolution + folded BN + activation. Each invocation computes OUT_X = 4
// consecutive outputs of ROWS rows, loading each input row segment once for all k taps and all 4 outputs
// (k + 3·stride values instead of 4·k; see taps.wgsl) and each input row once for all its
// output rows ((ROWS - 1)·stride + k rows instead of ROWS·k).
// P: DepthwiseParams (src/kernels/cpu/depthwise.rs, which also sets the tile constants).
// Weights are stored [C][K][RS] (RS = P.row_stride, 8 for k ≤ 7), the bias in the last slot
// of row 0 (src/kernels/cpu/depthwise.rs), so for k = 3 and 5 a channel's weights and bias are K
// `shared8` blocks, loaded once per invocation before any row (with subgroups, one load per
// block for the whole subgroup: lanes_subgroup.wgsl). Those sizes also run their rows as
// straight-line code: on CPU drivers a loop's body is blended with the loop mask and every
// load in it is a loop over the lanes (BENCHMARKS.md).
// With HAS_SUMS each invocation also writes the sum of the outputs it produced, so the SE
// block that follows needs no extra pass over the tensor: sums[((n * C + c) * tiles + tile)
// * WG + lane]. One value per invocation instead of a workgroup reduction: barriers cost CPU
// drivers more than the SE kernel's extra additions (B0 on lavapipe, depthwise + SE: 46.2 ms
// with a tree reduction, 37.2 with one barrier, 31.4 with none).
// Grid: x = tiles of WG blocks of ROWS rows × 4 columns, y = channels, z = batch.
// The channel is the same for the whole workgroup, so any subgroup layout shares weights.

override HAS_SUMS: u32 = 0u;
// Output rows hold a multiple of 4 values: each row quad is one vec4 store.
override ALIGNED: u32 = 0u;
// Output rows per invocation: 2, or 4 on large planes (k + 3·stride input rows for 4 rows
// instead of 2·(k + stride) for two pairs). Chosen by `rows` in src/kernels/cpu/depthwise.rs.
override ROWS: u32;
// Invocations per workgroup: 8 to 64, sized to the plane (`grid` there).
override WG: u32;
// Outputs of a row per invocation; the code is written for 4 (a vec4).
override OUT_X: u32;

// A weight row as the shared loads return it (dw_rows.wgsl; H is f32 in this family).
alias WRow = Pair;

fn kernel(wid: vec3<u32>, li: u32) {
    let c = wid.y;
    let n = wid.z;
    let quads_per_row = (P.w_out + OUT_X - 1u) / OUT_X;
    let items = (P.h_out + ROWS - 1u) / ROWS * quads_per_row;
    let item = wid.x * WG + li;
    // Lanes past the last item leave with their subgroup (they still write their zero SE
    // sum); in a subgroup with work left they compute the last item again and store
    // nothing, so that every lane takes part in the weight broadcasts.
    if (all_done(item >= items)) {
        if (HAS_SUMS != 0u) { st_sums(((n * P.c + c) * P.tiles + wid.x) * WG + li, 0.0); }
        return;
    }
    let it = min(item, items - 1u);
    let oy = (it / quads_per_row) * ROWS;
    let ox0 = (it % quads_per_row) * OUT_X;
    let plane = (n * P.c + c) * P.h_in;
    let x0 = i32(ox0 * STRIDE) - i32(P.pad_left);
    let iy0 = i32(oy * STRIDE) - i32(P.pad_top);
    let base = c * K * P.row_stride;
    var o: Outs;
    var bias: f32;
    if (fast_taps()) {
        let w = dw_weights(base);
        bias = w.r0.hi.w;
        // Input rows 0 .. (ROWS - 1)·STRIDE + K - 1 of the window, unrolled (constants).
        let rows = (ROWS - 1u) * STRIDE + K;
        dw_row(0u, plane, iy0, x0, w, &o);
        dw_row(1u, plane, iy0, x0, w, &o);
        dw_row(2u, plane, iy0, x0, w, &o);
        dw_row(3u, plane, iy0, x0, w, &o);
        if (rows > 4u) { dw_row(4u, plane, iy0, x0, w, &o); }
        if (rows > 5u) { dw_row(5u, plane, iy0, x0, w, &o); }
        if (rows > 6u) { dw_row(6u, plane, iy0, x0, w, &o); }
        if (rows > 7u) { dw_row(7u, plane, iy0, x0, w, &o); }
        if (rows > 8u) { dw_row(8u, plane, iy0, x0, w, &o); }
        if (rows > 9u) { dw_row(9u, plane, iy0, x0, w, &o); }
        if (rows > 10u) { dw_row(10u, plane, iy0, x0, w, &o); }
    } else {
        // Other kernel sizes and strides run with ROWS = 2.
        bias = ld_wts(base + P.row_stride - 1u);
        for (var r = 0u; r < K + STRIDE; r++) {
            let iy = iy0 + i32(r);
            if (r < K) { o.o0 += row_dot_generic(plane, iy, x0, base + r * P.row_stride); }
            if (r >= STRIDE) {
                o.o1 += row_dot_generic(plane, iy, x0, base + (r - STRIDE) * P.row_stride);
            }
        }
    }
    var local_sum = 0.0;
    if (item < items) {
        let count = min(OUT_X, P.w_out - ox0);
        let out_row = ((n * P.c + c) * P.h_out + oy) * P.w_out + ox0;
        let aligned = ALIGNED != 0u;
        local_sum = store4(out_row, count, o.o0, bias, false, aligned);
        if (oy + 1u < P.h_out) {
            local_sum += store4(out_row + P.w_out, count, o.o1, bias, false, aligned);
        }
        if (ROWS == 4u && oy + 2u < P.h_out) {
            local_sum += store4(out_row + 2u * P.w_out, count, o.o2, bias, false, aligned);
        }
        if (ROWS == 4u && oy + 3u < P.h_out) {
            local_sum += store4(out_row + 3u * P.w_out, count, o.o3, bias, false, aligned);
        }
    }
    if (HAS_SUMS != 0u) {
        st_sums(((n * P.c + c) * P.tiles + wid.x) * WG + li, local_sum);
    }
}

// The weight row at `base` (dw_rows.wgsl's dw_weights), one load per block for the whole
// subgroup with subgroups.
fn load_row(base: u32) -> WRow {
    return shared8(base);
}

// Input row `r` of the window: weight row r - m·STRIDE for output row m, where that is a
// kernel row. `r` is a literal, so the branches and the row choice fold away.
fn dw_row(r: u32, plane: u32, iy0: i32, x0: i32, w: DwWeights, o: ptr<function, Outs>) {
    let t = row_taps(plane, iy0 + i32(r), x0);
    if (r < K) { (*o).o0 += taps_dot(t, weight_row(w, r)); }
    if (r >= STRIDE && r < STRIDE + K) { (*o).o1 += taps_dot(t, weight_row(w, r - STRIDE)); }
    let s2 = 2u * STRIDE;
    if (ROWS == 4u && r >= s2 && r < s2 + K) { (*o).o2 += taps_dot(t, weight_row(w, r - s2)); }
    let s3 = 3u * STRIDE;
    if (ROWS == 4u && r >= s3 && r < s3 + K) { (*o).o3 += taps_dot(t, weight_row(w, r - s3)); }
}
