//! GPU family: 1×1 convolution as a workgroup-tiled GEMM over output channels × the pixels
//! of all images (shaders/gpu/pointwise.wgsl), with the SE gate, folded BN,
//! activation and residual fused as in the CPU family's `kernels::ops::pointwise`, whose
//! parameters and weight layout it shares.

use crate::graph::Graph;
use crate::graph::ops::PointwiseOp;
use crate::kernels::{DispatchDesc, act_code, u};

pub const WGSL: &str = include_str!("../../../shaders/gpu/pointwise.wgsl");

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
struct Tile {
    tm: usize,
    tn: usize,
    rm: usize,
    sk: usize,
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
pub fn describe(g: &Graph, op: &PointwiseOp, units: usize) -> Option<DispatchDesc> {
    // The CPU family's dispatch has the parameters, aux and residual; the tiling is ours.
    let mut d = crate::kernels::cpu::pointwise::describe(g, op, 4);
    let o = g.shapes[op.output];
    let hw = o.h * o.w;
    let aligned = hw.is_multiple_of(4);
    let columns = o.n * hw;
    let t = tile(o.c, columns, aligned, units);
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
    Some(d)
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
    use crate::graph::Op;
    use crate::graph::ops::Shape;
    use crate::kernels::case::{Case, conv_weights, convs_only};
    use crate::kernels::gpu::DEFAULT_UNITS;
    use crate::kernels::ops::pointwise;
    use crate::kernels::{Family, check};
    use crate::model::Activation;
    use crate::model::weights::ConvKind;

    /// A 1×1 conv at batch `n` on `h`×`w`, with a gate and a residual when asked for. A case
    /// uploads only its input, so both come from ops before it (the same kernel, SiLU,
    /// from the input): a gate is a c_in-channel tensor of which the GEMM reads the first
    /// n × c_in values, a residual a c_out-channel one. (The input itself cannot be the
    /// gate: `aux` is bound read-write, the input read-only.)
    pub(crate) fn case(
        name: &'static str,
        (n, cin, cout, h, w): (usize, usize, usize, usize, usize),
        gate: bool,
        res: bool,
    ) -> Case {
        let shape = |c| Shape { n, c, h, w };
        let mut shapes = vec![shape(cin)];
        let mut convs = vec![];
        let mut ops = vec![];
        let mut from_input = |c: usize, act| {
            shapes.push(shape(c));
            let layer = convs.len();
            convs.push(conv_weights(
                &format!("{name}{layer}"),
                c,
                cin,
                ConvKind::Gemm,
            ));
            ops.push(Op::Pointwise(PointwiseOp {
                input: 0,
                output: shapes.len() - 1,
                layer,
                act,
                gate: None,
                residual: None,
            }));
            shapes.len() - 1
        };
        let gate = gate.then(|| from_input(cin, Activation::Silu));
        let residual = res.then(|| from_input(cout, Activation::Silu));
        // As B0's projections (gated, no activation) and expansions (SiLU).
        let act = if gate.is_some() {
            Activation::Identity
        } else {
            Activation::Silu
        };
        let output = from_input(cout, act);
        if let Some(Op::Pointwise(last)) = ops.last_mut() {
            (last.gate, last.residual) = (gate, residual);
        }
        let mut c = Case::new(name, shapes, ops[0].clone(), convs_only(convs));
        c.graph.ops = ops;
        assert_eq!(c.graph.logits, output);
        c
    }

    /// Shapes where tiles and words do not line up: channels not a multiple of 4, 1×1 and
    /// odd planes (word-straddling stores, overlapping tiles), batch 2 (columns spanning
    /// images), c_in below one slice, and enough columns for several overlapping tiles.
    fn odd_cases() -> Vec<Case> {
        vec![
            case("13to37_5x5", (1, 13, 37, 5, 5), false, false),
            case("13to37_1x1_b3", (3, 13, 37, 1, 1), true, false),
            case("37to13_7x7_b2_gate_res", (2, 37, 13, 7, 7), true, true),
            case("24to40_7x7_gate_res", (1, 24, 40, 7, 7), true, true),
            case("21to70_15x15_b2", (2, 21, 70, 15, 15), false, false),
            case("40to40_15x15_b2_gate_res", (2, 40, 40, 15, 15), true, true),
            case("3to8_8x8", (1, 3, 8, 8, 8), false, false),
            case("13to37_1x29_gate", (1, 13, 37, 1, 29), true, false),
            case("5to37_36x1", (1, 5, 37, 36, 1), false, false),
            case("36to36_6x6_b3_res", (3, 36, 36, 6, 6), false, true),
            case("96to200_7x3_b5", (5, 96, 200, 7, 3), true, false),
            case("40to300_14x14_b2_gate", (2, 40, 300, 14, 14), true, false),
            // Shapes that take the other tiles (which need many workgroups' worth of work).
            case("13to200_53x5_b3_gate", (3, 13, 200, 53, 5), true, false),
            case("20to200_29x12_b3", (3, 20, 200, 29, 12), false, false),
            case("9to37_41x45_b2_res", (2, 9, 37, 41, 45), false, true),
            case("9to37_48x45_b2_gate", (2, 9, 37, 48, 45), true, false),
            case("7to37_39x45_b3", (3, 7, 37, 39, 45), false, false),
            case("7to37_44x45_b3", (3, 7, 37, 44, 45), false, false),
            case("10to256_59x31", (1, 10, 256, 59, 31), false, false),
            case("20to256_31x42_b3_gate", (3, 20, 256, 31, 42), true, false),
            case("12to256_36x39_b3", (3, 12, 256, 36, 39), false, false),
            case("24to256_31x31_b2_res", (2, 24, 256, 31, 31), false, true),
            case("16to256_20x35_b3", (3, 16, 256, 20, 35), false, false),
            case("8to128_28x38_b4_gate", (4, 8, 128, 28, 38), true, false),
            // 8 × 4 outputs per lane.
            case("8to256_56x56_b3_gate", (3, 8, 256, 56, 56), true, false),
            case("12to256_65x65_b2_res", (2, 12, 256, 65, 65), false, true),
            case("8to7552_13x20", (1, 8, 7552, 13, 20), false, false),
        ]
    }

    #[test]
    fn b0_and_v2s_shapes_match_the_reference() {
        check::cases_in(Family::Gpu, &pointwise::cases());
    }

    #[test]
    fn odd_shapes_match_the_reference() {
        let cases = odd_cases();
        // They cover every tile in both epilogues but 64×32 with 8 × 4 outputs per lane on
        // odd planes, which only huge shapes take (its code is that of the other tiles with
        // other constants).
        let mut seen = vec![];
        for c in &cases {
            let Op::Pointwise(op) = c.graph.ops.last().unwrap() else {
                unreachable!()
            };
            let d = describe(&c.graph, op, DEFAULT_UNITS).unwrap();
            let get = |k| d.constants.iter().find(|c| c.0 == k).unwrap().1 as usize;
            let t = Tile {
                tm: get("TM"),
                tn: get("TN"),
                rm: get("RM"),
                sk: get("SK"),
            };
            seen.push((t, get("ALIGNED") == 1));
        }
        for t in all_tiles() {
            for aligned in [false, true] {
                let skip = (t.tm, t.tn, t.rm, aligned) == (64, 32, 8, false);
                assert!(
                    skip || seen.contains(&(t, aligned)),
                    "{t:?} {aligned} untested"
                );
            }
        }
        check::cases_in(Family::Gpu, &cases);
    }

    /// Every tile `tile` may return.
    fn all_tiles() -> Vec<Tile> {
        let tiles =
            (TILES.iter()).flat_map(|&(tm, tn, sk)| [4, 8].map(|rm| Tile { tm, tn, rm, sk }));
        (tiles.filter(|t| t.rm == 4 || (t.tm == 64 && t.lanes() >= 64))).collect()
    }

    /// Every tile fits WebGPU's defaults and the shader's assumptions: 64–256 lanes, a
    /// multiple of TN (the odd-plane epilogue's columns); at most 16 KiB of workgroup
    /// memory, holding the outputs and the partial sums too (the epilogues); the same
    /// number of vec4 staging loads for every lane, at most 4 per side (the shader's
    /// register arrays).
    /// Native f16 storage with f16 arithmetic, aligned and odd planes, split-K included.
    #[test]
    fn f16_arithmetic_matches_the_reference() {
        check::cases_f16_math(&pointwise::cases());
        check::cases_f16_math(&odd_cases());
    }

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
