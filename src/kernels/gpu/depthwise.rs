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

/// The kernel and its input staging (loads; the fused kernel computes them instead:
/// `gpu::expand_depthwise`).
pub(crate) const WGSL: &str = concat!(
    include_str!("../../../shaders/gpu/depthwise.wgsl"),
    include_str!("../../../shaders/gpu/dw_load.wgsl"),
);

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
pub(crate) struct Tiling {
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
    pub(crate) fn wg(&self) -> usize {
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
    /// reads at 2 each), its share of the staging (`per_value` per staged value: 4 for a
    /// global load, a shared store and the index arithmetic) and of the staged stores, and
    /// its barriers; scaled by the waves of lanes when the dispatch has more than `units`
    /// compute units run at once.
    fn cost(&self, o: Shape, geom: &ConvGeom, units: usize, per_value: usize) -> f64 {
        let (k, s) = (geom.k, geom.stride);
        let reads = match (s, k) {
            (1, _) => 2,
            (_, 3) => 3,
            _ => 4,
        };
        let block = self.rows * 4 * k * k + 2 * reads * ((self.rows - 1) * s + k);
        let (tile, out, _) = self.shared(o, geom);
        let sync = 40 * (self.lpc.ilog2() as usize + 2);
        let staging = per_value * tile + 2 * out;
        let lane = self.blocks.div_ceil(self.lpc) * block + staging / self.wg() + sync;
        let lanes = self.bands * self.groups * self.wg();
        lane as f64 * (lanes as f64 / (units * LANES_PER_UNIT) as f64).max(1.0)
    }
}

/// Every tiling of a layer with output `o` that fits workgroup memory and leaves at most
/// `partials` / 2 bands per plane (each band owns a word, two SE slots: `partials` is a
/// multiple of 8). Bands other than whole planes are multiples of 4 rows: at least 4, and
/// band boundaries inside a plane fall on whole words wherever the plane starts on one.
pub(crate) fn candidates(o: Shape, geom: &ConvGeom, partials: usize) -> Vec<Tiling> {
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
    /// Tests (`kernel_checks::gpu_depthwise`) restrict the tilings `tiling` may pick, to run
    /// each code path.
    pub(crate) static ONLY: std::cell::Cell<fn(&Tiling) -> bool> = const { std::cell::Cell::new(|_| true) };
}

/// The cheapest tiling on `units` compute units by `Tiling::cost` with `per_value` per
/// staged value (the first, so the most rows per block and the tallest band, on a tie), or
/// `None` where none fits.
pub(crate) fn tiling(
    o: Shape,
    geom: &ConvGeom,
    partials: usize,
    units: usize,
    per_value: usize,
) -> Option<Tiling> {
    let all = candidates(o, geom, partials).into_iter();
    #[cfg(test)]
    let all = all.filter(|t| ONLY.get()(t));
    let cost = |t: &Tiling| t.cost(o, geom, units, per_value);
    all.min_by(|a, b| cost(a).total_cmp(&cost(b)))
}

/// The dispatch, or `None` (the CPU family's kernel runs the op) for kernel sizes or strides
/// it does not unroll, left padding beyond the vec4 staging's reach, or rows too wide to
/// stage 4 output rows' worth in 16 KiB. Grids are sized for `units` compute units.
pub(crate) fn describe(g: &Graph, op: &DepthwiseOp, units: usize) -> Option<DispatchDesc> {
    describe_staged(g, op, units, LOADED)
}

/// What staging one value costs (`Tiling::cost`) when it is loaded from the input.
const LOADED: usize = 4;

/// `describe` for a kernel that stages each value at a cost of `per_value` (`Tiling::cost`):
/// the fused expansion's (`gpu::expand_depthwise`) computes them.
pub(crate) fn describe_staged(
    g: &Graph,
    op: &DepthwiseOp,
    units: usize,
    per_value: usize,
) -> Option<DispatchDesc> {
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
    let t = tiling(o, &geom, partials, units, per_value)?;
    // The op's parameters (`planes` and `partials` included), weights, tensors and aux.
    let mut d = depthwise::dispatch(g, op);
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
