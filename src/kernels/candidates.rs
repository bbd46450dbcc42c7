//! Every kernel of every op in one list, by name: what `describe` picks from (for a session's
//! family, the variant `effnet tune` picked for the adapter if it takes the op's shape, else
//! the first entry that does; the CPU family's main kernels take every shape, so they end
//! each op's search), what `effnet tune` times against each family's main kernels
//! (`bench::tune`), what the shader checks validate (`Kernel::all`) and what `kernel_checks`
//! runs against the CPU reference. Adding a kernel variant is its module, its shader and one
//! entry here.

use super::layout::{self, Layout};
use super::{DispatchDesc, Family, Kernel, OpKind, Tuning, cpu, gpu};
use crate::graph::{Graph, Op};

/// One kernel that can run an op.
pub(crate) struct Candidate {
    pub kernel: Kernel,
    /// Its own WGSL (its family's prelude goes in front: `source.rs`).
    pub wgsl: &'static str,
    /// Its dispatch of an op of its kind under `tuning`, or `None` for shapes it does not
    /// run (the search goes on down the list).
    pub describe: fn(&Graph, &Op, &Tuning) -> Option<DispatchDesc>,
    /// The activation layouts it reads and writes (`kernels::layout`): a session runs only
    /// the kernels of its own.
    pub layouts: &'static [Layout],
}

/// The CPU family's main kernels: every shape of every unfused op, tiles from
/// `Tuning::pointwise_co`.
fn cpu_main(g: &Graph, op: &Op, tuning: &Tuning) -> Option<DispatchDesc> {
    cpu::describe(g, op, tuning.pointwise_co)
}

/// The GPU family's main kernels: grids for `Tuning::gpu_units` compute units.
fn gpu_main(g: &Graph, op: &Op, tuning: &Tuning) -> Option<DispatchDesc> {
    gpu::describe(g, op, tuning.gpu_units as usize)
}

/// The GPU family's tensor-core pointwise kernel, only where the session can run it
/// (`Tuning::gpu_coop_f16`).
fn gpu_coop(g: &Graph, op: &Op, tuning: &Tuning) -> Option<DispatchDesc> {
    match op {
        Op::Pointwise(op) if tuning.gpu_coop_f16 => Some(gpu::pointwise_coop::describe(g, op)),
        _ => None,
    }
}

/// The GPU family's NHWC kernels, in NHWC sessions only (`session_tuning` sets the layout
/// where one is chosen by name).
fn gpu_nhwc(g: &Graph, op: &Op, tuning: &Tuning) -> Option<DispatchDesc> {
    match tuning.gpu_layout {
        Layout::Nhwc => gpu::nhwc::describe(g, op),
        Layout::Nchw => None,
    }
}

const fn entry(kernel: Kernel, wgsl: &'static str, describe: Describe) -> Candidate {
    Candidate {
        kernel,
        wgsl,
        describe,
        layouts: layout::NCHW,
    }
}

impl Candidate {
    /// The same kernel, for sessions in `layouts`.
    const fn in_layouts(self, layouts: &'static [Layout]) -> Candidate {
        Candidate { layouts, ..self }
    }
}

type Describe = fn(&Graph, &Op, &Tuning) -> Option<DispatchDesc>;

