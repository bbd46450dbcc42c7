// Entry point of pointwise.wgsl for adapters with subgroups of at least CO / 4 lanes: lane l
// loads vec4 l of a channel's CO weights and subgroupBroadcast hands each vec4 to every lane,
// so a subgroup makes one load per 4 weights instead of one per lane. On lavapipe a load
// inside a loop is a loop over the 8 SIMD lanes even when every lane reads the same address,
// while a broadcast from a constant lane is one instruction: B0's GEMMs run 1.7× faster.

var<private> lane: u32;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32,
        @builtin(subgroup_invocation_id) sl: u32) {
    lane = sl;
    pointwise(wid, li);
}

// Lanes stay until their whole subgroup is done: a broadcast needs every lane of it.
fn all_done(done: bool) -> bool {
    return subgroupAll(done);
}

// The CO weights of one input channel, from vec4 `base` of the weights.
fn weight_quads(base: u32) -> Quads {
    let own = ld_wts4(base + lane % (CO / 4u));
    var w: Quads;
    w.q0 = subgroupBroadcast(own, 0u);
    if (CO >= 8u) { w.q1 = subgroupBroadcast(own, 1u); }
    if (CO >= 16u) { w.q2 = subgroupBroadcast(own, 2u); w.q3 = subgroupBroadcast(own, 3u); }
    if (CO >= 32u) {
        w.q4 = subgroupBroadcast(own, 4u); w.q5 = subgroupBroadcast(own, 5u);
        w.q6 = subgroupBroadcast(own, 6u); w.q7 = subgroupBroadcast(own, 7u);
    }
    return w;
}
