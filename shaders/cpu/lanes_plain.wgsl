// How the lanes of a workgroup get values that are the same for all of them (weights), on
// any adapter: every lane loads them itself (GPUs serve one address to a whole warp at once).
// The kernel defines `WG` and `kernel(wid, li)`; lanes_subgroup.wgsl is the other choice.

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    kernel(wid, li);
}

// Whether a lane may leave: at once, here.
fn all_done(done: bool) -> bool {
    return done;
}

// `count` (1, 2, 4 or 8; a constant) vec4s of the weights from vec4 index `base`.
fn shared_quads(base: u32, count: u32) -> Quads {
    var w: Quads;
    w.q0 = ld_wts4(base);
    if (count >= 2u) { w.q1 = ld_wts4(base + 1u); }
    if (count >= 4u) { w.q2 = ld_wts4(base + 2u); w.q3 = ld_wts4(base + 3u); }
    if (count >= 8u) {
        w.q4 = ld_wts4(base + 4u); w.q5 = ld_wts4(base + 5u);
        w.q6 = ld_wts4(base + 6u); w.q7 = ld_wts4(base + 7u);
    }
    return w;
}

// The 8 weights from `base`, a multiple of 4.
fn shared8(base: u32) -> Pair {
    return Pair(ld_wts4(base / 4u), ld_wts4(base / 4u + 1u));
}

// The 8 values of the scratch buffer `sums` from `base`.
fn shared_sums8(base: u32) -> Pair {
    return Pair(vec4<f32>(ld_sums(base), ld_sums(base + 1u), ld_sums(base + 2u), ld_sums(base + 3u)),
                vec4<f32>(ld_sums(base + 4u), ld_sums(base + 5u), ld_sums(base + 6u), ld_sums(base + 7u)));
}

// The 8 values of the output buffer `dst` from `base`.
fn shared_dst8(base: u32) -> Pair {
    return Pair(vec4<f32>(ld_dst(base), ld_dst(base + 1u), ld_dst(base + 2u), ld_dst(base + 3u)),
                vec4<f32>(ld_dst(base + 4u), ld_dst(base + 5u), ld_dst(base + 6u), ld_dst(base + 7u)));
}
