// Entry point of pointwise.wgsl for any adapter: every lane loads the CO weights of an input
// channel itself (one address for the whole workgroup, which GPUs broadcast).

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    pointwise(wid, li);
}

// Lanes that are done may leave at once.
fn all_done(done: bool) -> bool {
    return done;
}

// The CO weights of one input channel, from vec4 `base` of the weights: CO / 4 vec4 loads.
fn weight_quads(base: u32) -> Quads {
    var w: Quads;
    w.q0 = ld_wts4(base);
    if (CO >= 8u) { w.q1 = ld_wts4(base + 1u); }
    if (CO >= 16u) { w.q2 = ld_wts4(base + 2u); w.q3 = ld_wts4(base + 3u); }
    if (CO >= 32u) {
        w.q4 = ld_wts4(base + 4u); w.q5 = ld_wts4(base + 5u);
        w.q6 = ld_wts4(base + 6u); w.q7 = ld_wts4(base + 7u);
    }
    return w;
}
