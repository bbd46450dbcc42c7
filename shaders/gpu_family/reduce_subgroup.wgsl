// GPU family: the entry point and cross-lane sums of the kernels that reduce, on adapters
// with subgroups: a run of lanes inside one subgroup adds its values with subgroupAdd or a
// subgroupShuffleXor butterfly (no workgroup memory, no barrier), where reduce_plain.wgsl
// (same functions) goes through workgroup memory.
// WGSL does not say which lanes share a subgroup. The sums assume what drivers do: S lanes
// per subgroup, subgroup k holding local indices k·S .. k·S + S - 1 in order.
// `subgroup_width` checks that for the whole workgroup and returns 1 (every lane alone: the
// kernels' workgroup-memory path) where any subgroup differs, so results never depend on it.

var<private> sg_lane: u32;
var<private> sg_base: u32;
var<private> sg_size: u32;
// Each subgroup ORs in its size, or SG_ODD where it is not laid out as assumed.
var<workgroup> sg_vote: atomic<u32>;
const SG_ODD: u32 = 0x80000000u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32,
        @builtin(subgroup_invocation_id) sl: u32, @builtin(subgroup_size) size: u32) {
    sg_lane = sl;
    sg_base = li - sl;
    sg_size = size;
    if (li == 0u) { atomicStore(&sg_vote, 0u); }
    kernel(wid, nwg, li);
}

// S, the lanes of every subgroup of this workgroup, each subgroup holding local indices
// k·S .. k·S + S - 1; 1 where that does not hold. Called in uniform control flow (it holds
// barriers). A subgroup is as assumed when all its lanes agree on their first lane's index
// (li - subgroup_invocation_id), that index is a multiple of S and all S lanes are there.
fn subgroup_width() -> u32 {
    // main's reset of the vote is visible to every lane.
    workgroupBarrier();
    let first = subgroupBroadcastFirst(sg_base);
    let lanes = subgroupAdd(1u);
    let same = subgroupAll(sg_base == first);
    let ok = same && first % sg_size == 0u && lanes == sg_size;
    // One vote per subgroup, by its first active lane (naga 30 lacks subgroupElect): on CPU
    // drivers every atomic is a loop over the SIMD lanes.
    if (subgroupBroadcastFirst(sg_lane) == sg_lane) {
        atomicOr(&sg_vote, select(SG_ODD, sg_size, ok));
    }
    let vote = workgroupUniformLoad(&sg_vote);
    // One size bit and no SG_ODD: every subgroup is as assumed, all of one size.
    return select(1u, vote, countOneBits(vote) == 1u && vote < SG_ODD);
}

// The sum of `v` over the n lanes from n·⌊li / n⌋ (n ≤ S, a power of two), for each of
// them. n and S are uniform, so every subgroup operation is reached by all lanes.
fn cluster_sum(v: f32, n: u32, S: u32) -> f32 {
    if (n == 1u) { return v; }
    if (n == S) { return subgroupAdd(v); }
    var s = v;
    for (var m = 1u; m < n; m <<= 1u) { s += subgroupShuffleXor(s, m); }
    return s;
}