/// Every kernel, grouped by op; within an op and family, in the order `describe` tries them.
pub(crate) const CANDIDATES: &[Candidate] = &[
    entry(Kernel::gpu(OpKind::Conv), gpu::conv::WGSL, gpu_main),
    entry(Kernel::cpu(OpKind::Conv), cpu::conv::WGSL, cpu_main),
    entry(
        Kernel::gpu(OpKind::Conv).variant(gpu::nhwc::VARIANT),
        gpu::nhwc::conv::WGSL,
        gpu_nhwc,
    )
    .in_layouts(layout::NHWC),
    entry(
        Kernel::gpu(OpKind::Depthwise),
        gpu::depthwise::WGSL,
        gpu_main,
    ),
    entry(
        Kernel::cpu(OpKind::Depthwise),
        cpu::depthwise::WGSL,
        cpu_main,
    ),
    entry(
        Kernel::gpu(OpKind::Depthwise).variant(gpu::nhwc::VARIANT),
        gpu::nhwc::depthwise::WGSL,
        gpu_nhwc,
    )
    .in_layouts(layout::NHWC),
    // SE reads partial sums and writes a gate, per-channel vectors in either layout.
    entry(Kernel::gpu(OpKind::SeExcite), gpu::se::WGSL, gpu_main).in_layouts(layout::BOTH),
    entry(Kernel::cpu(OpKind::SeExcite), cpu::se::WGSL, cpu_main),
    entry(
        Kernel::gpu(OpKind::Pointwise),
        gpu::pointwise::WGSL,
        gpu_main,
    ),
    entry(
        gpu::pointwise_coop::KERNEL,
        gpu::pointwise_coop::WGSL,
        gpu_coop,
    ),
    entry(
        Kernel::cpu(OpKind::Pointwise),
        cpu::pointwise::WGSL,
        cpu_main,
    ),
    entry(
        Kernel::gpu(OpKind::Pointwise).variant(gpu::nhwc::VARIANT),
        gpu::nhwc::pointwise::WGSL,
        gpu_nhwc,
    )
    .in_layouts(layout::NHWC),
    entry(
        Kernel::cpu(OpKind::Pointwise).variant("naive"),
        cpu::pointwise_naive::WGSL,
        cpu::pointwise_naive::describe,
    ),
    entry(
        Kernel::gpu(OpKind::ExpandDepthwise),
        gpu::expand_depthwise::WGSL,
        gpu_main,
    ),
    entry(
        Kernel::gpu(OpKind::ConvProject),
        gpu::conv_project::WGSL,
        gpu_main,
    ),
    entry(
        Kernel::gpu(OpKind::Classifier),
        gpu::classifier::WGSL,
        gpu_main,
    ),
    entry(
        Kernel::cpu(OpKind::Classifier),
        cpu::classifier::WGSL,
        cpu_main,
    ),
    entry(
        Kernel::gpu(OpKind::Classifier).variant(gpu::nhwc::VARIANT),
        gpu::nhwc::classifier::WGSL,
        gpu_nhwc,
    )
    .in_layouts(layout::NHWC),
];

impl Kernel {
    /// Every kernel, in the order of the candidate list.
    pub fn all() -> Vec<Kernel> {
        CANDIDATES.iter().map(|c| c.kernel).collect()
    }
}

/// The candidates for ops of `kind` in `family`, in the order `describe` tries them.
pub(crate) fn of(kind: OpKind, family: Family) -> impl Iterator<Item = &'static Candidate> {
    (CANDIDATES.iter()).filter(move |c| c.kernel.op == kind && c.kernel.family == family)
}

/// The candidates `describe` tries for ops of `kind` in `family`: the one `tuning` picked
/// (`Tuning::variants`, what `effnet tune` measured fastest), then the list's order.
pub(crate) fn tried(
    kind: OpKind,
    family: Family,
    tuning: &Tuning,
) -> impl Iterator<Item = &'static Candidate> {
    let picked = (tuning.variants.get(kind, family))
        .and_then(|v| of(kind, family).find(|c| c.kernel.variant == v));
    picked
        .into_iter()
        .chain(of(kind, family).filter(move |c| picked.is_none_or(|p| p.kernel != c.kernel)))
}

/// The entry of `kernel`.
pub(crate) fn find(kernel: Kernel) -> &'static Candidate {
    (CANDIDATES.iter())
        .find(|c| c.kernel == kernel)
        .expect("every kernel a description names is an entry of CANDIDATES")
}

/// `candidate`'s dispatch of `op`, marked as its kernel's, if it takes the shape.
pub(crate) fn describe_with(
    candidate: &Candidate,
    g: &Graph,
    op: &Op,
    tuning: &Tuning,
) -> Option<DispatchDesc> {
    let d = (candidate.describe)(g, op, tuning)?;
    Some(DispatchDesc {
        family: candidate.kernel.family,
        variant: candidate.kernel.variant,
        ..d
    })
}

/// Which kernels run: a family's (for each op the first of its candidates that takes the op,
/// as `kernels::describe` picks), or one kernel wherever it takes an op (to check or time
/// that candidate alone), its family's choice elsewhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    Family(Family),
    Kernel(Kernel),
}

