//! GPU family: 1×1 convolution as a workgroup-tiled GEMM over output channels × the pixels
//! of all images (shaders/gpu/pointwise.wgsl), with the SE gate, folded BN,
//! activation and residual fused as in the CPU family's `kernels::ops::pointwise`, whose
//! parameters and weight layout it shares.

use crate::graph::Graph;
use crate::graph::ops::PointwiseOp;
use crate::kernels::{DispatchDesc, act_code, u};

pub(crate) const WGSL: &str = concat!(
    include_str!("../../../shaders/gpu/pointwise.wgsl"),
    include_str!("../../../shaders/gpu/pw_load.wgsl"),
);

/// Input channels per staged slice and group of lanes (`KS / SK`): 16 multiply-add steps
/// per barrier, and at most 4 vec4 loads per lane per slice for every tile below.
const GROUP_DEPTH: usize = 16;
/// Tile shapes (output channels `TM` × columns `TN`, groups of lanes splitting a slice
/// `SK`), larger first: larger tiles load less per multiply-add, smaller ones make more
/// workgroups. With 4 × 4 outputs per lane, 64–256 lanes. The 16 × 16 tile is for GEMMs
/// too small to fill a GPU (see the shader).
const TILES: [(usize, usize, usize); 7] = [
    (64, 64, 1),
    (32, 64, 1),
    (64, 32, 1),
    (16, 64, 1),
    (32, 32, 1),
    (64, 16, 1),
    (16, 16, 4),
];
/// Workgroups per compute unit that keep a GPU busy (two per SM): below `units` times this,
/// a shape takes the tile that makes the most workgroups.
const WORKGROUPS_PER_UNIT: usize = 2;
/// What staging one input or weight value of a slice costs (a global load and a store to
/// workgroup memory), in multiply-adds: a tile's cost per input channel is TM × TN
/// multiply-adds plus this × (TM + TN) values, so padded channels in a large tile can beat
/// a small exact one that loads more per multiply-add. (L2 delivers about one value per
/// 8 multiply-adds of an SM; a guess, not yet measured on a GPU.)
const STAGE_COST: usize = 8;
/// Lanes per compute unit that still fill it 16 warps deep: a GEMM with `units` times this
/// many at 8 × 4 outputs per lane takes them (fewer shared-memory loads per multiply-add)
/// over 4 × 4.
const BUSY_LANES_PER_UNIT: usize = 512;
/// WebGPU's default limit on workgroups per grid dimension.
const MAX_GROUPS: usize = 65535;

/// A workgroup's tile: `tm` output channels × `tn` columns, `rm` channels × 4 columns per
/// lane, `sk` groups of lanes splitting each slice's input channels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Tile {
    pub(crate) tm: usize,
    pub(crate) tn: usize,
    pub(crate) rm: usize,
    pub(crate) sk: usize,
}

impl Tile {
    fn lanes(self) -> usize {
        self.sk * (self.tm / self.rm) * (self.tn / 4)
    }

    /// Input channels per slice (`KS`).
    fn depth(self) -> usize {
        self.sk * GROUP_DEPTH
    }
}

/// The dispatch of a 1×1 conv for a GPU of `units` compute units: grid x = channel tiles,
/// y (and z past 65535) = column tiles.
pub(crate) fn describe(g: &Graph, op: &PointwiseOp, units: usize) -> Option<DispatchDesc> {
    // The op's dispatch has the parameters, aux and residual; the tiling is ours.
    let d = crate::kernels::ops::pointwise::dispatch(g, op);
    let o = g.shapes[op.output];
    let aligned = (o.h * o.w).is_multiple_of(4);
    let t = tile(o.c, o.n * o.h * o.w, aligned, units);
    Some(tiled(d, g, op, t))
}

/// `d`, the dispatch of the GEMM `op` (or of a kernel sharing the shader, whose input it
/// computes), with tile `t`'s constants and grid.
pub(crate) fn tiled(mut d: DispatchDesc, g: &Graph, op: &PointwiseOp, t: Tile) -> DispatchDesc {
    let o = g.shapes[op.output];
    let hw = o.h * o.w;
    let aligned = hw.is_multiple_of(4);
    let columns = o.n * hw;
    d.constants = vec![
        ("ACT", act_code(op.act)),
        ("ALIGNED", aligned as u32),
        ("HAS_GATE", op.gate.is_some() as u32),
        ("HAS_RESIDUAL", op.residual.is_some() as u32),
        ("TM", u(t.tm)),
        ("TN", u(t.tn)),
        ("RM", u(t.rm)),
        ("KS", u(t.depth())),
        ("SK", u(t.sk)),
        ("WG", u(t.lanes())),
    ];
    let column_tiles = columns.div_ceil(step(t.tn, aligned));
    let z = column_tiles.div_ceil(MAX_GROUPS);
    d.workgroups = [u(o.c.div_ceil(t.tm)), u(column_tiles.div_ceil(z)), u(z)];
    d
}

/// The tile for a GEMM of at most 64 output channels whose input values are costly to
/// stage (computed, not loaded: `gpu::conv_project`), so that one workgroup holds every
/// output channel and stages each input value once: 64 channels × the widest column
/// tile that still makes workgroups for `units` compute units, else the narrowest.
pub(crate) fn one_channel_tile(columns: usize, aligned: bool, units: usize) -> Tile {
    let widths = [64, 32, 16];
    let tn = (widths.into_iter())
        .find(|&tn| columns.div_ceil(step(tn, aligned)) >= WORKGROUPS_PER_UNIT * units)
        .unwrap_or(16);
    Tile {
        tm: 64,
        tn,
        rm: 4,
        sk: 1,
    }
}

