// The fused kernel's input (after shaders/gpu/depthwise.wgsl; P: ExpandDepthwiseParams): the
// expanded tensor of a 1×1 expansion, computed where it is staged and never stored. Value
// (c, y, x) of image n is EXPAND_ACT(bias[c] + Σ_ci src[n, ci, y, x] · e[ci][c]), with the
// expansion's weights `e` ([cin][e_rows], then its biases: ops::pointwise::layout) bound at
// the residual's binding (the fused op has none); zero padding stays zero, as around the
// stored tensor.
// Arithmetic: the expansion sums in f32, like the 1×1 kernels; the staged value in H.

override EXPAND_ACT: u32;

fn ld_expand(i: u32) -> f32 { return ld_res(i); }

fn expand_activate(x: f32) -> f32 {
    switch EXPAND_ACT {
        case 1u: { return x / (1.0 + exp(-x)); }
        case 2u: { return clamp(x, 0.0, 6.0); }
        default: { return x; }
    }
}

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

// Expanded value (iy, ix) of plane p (image p / c, channel p % c), inside the image.
fn input_at(p: u32, iy: u32, ix: u32) -> f32 {
    let c = p % P.c;
    let hw = P.h_in * P.w_in;
    var at = p / P.c * P.cin * hw + iy * P.w_in + ix;
    var acc = 0.0;
    for (var ci = 0u; ci < P.cin; ci++) {
        acc += ld_src(at) * ld_expand(ci * P.e_rows + c);
        at += hw;
    }
    return expand_activate(acc + ld_expand(P.cin * P.e_rows + c));
}
