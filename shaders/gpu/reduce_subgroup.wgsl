// GPU family: the entry point and cross-lane sums of the kernels that reduce, on adapters
// with subgroups: a run of lanes inside one subgroup adds its values with subgroupAdd or a
// subgroupShuffleXor butterfly (no workgroup memory, no barrier), where reduce_plain.wgsl
// (same functions) goes through workgroup memory.
// WGSL does not say which lanes share a subgroup. The sums assume what drivers do: S lanes
// per subgroup, subgroup k holding local indices k·S .. k·S + S - 1 in order.
// `subgroup_width` checks that for the whole workgroup and returns 1 (every lane alone: the
// kernels' workgroup-memory path) where any subgroup differs, so results never depend on it.

var<private> sg_li: u32;
var<private> sg_lane: u32;
var<private> sg_base: u32;
var<private> sg_size: u32;
// Lane 0's subgroup size, then S (or 1): what `subgroup_width` hands every lane.
var<workgroup> sg_width: u32;
// Whether subgroup k (lanes k·S ..) is laid out as assumed, written by lane k·S alone, so
// no slot has two writers and no read-modify-write is needed. 64 = the family's largest
// WG (256) over the smallest subgroups it takes (4 lanes, `gpu_family::subgroup_reductions`);
// a fixed size, as naga 30 fails on workgroup arrays sized by an override expression.
var<workgroup> sg_ok: array<u32, 64>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32,
        @builtin(subgroup_invocation_id) sl: u32, @builtin(subgroup_size) size: u32) {
    sg_li = li;
    sg_lane = sl;
    sg_base = li - sl;
    sg_size = size;
    kernel(wid, nwg, li);
}

// S, the lanes of every subgroup of this workgroup, each subgroup holding local indices
// k·S .. k·S + S - 1; 1 where that does not hold. Called in uniform control flow (it holds
// barriers). A subgroup is as assumed when all its lanes agree on their first lane's index
// (li - subgroup_invocation_id), that index is a multiple of S, all S lanes are there and
// S is lane 0's subgroup size. It is enough to check the subgroups holding lanes k·S: each
// such subgroup, if as assumed, is exactly lanes k·S .. k·S + S - 1, so together they are
// the whole workgroup and no other subgroup exists.
fn subgroup_width() -> u32 {
    if (sg_li == 0u) { sg_width = sg_size; }
    let s = workgroupUniformLoad(&sg_width);
    if (s < 4u || s > WG || WG / s > 64u) { return 1u; }
    let first = subgroupBroadcastFirst(sg_base);
    let lanes = subgroupAdd(1u);
    let same = subgroupAll(sg_base == first);
    let ok = same && first % s == 0u && lanes == s && sg_size == s;
    if (sg_li % s == 0u) { sg_ok[sg_li / s] = u32(ok); }
    workgroupBarrier();
    if (sg_li == 0u) {
        var all = true;
        for (var k = 0u; k < WG / s; k++) { all = all && sg_ok[k] == 1u; }
        sg_width = select(1u, s, all);
    }
    return workgroupUniformLoad(&sg_width);
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
