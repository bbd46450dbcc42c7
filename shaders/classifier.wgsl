// Global average pool + classifier, one workgroup per image: the pooled features go to the
// scratch buffer `sums` ([n, C]), then each thread computes classes strided by WG.
// Weights: W [classes, C] at 0, bias at bias_off. Params: c_in = C, c_out = classes.

const WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let n = wid.x;
    let C = P.c_in;
    for (var c = li; c < C; c += WG) {
        let base = (n * C + c) * P.hw;
        var s = 0.0;
        for (var p = 0u; p < P.hw; p++) { s += ld_src(base + p); }
        st_sums(n * C + c, s * P.inv_hw);
    }
    storageBarrier();
    workgroupBarrier();
    for (var k = li; k < P.c_out; k += WG) {
        var acc = ld_wts(P.bias_off + k);
        for (var c = 0u; c < C; c++) { acc += ld_wts(k * C + c) * ld_sums(n * C + c); }
        st_dst(n * P.c_out + k, acc);
    }
}
