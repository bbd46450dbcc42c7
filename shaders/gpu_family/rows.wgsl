// GPU family: what the SE and classifier kernels share (shaders/gpu_family/se.wgsl and
// classifier.wgsl come after this): groups of L lanes walk one row together, each lane's
// share summed through `red`, and a block's results leave as whole words. Each kernel
// defines `staged(s, j, from_outs)`, the j-th value of a block it staged in workgroup memory.

override WG: u32;
var<workgroup> red: array<vec4<f32>, WG>;

// The sum of the L values group g left in `red` (lanes g·L to g·L + L - 1).
fn group_sum(g: u32, L: u32) -> vec4<f32> {
    var s = vec4<f32>(0.0);
    for (var j = 0u; j < L; j++) { s += red[g * L + j]; }
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
