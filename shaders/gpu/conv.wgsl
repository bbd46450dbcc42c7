// GPU family: dense k×k convolution + folded BN + activation (+ residual after the
// activation): the stem, Fused-MBConv expansion and ConvBnAct, as an implicit GEMM
// (src/kernels/gpu/conv.rs, which sets every override below).
//   M = output channels, N = batch × output pixels (one flat index g = n · h_out · w_out + p,
//   so tiles run across images and small planes waste no lanes at large batch),
//   K = c_in × k × k, walked in slices of CI whole input channels (KS = CI·k·k taps), so the
//   3-channel stem is one slice of 27 and no tap needs a division by c_in.
// A workgroup of TX × TY lanes owns a tile of TM = 4·TY channels × TN = 4·TX pixels; lane
// (tx, ty) a register block of channels 4·ty.. × pixels 4·tx... Per slice the workgroup
// stages the weight tile wa[kk][TM] and the im2col tile wb[kk][TN] (each tap of each pixel,
// zero in the padding) in workgroup memory, then every lane reads one vec4 of each per tap
// for 16 multiply-adds. Weights come from the CPU family's layout (src/kernels/cpu/conv.rs:
// blocks [c_out / LAYOUT_CO][c_in][k][LAYOUT_CO · kp], kp = k rounded up to 4, biases at
// P.bias_off), which this kernel only reads.
// Arithmetic: the tiles and each slice's multiply-adds are in H (f16 where the tuning asks
// and storage is native f16: kernels::formats::Arithmetic), a slice's sums then add up in f32.
// Grid: x (and z past 65535 tiles) = pixel tiles, y = channel tiles.

override K: u32;
override STRIDE: u32;
override HAS_RESIDUAL: u32;
// Output planes hold a multiple of 4 values: each lane's 4 pixels are one vec4 store.
override QUADS: u32;
// Output planes hold an odd number of values: words straddle lanes, tiles and planes (see
// store).
override ODD: u32;
// Lanes along pixels and along channels; input channels per K-slice.
override TX: u32;
override TY: u32;
override CI: u32;
// Output channels per weight block of the CPU family's layout (conv::CHANNELS).
override LAYOUT_CO: u32;

// Taps per K-slice.
override KS: u32 = CI * K * K;

// The weight tile, [kk][TM / 4] vec4s; after the last slice, the odd-plane edge values
// ([TM][TX], hence at least TX rows).
var<workgroup> wa: array<vec4<H>, max(KS, TX) * TY>;
// The im2col tile, [kk][TN / 4] vec4s.
var<workgroup> wb: array<vec4<H>, KS * TX>;

// A lane's 4 channels × 4 pixels: c_i holds channel 4·ty + i for the 4 pixels.
struct Block { c0: vec4<f32>, c1: vec4<f32>, c2: vec4<f32>, c3: vec4<f32> }
// The same, one slice's sums in H.
struct Run { c0: vec4<H>, c1: vec4<H>, c2: vec4<H>, c3: vec4<H> }

// The output pixel a lane gathers taps for: its image's first input value and the input
// position of its (0, 0) tap; `ok` is false past the last pixel.
struct Gather { base: u32, iy0: i32, ix0: i32, ok: bool }

fn plane_out() -> u32 { return P.h_out * P.w_out; }
fn total() -> u32 { return P.n * plane_out(); }

@compute @workgroup_size(TX * TY)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let g_tile = (wid.z * groups.x + wid.x) * 4u * TX;
    let m0 = wid.y * 4u * TY;
    let tx = li % TX;
    let ty = li / TX;
    // Each lane gathers for one pixel of the tile in every slice: its address math is done once.
    let q = gather_pixel(g_tile + li % (4u * TX));
    var acc: Block;
    let slices = (P.c_in + CI - 1u) / CI;
    for (var s = 0u; s < slices; s++) {
        stage_inputs(q, li, s * CI);
        stage_weights(m0, li, s * CI);
        workgroupBarrier();
        var run: Run;
        for (var kk = 0u; kk < KS; kk++) {
            let a = wa[kk * TY + ty];
            let b = wb[kk * TX + tx];
            run.c0 += a.x * b;
            run.c1 += a.y * b;
            run.c2 += a.z * b;
            run.c3 += a.w * b;
        }
        acc.c0 += vec4<f32>(run.c0);
        acc.c1 += vec4<f32>(run.c1);
        acc.c2 += vec4<f32>(run.c2);
        acc.c3 += vec4<f32>(run.c3);
        // The next slice (or the edge exchange) overwrites the tiles.
        workgroupBarrier();
    }
    let co = m0 + 4u * ty;
    let g0 = g_tile + 4u * tx;
    var y: Block;
    y.c0 = finish(co, g0, acc.c0);
    y.c1 = finish(co + 1u, g0, acc.c1);
    y.c2 = finish(co + 2u, g0, acc.c2);
    y.c3 = finish(co + 3u, g0, acc.c3);
    var next = vec4<f32>(0.0);
    if (ODD != 0u) {
        next = exchange_edges(tx, ty, y);
    }
    store(co, g0, tx, y.c0, next.x);
    store(co + 1u, g0, tx, y.c1, next.y);
    store(co + 2u, g0, tx, y.c2, next.z);
    store(co + 3u, g0, tx, y.c3, next.w);
}

