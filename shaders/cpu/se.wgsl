// Squeeze-and-excitation in one dispatch, one workgroup per image:
//   1. mean[c] = sum of the depthwise kernel's partial sums / hw, kept in `dst` (the gate);
//   2. hidden[r] = act(b1[r] + sum_c w1[r, c] * mean[c]), kept in this image's partial sums
//      (all read by then: `aux` from (n * C) * partials on);
//   3. gate[c] = sigmoid(b2[c] + sum_r w2[c, r] * hidden[r]), overwriting the mean.
// Weights (src/kernels/cpu/se.rs `layout`): w1 [R, C8] at 0, b1 at b1_off, w2 [C, R8] at
// w2_off, b2 at b2_off, rows zero-padded to multiples of 8 so a lane reads its row as vec4s.
// Steps 2 and 3 give each lane one output and share the vector it is dotted with across
// the subgroup (shared_dst8 / shared_sums8: one load per 8 values where tuned), so on CPU
// drivers no load is repeated by every lane. P: SeParams (src/kernels/cpu/se.rs, which also sets
// WG).

override WG: u32;

fn kernel(wid: vec3<u32>, li: u32) {
    let n = wid.x;
    let C = P.channels;
    let R = P.reduced;
    for (var c = li; c < C; c += WG) {
        var s = 0.0;
        let base = (n * C + c) * P.partials;
        for (var t = 0u; t < P.partials; t++) { s += ld_sums(base + t); }
        st_dst(n * C + c, s * P.inv_hw);
    }
    storageBarrier();
    workgroupBarrier();
    let hidden = n * C * P.partials;
    let c8 = (C + 7u) / 8u * 8u;
    for (var r0 = 0u; r0 < R; r0 += WG) {
        // Lanes past R compute row R - 1 again with their subgroup; whole subgroups of them
        // skip the work (their loop ends at once).
        if (!all_done(r0 + li >= R)) {
            let r = min(r0 + li, R - 1u);
            let acc = ld_wts(P.b1_off + r) + row_dot(r * c8, n * C, C, true);
            if (r0 + li < R) { st_sums(hidden + r, activate(acc)); }
        }
    }
    storageBarrier();
    workgroupBarrier();
    let r8 = (R + 7u) / 8u * 8u;
    for (var c0 = 0u; c0 < C; c0 += WG) {
        if (!all_done(c0 + li >= C)) {
            let c = min(c0 + li, C - 1u);
            let acc = ld_wts(P.b2_off + c) + row_dot(P.w2_off + c * r8, hidden, R, false);
            if (c0 + li < C) { st_dst(n * C + c, sigmoid(acc)); }
        }
    }
}

// Σ_i wts[w + i] · x[v + i] for i < len, x the means in `dst` (`means`, a literal) or the
// hidden layer in `sums`; `w` a multiple of 8.
fn row_dot(w: u32, v: u32, len: u32, means: bool) -> f32 {
    var acc = 0.0;
    var i = 0u;
    for (; i + 8u <= len; i += 8u) {
        var x: Pair;
        if (means) { x = shared_dst8(v + i); } else { x = shared_sums8(v + i); }
        acc += dot(ld_wts4((w + i) / 4u), x.lo) + dot(ld_wts4((w + i) / 4u + 1u), x.hi);
    }
    for (; i < len; i++) {
        var x: f32;
        if (means) { x = ld_dst(v + i); } else { x = ld_sums(v + i); }
        acc += ld_wts(w + i) * x;
    }
    return acc;
}
