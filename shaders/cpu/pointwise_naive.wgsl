// The plainest 1×1 convolution, one lane per output value, with the same fusions as
// pointwise.wgsl:
//   out[n, co, p] = act(bias[co] + sum_ci W[co, ci] * gate[n, ci] * x[n, ci, p]) + res[n, co, p]
// No blocking, no vector loads, no shared weights: a readable baseline beside the tuned
// kernels (as llm.c keeps one), checked against the CPU reference like every candidate and
// never chosen by `describe` (the tuned CPU-family kernel before it takes every shape).
// Grid: x = pixels / WG, y = output channels, z = batch.
// P: PointwiseParams (src/kernels/ops/pointwise.rs; tiles: src/kernels/cpu/pointwise_naive.rs).

override WG: u32;
override HAS_GATE: u32;
override HAS_RESIDUAL: u32;

fn kernel(wid: vec3<u32>, li: u32) {
    let p = wid.x * WG + li;
    let co = wid.y;
    let n = wid.z;
    // Nothing is shared across lanes here, so a lane past the plane may leave at once.
    if (p >= P.hw) { return; }
    var acc = ld_wts(P.bias_off + co);
    for (var ci = 0u; ci < P.c_in; ci++) {
        var x = ld_src((n * P.c_in + ci) * P.hw + p);
        if (HAS_GATE != 0u) { x *= ld_gate(n * P.c_in + ci); }
        acc += ld_wts(ci * P.rows + co) * x;
    }
    let o = (n * P.c_out + co) * P.hw + p;
    var v = activate(acc);
    if (HAS_RESIDUAL != 0u) { v += ld_res(o); }
    st_dst(o, v);
}
