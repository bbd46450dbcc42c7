// Squeeze-and-excitation in one dispatch, one workgroup per image:
//   1. mean[c] = sum of the depthwise kernel's partial sums / hw, kept in `dst` (the gate);
//   2. hidden[r] = act(b1[r] + sum_c w1[r, c] * mean[c]);
//   3. gate[c] = sigmoid(b2[c] + sum_r w2[c, r] * hidden[r]), overwriting the mean.
// The weights buffer holds w1 [R, C] at 0, b1 at off1, w2 [C, R] at off2, b2 at off3.
// Params: c_in = C, c_out = R, tiles = partial sums per channel.

const WG: u32 = 256u;
const MAX_REDUCED: u32 = 1024u;

var<workgroup> hidden: array<f32, MAX_REDUCED>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let n = wid.x;
    let C = P.c_in;
    let R = P.c_out;
    for (var c = li; c < C; c += WG) {
        var s = 0.0;
        let base = (n * C + c) * P.tiles;
        for (var t = 0u; t < P.tiles; t++) { s += ld_sums(base + t); }
        st_dst(n * C + c, s * P.inv_hw);
    }
    storageBarrier();
    workgroupBarrier();
    for (var r = li; r < R; r += WG) {
        var acc = ld_wts(P.off1 + r);
        for (var c = 0u; c < C; c++) { acc += ld_wts(r * C + c) * ld_dst(n * C + c); }
        hidden[r] = activate(acc);
    }
    storageBarrier();
    workgroupBarrier();
    for (var c = li; c < C; c += WG) {
        var acc = ld_wts(P.off3 + c);
        for (var r = 0u; r < R; r++) { acc += ld_wts(P.off2 + c * R + r) * hidden[r]; }
        st_dst(n * C + c, sigmoid(acc));
    }
}
