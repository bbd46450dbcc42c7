// GPU family, in a browser, in place of gpu/storage_packed.wgsl's `dst4` block: WebGPU
// forbids binding one buffer twice as writable storage in a dispatch, so 4 values at a
// multiple of 4 go through `dst` itself, as the two whole words they fill.
fn st_dst4(i: u32, v: vec4<f32>) {
    dst[2u * i] = pack2x16float(v.xy);
    dst[2u * i + 1u] = pack2x16float(v.zw);
}
