//! GPU family: dense k×k convolution + folded BN + activation (+ residual) as an implicit
//! GEMM (shaders/gpu/conv.wgsl): M = output channels, N = batch × output pixels,
//! K = input channels × k × k in slices of whole input channels. Each workgroup stages a
//! weight tile and an im2col tile in workgroup memory; each lane accumulates 4 channels × 4
//! pixels. Same parameters (`conv::ConvParams`), weight layout (`conv::layout`) and tensors
//! as the CPU family's conv.

use crate::graph::Graph;
use crate::graph::ops::ConvOp;
use crate::kernels::{DispatchDesc, act_code, ops::conv, u};

pub(crate) const WGSL: &str = include_str!("../../../shaders/gpu/conv.wgsl");

/// WebGPU's default limit on workgroup memory per workgroup.
pub(crate) const WORKGROUP_BYTES: usize = 16384;
/// Workgroups per compute unit below which a dispatch shrinks its tiles: 2 per SM, so a
/// batch-1 layer still spreads over the whole GPU.
pub(crate) const FILL_PER_UNIT: usize = 2;
/// WebGPU's default limit on workgroups per grid dimension.
const MAX_GROUPS: usize = 65535;

/// One dispatch's tile: `tx` × `ty` lanes, each 4 output channels × 4 pixels, so the
/// workgroup owns 4·ty channels × 4·tx pixels; `ci` input channels per K-slice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tile {
    pub tx: usize,
    pub ty: usize,
    pub ci: usize,
}

impl Tile {
    /// Taps per K-slice (`KS`).
    pub(crate) fn taps(&self, k: usize) -> usize {
        self.ci * k * k
    }

    /// Workgroup memory of shaders/gpu/conv.wgsl: the weight tile (at least TX
    /// rows, for the odd-plane edge values) and the im2col tile, in vec4s of f32.
    pub(crate) fn workgroup_bytes(&self, k: usize) -> usize {
        let ks = self.taps(k);
        16 * (ks.max(self.tx) * self.ty + ks * self.tx)
    }
}

/// The tile for a `c_in` → `c_out` conv over `pixels` output pixels (all images): 64
/// channels (32 or 16 where there are no more, so small layers like the stem waste no
/// lanes) × 64 pixels on 256 lanes, halved down to 64 lanes while the grid has fewer than
/// `FILL_PER_UNIT` workgroups per compute unit of `units`; then as many input channels per
/// slice as workgroup memory holds, balanced over the slices. `None` where a single
/// channel's k×k taps do not fit.
pub(crate) fn tile(
    c_in: usize,
    c_out: usize,
    pixels: usize,
    k: usize,
    units: usize,
) -> Option<Tile> {
    let (mut tx, mut ty) = (16, c_out.div_ceil(4).next_power_of_two().clamp(4, 16));
    let groups = |tx: usize, ty: usize| pixels.div_ceil(4 * tx) * c_out.div_ceil(4 * ty);
    while groups(tx, ty) < FILL_PER_UNIT * units && tx * ty > 64 {
        if tx >= ty {
            tx /= 2;
        } else {
            ty /= 2;
        }
    }
    // Both tiles are KS rows of tx or ty vec4s (KS ≥ tx, or the edge rows are smaller).
    let max_ci = WORKGROUP_BYTES / (16 * (tx + ty)) / (k * k);
    if max_ci == 0 {
        return None;
    }
    let slices = c_in.div_ceil(max_ci);
    let t = Tile {
        tx,
        ty,
        ci: c_in.div_ceil(slices),
    };
    debug_assert!(t.workgroup_bytes(k) <= WORKGROUP_BYTES);
    Some(t)
}

/// The dispatch: the op's parameters and bindings (`ops::conv::dispatch`), this kernel's constants and
/// grid (x, and z past 65535 tiles: pixel tiles; y: channel tiles), sized for `units`
/// compute units.
pub(crate) fn describe(g: &Graph, op: &ConvOp, units: usize) -> Option<DispatchDesc> {
    let (i, o) = (g.shapes[op.input], g.shapes[op.output]);
    let (k, plane) = (op.geom.k, o.h * o.w);
    let t = tile(i.c, o.c, o.n * plane, k, units)?;
    let mut d = conv::dispatch(g, op);
    d.constants = vec![
        ("K", u(k)),
        ("STRIDE", u(op.geom.stride)),
        ("ACT", act_code(op.geom.act)),
        ("HAS_RESIDUAL", op.residual.is_some() as u32),
        ("QUADS", plane.is_multiple_of(4) as u32),
        ("ODD", (plane % 2) as u32),
        ("TX", u(t.tx)),
        ("TY", u(t.ty)),
        ("CI", u(t.ci)),
        ("LAYOUT_CO", u(conv::CHANNELS)),
    ];
    let tiles = (o.n * plane).div_ceil(4 * t.tx);
    let z = tiles.div_ceil(MAX_GROUPS);
    d.workgroups = [u(tiles.div_ceil(z)), u(o.c.div_ceil(4 * t.ty)), u(z)];
    Some(d)
}
