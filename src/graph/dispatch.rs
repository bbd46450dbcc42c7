//! How each op becomes one dispatch: kernel, override constants, shape parameters, which
//! tensors go to which binding, and the workgroup grid. Pure data, no GPU calls.

use super::ops::{ConvGeom, Graph, Op, TensorId};
use crate::gpu::pipelines::Constants;
use crate::gpu::{Kernel, Tuning};
use crate::model::Activation;

/// Must match `struct Params` in `shaders/prelude.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Params {
    pub n: u32,
    pub c_in: u32,
    pub h_in: u32,
    pub w_in: u32,
    pub c_out: u32,
    pub h_out: u32,
    pub w_out: u32,
    pub pad_top: u32,
    pub pad_left: u32,
    pub bias_off: u32,
    pub tiles: u32,
    pub hw: u32,
    pub off1: u32,
    pub off2: u32,
    pub off3: u32,
    pub inv_hw: f32,
}

/// Outputs along a row one depthwise invocation computes, and the most invocations per
/// workgroup (`OUT_X` and `WG` in `shaders/depthwise.wgsl`).
pub const DEPTHWISE_OUT_X: usize = 4;
pub const DEPTHWISE_WG: usize = 64;
/// Output channels and row outputs one conv invocation computes (`CO`, `OUT_X` in
/// `shaders/conv.wgsl`).
pub const CONV_CHANNELS: usize = 16;
pub const CONV_OUT_X: usize = 4;
/// Pixels one pointwise invocation computes, and the most invocations per workgroup
/// (`shaders/pointwise.wgsl`); its output channels are `Tuning::pointwise_co`.
pub const POINTWISE_PIXELS: usize = 4;
pub const POINTWISE_WG: usize = 64;
/// Workgroups per image of the classifier (`G` in shaders/classifier.wgsl); each pools the
/// whole image again, so more only pays where more cores would otherwise idle.
pub const CLASSIFIER_GROUPS: usize = 2;
/// Fewest partial sums per channel the depthwise kernel leaves for SE (one per invocation,
/// at least 8 per workgroup): room for the SE kernel's hidden layer.
pub const SE_MIN_PARTIALS: usize = 8;

/// Which weights an op reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WeightRef {
    Conv(usize),
    Se(usize),
    Classifier,
}

/// One dispatch, described without touching the GPU.
#[derive(Clone, Debug, PartialEq)]
pub struct DispatchDesc {
    pub kernel: Kernel,
    pub constants: Constants,
    pub params: Params,
    pub weights: WeightRef,
    pub src: Option<TensorId>,
    pub gate: Option<TensorId>,
    pub residual: Option<TensorId>,
    pub dst: TensorId,
    /// Tensor bound to `sums`; `None` with `scratch` set means the classifier's scratch.
    pub sums: Option<TensorId>,
    pub scratch: bool,
    pub workgroups: [u32; 3],
}

fn act_code(a: Activation) -> u32 {
    match a {
        Activation::Identity => 0,
        Activation::Silu => 1,
        Activation::Relu6 => 2,
    }
}

fn u(x: usize) -> u32 {
    x as u32
}

/// Invocations per workgroup (8, 16, 32 or 64, at most `max_wg`) and workgroups for `items`
/// units of work: the largest size whose invocations exceed the fewest possible by at most
/// 1/8. On CPU drivers a group of 8 lanes with nothing to do still runs a kernel's
/// straight-line code, so small planes get small workgroups (B0's 7×7 depthwise layers ran
/// 3× faster for it on lavapipe); large planes keep 64: fewer workgroups, and fewer distinct
/// pipelines to compile (lavapipe: ~50 ms each, at every start).
fn lane_grid(items: usize, max_wg: usize) -> (usize, usize) {
    let sizes = [64, 32, 16, 8].into_iter().filter(|&wg| wg <= max_wg);
    let grid = |wg: usize| (wg, items.div_ceil(wg));
    let fewest = sizes
        .clone()
        .map(|wg| wg * items.div_ceil(wg))
        .min()
        .unwrap_or(8);
    sizes
        .map(grid)
        .find(|&(wg, tiles)| wg * tiles <= fewest + fewest / 8)
        .unwrap_or_else(|| grid(8))
}

/// Whether a k×k kernel reads the middle 4 taps of each row segment as one aligned vec4
/// (`VEC_TAPS` in shaders/taps.wgsl): stride 1, input rows of 4k values, left padding k / 2
/// (so each invocation's first output column, a multiple of 4, sits at x0 + k / 2).
fn vec_taps(w_in: usize, geom: &ConvGeom) -> bool {
    geom.stride == 1 && w_in.is_multiple_of(4) && geom.pad_left == geom.k / 2
}

/// Output rows one depthwise invocation computes (`ROWS` in shaders/depthwise.wgsl): 4 on
/// planes of at least 28 rows with the unrolled kernel sizes, whose input rows then serve
/// more outputs (B0's large depthwise layers ran ~15% faster for it on lavapipe); 2 on
/// small planes, where 4 would leave lanes idle.
pub fn depthwise_rows(h: usize, geom: &ConvGeom) -> usize {
    let unrolled = matches!(geom.k, 3 | 5) && matches!(geom.stride, 1 | 2);
    if unrolled && h >= 28 { 4 } else { 2 }
}