fn gather_pixel(g: u32) -> Gather {
    let p = min(g, total() - 1u) % plane_out();
    let n = min(g, total() - 1u) / plane_out();
    let oy = p / P.w_out;
    let ox = p % P.w_out;
    let iy0 = i32(oy * STRIDE) - i32(P.pad_top);
    let ix0 = i32(ox * STRIDE) - i32(P.pad_left);
    return Gather(n * P.c_in * P.h_in * P.w_in, iy0, ix0, g < total());
}

// The im2col tile of input channels ci0..ci0 + CI: wb[kk][px] = tap kk = (ci, ky, kx) of
// pixel px, zero in the padding and past the last channel or pixel. Lane li fills pixel
// li % TN (consecutive lanes read consecutive input columns) for every (TY / 4)-th tap.
fn stage_inputs(q: Gather, li: u32, ci0: u32) {
    let px = li % (4u * TX);
    let h_in = P.h_in;
    let w_in = P.w_in;
    for (var kk = li / (4u * TX); kk < KS; kk += TY / 4u) {
        let ci = ci0 + kk / (K * K);
        let iy = q.iy0 + i32(kk / K % K);
        let ix = q.ix0 + i32(kk % K);
        // Negative rows and columns wrap to huge unsigned values: one compare each.
        let inside = q.ok && ci < P.c_in && u32(iy) < h_in && u32(ix) < w_in;
        var v = 0.0;
        if (inside) {
            v = ld_src(q.base + (ci * h_in + u32(iy)) * w_in + u32(ix));
        }
        wb[kk * TX + px / 4u][px % 4u] = H(v);
    }
}

// The weight tile of input channels ci0..ci0 + CI: wa[kk][col] = weight of channel m0 + col
// for tap kk. Lane li fills channel li % TM (consecutive lanes read consecutive slots of a
// block) for every (TX / 4)-th (input channel, kernel row): one vec4 holds the row's taps
// for k ≤ 4.
fn stage_weights(m0: u32, li: u32, ci0: u32) {
    let col = li % (4u * TY);
    let co = m0 + col;
    let kp = (K + 3u) / 4u * 4u;
    for (var row = li / (4u * TY); row < CI * K; row += TX / 4u) {
        let ci = ci0 + row / K;
        let ok = co < P.c_out && ci < P.c_in;
        let block = (co / LAYOUT_CO * P.c_in + ci) * K + row % K;
        let at = block * P.block_stride + co % LAYOUT_CO * kp;
        // Tap (row, kx) is kk = row · K + kx.
        let slot = row * K * TY + col / 4u;
        if (K <= 4u) {
            var w = vec4<f32>(0.0);
            if (ok) {
                w = ld_wts4(at / 4u);
            }
            wa[slot][col % 4u] = H(w.x);
            if (K > 1u) { wa[slot + TY][col % 4u] = H(w.y); }
            if (K > 2u) { wa[slot + 2u * TY][col % 4u] = H(w.z); }
            if (K > 3u) { wa[slot + 3u * TY][col % 4u] = H(w.w); }
        } else {
            for (var kx = 0u; kx < K; kx++) {
                var w = 0.0;
                if (ok) {
                    w = ld_wts(at + kx);
                }
                wa[slot + kx * TY][col % 4u] = H(w);
            }
        }
    }
}

// Where pixel g of channel co lies in the output (NCHW).
fn out_index(co: u32, g: u32) -> u32 {
    let n = g / plane_out();
    return (n * P.c_out + co) * plane_out() + g % plane_out();
}

// act(acc + bias) (+ the residual) for channel co at pixels g0..g0 + 3; zero where there is
// no output.
fn finish(co: u32, g0: u32, acc: vec4<f32>) -> vec4<f32> {
    if (co >= P.c_out || g0 >= total()) {
        return vec4<f32>(0.0);
    }
    let a = acc + ld_wts(P.bias_off + co);
    var y = vec4<f32>(activate(a.x), activate(a.y), activate(a.z), activate(a.w));
    if (HAS_RESIDUAL != 0u) {
        if (QUADS != 0u) {
            y += ld_res4(out_index(co, g0) / 4u);
        } else {
            let last = total() - 1u;
            y.x += ld_res(out_index(co, g0));
            y.y += select(0.0, ld_res(out_index(co, min(g0 + 1u, last))), g0 + 1u <= last);
            y.z += select(0.0, ld_res(out_index(co, min(g0 + 2u, last))), g0 + 2u <= last);
            y.w += select(0.0, ld_res(out_index(co, min(g0 + 3u, last))), g0 + 3u <= last);
        }
    }
    return y;
}

