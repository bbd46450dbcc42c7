// The fused conv + projection's input (after shaders/gpu/pointwise.wgsl; P:
// ConvProjectParams): the output of a k×k conv (a fused-MBConv block's expansion),
// computed where it is staged and never stored. Value (c, y, x) of image n is
// EXPAND_ACT(bias[c] + Σ over ci and the window of src · e), with the conv's weights `e`
// (layout in ops/conv_project.rs) bound at `aux` (the projection has no gate); zero
// padding skipped. The 4 columns a lane stages share each weight load.
// Arithmetic: the conv sums in f32, like the 1×1 kernels; the staged value in H.

override EXPAND_ACT: u32;
override EXPAND_K: u32;
override EXPAND_STRIDE: u32;

fn ld_conv(i: u32) -> f32 { return ld_gate(i); }

// Channel c at the lane's 4 columns (`Cols.x`: channel 0 of each column's pixel, in the
// [n, c_in, hw] indexing of the tensor this conv's output would be).
fn input4(cols: Cols, c: u32) -> vec4<f32> {
    let image = P.c_in * P.hw;
    let n = cols.x / image;
    return conv4(n, c, cols.x - n * image);
}

// Channel c of image n at pixel p.
fn input_at(n: u32, c: u32, p: u32) -> f32 {
    return conv4(vec4<u32>(n), c, vec4<u32>(p)).x;
}

// Expanded channel c at pixels p of images n: each column's EXPAND_K × EXPAND_K window over
// the `cin` input planes, taps outside the input skipped (zero padding).
fn conv4(n: vec4<u32>, c: u32, p: vec4<u32>) -> vec4<f32> {
    let hw = P.e_h * P.e_w;
    let oy = p / P.w_mid;
    let ox = p - oy * P.w_mid;
    let image = n * (P.cin * hw);
    let block = c / P.e_ch * P.cin;
    let col = c % P.e_ch * P.e_kp;
    var acc = vec4<f32>(0.0);
    for (var ky = 0u; ky < EXPAND_K; ky++) {
        let y = vec4<i32>(oy * vec4<u32>(EXPAND_STRIDE) + vec4<u32>(ky)) - vec4<i32>(i32(P.e_pad_top));
        for (var kx = 0u; kx < EXPAND_K; kx++) {
            let x = vec4<i32>(ox * vec4<u32>(EXPAND_STRIDE) + vec4<u32>(kx)) - vec4<i32>(i32(P.e_pad_left));
            let inside = (y >= vec4<i32>(0)) & (y < vec4<i32>(i32(P.e_h)))
                & (x >= vec4<i32>(0)) & (x < vec4<i32>(i32(P.e_w)));
            if (!any(inside)) { continue; }
            // Outside taps read pixel 0 of their image and are selected away.
            let at0 = image + select(vec4<u32>(0u), vec4<u32>(y) * P.e_w + vec4<u32>(x), inside);
            var w = (block * EXPAND_K + ky) * P.e_rs + col + kx;
            for (var ci = 0u; ci < P.cin; ci++) {
                let at = at0 + ci * hw;
                let v = vec4<f32>(ld_src(at.x), ld_src(at.y), ld_src(at.z), ld_src(at.w));
                acc += select(vec4<f32>(0.0), v, inside) * ld_conv(w);
                w += EXPAND_K * P.e_rs;
            }
        }
    }
    let b = ld_conv(P.e_bias + c);
    let v = acc + b;
    return vec4<f32>(
        activation(EXPAND_ACT, v.x), activation(EXPAND_ACT, v.y),
        activation(EXPAND_ACT, v.z), activation(EXPAND_ACT, v.w),
    );
}
