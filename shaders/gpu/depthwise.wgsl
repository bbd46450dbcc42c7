// GPU family: depthwise k×k conv (k = 3 or 5, stride 1 or 2) + folded BN + activation, and
// with HAS_SUMS the per-channel sums of its output that the SE block after it needs.
// P: DepthwiseParams; the tiling (all overrides below) comes from src/kernels/gpu/depthwise.rs.
// Its input comes through `stage` (the band's input rows into `tile`) and `input_at` (one
// value), which follow this file: dw_load.wgsl loads them (the depthwise kernel),
// dw_expand.wgsl computes them from a 1×1 expansion's input (the fused kernel).
//
// A workgroup owns CH consecutive planes (plane p = image · C + channel, so a group may span
// two images) × a band of TH output rows (TH = h_out: whole planes). It stages the input rows
// of its band, halo and zero padding included, in `tile` once (coalesced loads, vec4 ones
// where input rows are whole vec4s); every tap then reads workgroup memory. LPC lanes serve
// each plane; a lane computes blocks of ROWS rows × 4 columns, reading each staged row once
// per block as two vec4s (stride 1) or as vec4s of its even and odd columns, which stride 2
// staging stores apart: no stride-2 gathers and no bank conflicts for 128-bit reads.
//
// Stores are whole words: with output rows of whole vec4s (ALIGNED) each lane stores its
// rows with st_dst4. Otherwise the outputs go to `ot` first and the workgroup writes its
// contiguous range (its whole planes, or one band of a plane) as aligned vec4s, and pairs
// (st_dst2) at the range's ends. Where planes or bands have an odd size, a range may start
// or end inside a word: a word belongs to the range holding its first (even-index) value,
// so a range leaves a first value at an odd index to the range before it, and stores the
// word at an odd end with the next range's first value, computed alone from the input
// (`direct`: one output's k×k taps).
//
// SE sums: each lane adds the outputs it computed, the plane's LPC lanes add theirs (with
// subgroups, subgroupAdd / shuffles within each subgroup, then `red` across subgroups;
// without, a tree in `red`), and band t of T writes the slot pairs (words) w ≡ t (mod T) of
// its planes' `P.partials` slots (an even number, ≥ 2T: src/kernels/gpu/depthwise.rs):
// its sum in slot 2t, zero in the others. Every word is written once, by one workgroup.
// Arithmetic: the tile, the weights and each window's k·k multiply-adds are in H (f16 where
// the tuning asks and storage is native f16: kernels::formats::Arithmetic); bias, activation
// and the SE sums in f32.
// Grid: x, y = plane groups (x + y · nx), z = bands.

override K: u32;
override STRIDE: u32;
override HAS_SUMS: u32;
// Output rows are whole vec4s (w_out % 4 = 0): lanes store straight from registers.
override ALIGNED: u32;
// Input rows are whole vec4s (w_in % 4 = 0): staging loads vec4s.
override VEC_IN: u32;
override WG: u32;
// Planes per workgroup and lanes per plane (powers of two, CH · LPC = WG).
override CH: u32;
override LPC: u32;
// Output rows per band, and per lane block.
override TH: u32;
override ROWS: u32;
// Values per staged row (a multiple of 4; 8 at stride 2): stride 1, the padded row; stride 2, its even
// columns in [0, RS / 2) and its odd ones in [RS / 2, RS).
override RS: u32;
// vec4s of `tile` (CH planes), values of `ot` (CH · TH · w_out, or 1 when ALIGNED).
override TILE4: u32;
override OUT_LEN: u32;

var<workgroup> tile: array<vec4<H>, TILE4>;
var<workgroup> ot: array<f32, OUT_LEN>;
var<workgroup> red: array<f32, WG>;

// The inputs of a block's 4 outputs for kernel column i (t3, t4 only for k = 5).
struct Taps { t0: vec4<H>, t1: vec4<H>, t2: vec4<H>, t3: vec4<H>, t4: vec4<H> }
// A weight row (dw_rows.wgsl).
struct WRow { lo: vec4<H>, hi: vec4<H> }

