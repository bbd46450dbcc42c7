// GPU family, channels last (NHWC, channels padded to a multiple of 4 with zeros): global
// average pool + classifier, or (P.classes = 0, a headless backbone) the pooled features.
// P: ClassifierParams (src/kernels/ops/classifier.rs; the GPU family's tile fields unused).
// Weights: [classes][P.row_len] (features padded with zeros), the biases after them.
// Output: [n][classes rounded up to 4] (an NHWC tensor of 1×1 planes), padding zeros.
//
// A workgroup pools all features of its image into `pooled` (lanes take consecutive vec4s
// of channels and sum them over the pixels: a column reduction over the image's rows of
// channels), then each lane computes a vec4 of classes from there. Arithmetic is f32.
// Grid: x = blocks of WG class vec4s (1 headless), y = images.

override WG: u32;
override POOLED: u32;

var<workgroup> pooled: array<vec4<f32>, POOLED>;

// The entry point `main` (reduce_plain.wgsl or reduce_subgroup.wgsl) calls this.
fn kernel(wid: vec3<u32>, nwg: vec3<u32>, li: u32) {
    let n = wid.y;
    let f4 = (P.features + 3u) / 4u;
    for (var k = li; k < f4; k += WG) {
        var s = vec4<f32>(0.0);
        for (var q = 0u; q < P.hw; q++) { s += ld_src4((n * P.hw + q) * f4 + k); }
        pooled[k] = s * P.inv_hw;
    }
    workgroupBarrier();
    if (P.classes == 0u) {
        for (var k = li; k < f4; k += WG) { st_dst4(n * f4 + k, pooled[k]); }
        return;
    }
    let c4 = (P.classes + 3u) / 4u;
    let cv = wid.x * WG + li;
    if (cv >= c4) { return; }
    var logits = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
        let row_class = 4u * cv + j;
        if (row_class >= P.classes) { break; }
        var acc = 0.0;
        let row = row_class * P.row_len / 4u;
        for (var k = 0u; k < f4; k++) { acc += dot(pooled[k], ld_wts4(row + k)); }
        logits[j] = acc + ld_wts(P.bias_off + row_class);
    }
    st_dst4(n * c4 + cv, logits);
}
