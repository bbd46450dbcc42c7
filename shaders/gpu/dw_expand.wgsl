// The fused kernel's input (after shaders/gpu/depthwise.wgsl; P: ExpandDepthwiseParams): the
// output of a conv (a 1×1 expansion, or the stem's k×k conv), computed where it is staged
// and never stored. Value (c, y, x) of image n is EXPAND_ACT(bias[c] + Σ over ci and the
// window of src · e), with the conv's weights `e` (layout in ops/expand_depthwise.rs) bound
// at the residual's binding (the fused op has none); the depthwise conv's zero padding
// stays zero, as around the stored tensor.
// Arithmetic: the expansion sums in f32, like the 1×1 kernels; the staged value in H.

override EXPAND_ACT: u32;
override EXPAND_K: u32;
override EXPAND_STRIDE: u32;

fn ld_expand(i: u32) -> f32 { return ld_res(i); }

// Stages the expanded rows of the band at output row r0 of planes p0 .. p0 + CH - 1 in
// `tile`: consecutive lanes, consecutive columns (the expansion's input reads coalesce).
fn stage(p0: u32, r0: u32, li: u32) {
    let items = CH * tile_rows() * RS;
    for (var e = li; e < items; e += WG) {
        let row = e / RS;
        let ch = row / tile_rows();
        let pc = e % RS;
        let iy = i32(r0 * STRIDE + row % tile_rows()) - i32(P.pad_top);
        let ix = i32(pc) - i32(P.pad_left);
        let inside = p0 + ch < P.planes && iy >= 0 && iy < i32(P.h_in) && ix >= 0
            && ix < i32(P.w_in);
        var v = 0.0;
        if (inside) { v = input_at(p0 + ch, u32(iy), u32(ix)); }
        put(row * RS + col_slot(pc), v);
    }
}

// Expanded value (iy, ix) of plane p (image p / c, channel p % c), inside the image: its
// EXPAND_K × EXPAND_K window (1×1 for an expansion: the loops fold) over the `cin` input
// planes, zero padding skipped.
fn input_at(p: u32, iy: u32, ix: u32) -> f32 {
    let c = p % P.c;
    let hw = P.e_h * P.e_w;
    let image = p / P.c * P.cin * hw;
    let block = c / P.e_ch * P.cin;
    let col = c % P.e_ch * P.e_kp;
    var acc = 0.0;
    for (var ky = 0u; ky < EXPAND_K; ky++) {
        let y = i32(iy * EXPAND_STRIDE + ky) - i32(P.e_pad_top);
        if (y < 0 || y >= i32(P.e_h)) { continue; }
        for (var kx = 0u; kx < EXPAND_K; kx++) {
            let x = i32(ix * EXPAND_STRIDE + kx) - i32(P.e_pad_left);
            if (x < 0 || x >= i32(P.e_w)) { continue; }
            var at = image + u32(y) * P.e_w + u32(x);
            var w = (block * EXPAND_K + ky) * P.e_rs + col + kx;
            for (var ci = 0u; ci < P.cin; ci++) {
                acc += ld_src(at) * ld_expand(w);
                at += hw;
                w += EXPAND_K * P.e_rs;
            }
        }
    }
    return activation(EXPAND_ACT, acc + ld_expand(P.e_bias + c));
}
