//! Dense k×k convolution + folded BN + activation (+ residual): the stem, Fused-MBConv
//! expansion and ConvBnAct (shaders/cpu/conv.wgsl).

use crate::graph::ops::ConvOp;
use crate::graph::{Graph, Op};
use crate::kernels::case::{Case, conv_weights, convs_only, geom, out_size, square};
use crate::kernels::{DispatchDesc, Params, WeightRef, act_code, u, vec_taps};
use crate::model::weights::{ConvKind, ConvWeights};

pub const WGSL: &str = include_str!("../../../shaders/cpu/conv.wgsl");

/// Output channels one invocation computes (`CO`; the shader's 16 named accumulators). 16
/// rather than 4: on lavapipe each input row load then serves 4× the multiply-adds
/// (EfficientNetV2-S at 300: fused-MBConv convs 2× faster).
pub const CHANNELS: usize = 16;
/// Consecutive outputs of a row one invocation computes (`OUT_X`; one vec4).
pub const OUT_X: usize = 4;
/// Invocations per workgroup (`WG`).
pub const WG: usize = 64;

params! {
    /// `P` of shaders/cpu/conv.wgsl.
    ConvParams {
        c_in: u32,
        h_in: u32,
        w_in: u32,
        c_out: u32,
        h_out: u32,
        w_out: u32,
        pad_top: u32,
        pad_left: u32,
        /// Slots per weight block (`block_stride`).
        block_stride: u32,
        /// Where the biases start, after the weight blocks.
        bias_off: u32,
        /// Images in the batch (the GPU family's conv tiles pixels across them).
        n: u32,
    }
}

/// Slots per weight block: the k weights of each of the `CHANNELS` output channels for one
/// (input channel, kernel row), padded to whole vec4s (`shared_quads` in shaders/cpu/conv.wgsl).
pub fn block_stride(k: usize) -> usize {
    CHANNELS * k.next_multiple_of(4)
}

/// `[out, in, k, k]` → `[out / CHANNELS][in][k][block_stride(k)]`, channel j of a block at
/// j·kp + kx (kp = k rounded up to 4), zero-padded (channels past `out` included); the bias
/// after it.
pub fn layout(c: &ConvWeights, k: usize) -> Vec<f32> {
    let (out, rs) = (c.bias.len(), block_stride(k));
    let inputs = c.weight.len() / (out * k * k).max(1);
    let mut t = vec![0.0; out.div_ceil(CHANNELS) * inputs * k * rs];
    for (i, &w) in c.weight.iter().enumerate() {
        let (co, ci, ky, kx) = (i / (inputs * k * k), i / (k * k) % inputs, i / k % k, i % k);
        let block = ((co / CHANNELS * inputs + ci) * k + ky) * rs;
        t[block + co % CHANNELS * k.next_multiple_of(4) + kx] = w;
    }
    t.extend_from_slice(&c.bias);
    t
}

/// Kernel rows as a loop (`ROW_LOOP` in shaders/cpu/conv.wgsl) in a browser: Chromium's shader
/// pipeline (Tint, then SwiftShader) spent minutes and over 10 GB on the stem's unrolled rows
/// and then lost its GPU process, where the loop compiles in a second. Native drivers keep
/// the unrolled rows, which lavapipe runs faster (see the shader).
const ROW_LOOP: u32 = cfg!(target_arch = "wasm32") as u32;

/// The dispatch of a conv. Grid: x = row quads / WG, y = output channels / CHANNELS,
/// z = batch.
pub fn describe(g: &Graph, op: &ConvOp) -> DispatchDesc {
    let ConvOp {
        input,
        output,
        geom,
        residual,
    } = *op;
    let (i, o) = (g.shapes[input], g.shapes[output]);
    let rs = block_stride(geom.k);
    let p = ConvParams {
        c_in: u(i.c),
        h_in: u(i.h),
        w_in: u(i.w),
        c_out: u(o.c),
        h_out: u(o.h),
        w_out: u(o.w),
        pad_top: u(geom.pad_top),
        pad_left: u(geom.pad_left),
        block_stride: u(rs),
        bias_off: u(o.c.div_ceil(CHANNELS) * i.c * geom.k * rs),
        n: u(o.n),
    };
    let weights = WeightRef::Conv(geom.layer);
    let mut d = DispatchDesc::new(Params::Conv(p), weights, input, output);
    d.constants = vec![
        ("K", u(geom.k)),
        ("STRIDE", u(geom.stride)),
        ("ACT", act_code(geom.act)),
        ("HAS_RESIDUAL", residual.is_some() as u32),
        ("ALIGNED", o.w.is_multiple_of(4) as u32),
        ("VEC_TAPS", vec_taps(i.w, &geom) as u32),
        ("CO", u(CHANNELS)),
        ("OUT_X", u(OUT_X)),
        ("WG", u(WG)),
        ("ROW_LOOP", ROW_LOOP),
    ];
    d.residual = residual;
    let quads = o.h * o.w.div_ceil(OUT_X);
    d.workgroups = [u(quads.div_ceil(WG)), u(o.c.div_ceil(CHANNELS)), u(o.n)];
    d
}

/// FLOPs and bytes of a conv.
pub fn cost(g: &Graph, op: &ConvOp) -> (u64, u64) {
    let (i, o, k) = (g.shapes[op.input], g.shapes[op.output], op.geom.k);
    let len = |t: usize| g.shapes[t].len() as u64;
    let weights = (o.c * i.c * k * k) as u64;
    let macs = o.len() as u64 * (i.c * k * k) as u64;
    let bytes = (i.len() + o.len()) as u64 + weights + op.residual.map_or(0, len);
    (2 * macs, 4 * bytes)
}

/// A `cin` → `cout` k×k conv on `h`×`h` inputs.
pub fn case(name: &'static str, cin: usize, cout: usize, h: usize, k: usize, s: usize) -> Case {
    let shapes = vec![square(cin, h), square(cout, out_size(h, k, s))];
    let op = Op::Conv(ConvOp {
        input: 0,
        output: 1,
        geom: geom(k, s),
        residual: None,
    });
    let w = conv_weights(name, cout, cin * k * k, ConvKind::Dense { k });
    Case::new(name, shapes, op, convs_only(vec![w]))
}

/// B0's stem and V2-S's costliest fused-MBConv expansion.
pub fn cases() -> Vec<Case> {
    vec![
        case("b0_stem_3x3s2_3to32_224", 3, 32, 224, 3, 2),
        case("v2s_fused_3x3s2_24to96_192", 24, 96, 192, 3, 2),
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn b0_and_v2s_shapes_match_the_reference() {
        crate::kernel_checks::check::cases(&super::cases());
    }
}
