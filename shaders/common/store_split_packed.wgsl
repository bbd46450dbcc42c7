// In a browser, in place of storage_packed.wgsl's `dst4` block: WebGPU forbids binding one
// buffer twice as writable storage in a dispatch, so whole words go through `dst` itself.
// A store of 4 values at a multiple of 4 owns both its words, and a pair its one word, so
// an atomic store (no read-modify-write) is enough.
fn st_dst4(i: u32, v: vec4<f32>) {
    atomicStore(&dst[2u * i], pack2x16float(v.xy));
    atomicStore(&dst[2u * i + 1u], pack2x16float(v.zw));
}

// Two consecutive values from even index 2 * `pair`: one whole word.
fn st_dst2(pair: u32, v: vec2<f32>) {
    atomicStore(&dst[pair], pack2x16float(v));
}
