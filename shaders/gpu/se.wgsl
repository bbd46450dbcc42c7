// GPU family: squeeze-and-excitation, from the depthwise kernel's partial sums `aux`
// [n, C, 1, partials] to the gate `dst` [n, C] (src/kernels/gpu/se.rs):
//   mean[c] = Σ partials / hw;  hidden[r] = act(b1[r] + Σ_c w1[r, c] mean[c]);
//   gate[c] = sigmoid(b2[c] + Σ_r w2[c, r] hidden[r]).
// Weights (src/kernels/cpu/se.rs `layout`): w1 [R, C8] at 0, b1 at b1_off, w2 [C, R8] at w2_off,
// b2 at b2_off, rows zero-padded, so rows are whole vec4s.
// Grid: x = blocks of P.cb gate channels, y = blocks of P.ib ≤ 4 images. Each workgroup
// computes the means and the hidden layer of its images (every block of an image repeats
// them: one dispatch cannot share them), then only its block of gates. Its images ride in
// the components of a vec4, so each weight read serves all of them.
// Every dot product and sum is done by a group of L lanes walking one row together
// (consecutive lanes read consecutive addresses), their shares added by `group_total`
// (rows.wgsl): a pass of WG / L rows, one or two barriers. All loop bounds and the
// branches around barriers and subgroup operations depend on P, the workgroup id and S
// alone, so every lane reaches each of them.

// vec4 slots of `xs`: the means of a slice of P.ks channels, [image][channel / 4], then the
// block's gates, [image][(channel - c0) / 4] (src/kernels/gpu/se.rs sizes both).
override XS: u32;
// vec4 slots of `hid`: the hidden layer, [image][unit / 4], zero past R.
override HQ: u32;

var<workgroup> xs: array<vec4<f32>, XS>;
var<workgroup> hid: array<vec4<f32>, HQ>;

// The entry point `main` (reduce_plain.wgsl or reduce_subgroup.wgsl) calls this.
fn kernel(wid: vec3<u32>, nwg: vec3<u32>, li: u32) {
    let S = subgroup_width();
    let n0 = wid.y * P.ib;
    // Images of this workgroup: the last block may have fewer.
    let ni = min(P.ib, P.images - n0);
    let c0 = wid.x * P.cb;
    let cb = min(P.cb, P.channels - c0);
    // The first gate of the image after the block's, where the block's last word needs it
    // (odd channel counts, which EfficientNets do not have): its whole hidden layer, first.
    // (Every lane reads xs[0] before `means` passes a barrier and overwrites it.)
    var next_first = 0.0;
    if (needs_next_image(n0, ni, P.images, c0, cb, P.channels)) {
        hidden_layer(n0 + ni, 1u, li, S);
        gates(1u, 0u, 1u, li, false, S);
        next_first = xs[0].x;
    }
    hidden_layer(n0, ni, li, S);
    gates(ni, c0, cb, li, P.channels % 2u == 1u, S);
    let kq = XS / P.ib;
    let last = c0 + cb >= P.channels;
    for (var i = 0u; i < ni; i++) {
        let tail = past_end(i, ni, last, next_first);
        store_row((n0 + i) * P.channels + c0, cb, i * kq, false, li, tail, P.images * P.channels);
    }
}

// The means of images n0 .. n0 + ni - 1, a slice of channels at a time, into their hidden
// layer (`hid`).
fn hidden_layer(n0: u32, ni: u32, li: u32, S: u32) {
    let c4 = (P.channels + 3u) / 4u * 4u;
    for (var k0 = 0u; k0 < c4; k0 += P.ks) {
        let kc = min(P.ks, c4 - k0);
        means(n0, ni, k0, kc, li, S);
        hidden(ni, k0, kc, li, S);
    }
}


// Σ aux[base + t] for t = l, l + L, ... < P.partials: lane l's share of a row of partial sums.
fn partials_sum(base: u32, l: u32, L: u32) -> f32 {
    var s = 0.0;
    for (var t = l; t < P.partials; t += L) { s += ld_sums(base + t); }
    return s;
}

// xs[i][c - k0] = mean of channel c of image n0 + i, for the kc channels from k0 (0 past C).
fn means(n0: u32, ni: u32, k0: u32, kc: u32, li: u32, S: u32) {
    let L = P.lm;
    let ng = WG / L;
    let g = li / L;
    let l = li % L;
    let kq = XS / P.ib;
    for (var r0 = 0u; r0 < kc; r0 += ng) {
        let c = k0 + r0 + g;
        var a = vec4<f32>(0.0);
        if (r0 + g < kc && c < P.channels) {
            let row = P.channels * P.partials;
            let base = (n0 * P.channels + c) * P.partials;
            a.x = partials_sum(base, l, L);
            if (ni > 1u) { a.y = partials_sum(base + row, l, L); }
            if (ni > 2u) { a.z = partials_sum(base + 2u * row, l, L); }
            if (ni > 3u) { a.w = partials_sum(base + 3u * row, l, L); }
        }
        let t = group_total(a, li, L, S, ni);
        if (t.owner && r0 + t.row < kc) {
            let j = r0 + t.row;
            let m = t.sum * P.inv_hw;
            for (var i = 0u; i < ni; i++) { xs[i * kq + j / 4u][j % 4u] = m[i]; }
        }
        workgroupBarrier();
    }
}

