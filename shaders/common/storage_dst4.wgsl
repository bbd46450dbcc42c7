// The output again as vec4s, for 4 consecutive values stored at a multiple of 4.
// (A browser forbids two writable views of one buffer: there store_split.wgsl takes the
// place of this file.)
@group(0) @binding(6) var<storage, read_write> dst4: array<vec4<S>>;
fn st_dst4(i: u32, v: vec4<f32>) { dst4[i] = vec4<S>(v); }