// Staged rows per plane: every input row the band's blocks read.
fn tile_rows() -> u32 {
    return ((TH + ROWS - 1u) / ROWS * ROWS - 1u) * STRIDE + K;
}

// The entry point `main` (reduce_plain.wgsl or reduce_subgroup.wgsl) calls this.
fn kernel(wid: vec3<u32>, nwg: vec3<u32>, li: u32) {
    let p0 = (wid.y * nwg.x + wid.x) * CH;
    // Past the last plane group (the grid rounds up): the whole workgroup leaves.
    if (p0 >= P.planes) { return; }
    let r0 = wid.z * TH;
    let rows = min(TH, P.h_out - r0);
    stage(p0, r0, li);
    workgroupBarrier();
    let ch = li / LPC;
    let j = li % LPC;
    var sum = 0.0;
    if (p0 + ch < P.planes) { sum = compute(p0 + ch, ch, j, r0, rows); }
    if (ALIGNED == 0u) {
        workgroupBarrier();
        store_staged(p0, ch, j, li, r0, rows);
    }
    if (HAS_SUMS != 0u) { write_sums(sum, p0 + ch, j, li, wid.z, nwg.z); }
}

// Staged column of padded input column `pc` (stride 2: even columns, then odd ones).
fn col_slot(pc: u32) -> u32 {
    if (STRIDE == 2u) { return (pc & 1u) * (RS / 2u) + (pc >> 1u); }
    return pc;
}

fn put(i: u32, v: f32) {
    tile[i / 4u][i % 4u] = H(v);
}

// The outputs of plane `p` in this band that lane j computes; returns their sum.
fn compute(p: u32, ch: u32, j: u32, r0: u32, rows: u32) -> f32 {
    let w = dw_weights((p % P.c) * K * P.row_stride);
    let bias = f32(w.r0.hi.w);
    let qpr = (P.w_out + 3u) / 4u;
    let blocks = (rows + ROWS - 1u) / ROWS * qpr;
    var sum = 0.0;
    for (var b = j; b < blocks; b += LPC) {
        let oy = b / qpr * ROWS;
        let x0 = b % qpr * 4u;
        // vec4 index of the block's first staged row, from its first column.
        let at = ((ch * tile_rows() + oy * STRIDE) * RS + x0) / 4u;
        var o: Outs;
        // Staged rows 0 .. (ROWS - 1)·STRIDE + K - 1 of the block (literals: the row
        // choices fold away).
        let n = (ROWS - 1u) * STRIDE + K;
        dw_row(0u, at, w, &o); dw_row(1u, at, w, &o); dw_row(2u, at, w, &o);
        if (n > 3u) { dw_row(3u, at, w, &o); }
        if (n > 4u) { dw_row(4u, at, w, &o); }
        if (n > 5u) { dw_row(5u, at, w, &o); }
        if (n > 6u) { dw_row(6u, at, w, &o); }
        if (n > 7u) { dw_row(7u, at, w, &o); }
        if (n > 8u) { dw_row(8u, at, w, &o); }
        if (n > 9u) { dw_row(9u, at, w, &o); }
        if (n > 10u) { dw_row(10u, at, w, &o); }
        sum += emit(p, ch, r0 + oy, oy, rows, x0, o.o0, bias);
        if (ROWS > 1u) { sum += emit(p, ch, r0 + oy + 1u, oy + 1u, rows, x0, o.o1, bias); }
        if (ROWS > 2u) { sum += emit(p, ch, r0 + oy + 2u, oy + 2u, rows, x0, o.o2, bias); }
        if (ROWS > 3u) { sum += emit(p, ch, r0 + oy + 3u, oy + 3u, rows, x0, o.o3, bias); }
    }
    return sum;
}

// The weight row at `base` (dw_rows.wgsl's dw_weights), in H.
fn load_row(base: u32) -> WRow {
    return WRow(vec4<H>(ld_wts4(base / 4u)), vec4<H>(ld_wts4(base / 4u + 1u)));
}