// Σ over this lane's quads q = l, l + L, ... < len of dot(w[q], x[i][q]) for each image i,
// x[i][q] at i·stride + q of `xs` (`from_means`, a literal) or `hid`: the weight quad is
// read once for all images.
fn row_dot(w: u32, l: u32, L: u32, len: u32, ni: u32, stride: u32, from_means: bool) -> vec4<f32> {
    var a = vec4<f32>(0.0);
    for (var q = l; q < len; q += L) {
        let wv = ld_wts4(w + q);
        a.x += dot(wv, staged4(q, from_means));
        if (ni > 1u) { a.y += dot(wv, staged4(stride + q, from_means)); }
        if (ni > 2u) { a.z += dot(wv, staged4(2u * stride + q, from_means)); }
        if (ni > 3u) { a.w += dot(wv, staged4(3u * stride + q, from_means)); }
    }
    return a;
}

fn staged4(i: u32, from_means: bool) -> vec4<f32> {
    if (from_means) { return xs[i]; }
    return hid[i];
}

// Adds this slice's share of w1 · mean to the hidden layer (b1 first, the activation last).
fn hidden(ni: u32, k0: u32, kc: u32, li: u32, S: u32) {
    let L = P.l1;
    let ng = WG / L;
    let g = li / L;
    let R = P.reduced;
    let rq = (R + 3u) / 4u;
    let c8 = (P.channels + 7u) / 8u * 8u;
    let last = k0 + kc >= P.channels;
    for (var r0 = 0u; r0 < 4u * rq; r0 += ng) {
        var a = vec4<f32>(0.0);
        if (r0 + g < R) {
            a = row_dot(((r0 + g) * c8 + k0) / 4u, li % L, L, kc / 4u, ni, XS / P.ib, true);
        }
        let t = group_total(a, li, L, S, ni);
        let r = r0 + t.row;
        if (t.owner && r < 4u * rq) {
            var h = vec4<f32>(0.0);
            if (r < R) {
                h = t.sum;
                if (k0 == 0u) {
                    h += ld_wts(P.b1_off + r);
                } else {
                    for (var i = 0u; i < ni; i++) { h[i] += hid[i * rq + r / 4u][r % 4u]; }
                }
                if (last) { h = vec4(activate(h.x), activate(h.y), activate(h.z), activate(h.w)); }
            }
            for (var i = 0u; i < ni; i++) { hid[i * rq + r / 4u][r % 4u] = h[i]; }
        }
        workgroupBarrier();
    }
}

// xs[i][j] = gate of channel c0 + j of image n0 + i, for j < cb; with `extra`, ends[i] =
// that of channel `extra_row` (see rows.wgsl).
fn gates(ni: u32, c0: u32, cb: u32, li: u32, extra: bool, S: u32) {
    let L = P.l2;
    let ng = WG / L;
    let g = li / L;
    let rq = (P.reduced + 3u) / 4u;
    let r8 = (P.reduced + 7u) / 8u * 8u;
    let rows = cb + u32(extra);
    let xr = extra_row(c0, cb, P.channels);
    for (var r0 = 0u; r0 < rows; r0 += ng) {
        var a = vec4<f32>(0.0);
        if (r0 + g < rows) {
            let c = select(c0 + r0 + g, xr, r0 + g == cb);
            a = row_dot((P.w2_off + c * r8) / 4u, li % L, L, rq, ni, rq, false);
        }
        let t = group_total(a, li, L, S, ni);
        if (t.owner && r0 + t.row < rows) {
            let j = r0 + t.row;
            let c = select(c0 + j, xr, j == cb);
            put_gates(j, cb, ni, t.sum + ld_wts(P.b2_off + c));
        }
        workgroupBarrier();
    }
}

// Row j's gates, sigmoid(s), for the block's ni images: xs[i][j], or `ends` for the extra row
// (j = cb).
fn put_gates(j: u32, cb: u32, ni: u32, s: vec4<f32>) {
    if (j == cb) {
        ends = vec4(sigmoid(s.x), sigmoid(s.y), sigmoid(s.z), sigmoid(s.w));
        return;
    }
    let kq = XS / P.ib;
    for (var i = 0u; i < ni; i++) { xs[i * kq + j / 4u][j % 4u] = sigmoid(s[i]); }
}

// (`store_row`'s `from_outs` is the classifier's; SE stages its gates in `xs` alone.)
fn staged(s: u32, j: u32, from_outs: bool) -> f32 { return xs[s + j / 4u][j % 4u]; }