/// `WG` and workgroups per channel of the depthwise kernel for an `h`×`w` output
/// (shaders/depthwise.wgsl); each invocation computes ROWS rows × DEPTHWISE_OUT_X columns.
pub fn depthwise_grid(h: usize, w: usize, geom: &ConvGeom) -> (usize, usize) {
    let rows = depthwise_rows(h, geom);
    lane_grid(h.div_ceil(rows) * w.div_ceil(DEPTHWISE_OUT_X), DEPTHWISE_WG)
}

/// Partial sums per channel the depthwise kernel leaves for SE: one per invocation, so it
/// needs no barrier (the SE kernel adds them up).
pub fn depthwise_partials(h: usize, w: usize, geom: &ConvGeom) -> usize {
    let (wg, tiles) = depthwise_grid(h, w, geom);
    wg * tiles
}

fn sums_partials(g: &Graph, sums: TensorId) -> usize {
    g.ops
        .iter()
        .find_map(|op| match *op {
            Op::Depthwise {
                output,
                se_sums: Some(s),
                geom,
                ..
            } if s == sums => {
                let o = g.shapes[output];
                Some(depthwise_partials(o.h, o.w, &geom))
            }
            _ => None,
        })
        .expect("SE sums come from a depthwise op")
}

/// Shape parameters shared by every kernel: input and output NCHW.
fn base(g: &Graph, input: TensorId, output: TensorId) -> Params {
    let (i, o) = (g.shapes[input], g.shapes[output]);
    Params {
        n: u(i.n),
        c_in: u(i.c),
        h_in: u(i.h),
        w_in: u(i.w),
        c_out: u(o.c),
        h_out: u(o.h),
        w_out: u(o.w),
        ..Default::default()
    }
}

impl DispatchDesc {
    fn new(kernel: Kernel, params: Params, weights: WeightRef, dst: TensorId) -> Self {
        DispatchDesc {
            kernel,
            constants: vec![],
            params,
            weights,
            src: None,
            gate: None,
            residual: None,
            dst,
            sums: None,
            scratch: false,
            workgroups: [1, 1, 1],
        }
    }
}

/// Describes op `op` of `g`; `se_sizes[se] = (channels, reduced)` sizes the SE weight offsets.
pub fn describe(g: &Graph, op: &Op, se_sizes: &[(usize, usize)], tuning: Tuning) -> DispatchDesc {
    match *op {
        Op::Conv {
            input,
            output,
            geom,
            residual,
        } => conv(g, input, output, geom, residual),
        Op::Depthwise {
            input,
            output,
            geom,
            se_sums,
        } => depthwise(g, input, output, geom, se_sums),
        Op::SeExcite {
            sums,
            gate,
            se,
            hw,
            act,
        } => se_excite(g, sums, gate, (se, se_sizes[se]), hw, act),
        Op::Pointwise {
            input,
            output,
            layer,
            act,
            gate,
            residual,
        } => {
            let mut d = pointwise(g, input, output, layer, act, tuning);
            d.constants.push(("HAS_GATE", gate.is_some() as u32));
            d.constants
                .push(("HAS_RESIDUAL", residual.is_some() as u32));
            (d.gate, d.residual) = (gate, residual);
            d
        }
        Op::PoolClassify {
            input,
            output,
            classify,
        } => classifier(g, input, output, classify),
    }
}

fn conv(
    g: &Graph,
    input: TensorId,
    output: TensorId,
    geom: ConvGeom,
    residual: Option<TensorId>,
) -> DispatchDesc {
    let (i, o) = (g.shapes[input], g.shapes[output]);
    let mut p = base(g, input, output);
    p.pad_top = u(geom.pad_top);
    p.pad_left = u(geom.pad_left);
    // Weight blocks of `off1` slots, the biases after them (`gpu::weights::dense_layout`).
    let rs = crate::gpu::weights::conv_block_stride(geom.k);
    p.off1 = u(rs);
    p.bias_off = u(o.c.div_ceil(CONV_CHANNELS) * i.c * geom.k * rs);
    let mut d = DispatchDesc::new(Kernel::Conv, p, WeightRef::Conv(geom.layer), output);
    d.constants = vec![
        ("K", u(geom.k)),
        ("STRIDE", u(geom.stride)),
        ("ACT", act_code(geom.act)),
        ("HAS_RESIDUAL", residual.is_some() as u32),
        ("ALIGNED", o.w.is_multiple_of(4) as u32),
        ("VEC_TAPS", vec_taps(i.w, &geom) as u32),
    ];
    d.src = Some(input);
    d.residual = residual;
    let quads = o.h * o.w.div_ceil(CONV_OUT_X);
    d.workgroups = [
        u(quads.div_ceil(64)),
        u(o.c.div_ceil(CONV_CHANNELS)),
        u(o.n),
    ];
    d
}

