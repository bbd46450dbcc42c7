//! GPU family: depthwise k×k conv (k = 3 or 5, stride 1 or 2) + folded BN + activation, and
//! the SE partial sums (shaders/gpu/depthwise.wgsl). A workgroup stages the input
//! rows of CH planes × a band of TH output rows, halo included, in workgroup memory, and its
//! lanes compute blocks of ROWS × 4 outputs from there. The tiling is chosen per layer by a
//! cost model (`tiling`): whole planes and several planes per workgroup on small planes,
//! bands of rows on large ones, fewer outputs per lane when a small batch would leave a
//! large GPU idle.

use crate::graph::ops::{ConvGeom, DepthwiseOp};
use crate::graph::{Graph, Shape};
use crate::kernels::ops::depthwise;
use crate::kernels::se_partials;
use crate::kernels::{DispatchDesc, u};

pub const WGSL: &str = include_str!("../../../shaders/gpu/depthwise.wgsl");

/// Workgroup memory in f32 values: 16 KiB, WebGPU's default limit.
const SHARED_VALUES: usize = 4096;
/// Invocations per workgroup: the family's range.
const MIN_WG: usize = 64;
const MAX_WG: usize = 256;
/// Lanes a compute unit runs at once (an H200's SM: the order of 1024 resident lanes). Below
/// `units` times this a dispatch takes as long as its busiest lane; above, its total work.
const LANES_PER_UNIT: usize = 1024;
/// A dispatch dimension's limit (WebGPU's default).
const MAX_DIM: usize = 65535;

/// How a layer is split: the shader's tile overrides.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tiling {
    /// Planes per workgroup and lanes per plane (powers of two; their product is `WG`).
    pub ch: usize,
    pub lpc: usize,
    /// Output rows per band (`h_out`: whole planes) and per lane block.
    pub th: usize,
    pub rows: usize,
    /// Blocks per band of a plane (its lanes loop when more than `lpc`).
    pub blocks: usize,
    /// Bands per plane and workgroups along the planes.
    pub bands: usize,
    pub groups: usize,
}

/// Values per staged input row: the padded row as whole vec4s, covering the 8 columns the
/// last block reads; at stride 2 its even and its odd columns, each as many.
fn staged_row(w_out: usize, stride: usize) -> usize {
    (w_out.next_multiple_of(4) + 4) * stride
}

impl Tiling {
    pub fn wg(&self) -> usize {
        self.ch * self.lpc
    }

    /// Input rows staged per plane.
    fn tile_rows(&self, geom: &ConvGeom) -> usize {
        (self.th.div_ceil(self.rows) * self.rows - 1) * geom.stride + geom.k
    }

    /// Values of `tile`, `ot` and `red` (ot only when output rows are not whole vec4s; red
    /// with the subgroup variant's layout check, shaders/gpu/reduce_subgroup.wgsl:
    /// 65 words).
    fn shared(&self, o: Shape, geom: &ConvGeom) -> (usize, usize, usize) {
        let tile = self.ch * self.tile_rows(geom) * staged_row(o.w, geom.stride);
        let out = if o.w.is_multiple_of(4) {
            0
        } else {
            self.ch * self.th * o.w
        };
        (tile, out, self.wg() + 65)
    }

    /// Estimated time, in multiply-adds of one lane: its blocks (taps, plus its shared vec4
    /// reads at 2 each), its share of the staging (4 per value: a global load, a shared
    /// store and the index arithmetic) and of the staged stores, and its barriers; scaled by
    /// the waves of lanes when the dispatch has more than `units` compute units run at once.
    fn cost(&self, o: Shape, geom: &ConvGeom, units: usize) -> f64 {
        let (k, s) = (geom.k, geom.stride);
        let reads = match (s, k) {
            (1, _) => 2,
            (_, 3) => 3,
            _ => 4,
        };
        let block = self.rows * 4 * k * k + 2 * reads * ((self.rows - 1) * s + k);
        let (tile, out, _) = self.shared(o, geom);
        let sync = 40 * (self.lpc.ilog2() as usize + 2);
        let lane = self.blocks.div_ceil(self.lpc) * block + (4 * tile + 2 * out) / self.wg() + sync;
        let lanes = self.bands * self.groups * self.wg();
        lane as f64 * (lanes as f64 / (units * LANES_PER_UNIT) as f64).max(1.0)
    }
}