// Staged row `r` of a block: weight row r - m·STRIDE for output row m, where that is one.
fn dw_row(r: u32, at: u32, w: DwWeights, o: ptr<function, Outs>) {
    let t = row_taps(at + r * RS / 4u);
    if (r < K) { (*o).o0 += taps_dot(t, weight_row(w, r)); }
    let s1 = STRIDE;
    if (ROWS > 1u && r >= s1 && r < s1 + K) { (*o).o1 += taps_dot(t, weight_row(w, r - s1)); }
    let s2 = 2u * STRIDE;
    if (ROWS > 2u && r >= s2 && r < s2 + K) { (*o).o2 += taps_dot(t, weight_row(w, r - s2)); }
    let s3 = 3u * STRIDE;
    if (ROWS > 3u && r >= s3 && r < s3 + K) { (*o).o3 += taps_dot(t, weight_row(w, r - s3)); }
}

// The taps of a staged row whose block columns start at vec4 `at`.
fn row_taps(at: u32) -> Taps {
    var t: Taps;
    if (STRIDE == 1u) {
        // Padded columns x0 .. x0 + 7.
        let a = tile[at];
        let b = tile[at + 1u];
        t.t0 = a;
        t.t1 = vec4<H>(a.yzw, b.x);
        t.t2 = vec4<H>(a.zw, b.xy);
        t.t3 = vec4<H>(a.w, b.xyz);
        t.t4 = b;
    } else {
        // Even padded columns 2·x0 + 2i and odd ones 2·x0 + 2i + 1, i = 0 .. 7.
        let e0 = tile[at];
        let e1 = tile[at + 1u];
        let o0 = tile[at + RS / 8u];
        t.t0 = e0;
        t.t1 = o0;
        t.t2 = vec4<H>(e0.yzw, e1.x);
        if (K == 5u) {
            let o1 = tile[at + RS / 8u + 1u];
            t.t3 = vec4<H>(o0.yzw, o1.x);
            t.t4 = vec4<H>(e0.zw, e1.xy);
        }
    }
    return t;
}

// Output row `y` (band row `by`) of plane p, columns x0 .. x0 + 3: act(acc + bias), stored
// (ALIGNED) or put in `ot`. Returns the sum of the values inside the plane.
fn emit(p: u32, ch: u32, y: u32, by: u32, rows: u32, x0: u32, acc: vec4<H>, bias: f32) -> f32 {
    if (by >= rows) { return 0.0; }
    let a = vec4<f32>(acc) + bias;
    let v = vec4<f32>(activate(a.x), activate(a.y), activate(a.z), activate(a.w));
    if (ALIGNED != 0u) {
        st_dst4(((p * P.h_out + y) * P.w_out + x0) / 4u, v);
        return v.x + v.y + v.z + v.w;
    }
    let n = min(4u, P.w_out - x0);
    let o = (ch * TH + by) * P.w_out + x0;
    ot[o] = v.x;
    if (n > 1u) { ot[o + 1u] = v.y; }
    if (n > 2u) { ot[o + 2u] = v.z; }
    if (n > 3u) { ot[o + 3u] = v.w; }
    return dot(v, select(vec4<f32>(0.0), vec4<f32>(1.0), vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(n)));
}

// Writes `ot` out: whole planes as one range (all lanes), or this band of each plane (its
// LPC lanes).
fn store_staged(p0: u32, ch: u32, j: u32, li: u32, r0: u32, rows: u32) {
    let hw = P.h_out * P.w_out;
    if (TH >= P.h_out) {
        store_range(p0 * hw, min(CH, P.planes - p0) * hw, 0u, li, WG);
    } else if (p0 + ch < P.planes) {
        let at = (p0 + ch) * hw + r0 * P.w_out;
        store_range(at, rows * P.w_out, ch * TH * P.w_out, j, LPC);
    }
}

