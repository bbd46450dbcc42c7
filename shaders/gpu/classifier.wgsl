// GPU family: global average pool + classifier (src/kernels/gpu/classifier.rs):
// src [n, F, hw] → pooled[f] = Σ plane / hw → logits[k] = bias[k] + Σ_f W[k, f] pooled[f],
// dst [n, classes]; or, with P.classes == 0 (a headless backbone), the pooled features
// [n, F] themselves. Weights: W [classes, row_len] (rows zero-padded to row_len = F
// rounded up to 8) at 0, bias at bias_off.
// Grid: x = blocks of P.cb classes (headless: of P.ks features), y = blocks of P.ib ≤ 4
// images. A workgroup pools its images' features a slice of P.ks at a time into `xs` and
// adds that slice's share of its classes' logits to `outs`: each weight is read once for
// all its images (they ride in the components of a vec4); each block of classes pools its
// images again (one dispatch cannot share the pooled features).
// Every plane sum and dot product is a group of L lanes walking one row together
// (consecutive lanes read consecutive addresses), their shares added by `group_total`
// (rows.wgsl): a pass of WG / L rows, one or two barriers. Loop bounds and the branches
// around barriers and subgroup operations depend on P, the workgroup id and S alone, so
// every lane reaches each of them.

// vec4 slots of `xs`: the pooled features of one slice, [image][feature / 4], zero past F.
override XS: u32;
// vec4 slots of `outs`: the logits of this block, [image][class / 4].
override OB: u32;

var<workgroup> xs: array<vec4<f32>, XS>;
var<workgroup> outs: array<vec4<f32>, OB>;

// The entry point `main` (reduce_plain.wgsl or reduce_subgroup.wgsl) calls this.
fn kernel(wid: vec3<u32>, nwg: vec3<u32>, li: u32) {
    let S = subgroup_width();
    let n0 = wid.y * P.ib;
    // Images of this workgroup: the last block may have fewer.
    let ni = min(P.ib, P.images - n0);
    if (P.classes == 0u) {
        headless(n0, ni, wid.x * P.ks, li, S);
        return;
    }
    let c0 = wid.x * P.cb;
    let cb = min(P.cb, P.classes - c0);
    // The first logit of the image after the block's, where the block's last word needs it
    // (odd class counts): that image pooled and one row, first. (Every lane reads outs[0]
    // before `classify` passes a barrier and overwrites it.)
    var next_first = 0.0;
    if (needs_next_image(n0, ni, P.images, c0, cb, P.classes)) {
        classify(n0 + ni, 1u, 0u, 1u, li, false, S);
        next_first = outs[0].x;
    }
    classify(n0, ni, c0, cb, li, P.classes % 2u == 1u, S);
    let last = c0 + cb >= P.classes;
    for (var i = 0u; i < ni; i++) {
        let tail = past_end(i, ni, last, next_first);
        store_row((n0 + i) * P.classes + c0, cb, i * (OB / P.ib), true, li, tail, P.images * P.classes);
    }
}

// A headless backbone's block: features k0 .. of images n0 .. n0 + ni - 1, pooled and stored.
fn headless(n0: u32, ni: u32, k0: u32, li: u32, S: u32) {
    let F = P.features;
    let len = min(P.ks, F - k0);
    // As `main`'s next_first: feature 0 of the next image, one plane.
    var next_first = 0.0;
    if (needs_next_image(n0, ni, P.images, k0, len, F)) {
        pool(n0 + ni, 1u, 0u, 1u, li, false, S);
        next_first = xs[0].x;
    }
    pool(n0, ni, k0, min(P.ks, (F + 3u) / 4u * 4u - k0), li, F % 2u == 1u, S);
    let last = k0 + len >= F;
    for (var i = 0u; i < ni; i++) {
        let tail = past_end(i, ni, last, next_first);
        store_row((n0 + i) * F + k0, len, i * (XS / P.ib), false, li, tail, P.images * F);
    }
}

// The logits of classes c0 .. c0 + cb of images n0 .. n0 + ni - 1 into `outs` (with `extra`,
// those of class `extra_row` into `ends`), pooling a slice of features at a time.
fn classify(n0: u32, ni: u32, c0: u32, cb: u32, li: u32, extra: bool, S: u32) {
    let f4 = (P.features + 3u) / 4u * 4u;
    for (var k0 = 0u; k0 < f4; k0 += P.ks) {
        let kc = min(P.ks, f4 - k0);
        pool(n0, ni, k0, kc, li, false, S);
        logits(ni, k0, kc, c0, cb, li, extra, S);
    }
}