/// Every tiling of a layer with output `o` that fits workgroup memory and leaves at most
/// `partials` / 2 bands per plane (each band owns a word, two SE slots: `partials` is a
/// multiple of 8). Bands other than whole planes are multiples of 4 rows: at least 4, and
/// band boundaries inside a plane fall on whole words wherever the plane starts on one.
pub fn candidates(o: Shape, geom: &ConvGeom, partials: usize) -> Vec<Tiling> {
    let planes = o.n * o.c;
    let bands = std::iter::once(o.h).chain((4..o.h).step_by(4).rev());
    let mut all = vec![];
    for rows in [4, 2, 1] {
        for th in bands.clone() {
            let blocks = th.div_ceil(rows) * o.w.div_ceil(4);
            let most = blocks.next_power_of_two().min(MAX_WG);
            for lpc in [most, most / 2].into_iter().filter(|&l| l > 0) {
                let chs = (0..=8)
                    .map(|e| 1 << e)
                    .filter(|c| (MIN_WG..=MAX_WG).contains(&(c * lpc)));
                for ch in chs {
                    let t = Tiling {
                        ch,
                        lpc,
                        th,
                        rows,
                        blocks,
                        bands: o.h.div_ceil(th),
                        groups: planes.div_ceil(ch),
                    };
                    let (tile, out, red) = t.shared(o, geom);
                    if tile + out + red <= SHARED_VALUES && 2 * t.bands <= partials {
                        all.push(t);
                    }
                }
            }
        }
    }
    all
}

#[cfg(test)]
thread_local! {
    /// Tests restrict the tilings `tiling` may pick, to run each code path.
    pub(crate) static ONLY: std::cell::Cell<fn(&Tiling) -> bool> = const { std::cell::Cell::new(|_| true) };
}

/// The cheapest tiling on `units` compute units by `Tiling::cost` (the first, so the most
/// rows per block and the tallest band, on a tie), or `None` where none fits.
pub fn tiling(o: Shape, geom: &ConvGeom, partials: usize, units: usize) -> Option<Tiling> {
    let all = candidates(o, geom, partials).into_iter();
    #[cfg(test)]
    let all = all.filter(|t| ONLY.get()(t));
    let cost = |t: &Tiling| t.cost(o, geom, units);
    all.min_by(|a, b| cost(a).total_cmp(&cost(b)))
}

