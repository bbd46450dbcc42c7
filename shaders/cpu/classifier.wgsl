// Global average pool + classifier. Grid: x = G class groups (P.groups), z = images. Each
// workgroup pools all C channels of its image into its own row of the scratch buffer `sums`
// ([n, G, C8], C8 = C rounded up to 8 = P.row_len, zero past C; its own row so that
// workgroups never share memory), then each lane computes classes g·WG + lane, + G·WG, ...
// Weights: W [classes, C8] (rows zero-padded) at 0, bias at bias_off. P: ClassifierParams
// (src/kernels/cpu/classifier.rs, which also sets WG): features = C, classes, or 0 for a headless
// backbone: then the one workgroup per image writes the pooled features [n, C] to dst instead.
// On CPU drivers a lane per class reading its weight row as vec4s, with the pooled
// features shared by `shared_sums8` (one load per 8 values per subgroup where tuned), costs
// a quarter of the loads of one lane per class reading scalars, and G workgroups keep G
// cores busy (lavapipe B0: one workgroup per image took 4.4 ms).

override WG: u32;

fn kernel(wid: vec3<u32>, li: u32) {
    let g = wid.x;
    let n = wid.z;
    let C = P.features;
    let C8 = P.row_len;
    let row = (n * P.groups + g) * C8;
    for (var c = li; c < C8; c += WG) {
        var s = 0.0;
        if (c < C) {
            let base = (n * C + c) * P.hw;
            for (var p = 0u; p < P.hw; p++) { s += ld_src(base + p); }
        }
        st_sums(row + c, s * P.inv_hw);
        if (P.classes == 0u && c < C) { st_dst(n * C + c, s * P.inv_hw); }
    }
    storageBarrier();
    workgroupBarrier();
    let classes = P.classes;
    for (var k0 = g * WG; k0 < classes; k0 += P.groups * WG) {
        // Lanes past the last class compute it again (they take part in the broadcasts).
        let k = min(k0 + li, classes - 1u);
        let w = k * C8 / 4u;
        var acc = 0.0;
        for (var c = 0u; c < C8; c += 8u) {
            let f = shared_sums8(row + c);
            acc += dot(ld_wts4(w + c / 4u), f.lo) + dot(ld_wts4(w + c / 4u + 1u), f.hi);
        }
        if (k0 + li < classes) { st_dst(n * classes + k, acc + ld_wts(P.bias_off + k)); }
    }
}