fn depthwise(
    g: &Graph,
    input: TensorId,
    output: TensorId,
    geom: ConvGeom,
    se_sums: Option<TensorId>,
) -> DispatchDesc {
    let o = g.shapes[output];
    let mut p = base(g, input, output);
    p.pad_top = u(geom.pad_top);
    p.pad_left = u(geom.pad_left);
    // Channel blocks of k rows of `off1` slots, biases inside (see src/gpu/weights.rs).
    p.off1 = u(crate::gpu::weights::depthwise_row_stride(geom.k));
    let (wg, tiles) = depthwise_grid(o.h, o.w, &geom);
    p.tiles = u(tiles);
    let mut d = DispatchDesc::new(Kernel::Depthwise, p, WeightRef::Conv(geom.layer), output);
    d.constants = vec![
        ("K", u(geom.k)),
        ("STRIDE", u(geom.stride)),
        ("ACT", act_code(geom.act)),
        ("HAS_SUMS", se_sums.is_some() as u32),
        ("WG", u(wg)),
        ("ALIGNED", o.w.is_multiple_of(4) as u32),
        ("ROWS", u(depthwise_rows(o.h, &geom))),
        ("VEC_TAPS", vec_taps(g.shapes[input].w, &geom) as u32),
    ];
    d.src = Some(input);
    d.sums = se_sums;
    d.workgroups = [p.tiles, u(o.c), u(o.n)];
    d
}

/// `se = (index, (channels, reduced))`.
fn se_excite(
    g: &Graph,
    sums: TensorId,
    gate: TensorId,
    se: (usize, (usize, usize)),
    hw: usize,
    act: Activation,
) -> DispatchDesc {
    let (index, (c, r)) = se;
    let n = g.shapes[sums].n;
    // Padded rows (`gpu::weights::se_offsets`).
    let (b1, w2, b2) = crate::gpu::weights::se_offsets(c, r);
    let p = Params {
        n: u(n),
        c_in: u(c),
        c_out: u(r),
        // The depthwise op that wrote `sums` left this many partial sums per channel.
        tiles: u(sums_partials(g, sums)),
        hw: u(hw),
        off1: u(b1),
        off2: u(w2),
        off3: u(b2),
        inv_hw: 1.0 / hw as f32,
        ..Default::default()
    };
    let mut d = DispatchDesc::new(Kernel::SeExcite, p, WeightRef::Se(index), gate);
    d.constants = vec![("ACT", act_code(act))];
    d.sums = Some(sums);
    d.workgroups = [u(n), 1, 1];
    d
}

fn pointwise(
    g: &Graph,
    input: TensorId,
    output: TensorId,
    layer: usize,
    act: Activation,
    tuning: Tuning,
) -> DispatchDesc {
    let (i, o) = (g.shapes[input], g.shapes[output]);
    let mut p = base(g, input, output);
    // Weights are stored [in][rows] (`gpu::weights::gemm_layout`), the bias after them.
    let rows = crate::gpu::weights::gemm_rows(o.c);
    p.off1 = u(rows);
    p.bias_off = u(rows * i.c);
    let mut d = DispatchDesc::new(Kernel::Pointwise, p, WeightRef::Conv(layer), output);
    let aligned = (i.h * i.w) % 4 == 0;
    // Small planes (7×7) get 16 lanes; elsewhere the kernel's loop ends at once for lanes
    // with nothing to do, so one size keeps the pipeline count down.
    let lanes = (i.h * i.w).div_ceil(POINTWISE_PIXELS);
    let wg = if lanes <= 16 { 16 } else { POINTWISE_WG };
    let tiles = lanes.div_ceil(wg);
    d.constants = vec![
        ("ACT", act_code(act)),
        ("CO", tuning.pointwise_co),
        ("ALIGNED", aligned as u32),
        ("WG", u(wg)),
    ];
    d.src = Some(input);
    let channel_groups = o.c.div_ceil(tuning.pointwise_co as usize);
    d.workgroups = [u(tiles), u(channel_groups), u(o.n)];
    d
}

fn classifier(g: &Graph, input: TensorId, output: TensorId, classify: bool) -> DispatchDesc {
    let (i, o) = (g.shapes[input], g.shapes[output]);
    let mut p = base(g, input, output);
    // No classes: the shader writes the pooled features instead (one workgroup per image).
    let groups = if classify { CLASSIFIER_GROUPS } else { 1 };
    if !classify {
        p.c_out = 0;
    }
    p.hw = u(i.h * i.w);
    p.inv_hw = 1.0 / (i.h * i.w) as f32;
    // Rows padded to `off1` features (`gpu::weights::classifier_rows`), the bias after them.
    let row = crate::gpu::weights::classifier_row_len(i.c);
    p.off1 = u(row);
    p.bias_off = u(o.c * row);
    p.tiles = u(groups);
    let mut d = DispatchDesc::new(Kernel::Classifier, p, WeightRef::Classifier, output);
    d.src = Some(input);
    d.scratch = true;
    d.workgroups = [u(groups), 1, u(i.n)];
    d
}