impl Choice {
    /// The family it runs (a chosen kernel's own).
    pub(crate) fn family(self) -> Family {
        match self {
            Choice::Family(f) => f,
            Choice::Kernel(k) => k.family,
        }
    }
}

impl From<Family> for Choice {
    fn from(family: Family) -> Self {
        Choice::Family(family)
    }
}

/// The first op of `g` no kernel of `family`'s session layout under `tuning` takes: in an
/// NHWC session, an op the family has no NHWC kernel for (there is no NCHW kernel to fall
/// back on in that layout). `None` where every op has one, and always in NCHW.
pub(crate) fn missing_kernel(g: &Graph, tuning: &Tuning, family: Family) -> Option<OpKind> {
    let layout = tuning.layout(family);
    if layout == Layout::Nchw {
        return None;
    }
    let takes = |op: &Op| {
        (of(OpKind::of(op), family))
            .filter(|c| c.layouts.contains(&layout))
            .any(|c| describe_with(c, g, op, tuning).is_some())
    };
    g.ops.iter().find(|op| !takes(op)).map(OpKind::of)
}

/// The tuning a session under `choice` runs: `tuning`, in the layout of a kernel chosen by
/// name where that kernel runs in one layout only (so that the ops around it agree).
pub(crate) fn session_tuning(tuning: &Tuning, choice: Choice) -> Tuning {
    match choice {
        Choice::Kernel(k) if k.family == Family::Gpu => match find(k).layouts {
            [only] => Tuning {
                gpu_layout: *only,
                ..*tuning
            },
            _ => *tuning,
        },
        _ => *tuning,
    }
}

/// The dispatch of `op` of `g` under `choice`.
pub(crate) fn describe_chosen(g: &Graph, op: &Op, tuning: &Tuning, choice: Choice) -> DispatchDesc {
    match choice {
        Choice::Kernel(k) if k.op == OpKind::of(op) => describe_with(find(k), g, op, tuning)
            .unwrap_or_else(|| super::describe(g, op, tuning, k.family)),
        Choice::Kernel(k) => super::describe(g, op, tuning, k.family),
        Choice::Family(f) => super::describe(g, op, tuning, f),
    }
}

#[cfg(test)]
mod tests {
    use crate::kernels::ops::pointwise;
    use crate::kernels::{Family, Kernel, OpKind, Tuning, describe};

    /// A variant the tuner picked is what `describe` gives; unpicked, the list's order.
    #[test]
    fn describe_runs_the_picked_variant() {
        let case = pointwise::case("odd", 5, 7, 3, false);
        let op = &case.graph.ops[0];
        let naive = Kernel::cpu(OpKind::Pointwise).variant("naive");
        let mut tuning = Tuning::default();
        assert_eq!(
            describe(&case.graph, op, &tuning, Family::Cpu).kernel(),
            Kernel::cpu(OpKind::Pointwise)
        );
        tuning.variants = tuning.variants.with(naive);
        assert_eq!(
            describe(&case.graph, op, &tuning, Family::Cpu).kernel(),
            naive
        );
        let gpu = describe(&case.graph, op, &tuning, Family::Gpu).kernel();
        assert_eq!(
            gpu,
            Kernel::gpu(OpKind::Pointwise),
            "a CPU-family pick leaves the GPU family's"
        );
    }

    /// The tensor-core kernel, even picked, is described only for sessions that can run it
    /// (`Tuning::gpu_coop_f16`); elsewhere the family's main kernel runs.
    #[test]
    fn the_tensor_core_kernel_runs_only_where_it_can() {
        let case = pointwise::case("odd", 5, 7, 3, false);
        let op = &case.graph.ops[0];
        let coop = crate::kernels::gpu::pointwise_coop::KERNEL;
        let mut tuning = Tuning::default();
        tuning.variants = tuning.variants.with(coop);
        let main = Kernel::gpu(OpKind::Pointwise);
        assert_eq!(
            describe(&case.graph, op, &tuning, Family::Gpu).kernel(),
            main
        );
        tuning.gpu_coop_f16 = true;
        assert_eq!(
            describe(&case.graph, op, &tuning, Family::Gpu).kernel(),
            coop
        );
    }
}
