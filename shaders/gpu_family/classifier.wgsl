// GPU family: global average pool + classifier (src/kernels/gpu_family/classifier.rs):
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
    let F = P.features;
    let f4 = (F + 3u) / 4u * 4u;
    if (P.classes == 0u) {
        let k0 = wid.x * P.ks;
        pool(n0, ni, k0, min(P.ks, f4 - k0), li, S);
        for (var i = 0u; i < ni; i++) {
            store_row((n0 + i) * F + k0, min(P.ks, F - k0), i * (XS / P.ib), false, li);
        }
        return;
    }
    let c0 = wid.x * P.cb;
    let cb = min(P.cb, P.classes - c0);
    for (var k0 = 0u; k0 < f4; k0 += P.ks) {
        let kc = min(P.ks, f4 - k0);
        pool(n0, ni, k0, kc, li, S);
        logits(ni, k0, kc, c0, cb, li, S);
    }
    for (var i = 0u; i < ni; i++) {
        store_row((n0 + i) * P.classes + c0, cb, i * (OB / P.ib), true, li);
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
// (0 past F).
fn pool(n0: u32, ni: u32, k0: u32, kc: u32, li: u32, S: u32) {
    let L = P.lp;
    let ng = WG / L;
    let g = li / L;
    let l = li % L;
    let kq = XS / P.ib;
    let image = P.features * P.hw;
    for (var r0 = 0u; r0 < kc; r0 += ng) {
        let f = k0 + r0 + g;
        var a = vec4<f32>(0.0);
        if (r0 + g < kc && f < P.features) {
            let base = n0 * image + f * P.hw;
            a.x = plane_sum(base, l, L);
            if (ni > 1u) { a.y = plane_sum(base + image, l, L); }
            if (ni > 2u) { a.z = plane_sum(base + 2u * image, l, L); }
            if (ni > 3u) { a.w = plane_sum(base + 3u * image, l, L); }
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

// Adds this slice's share of W · pooled to the cb logits from class c0 (the bias first).
fn logits(ni: u32, k0: u32, kc: u32, c0: u32, cb: u32, li: u32, S: u32) {
    let L = P.lw;
    let ng = WG / L;
    let g = li / L;
    let l = li % L;
    let kq = XS / P.ib;
    let oq = OB / P.ib;
    for (var r0 = 0u; r0 < cb; r0 += ng) {
        var a = vec4<f32>(0.0);
        if (r0 + g < cb) {
            let w = ((c0 + r0 + g) * P.row_len + k0) / 4u;
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
        if (t.owner && r0 + t.row < cb) {
            let j = r0 + t.row;
            var s = t.sum;
            if (k0 == 0u) {
                s += ld_wts(P.bias_off + c0 + j);
            } else {
                for (var i = 0u; i < ni; i++) { s[i] += outs[i * oq + j / 4u][j % 4u]; }
            }
            for (var i = 0u; i < ni; i++) { outs[i * oq + j / 4u][j % 4u] = s[i]; }
        }
        workgroupBarrier();
    }
}

fn staged(s: u32, j: u32, from_outs: bool) -> f32 {
    if (from_outs) { return outs[s + j / 4u][j % 4u]; }
    return xs[s + j / 4u][j % 4u];
}

