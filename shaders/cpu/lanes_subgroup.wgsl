// How the lanes of a workgroup get values that are the same for all of them (weights), on
// adapters with subgroups of at least 8 lanes: lane l loads value (or vec4) l of a block and
// subgroupBroadcast hands each to every lane, so a subgroup makes one load per 8 values
// instead of one per lane and value. On lavapipe every load inside a loop or branch is a
// loop over the 8 SIMD lanes even when they all read one address, while a broadcast from a
// constant lane is one instruction (BENCHMARKS.md). Same functions as lanes_plain.wgsl.

var<private> lane: u32;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32,
        @builtin(subgroup_invocation_id) sl: u32) {
    lane = sl;
    kernel(wid, li);
}

// Lanes stay until their whole subgroup is done: a broadcast needs every lane of it.
fn all_done(done: bool) -> bool {
    return subgroupAll(done);
}

fn shared_quads(base: u32, count: u32) -> Quads {
    let own = ld_wts4(base + lane % count);
    var w: Quads;
    w.q0 = subgroupBroadcast(own, 0u);
    if (count >= 2u) { w.q1 = subgroupBroadcast(own, 1u); }
    if (count >= 4u) { w.q2 = subgroupBroadcast(own, 2u); w.q3 = subgroupBroadcast(own, 3u); }
    if (count >= 8u) {
        w.q4 = subgroupBroadcast(own, 4u); w.q5 = subgroupBroadcast(own, 5u);
        w.q6 = subgroupBroadcast(own, 6u); w.q7 = subgroupBroadcast(own, 7u);
    }
    return w;
}

fn shared8(base: u32) -> Pair {
    return share8(ld_wts(base + lane % 8u));
}

fn shared_sums8(base: u32) -> Pair {
    return share8(ld_sums(base + lane % 8u));
}

fn shared_dst8(base: u32) -> Pair {
    return share8(ld_dst(base + lane % 8u));
}

// Lane i's `own` as component i, for i < 8.
fn share8(own: f32) -> Pair {
    let lo = vec4<f32>(subgroupBroadcast(own, 0u), subgroupBroadcast(own, 1u),
                       subgroupBroadcast(own, 2u), subgroupBroadcast(own, 3u));
    let hi = vec4<f32>(subgroupBroadcast(own, 4u), subgroupBroadcast(own, 5u),
                       subgroupBroadcast(own, 6u), subgroupBroadcast(own, 7u));
    return Pair(lo, hi);
}