/// The dispatch, or `None` (the CPU family's kernel runs the op) for kernel sizes or strides
/// it does not unroll, left padding beyond the vec4 staging's reach, or rows too wide to
/// stage 4 output rows' worth in 16 KiB. Grids are sized for `units` compute units.
pub fn describe(g: &Graph, op: &DepthwiseOp, units: usize) -> Option<DispatchDesc> {
    let geom = op.geom;
    let (i, o) = (g.shapes[op.input], g.shapes[op.output]);
    let shapes_ok = matches!(geom.k, 3 | 5) && matches!(geom.stride, 1 | 2);
    if !shapes_ok || geom.pad_left > 4 || depthwise::row_stride(geom.k) != 8 {
        return None;
    }
    // The SE sums tensor holds the CPU family's count of slots per channel.
    let partials = se_partials(o.h, o.w, &geom);
    if op.se_sums.is_some_and(|s| g.shapes[s].w != partials) {
        return None;
    }
    let t = tiling(o, &geom, partials, units)?;
    // Its parameters (`planes` and `partials` included), weights, tensors and aux.
    let mut d = crate::kernels::cpu::depthwise::describe(g, op);
    let (tile, out, _) = t.shared(o, &geom);
    d.constants = vec![
        ("K", u(geom.k)),
        ("STRIDE", u(geom.stride)),
        ("ACT", crate::kernels::act_code(geom.act)),
        ("HAS_SUMS", op.se_sums.is_some() as u32),
        ("ALIGNED", o.w.is_multiple_of(4) as u32),
        ("VEC_IN", i.w.is_multiple_of(4) as u32),
        ("WG", u(t.wg())),
        ("CH", u(t.ch)),
        ("LPC", u(t.lpc)),
        ("TH", u(t.th)),
        ("ROWS", u(t.rows)),
        ("RS", u(staged_row(o.w, geom.stride))),
        ("TILE4", u(tile / 4)),
        ("OUT_LEN", u(out.max(1))),
    ];
    // Plane groups as x + y · nx, each dimension within its limit.
    let gy = t.groups.div_ceil(MAX_DIM);
    d.workgroups = [u(t.groups.div_ceil(gy)), u(gy), u(t.bands)];
    Some(d)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::{ONLY, Tiling, candidates};
    use crate::graph::ops::{ConvGeom, DepthwiseOp, SeExciteOp};
    use crate::graph::{Graph, Op, Shape};
    use crate::kernels::case::{Case, conv_weights, convs_only};
    use crate::kernels::ops::depthwise;
    use crate::kernels::se_partials;
    use crate::kernels::{Family, check};
    use crate::model::Activation;
    use crate::model::rule::rule_tensor;
    use crate::model::weights::{ConvKind, SeWeights};

    /// What a test case's graph outputs after the depthwise layer.
    #[derive(Clone, Copy, PartialEq)]
    pub(crate) enum Tail {
        /// Its output (no SE sums).
        Output,
        /// The SE sums it leaves.
        Sums,
        /// The gate of an SE block (CPU family) reading those sums.
        Gate,
    }

    /// Output size and padding before the first row of a `k`, `s` layer over `x` inputs:
    /// TF "same" (the extra row at the end) or symmetric k / 2.
    fn dim(x: usize, k: usize, s: usize, tf: bool) -> (usize, usize) {
        if tf {
            let out = x.div_ceil(s);
            (out, ((out - 1) * s + k).saturating_sub(x) / 2)
        } else {
            ((x + 2 * (k / 2) - k) / s + 1, k / 2)
        }
    }

    /// (name, batch, channels, h×w, k, stride, TF padding): channels not a multiple of 4,
    /// H or W = 1, odd sizes at stride 2, asymmetric padding, batch 2, planes of odd size
    /// split in bands, rows of whole vec4s in and out, 1×1 planes (one lane each).
    pub(crate) type Spec = (
        &'static str,
        usize,
        usize,
        (usize, usize),
        usize,
        usize,
        bool,
    );
    pub(crate) const ODD: [Spec; 11] = [
        ("c5_15x15_k5s2", 1, 5, (15, 15), 5, 2, false),
        ("c3_1x9_k3s1", 1, 3, (1, 9), 3, 1, false),
        ("c6_10x1_k5s2", 1, 6, (10, 1), 5, 2, false),
        ("tf_c7_14x14_k5s2", 1, 7, (14, 14), 5, 2, true),
        ("tf_c9_16x12_k3s2", 1, 9, (16, 12), 3, 2, true),
        ("b2_c6_7x7_k3s1", 2, 6, (7, 7), 3, 1, false),
        ("b2_c10_28x28_k5s1", 2, 10, (28, 28), 5, 1, false),
        ("c3_57x57_k3s1", 1, 3, (57, 57), 3, 1, false),
        ("tf_c3_57x57_k3s2", 1, 3, (57, 57), 3, 2, true),
        ("b2_c5_40x24_k3s2", 2, 5, (40, 24), 3, 2, false),
        ("b3_c7_1x1_k3s1", 3, 7, (1, 1), 3, 1, false),
    ];

    pub(crate) fn layer((name, n, c, (h, w), k, stride, tf): Spec, tail: Tail) -> Case {
        let ((oh, pad_top), (ow, pad_left)) = (dim(h, k, stride, tf), dim(w, k, stride, tf));
        let act = Activation::Silu;
        let geom = ConvGeom {
            layer: 0,
            k,
            stride,
            pad_top,
            pad_left,
            act,
        };
        let output = Shape { n, c, h: oh, w: ow };
        let sums = Shape {
            h: 1,
            w: se_partials(oh, ow, &geom),
            ..output
        };
        let mut shapes = vec![Shape { n, c, h, w }, output];
        let se_sums = (tail != Tail::Output).then_some(shapes.len());
        shapes.extend(se_sums.map(|_| sums));
        let mut ops = vec![Op::Depthwise(DepthwiseOp {
            input: 0,
            output: 1,
            geom,
            se_sums,
        })];
        let kind = ConvKind::Depthwise { k };
        let mut weights = convs_only(vec![conv_weights(name, c, k * k, kind)]);
        if tail == Tail::Gate {
            let r = c.div_ceil(4);
            let hw = oh * ow;
            ops.push(Op::SeExcite(SeExciteOp {
                sums: 2,
                gate: 3,
                se: 0,
                reduced: r,
                hw,
                act,
            }));
            shapes.push(Shape {
                h: 1,
                w: 1,
                ..output
            });
            weights.ses.push(SeWeights {
                reduce_w: rule_tensor("reduce", &[r, c]),
                reduce_b: rule_tensor("reduce_bias", &[r]),
                expand_w: rule_tensor("expand", &[c, r]),
                expand_b: rule_tensor("expand_bias", &[c]),
            });
        }
        let logits = shapes.len() - 1;
        let graph = Graph {
            shapes,
            ops,
            input: 0,
            logits,
            stages: vec![],
        };
        Case {
            name,
            graph,
            weights,
        }
    }

    /// Tiling restrictions that between them take every path of the shader: the cost
    /// model's choice, 1, 2 and 4 rows per block, bands, several planes per workgroup,
    /// lanes looping over blocks, 128 or 256 lanes per plane.
    pub(crate) const PATHS: [fn(&Tiling) -> bool; 7] = [
        |_| true,
        |t| t.rows == 1,
        |t| t.rows == 2,
        |t| t.rows == 4 && t.bands > 1,
        |t| t.ch > 1,
        |t| t.blocks > t.lpc,
        |t| t.lpc >= 128,
    ];

    /// The cases of `specs` that have a tiling `only` allows.
    pub(crate) fn allowed(specs: &[Spec], tail: Tail, only: fn(&Tiling) -> bool) -> Vec<Case> {
        let fits = |case: &Case| {
            let Op::Depthwise(op) = case.graph.ops[0] else {
                unreachable!()
            };
            let o = case.graph.shapes[op.output];
            let partials = se_partials(o.h, o.w, &op.geom);
            candidates(o, &op.geom, partials).iter().any(only)
        };
        specs.iter().map(|&s| layer(s, tail)).filter(fits).collect()
    }

    #[test]
    fn b0_and_v2s_shapes_match_the_reference() {
        check::cases_in(Family::Gpu, &depthwise::cases());
    }

    #[test]
    fn odd_shapes_match_the_reference_in_every_tiling() {
        for only in PATHS {
            ONLY.set(only);
            check::cases_in(Family::Gpu, &allowed(&ODD, Tail::Output, only));
        }
        ONLY.set(|_| true);
    }

    /// Native f16 storage with f16 arithmetic, in the cost model's tilings and with bands
    /// (their SE sums too, through the gate).
    #[test]
    fn f16_arithmetic_matches_the_reference() {
        check::cases_f16_math(&depthwise::cases());
        check::cases_f16_math(&allowed(&ODD, Tail::Output, |_| true));
        check::cases_f16_math(&allowed(&ODD, Tail::Gate, |t| t.bands > 1));
    }

    /// SE sums feed the SE kernel that follows: its gate matches the reference's.
    #[test]
    fn se_after_it_matches_the_reference() {
        let specs = [ODD[0], ODD[5], ODD[6], ODD[7], ODD[9]];
        check::cases_in(Family::Gpu, &allowed(&specs, Tail::Gate, |_| true));
    }

    /// The SE sums slot by slot (depthwise/tests/sums.rs).
    mod sums;
}