// Lane l's share of the plane starting at `base`: its elements l, l + L, ..., or its vec4s
// where planes are whole vec4s (then every plane starts at a multiple of 4).
fn plane_sum(base: u32, l: u32, L: u32) -> f32 {
    var s = 0.0;
    if (P.hw % 4u == 0u) {
        for (var q = l; q < P.hw / 4u; q += L) {
            let v = ld_src4(base / 4u + q);
            s += (v.x + v.y) + (v.z + v.w);
        }
    } else {
        for (var t = l; t < P.hw; t += L) { s += ld_src(base + t); }
    }
    return s;
}

// xs[i][f - k0] = mean of feature plane f of image n0 + i, for the kc features from k0
// (0 past F); with `extra` (headless), ends[i] = that of feature `extra_row` (rows.wgsl).
fn pool(n0: u32, ni: u32, k0: u32, kc: u32, li: u32, extra: bool, S: u32) {
    let L = P.lp;
    let ng = WG / L;
    let g = li / L;
    let l = li % L;
    let kq = XS / P.ib;
    let image = P.features * P.hw;
    let rows = kc + u32(extra);
    let xr = extra_row(k0, min(kc, P.features - k0), P.features);
    for (var r0 = 0u; r0 < rows; r0 += ng) {
        let f = select(k0 + r0 + g, xr, r0 + g == kc);
        var a = vec4<f32>(0.0);
        if (r0 + g < rows && f < P.features) {
            let base = n0 * image + f * P.hw;
            a.x = plane_sum(base, l, L);
            if (ni > 1u) { a.y = plane_sum(base + image, l, L); }
            if (ni > 2u) { a.z = plane_sum(base + 2u * image, l, L); }
            if (ni > 3u) { a.w = plane_sum(base + 3u * image, l, L); }
        }
        let t = group_total(a, li, L, S, ni);
        if (t.owner && r0 + t.row < rows) {
            let j = r0 + t.row;
            let m = t.sum * P.inv_hw;
            if (j == kc) {
                ends = m;
            } else {
                for (var i = 0u; i < ni; i++) { xs[i * kq + j / 4u][j % 4u] = m[i]; }
            }
        }
        workgroupBarrier();
    }
}

// Adds this slice's share of W · pooled to the cb logits from class c0 (the bias first);
// with `extra`, to that of class `extra_row` (rows.wgsl) in `ends`.
fn logits(ni: u32, k0: u32, kc: u32, c0: u32, cb: u32, li: u32, extra: bool, S: u32) {
    let L = P.lw;
    let ng = WG / L;
    let g = li / L;
    let l = li % L;
    let kq = XS / P.ib;
    let rows = cb + u32(extra);
    let xr = extra_row(c0, cb, P.classes);
    for (var r0 = 0u; r0 < rows; r0 += ng) {
        var a = vec4<f32>(0.0);
        if (r0 + g < rows) {
            let c = select(c0 + r0 + g, xr, r0 + g == cb);
            let w = (c * P.row_len + k0) / 4u;
            // The weight quad read once for all images.
            for (var q = l; q < kc / 4u; q += L) {
                let wv = ld_wts4(w + q);
                a.x += dot(wv, xs[q]);
                if (ni > 1u) { a.y += dot(wv, xs[kq + q]); }
                if (ni > 2u) { a.z += dot(wv, xs[2u * kq + q]); }
                if (ni > 3u) { a.w += dot(wv, xs[3u * kq + q]); }
            }
        }
        let t = group_total(a, li, L, S, ni);
        if (t.owner && r0 + t.row < rows) {
            let j = r0 + t.row;
            var s = t.sum;
            if (k0 == 0u) {
                s += ld_wts(P.bias_off + select(c0 + j, xr, j == cb));
            } else {
                s += logit_row(j, cb, ni);
            }
            put_logits(j, cb, ni, s);
        }
        workgroupBarrier();
    }
}

// The logits of row j so far for the block's ni images: outs, or `ends` for the extra row.
fn logit_row(j: u32, cb: u32, ni: u32) -> vec4<f32> {
    if (j == cb) { return ends; }
    let oq = OB / P.ib;
    var s = vec4<f32>(0.0);
    for (var i = 0u; i < ni; i++) { s[i] = outs[i * oq + j / 4u][j % 4u]; }
    return s;
}

fn put_logits(j: u32, cb: u32, ni: u32, s: vec4<f32>) {
    if (j == cb) {
        ends = s;
        return;
    }
    let oq = OB / P.ib;
    for (var i = 0u; i < ni; i++) { outs[i * oq + j / 4u][j % 4u] = s[i]; }
}

fn staged(s: u32, j: u32, from_outs: bool) -> f32 {
    if (from_outs) { return outs[s + j / 4u][j % 4u]; }
    return xs[s + j / 4u][j % 4u];
}