/// Columns one tile starts after the previous: odd planes overlap 4 columns, so a tile
/// can store the word its last owned column shares with the next tile's first.
fn step(tn: usize, aligned: bool) -> usize {
    if aligned { tn } else { tn - 4 }
}

/// The tile for `c_out` channels × `columns` on `units` compute units: among the shapes
/// making enough workgroups, the cheapest (`STAGE_COST`), then the largest; if none does,
/// the most workgroups. Then 8 × 4 outputs per lane where that still leaves 64 lanes and
/// enough of them.
fn tile(c_out: usize, columns: usize, aligned: bool, units: usize) -> Tile {
    let groups = |&(tm, tn, _): &(usize, usize, usize)| {
        c_out.div_ceil(tm) * columns.div_ceil(step(tn, aligned))
    };
    let cost = |t: &(usize, usize, usize)| groups(t) * (t.0 * t.1 + STAGE_COST * (t.0 + t.1));
    let enough = TILES
        .iter()
        .filter(|t| groups(t) >= WORKGROUPS_PER_UNIT * units);
    // `min_by_key` keeps the first of equals, and TILES lists larger tiles first.
    let &(tm, tn, sk) = (enough.min_by_key(|t| cost(t)))
        .or_else(|| {
            TILES
                .iter()
                .max_by_key(|t| (groups(t), std::cmp::Reverse(cost(t))))
        })
        .expect("TILES is not empty");
    let wide = Tile { tm, tn, rm: 8, sk };
    if tm == 64
        && wide.lanes() >= 64
        && groups(&(tm, tn, sk)) * wide.lanes() >= BUSY_LANES_PER_UNIT * units
    {
        wide
    } else {
        Tile { rm: 4, ..wide }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::kernels::gpu::DEFAULT_UNITS;

    /// Every tile `tile` may return.
    pub(crate) fn all_tiles() -> Vec<Tile> {
        let tiles =
            (TILES.iter()).flat_map(|&(tm, tn, sk)| [4, 8].map(|rm| Tile { tm, tn, rm, sk }));
        (tiles.filter(|t| t.rm == 4 || (t.tm == 64 && t.lanes() >= 64))).collect()
    }

    /// Every tile fits WebGPU's defaults and the shader's assumptions: 64–256 lanes, a
    /// multiple of TN (the odd-plane epilogue's columns); at most 16 KiB of workgroup
    /// memory, holding the outputs and the partial sums too (the epilogues); the same
    /// number of vec4 staging loads for every lane, at most 4 per side (the shader's
    /// register arrays).
    #[test]
    fn tiles_fit_the_limits() {
        for t in all_tiles() {
            let lanes = t.lanes();
            assert!((64..=256).contains(&lanes) && lanes % t.tn == 0, "{t:?}");
            let ks = t.depth();
            let bytes = 2 * ks * (t.tm + t.tn) * 4;
            assert!(
                bytes <= 16384 && t.sk * t.tm * t.tn * 4 <= bytes,
                "{t:?}: {bytes}"
            );
            for side in [t.tm, t.tn] {
                let vec4s = ks * side / 4;
                assert!(vec4s % lanes == 0 && vec4s / lanes <= 4, "{t:?}");
            }
        }
    }

    /// The fused conv + projection's tiles (`one_channel_tile`) are tiles of the list above
    /// (which fit the limits), narrowing until a shape makes workgroups for its units.
    #[test]
    fn one_channel_tiles_are_checked_tiles() {
        let t = |tn| Tile {
            tm: 64,
            tn,
            rm: 4,
            sk: 1,
        };
        for (columns, aligned) in [(1, false), (49, false), (9216, true), (36 * 36, true)] {
            for units in [1, 2, DEFAULT_UNITS] {
                let tile = one_channel_tile(columns, aligned, units);
                assert!(all_tiles().contains(&tile), "{tile:?}");
            }
        }
        assert_eq!(one_channel_tile(9216, true, 2), t(64));
        assert_eq!(one_channel_tile(9216, true, DEFAULT_UNITS), t(32));
        assert_eq!(one_channel_tile(2304, true, DEFAULT_UNITS), t(16));
    }

    /// Batch 1 on a 7×7 plane still makes workgroups for a big GPU, while a 2-core CPU
    /// driver takes the largest tile; batch 64 takes the largest tile and 8 × 4 outputs per
    /// lane; few channels take a narrow tile rather than pad much.
    #[test]
    fn tiles_follow_the_shape() {
        let t = |tm, tn, rm, sk| Tile { tm, tn, rm, sk };
        let big = |c, columns, aligned| tile(c, columns, aligned, DEFAULT_UNITS);
        assert_eq!(big(1152, 49, false), t(16, 16, 4, 4));
        assert_eq!(tile(1152, 49, false, 2), t(64, 64, 8, 1));
        assert_eq!(big(1280, 64 * 49, false), t(64, 64, 8, 1));
        assert_eq!(big(96, 64 * 112 * 112, true), t(32, 64, 4, 1));
        assert_eq!(big(24, 64 * 56 * 56, true), t(32, 64, 4, 1));
        assert_eq!(big(96, 112 * 112, true), t(32, 64, 4, 1));
    }
}
