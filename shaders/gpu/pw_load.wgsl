// The 1×1 kernel's input (after shaders/gpu/pointwise.wgsl): loaded from `src`, [n, c, hw].

// Channel c at the lane's 4 columns (`Cols.x`: channel 0 of each column's pixel).
fn input4(cols: Cols, c: u32) -> vec4<f32> {
    let o = c * P.hw;
    if (ALIGNED != 0u) {
        // 4 pixels of one plane at a multiple of 4.
        return ld_src4((cols.x.x + o) / 4u);
    }
    return vec4<f32>(ld_src(cols.x.x + o), ld_src(cols.x.y + o), ld_src(cols.x.z + o), ld_src(cols.x.w + o));
}

// Channel c of image n at pixel p.
fn input_at(n: u32, c: u32, p: u32) -> f32 {
    return ld_src((n * P.c_in + c) * P.hw + p);
}
