// In a browser, in place of storage.wgsl's `dst4` block: WebGPU forbids binding one buffer
// twice as writable storage in a dispatch, so 4 consecutive values go through `dst` itself.
fn st_dst4(i: u32, v: vec4<f32>) {
    dst[4u * i] = S(v.x);
    dst[4u * i + 1u] = S(v.y);
    dst[4u * i + 2u] = S(v.z);
    dst[4u * i + 3u] = S(v.w);
}
