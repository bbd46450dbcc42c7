// GPU family, channels last (NHWC, channels padded to a multiple of 4 with zeros): dense
// k×k conv + folded BN + activation (+ residual after it); with NCHW_IN (a model's stem)
// the input is NCHW.
// P: ConvParams (src/kernels/ops/conv.rs). Weights: blocks of CHANNELS output channels,
// [c_out / CHANNELS][c_in][K][P.block_stride], output channel j of a block at j · kp + kx
// (kp = K rounded up to 4); the bias after them (P.bias_off).
//
// A workgroup's CO_LANES lanes side by side own consecutive vec4s of output channels at one
// output pixel, its WG / CO_LANES rows of lanes one pixel each. A lane reads each tap's
// input channels as vec4s (every lane of a row the same ones) and the 4 weights of each
// input channel for its output channels. Stores are whole vec4s (two whole words in
// packed f16), padded channels as zeros. Arithmetic is f32.
// Grid: x = groups of CO_LANES output vec4s, y + z · ny = pixel tiles.

override K: u32;
override STRIDE: u32;
override HAS_RESIDUAL: u32;
// The input is NCHW (a model's input, which the stem converts): each input vec4 gathers 4
// channel planes.
override NCHW_IN: u32;
override CHANNELS: u32;
override CO_LANES: u32;
override WG: u32;

// Input channel ci's weights at tap (ky, kx) for output channels 4·cv .. 4·cv + 3 (zeros
// past the last output channel: a vec4 never straddles a block, CHANNELS being a multiple
// of 4).
fn weights_of(ci: u32, ky: u32, kx: u32, cv: u32) -> vec4<f32> {
    let co = 4u * cv;
    let kp = (K + 3u) / 4u * 4u;
    let block = ((co / CHANNELS * P.c_in + ci) * K + ky) * P.block_stride;
    var w = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
        if (co + j < P.c_out) { w[j] = ld_wts(block + (co % CHANNELS + j) * kp + kx); }
    }
    return w;
}

// Input channels 4k .. 4k + 3 at `pixel` (image n's pixel `at`): one vec4 in NHWC; in NCHW
// from 4 planes, zeros past the last channel.
fn input_vec4(pixel: u32, n: u32, at: u32, k: u32, c4_in: u32) -> vec4<f32> {
    if (NCHW_IN == 0u) { return ld_src4(pixel * c4_in + k); }
    var x = vec4<f32>(0.0);
    let plane = P.h_in * P.w_in;
    for (var j = 0u; j < 4u; j++) {
        let ci = 4u * k + j;
        if (ci < P.c_in) { x[j] = ld_src((n * P.c_in + ci) * plane + at); }
    }
    return x;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
    let c4_in = (P.c_in + 3u) / 4u;
    let c4_out = (P.c_out + 3u) / 4u;
    let cv = wid.x * CO_LANES + li % CO_LANES;
    let q = (wid.y + wid.z * nwg.y) * (WG / CO_LANES) + li / CO_LANES;
    let pixels = P.h_out * P.w_out;
    if (cv >= c4_out || q >= P.n * pixels) { return; }
    let n = q / pixels;
    let oy = q % pixels / P.w_out;
    let ox = q % P.w_out;
    var acc = vec4<f32>(0.0);
    for (var ky = 0u; ky < K; ky++) {
        let iy = i32(oy * STRIDE + ky) - i32(P.pad_top);
        if (iy < 0 || iy >= i32(P.h_in)) { continue; }
        for (var kx = 0u; kx < K; kx++) {
            let ix = i32(ox * STRIDE + kx) - i32(P.pad_left);
            if (ix < 0 || ix >= i32(P.w_in)) { continue; }
            let pixel = (n * P.h_in + u32(iy)) * P.w_in + u32(ix);
            for (var k = 0u; k < c4_in; k++) {
                let x = input_vec4(pixel, n, u32(iy) * P.w_in + u32(ix), k, c4_in);
                // Past the last input channel x is 0 (padding): skip its weights.
                let ci = 4u * k;
                acc += x.x * weights_of(ci, ky, kx, cv);
                if (ci + 1u < P.c_in) { acc += x.y * weights_of(ci + 1u, ky, kx, cv); }
                if (ci + 2u < P.c_in) { acc += x.z * weights_of(ci + 2u, ky, kx, cv); }
                if (ci + 3u < P.c_in) { acc += x.w * weights_of(ci + 3u, ky, kx, cv); }
            }
        }
    }
    var v = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
        let co = 4u * cv + j;
        if (co < P.c_out) { v[j] = activate(acc[j] + ld_wts(P.bias_off + co)); }
    }
    let out = q * c4_out + cv;
    if (HAS_RESIDUAL != 0u) { v += ld_res4(out); }
    st_dst4(out, v);
}
