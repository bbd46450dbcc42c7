//! GPU family, pointwise variant "coop": the 1×1 conv's GEMM (gate, folded BN, activation
//! and residual fused, as `gpu::pointwise`) on 16×16×16 cooperative matrices, f16 inputs
//! and f32 sums: tensor cores (shaders/gpu/pointwise_coop.wgsl). It only runs where a
//! session can (`Tuning::gpu_coop_f16`: the device enabled wgpu's experimental cooperative
//! matrices for an adapter listing that shape, `gpu::coop`, and storage is native f16);
//! elsewhere its candidate entry describes nothing, so it is never chosen where it cannot
//! compile. It
//! takes every shape: its workgroups stage each slice with bounds checks, so channels and
//! columns need not be multiples of 16.

use crate::graph::Graph;
use crate::graph::ops::PointwiseOp;
use crate::kernels::{DispatchDesc, Kernel, OpKind, act_code, u};

pub(crate) const WGSL: &str = include_str!("../../../shaders/gpu/pointwise_coop.wgsl");

/// The kernel, as its entry in `candidates::CANDIDATES` names it.
pub(crate) const KERNEL: Kernel = Kernel::gpu(OpKind::Pointwise).variant("coop");

/// Output channels and columns per workgroup (`TILE` in the shader: 2 × 2 matrices of 16).
const TILE: usize = 32;
/// WebGPU's default limit on workgroups per grid dimension.
const MAX_GROUPS: usize = 65535;

impl Kernel {
    /// Whether it multiplies on cooperative matrices: its source enables
    /// `wgpu_cooperative_matrix`, which a device compiles only with wgpu's
    /// EXPERIMENTAL_COOPERATIVE_MATRIX (naga validates it with the COOPERATIVE_MATRIX
    /// capability). Such a kernel is defined natively and over native f16 storage
    /// (`Storage::F16`) only, the one place it is described.
    pub fn cooperative_matrix(self) -> bool {
        self == KERNEL
    }
}

/// The dispatch of a 1×1 conv, for sessions that can run cooperative matrices (the
/// candidate list asks `Tuning::gpu_coop_f16` first): grid x = channel tiles, y (and z past
/// 65535) = column tiles.
pub(crate) fn describe(g: &Graph, op: &PointwiseOp) -> DispatchDesc {
    let mut d = crate::kernels::ops::pointwise::dispatch(g, op);
    let o = g.shapes[op.output];
    d.constants = vec![
        ("ACT", act_code(op.act)),
        ("HAS_GATE", op.gate.is_some() as u32),
        ("HAS_RESIDUAL", op.residual.is_some() as u32),
    ];
    let column_tiles = (o.n * o.h * o.w).div_ceil(TILE);
    let z = column_tiles.div_ceil(MAX_GROUPS);
    d.workgroups = [u(o.c.div_ceil(TILE)), u(column_tiles.div_ceil(z)), u(z)];
    d
}

#[cfg(test)]
mod tests {
    use super::{TILE, WGSL, describe};
    use crate::graph::Op;
    use crate::kernels::ops::pointwise;

    /// Its grid covers every channel and column with 32 × 32 tiles, odd shapes included (the
    /// shader's bounds checks take the rest), and its constants are the shader's overrides
    /// (ACT: the prelude's).
    #[test]
    fn grids_cover_every_output() {
        for (cin, cout, h, gated) in [(5, 7, 3, false), (40, 24, 7, true), (1152, 320, 7, true)] {
            let case = pointwise::case("shape", cin, cout, h, gated);
            let Op::Pointwise(op) = &case.graph.ops[0] else {
                unreachable!("a pointwise case")
            };
            let d = describe(&case.graph, op);
            let columns = h * h;
            let [x, y, z] = d.workgroups.map(|v| v as usize);
            assert!(x * TILE >= cout && (x - 1) * TILE < cout, "{cout}: {x}");
            assert!(
                y * z * TILE >= columns && (y * z - 1) * TILE < columns,
                "{columns}: {y} × {z}"
            );
            let names: Vec<&str> = d.constants.iter().map(|c| c.0).collect();
            assert_eq!(names, ["ACT", "HAS_GATE", "HAS_RESIDUAL"]);
            for name in &names[1..] {
                assert!(WGSL.contains(&format!("override {name}: u32;")), "{name}");
            }
        }
    }
}
