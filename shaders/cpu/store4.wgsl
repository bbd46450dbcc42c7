// The CPU family's output stores, after prelude.wgsl: a value at a time (an atomic
// read-modify-write in packed f16 storage, whose words two invocations may share) or 4
// aligned values as one vec4. (The GPU family stores whole words only: its kernels do not
// include this file.)

// Writes act(acc + bias) (+ the residual) to dst[o], dst[o + 1], ... for the first `count`
// (at most 4) components, and returns their sum. Components are named, not indexed in a
// loop: CPU drivers keep a loop-indexed vector in memory. `aligned` (a constant: the caller
// knows o is a multiple of 4 and count is 4) stores one vec4: on CPU drivers every store
// is a loop over the lanes per component, so this made B0's GEMMs 8% faster on lavapipe.
fn store4(o: u32, count: u32, acc: vec4<f32>, bias: f32, residual: bool, aligned: bool) -> f32 {
    if (aligned) {
        let a = acc + bias;
        var y = vec4<f32>(activate(a.x), activate(a.y), activate(a.z), activate(a.w));
        if (residual) { y += ld_res4(o / 4u); }
        st_dst4(o / 4u, y);
        return y.x + y.y + y.z + y.w;
    }
    var sum = store1(o, acc.x + bias, residual);
    if (count > 1u) { sum += store1(o + 1u, acc.y + bias, residual); }
    if (count > 2u) { sum += store1(o + 2u, acc.z + bias, residual); }
    if (count > 3u) { sum += store1(o + 3u, acc.w + bias, residual); }
    return sum;
}

fn store1(o: u32, v: f32, residual: bool) -> f32 {
    var y = activate(v);
    if (residual) { y += ld_res(o); }
    st_dst(o, y);
    return y;
}
