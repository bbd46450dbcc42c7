// GPU family: what the SE and classifier kernels share (shaders/gpu_family/se.wgsl and
// classifier.wgsl come after this): groups of L lanes walk one row together and
// `group_total` adds up their shares, and a block's results leave as whole words. Each
// kernel defines `staged(s, j, from_outs)`, the j-th value of a block it staged in
// workgroup memory.

override WG: u32;
var<workgroup> red: array<vec4<f32>, WG>;

// A row's total, held by one lane of its group (`owner`): row `row` of the pass.
struct RowSum { owner: bool, row: u32, sum: vec4<f32> }

// The sums of `a` over each group of L lanes (lanes g·L .. g·L + L - 1 walk row g), with
// subgroups of S lanes (subgroup_width()), of its first `ni` components (the images; the
// others are 0). Groups within a subgroup (L ≤ S) add up there, lane g·L holding the
// total, with no barrier; larger ones leave each subgroup's share in red[li / S] for lane g
// to add (L / S values: without subgroups, S = 1, all L). Called in uniform control flow.
fn group_total(a: vec4<f32>, li: u32, L: u32, S: u32, ni: u32) -> RowSum {
    if (L <= S) {
        return RowSum(li % L == 0u, li / L, images_sum(a, L, S, ni));
    }
    let s = images_sum(a, S, S, ni);
    if (li % S == 0u) { red[li / S] = s; }
    workgroupBarrier();
    let n = L / S;
    let owner = li < WG / L;
    var t = vec4<f32>(0.0);
    if (owner) {
        for (var k = 0u; k < n; k++) { t += red[li * n + k]; }
    }
    return RowSum(owner, li, t);
}

// cluster_sum of each of the first ni components of `v`: one subgroup operation per image
// (a whole vec4 would cost 4 at batch 1 too).
fn images_sum(v: vec4<f32>, n: u32, S: u32, ni: u32) -> vec4<f32> {
    var s = vec4<f32>(cluster_sum(v.x, n, S), 0.0, 0.0, 0.0);
    if (ni > 1u) { s.y = cluster_sum(v.y, n, S); }
    if (ni > 2u) { s.z = cluster_sum(v.z, n, S); }
    if (ni > 3u) { s.w = cluster_sum(v.w, n, S); }
    return s;
}

// dst[base + j] = the value staged at s + j / 4 (component j % 4) of `outs` (`from_outs`)
// or `xs`, for j < len, as whole vec4s, or pairs at the ends of the range. A value whose
// word it shares with the neighbouring image's or block's (classes or F not even, or not
// a multiple of 4) is stored alone: st_dst, atomic in packed f16, as that value's owner is
// another workgroup.
fn store_row(base: u32, len: u32, s: u32, from_outs: bool, li: u32) {
    let end = base + len;
    for (var q = base / 4u + li; 4u * q < end; q += WG) {
        let e = 4u * q;
        if (e >= base && e + 4u <= end) {
            let j = e - base;
            let v = vec4(
                staged(s, j, from_outs), staged(s, j + 1u, from_outs),
                staged(s, j + 2u, from_outs), staged(s, j + 3u, from_outs),
            );
            st_dst4(q, v);
            continue;
        }
        for (var a = e; a < e + 4u; a += 2u) {
            if (a >= base && a + 2u <= end) {
                st_dst2(a / 2u, vec2(staged(s, a - base, from_outs), staged(s, a + 1u - base, from_outs)));
            } else {
                if (a >= base && a < end) { st_dst(a, staged(s, a - base, from_outs)); }
                if (a + 1u >= base && a + 1u < end) { st_dst(a + 1u, staged(s, a + 1u - base, from_outs)); }
            }
        }
    }
}