// Odd planes: each lane publishes its first pixel's values and reads those of the lane
// holding the next 4 pixels (tx + 1), whose first value may share a word with its last.
// ODD is a constant, so every lane of the workgroup reaches the barrier. (In f16 arithmetic
// the values pass as f16: the rounding their f16 store makes anyway.)
fn exchange_edges(tx: u32, ty: u32, y: Block) -> vec4<f32> {
    let e = 4u * ty * TX + tx;
    wa[e / 4u][e % 4u] = H(y.c0.x);
    wa[(e + TX) / 4u][(e + TX) % 4u] = H(y.c1.x);
    wa[(e + 2u * TX) / 4u][(e + 2u * TX) % 4u] = H(y.c2.x);
    wa[(e + 3u * TX) / 4u][(e + 3u * TX) % 4u] = H(y.c3.x);
    workgroupBarrier();
    let f = min(e + 1u, 4u * TY * TX - 1u);
    return vec4<f32>(vec4<H>(
        wa[f / 4u][f % 4u],
        wa[(f + TX) / 4u][(f + TX) % 4u],
        wa[(f + 2u * TX) / 4u][(f + 2u * TX) % 4u],
        wa[(f + 3u * TX) / 4u][(f + 3u * TX) % 4u],
    ));
}

// Stores channel co at pixels g0..g0 + 3 in whole words: one vec4 where planes hold a
// multiple of 4 values, else pairs at even indices (every pair lies in one lane's 4 pixels
// when planes are even). In odd planes each word is stored by the lane holding its first
// (even-index) value, with its second: the lane's next pixel, or the next lane's first
// (`next`), or, where the word straddles two workgroups' tiles or two channel planes, a
// value no lane here holds, computed alone from global memory (`direct`): at a tile's end
// and at the planes' ends in it, a few per workgroup.
fn store(co: u32, g0: u32, tx: u32, y: vec4<f32>, next: f32) {
    if (co >= P.c_out || g0 >= total()) {
        return;
    }
    if (QUADS != 0u) {
        st_dst4(out_index(co, g0) / 4u, y);
        return;
    }
    let plane = plane_out();
    for (var j = 0u; j < 4u; j++) {
        let g = g0 + j;
        if (g >= total()) {
            break;
        }
        let o = out_index(co, g);
        // An odd index is the second value of a word the lane with the first one stores.
        if (o % 2u == 1u) {
            continue;
        }
        if (o + 1u == P.c_out * total()) {
            st_dst_end(o, y[j]);
            continue;
        }
        var second: f32;
        if ((g + 1u) % plane != 0u) {
            if (j < 3u) {
                second = y[j + 1u];
            } else if (ODD != 0u && tx + 1u < TX) {
                second = next;
            } else {
                second = direct(co, g + 1u);
            }
        } else if (co + 1u < P.c_out) {
            // The first pixel of channel co + 1's plane of this image.
            second = direct(co + 1u, g + 1u - plane);
        } else {
            second = direct(0u, g + 1u);
        }
        st_dst2(o / 2u, vec2<f32>(y[j], second));
    }
}

// The output of channel co at pixel g computed alone from global memory (its c_in·k·k
// taps): the second value of a word whose first this lane stores.
fn direct(co: u32, g: u32) -> f32 {
    let q = gather_pixel(g);
    let kp = (K + 3u) / 4u * 4u;
    var acc = 0.0;
    for (var ci = 0u; ci < P.c_in; ci++) {
        for (var ky = 0u; ky < K; ky++) {
            let iy = q.iy0 + i32(ky);
            if (u32(iy) >= P.h_in) {
                continue;
            }
            let w = ((co / LAYOUT_CO * P.c_in + ci) * K + ky) * P.block_stride + co % LAYOUT_CO * kp;
            let row = q.base + (ci * P.h_in + u32(iy)) * P.w_in;
            for (var kx = 0u; kx < K; kx++) {
                let ix = q.ix0 + i32(kx);
                if (u32(ix) < P.w_in) {
                    acc += ld_src(row + u32(ix)) * ld_wts(w + kx);
                }
            }
        }
    }
    var y = activate(acc + ld_wts(P.bias_off + co));
    if (HAS_RESIDUAL != 0u) {
        y += ld_res(out_index(co, g));
    }
    return y;
}
