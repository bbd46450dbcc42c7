// GPU family: what the SE and classifier kernels share (shaders/gpu/se.wgsl and
// classifier.wgsl come after this): groups of L lanes walk one row together and
// `group_total` adds up their shares, and a block's results leave as whole words. Each
// kernel defines `staged(s, j, from_outs)`, the j-th value of a block it staged in
// workgroup memory.
//
// Whole words: each image's results are a row of `len` values in dst, split into blocks. With
// `len` odd, a block's range may start or end inside a word; a word belongs to the block
// holding its first (even-index) value, so a block skips a first value at an odd index (the
// block before it stores it) and stores the word at an odd end with the value just past it:
// the next block's first, which it computes as one more row (`extra_row`, into `ends`), or,
// past a row's last block, the next image's first (row 0 of the block's next image
// component, or for its last image a value the kernel computes for that image alone).

override WG: u32;
var<workgroup> red: array<vec4<f32>, WG>;
// The extra row's value for each image of the block (components, as `red`).
var<workgroup> ends: vec4<f32>;

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

// The row a block of rows c0 .. c0 + cb of `len` computes beyond its own: the next block's
// first, or past the last block row 0 (the next image's first).
fn extra_row(c0: u32, cb: u32, len: u32) -> u32 {
    return select(c0 + cb, 0u, c0 + cb >= len);
}

// Whether the block of images n0 .. n0 + ni, rows c0 .. c0 + cb of `len`, ends at an odd
// index inside the tensor with an image it does not hold next: then the kernel computes that
// image's row 0 alone, for `past_end`.
fn needs_next_image(n0: u32, ni: u32, images: u32, c0: u32, cb: u32, len: u32) -> bool {
    return len % 2u == 1u && c0 + cb >= len && (n0 + ni) % 2u == 1u && n0 + ni < images;
}

// The value just past image i's range: the extra row's (the same image's next block), or past
// a row's last block row 0 of image i + 1 (`ends` too, its component) or `next_first`.
fn past_end(i: u32, ni: u32, last: bool, next_first: f32) -> f32 {
    if (!last) { return ends[i]; }
    if (i + 1u < ni) { return ends[i + 1u]; }
    return next_first;
}

// dst[base + j] = the value staged at s + j / 4 (component j % 4) of `outs` (`from_outs`)
// or `xs`, for j < len, in whole words (see the header): from the first even index to the
// first even index at or past the end, `tail` the value at base + len; as vec4s, or pairs at
// the ends. The tensor's last word, when it has one value (`size` odd), gets 0 past it.
fn store_row(base: u32, len: u32, s: u32, from_outs: bool, li: u32, tail: f32, size: u32) {
    let end = base + len;
    let first = base + (base & 1u);
    var stop = end + (end & 1u);
    if (stop > size) {
        stop = end - 1u;
        if (li == 0u) { st_dst_end(stop, staged(s, stop - base, from_outs)); }
    }
    for (var q = first / 4u + li; 4u * q < stop; q += WG) {
        let e = 4u * q;
        if (e >= first && e + 4u <= stop) {
            let v = vec4(
                row_value(e, base, len, s, from_outs, tail), row_value(e + 1u, base, len, s, from_outs, tail),
                row_value(e + 2u, base, len, s, from_outs, tail), row_value(e + 3u, base, len, s, from_outs, tail),
            );
            st_dst4(q, v);
            continue;
        }
        for (var a = e; a < e + 4u; a += 2u) {
            if (a >= first && a + 2u <= stop) {
                let v = vec2(row_value(a, base, len, s, from_outs, tail), row_value(a + 1u, base, len, s, from_outs, tail));
                st_dst2(a / 2u, v);
            }
        }
    }
}

// The value of dst[k] in a range from `base`: staged, or `tail` just past the range.
fn row_value(k: u32, base: u32, len: u32, s: u32, from_outs: bool, tail: f32) -> f32 {
    if (k < base + len) { return staged(s, k - base, from_outs); }
    return tail;
}
