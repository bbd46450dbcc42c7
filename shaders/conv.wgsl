// Dense k×k convolution + folded BN + activation (+ residual): the stem, Fused-MBConv
// expansion and ConvBnAct. One thread computes COUT_PER_THREAD output channels of one pixel,
// so every input tap is read once for all of them.
// Grid: x = output pixels / 64, y = output channels / COUT_PER_THREAD, z = batch.

override K: u32 = 3u;
override STRIDE: u32 = 1u;
override HAS_RESIDUAL: u32 = 0u;
const COUT_PER_THREAD: u32 = 4u;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let ohw = P.h_out * P.w_out;
    let p = gid.x;
    if (p >= ohw) { return; }
    let oy = p / P.w_out;
    let ox = p % P.w_out;
    let n = gid.z;
    let co0 = gid.y * COUT_PER_THREAD;
    var acc = array<f32, COUT_PER_THREAD>();
    let taps = P.c_in * K * K;
    for (var ci = 0u; ci < P.c_in; ci++) {
        let plane = (n * P.c_in + ci) * P.h_in;
        for (var ky = 0u; ky < K; ky++) {
            let iy = i32(oy * STRIDE + ky) - i32(P.pad_top);
            if (iy < 0 || iy >= i32(P.h_in)) { continue; }
            for (var kx = 0u; kx < K; kx++) {
                let ix = i32(ox * STRIDE + kx) - i32(P.pad_left);
                if (ix < 0 || ix >= i32(P.w_in)) { continue; }
                let v = src[(plane + u32(iy)) * P.w_in + u32(ix)];
                let tap = (ci * K + ky) * K + kx;
                for (var j = 0u; j < COUT_PER_THREAD; j++) {
                    let co = min(co0 + j, P.c_out - 1u);
                    acc[j] += v * wts[co * taps + tap];
                }
            }
        }
    }
    for (var j = 0u; j < COUT_PER_THREAD; j++) {
        let co = co0 + j;
        if (co >= P.c_out) { break; }
        let o = (n * P.c_out + co) * ohw + p;
        var y = activate(acc[j] + wts[P.bias_off + co]);
        if (HAS_RESIDUAL != 0u) { y += res[o]; }
        dst[o] = y;
    }
}
