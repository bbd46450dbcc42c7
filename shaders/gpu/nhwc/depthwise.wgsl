// GPU family, channels last (NHWC, channels padded to a multiple of 4 with zeros):
// depthwise k×k conv (any k ≤ 5, any stride) + folded BN + activation, and with HAS_SUMS
// the per-channel sums of its output that the SE block after it needs.
// P: DepthwiseParams (src/kernels/ops/depthwise.rs), P.tiles = bands per image plane.
// Weights: channel c's block [K][P.row_stride] from c · K · row_stride, the bias in the
// last slot of row 0.
//
// A workgroup owns C_LANES consecutive vec4s of channels of one image (lanes side by side:
// consecutive channels, so every load of a tap is one contiguous run) × one band of the
// image's output pixels (pixels band · chunk .. , chunk = ⌈pixels / bands⌉); its WG / C_LANES
// rows of lanes take the band's pixels in turn. A lane holds its 4 channels' K × K taps as
// vec4s and reads each tap's input as one vec4. Stores are whole vec4s (two whole words in
// packed f16), padded channels as zeros.
//
// SE sums, a column reduction: each lane adds up the outputs it computed, the rows of lanes
// add theirs per channel through `red`, and band t of T writes the slot pairs (words)
// w ≡ t (mod T) of its channels' P.partials slots (even, ≥ 2T: src/kernels/gpu/nhwc/
// depthwise.rs): its sum in slot 2t, zeros in the others, as the NCHW kernel does. Every
// word is written once, by one workgroup. Arithmetic is f32.
// Grid: x = bands, y = groups of C_LANES channel vec4s, z = images.

override K: u32;
override STRIDE: u32;
override HAS_SUMS: u32;
override C_LANES: u32;
override WG: u32;

var<workgroup> red: array<vec4<f32>, WG>;

// The entry point `main` (reduce_plain.wgsl or reduce_subgroup.wgsl) calls this.
fn kernel(wid: vec3<u32>, nwg: vec3<u32>, li: u32) {
    let cv = wid.y * C_LANES + li % C_LANES;
    let row = li / C_LANES;
    let pixels = P.h_out * P.w_out;
    let chunk = (pixels + P.tiles - 1u) / P.tiles;
    let start = min(wid.x * chunk, pixels);
    let end = min(start + chunk, pixels);
    var sum = vec4<f32>(0.0);
    if (cv < (P.c + 3u) / 4u) { sum = compute(wid.z, cv, row, start, end); }
    // HAS_SUMS is uniform: every lane reaches the barriers in `write_sums`.
    if (HAS_SUMS != 0u) { write_sums(sum, wid.z, cv, row, li, wid.x, nwg.x); }
}

// Channel vec4 cv's outputs of image n at the band's pixels start .. end that lane row
// `row` computes, stored; returns their sum.
fn compute(n: u32, cv: u32, row: u32, start: u32, end: u32) -> vec4<f32> {
    // The 4 channels' taps (tap ky · K + kx) and biases; zeros past the last channel.
    var taps: array<vec4<f32>, 25>;
    var bias = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
        let c = 4u * cv + j;
        if (c >= P.c) { break; }
        let base = c * K * P.row_stride;
        for (var t = 0u; t < K * K; t++) {
            taps[t][j] = ld_wts(base + (t / K) * P.row_stride + t % K);
        }
        bias[j] = ld_wts(base + P.row_stride - 1u);
    }
    let c4 = (P.c + 3u) / 4u;
    var sum = vec4<f32>(0.0);
    for (var q = start + row; q < end; q += WG / C_LANES) {
        let oy = q / P.w_out;
        let ox = q % P.w_out;
        var acc = bias;
        for (var ky = 0u; ky < K; ky++) {
            let iy = i32(oy * STRIDE + ky) - i32(P.pad_top);
            if (iy < 0 || iy >= i32(P.h_in)) { continue; }
            for (var kx = 0u; kx < K; kx++) {
                let ix = i32(ox * STRIDE + kx) - i32(P.pad_left);
                if (ix < 0 || ix >= i32(P.w_in)) { continue; }
                let at = ((n * P.h_in + u32(iy)) * P.w_in + u32(ix)) * c4 + cv;
                acc += ld_src4(at) * taps[ky * K + kx];
            }
        }
        var v = vec4<f32>(0.0);
        for (var j = 0u; j < 4u; j++) {
            if (4u * cv + j < P.c) { v[j] = activate(acc[j]); }
        }
        st_dst4((n * P.h_out * P.w_out + q) * c4 + cv, v);
        sum += v;
    }
    return sum;
}

// Adds the lane rows' sums per channel (a tree over the WG / C_LANES rows, a power of two)
// and writes image n's slot pairs w ≡ band (mod bands) of the channels of vec4 cv.
fn write_sums(sum: vec4<f32>, n: u32, cv: u32, row: u32, li: u32, band: u32, bands: u32) {
    red[li] = sum;
    workgroupBarrier();
    for (var s = WG / C_LANES / 2u; s > 0u; s >>= 1u) {
        if (row < s) { red[li] += red[li + s * C_LANES]; }
        workgroupBarrier();
    }
    if (row != 0u) { return; }
    let total = red[li];
    let words = P.partials / 2u;
    for (var j = 0u; j < 4u; j++) {
        let c = 4u * cv + j;
        if (c >= P.c) { break; }
        let plane = n * P.c + c;
        for (var i = 0u; band + i * bands < words; i++) {
            let v = select(0.0, total[j], i == 0u);
            st_sums2(plane * words + band + i * bands, vec2<f32>(v, 0.0));
        }
    }
}
