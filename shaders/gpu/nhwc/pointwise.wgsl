// GPU family, channels last (NHWC, channels padded to a multiple of 4 with zeros): 1×1 conv
// + folded BN + activation, with the SE gate and residual fused, as one GEMM over the
// pixels of all images with K (input channels) contiguous:
//   out[q, co] = act(bias[co] + Σ_ci gate[n(q), ci] · x[q, ci] · W[ci, co]) + res[q, co].
// P: PointwiseParams (src/kernels/ops/pointwise.rs); W is stored [ci][P.rows] with the bias
// after it (P.bias_off), the gate [n][c_in] unpadded (a per-channel vector in both layouts).
//
// A workgroup's CO_LANES lanes side by side own consecutive vec4s of output channels (their
// weight loads are one contiguous run), its WG / CO_LANES rows of lanes take PX pixels
// each, WG / CO_LANES apart. Per vec4 of input channels a lane loads 4 weight vec4s and a
// vec4 of each of its pixels, then does 4 × 4 vec4 multiply-adds. Stores are whole vec4s
// (two whole words in packed f16), the padded output channels written as zeros so that the
// next kernel may read whole vec4s. Arithmetic is f32.
// Grid: x = groups of CO_LANES output vec4s, y + z · ny = pixel tiles.

override HAS_GATE: u32;
override HAS_RESIDUAL: u32;
override CO_LANES: u32;
override WG: u32;

// Pixels per lane (src/kernels/gpu/nhwc/pointwise.rs: PIXELS_PER_LANE).
const PX: u32 = 4u;

// Input channels 4k .. 4k + 3 of pixel q (zeros past the last pixel), gated.
fn input_vec4(q: u32, k: u32, c4_in: u32) -> vec4<f32> {
    if (q >= P.batch * P.hw) { return vec4<f32>(0.0); }
    var x = ld_src4(q * c4_in + k);
    if (HAS_GATE != 0u) {
        let n = q / P.hw;
        var g = vec4<f32>(0.0);
        for (var j = 0u; j < 4u; j++) {
            let ci = 4u * k + j;
            if (ci < P.c_in) { g[j] = ld_gate(n * P.c_in + ci); }
        }
        x *= g;
    }
    return x;
}

// Weight row ci's output channels 4·cv .. 4·cv + 3 (zeros past the last input channel:
// the rows after it hold the bias).
fn weight_vec4(ci: u32, cv: u32) -> vec4<f32> {
    if (ci >= P.c_in) { return vec4<f32>(0.0); }
    return ld_wts4(ci * (P.rows / 4u) + cv);
}

// Activation, residual and the zero padding of output vec4 cv at pixel q; stores it.
fn finish(q: u32, cv: u32, c4_out: u32, acc: vec4<f32>) {
    if (q >= P.batch * P.hw) { return; }
    var v = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
        let co = 4u * cv + j;
        if (co < P.c_out) { v[j] = activate(acc[j] + ld_wts(P.bias_off + co)); }
    }
    let at = q * c4_out + cv;
    // Padded channels of the residual are zeros too.
    if (HAS_RESIDUAL != 0u) { v += ld_res4(at); }
    st_dst4(at, v);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
    let c4_in = (P.c_in + 3u) / 4u;
    let c4_out = (P.c_out + 3u) / 4u;
    let cv = wid.x * CO_LANES + li % CO_LANES;
    if (cv >= c4_out) { return; }
    let rows = WG / CO_LANES;
    let q0 = (wid.y + wid.z * nwg.y) * rows * PX + li / CO_LANES;
    let q1 = q0 + rows;
    let q2 = q1 + rows;
    let q3 = q2 + rows;
    // Named accumulators: lavapipe keeps an indexed array in memory (BENCHMARKS.md).
    var a0 = vec4<f32>(0.0);
    var a1 = vec4<f32>(0.0);
    var a2 = vec4<f32>(0.0);
    var a3 = vec4<f32>(0.0);
    for (var k = 0u; k < c4_in; k++) {
        let w0 = weight_vec4(4u * k, cv);
        let w1 = weight_vec4(4u * k + 1u, cv);
        let w2 = weight_vec4(4u * k + 2u, cv);
        let w3 = weight_vec4(4u * k + 3u, cv);
        let x0 = input_vec4(q0, k, c4_in);
        let x1 = input_vec4(q1, k, c4_in);
        let x2 = input_vec4(q2, k, c4_in);
        let x3 = input_vec4(q3, k, c4_in);
        a0 += x0.x * w0 + x0.y * w1 + x0.z * w2 + x0.w * w3;
        a1 += x1.x * w0 + x1.y * w1 + x1.z * w2 + x1.w * w3;
        a2 += x2.x * w0 + x2.y * w1 + x2.z * w2 + x2.w * w3;
        a3 += x3.x * w0 + x3.y * w1 + x3.z * w2 + x3.w * w3;
    }
    finish(q0, cv, c4_out, a0);
    finish(q1, cv, c4_out, a1);
    finish(q2, cv, c4_out, a2);
    finish(q3, cv, c4_out, a3);
}