// Stores dst[a .. a + len) from ot[o ..] in whole words: vec4s by `lanes` lanes from
// `lane`, the pairs at the two ends by lanes 0 and 1. Its words run from its first even
// index to the first even index at or past its end (see the header).
fn store_range(a: u32, len: u32, o: u32, lane: u32, lanes: u32) {
    let end = a + len;
    let first = a + (a & 1u);
    let stop = end + (end & 1u);
    let q0 = (first + 3u) / 4u;
    let q1 = end / 4u;
    for (var q = q0 + lane; q < q1; q += lanes) {
        let i = o + 4u * q - a;
        st_dst4(q, vec4<f32>(ot[i], ot[i + 1u], ot[i + 2u], ot[i + 3u]));
    }
    let head_end = min(4u * q0, stop);
    if (lane == 0u) { store_pairs(first, head_end, a, o, end); }
    if (lane == 1u % lanes) { store_pairs(max(4u * q1, head_end), stop, a, o, end); }
}

// The words from even index `start` to `stop` (at most two) of the range [a, end) staged
// from ot[o]: the value at `end` is the next range's (computed here) or past the tensor.
fn store_pairs(start: u32, stop: u32, a: u32, o: u32, end: u32) {
    for (var i = start; i < stop; i += 2u) {
        let v = ot[o + i - a];
        if (i + 1u < end) {
            st_dst2(i / 2u, vec2<f32>(v, ot[o + i + 1u - a]));
        } else if (i + 1u < P.planes * P.h_out * P.w_out) {
            st_dst2(i / 2u, vec2<f32>(v, direct(i + 1u)));
        } else {
            st_dst_end(i, v);
        }
    }
}

// Output i computed alone from the input and weights in global memory: its k×k taps.
fn direct(i: u32) -> f32 {
    let hw = P.h_out * P.w_out;
    let p = i / hw;
    let y = i % hw / P.w_out;
    let x = i % P.w_out;
    let base = (p % P.c) * K * P.row_stride;
    var acc = 0.0;
    for (var ky = 0u; ky < K; ky++) {
        let iy = i32(y * STRIDE + ky) - i32(P.pad_top);
        if (iy < 0 || iy >= i32(P.h_in)) { continue; }
        for (var kx = 0u; kx < K; kx++) {
            let ix = i32(x * STRIDE + kx) - i32(P.pad_left);
            if (ix >= 0 && ix < i32(P.w_in)) {
                let v = input_at(p, u32(iy), u32(ix));
                acc += v * ld_wts(base + ky * P.row_stride + kx);
            }
        }
    }
    // The bias sits in the last slot of weight row 0.
    return activate(acc + ld_wts(base + P.row_stride - 1u));
}

// Reduces the lanes' sums per plane and writes plane p's slot pairs w ≡ band (mod bands).
fn write_sums(sum: f32, p: u32, j: u32, li: u32, band: u32, bands: u32) {
    let total = plane_total(sum, li, j);
    if (p >= P.planes) { return; }
    let words = P.partials / 2u;
    for (var i = j; band + i * bands < words; i += LPC) {
        st_sums2(p * words + band + i * bands, vec2<f32>(select(0.0, total, i == 0u), 0.0));
    }
}

// The sum of `sum` over the LPC lanes of this lane's plane, for its lane j = 0 (the one
// that stores it). Subgroups of S lanes sum whole planes (LPC ≤ S) or their share of one,
// which lands in red[li / S] for lane j = 0 to add (LPC / S values).
fn plane_total(sum: f32, li: u32, j: u32) -> f32 {
    if (LPC == 1u) { return sum; }
    let S = subgroup_width();
    if (S == 1u) { return tree_total(sum, li, j); }
    if (LPC <= S) { return cluster_sum(sum, LPC, S); }
    let s = cluster_sum(sum, S, S);
    if (li % S == 0u) { red[li / S] = s; }
    workgroupBarrier();
    var t = 0.0;
    if (j == 0u) {
        for (var k = 0u; k < LPC / S; k++) { t += red[li / S + k]; }
    }
    return t;
}

// plane_total without subgroups: log2(LPC) rounds of pairwise sums in `red`.
fn tree_total(sum: f32, li: u32, j: u32) -> f32 {
    red[li] = sum;
    workgroupBarrier();
    for (var s = LPC / 2u; s > 0u; s >>= 1u) {
        if (j < s) { red[li] += red[li + s]; }
        workgroupBarrier();
    }
    return red[li - j];
}
