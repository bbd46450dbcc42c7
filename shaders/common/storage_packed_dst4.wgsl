// The output again as pairs of words: a store of 4 values at a multiple of 4 owns both
// words, so it needs no atomics. (A browser forbids two writable views of one buffer: there
// store_split_packed.wgsl takes the place of this file.)
@group(0) @binding(6) var<storage, read_write> dst4: array<vec2<u32>>;
fn st_dst4(i: u32, v: vec4<f32>) {
    dst4[i] = vec2<u32>(pack2x16float(v.xy), pack2x16float(v.zw));
}

// Two consecutive values from even index 2 * `pair`: one whole word, so a plain store.
fn st_dst2(pair: u32, v: vec2<f32>) {
    dst4[pair >> 1u][pair & 1u] = pack2x16float(v);
}
