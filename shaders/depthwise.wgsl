// Depthwise k×k convolution + folded BN + activation. With HAS_SUMS it also writes, per
// workgroup, the sum of the outputs it produced, so the SE block that follows needs no extra
// pass over the tensor: sums[(n * C + c) * tiles + tile].
// Grid: x = tiles of TILE output pixels, y = channels, z = batch.

override K: u32 = 3u;
override STRIDE: u32 = 1u;
override HAS_SUMS: u32 = 0u;
const WG: u32 = 64u;
const PER_THREAD: u32 = 4u;
const TILE: u32 = WG * PER_THREAD;

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
    let c = wid.y;
    let n = wid.z;
    let ohw = P.h_out * P.w_out;
    let in_plane = (n * P.c_in + c) * P.h_in;
    let out_plane = (n * P.c_out + c) * ohw;
    let wbase = c * K * K;
    var local_sum = 0.0;
    for (var j = 0u; j < PER_THREAD; j++) {
        let p = wid.x * TILE + j * WG + li;
        if (p >= ohw) { break; }
        let oy = p / P.w_out;
        let ox = p % P.w_out;
        var acc = 0.0;
        for (var ky = 0u; ky < K; ky++) {
            let iy = i32(oy * STRIDE + ky) - i32(P.pad_top);
            if (iy < 0 || iy >= i32(P.h_in)) { continue; }
            for (var kx = 0u; kx < K; kx++) {
                let ix = i32(ox * STRIDE + kx) - i32(P.pad_left);
                if (ix < 0 || ix >= i32(P.w_in)) { continue; }
                acc += src[(in_plane + u32(iy)) * P.w_in + u32(ix)] * wts[wbase + ky * K + kx];
            }
        }
        let y = activate(acc + wts[P.bias_off + c]);
        dst[out_plane + p] = y;
        local_sum += y;
    }
    if (HAS_SUMS == 0u) { return; }
    partial[li] = local_sum;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
        if (li < s) { partial[li] += partial[li + s]; }
        workgroupBarrier();
    }
    if (li == 0u) {
        sums[(n * P.c_out + c) * P.tiles + wid.x] = partial[0];
    }
}
