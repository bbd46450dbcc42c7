// The depthwise kernel's input (after shaders/gpu/depthwise.wgsl): the input tensor itself,
// loaded.

// Stages the input rows of the band at output row r0 of planes p0 .. p0 + CH - 1 in `tile`.
fn stage(p0: u32, r0: u32, li: u32) {
    if (VEC_IN != 0u) { stage_vec4(p0, r0, li); } else { stage_scalar(p0, r0, li); }
}

// Input value (iy, ix) of plane p, inside the image.
fn input_at(p: u32, iy: u32, ix: u32) -> f32 {
    return ld_src((p * P.h_in + iy) * P.w_in + ix);
}

// Input row `r` of the band of plane p0 + ch, or -1 outside the image.
fn input_row(p0: u32, ch: u32, r0: u32, r: u32) -> i32 {
    let iy = i32(r0 * STRIDE + r) - i32(P.pad_top);
    let ok = p0 + ch < P.planes && iy >= 0 && iy < i32(P.h_in);
    return select(-1, i32((p0 + ch) * P.h_in) + iy, ok);
}

// Staging with vec4 loads: item (row, q) loads input columns 4q - 4 .. 4q - 1 (quad -1
// covers the left padding) and puts those inside the staged row; zeros outside the image.
fn stage_vec4(p0: u32, r0: u32, li: u32) {
    let quads = (RS + 7u) / 4u;
    let items = CH * tile_rows() * quads;
    for (var e = li; e < items; e += WG) {
        let row = e / quads;
        let ch = row / tile_rows();
        let r = row % tile_rows();
        let ix = i32(e % quads) * 4 - 4;
        let iy = input_row(p0, ch, r0, r);
        let ok = iy >= 0 && ix >= 0 && ix < i32(P.w_in);
        let at = (u32(max(iy, 0)) * P.w_in + u32(clamp(ix, 0, i32(P.w_in) - 4))) / 4u;
        let v = select(vec4<f32>(0.0), ld_src4(at), ok);
        let base = (ch * tile_rows() + r) * RS;
        for (var m = 0u; m < 4u; m++) {
            let pc = ix + i32(m) + i32(P.pad_left);
            if (pc >= 0 && pc < i32(RS)) { put(base + col_slot(u32(pc)), v[m]); }
        }
    }
}

// Staging with scalar loads (input rows not whole vec4s): consecutive lanes, consecutive
// columns.
fn stage_scalar(p0: u32, r0: u32, li: u32) {
    let items = CH * tile_rows() * RS;
    for (var e = li; e < items; e += WG) {
        let row = e / RS;
        let ch = row / tile_rows();
        let r = row % tile_rows();
        let pc = e % RS;
        let ix = i32(pc) - i32(P.pad_left);
        let iy = input_row(p0, ch, r0, r);
        let ok = iy >= 0 && ix >= 0 && ix < i32(P.w_in);
        let at = u32(max(iy, 0)) * P.w_in + u32(clamp(ix, 0, i32(P.w_in) - 1));
        put(row * RS + col_slot(pc), select(0.0, ld_src(at), ok));
    }
}
