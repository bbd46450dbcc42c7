// The output again as pairs of words, for 4 values stored at a multiple of 4. (A
// browser forbids two writable views of one buffer: there gpu/store_split_packed.wgsl
// takes the place of this file.)
@group(0) @binding(6) var<storage, read_write> dst4: array<vec2<u32>>;
fn st_dst4(i: u32, v: vec4<f32>) {
    dst4[i] = vec2<u32>(pack2x16float(v.xy), pack2x16float(v.zw));
}
