//! What a dispatch runs, as values: a [`Kernel`] is an op and the family whose shader
//! computes it; a [`DispatchDesc`] adds its override constants, typed parameters, tensors
//! and grid. Nothing here touches the GPU.

use super::Family;
use super::ops::{classifier, conv, conv_project, depthwise, expand_depthwise, pointwise, se};
use crate::graph::ops::TensorId;

/// The ops kernels compute, each with one parameter block shared by every family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum OpKind {
    Conv,
    Depthwise,
    SeExcite,
    Pointwise,
    Classifier,
    /// A 1×1 expansion and the depthwise conv after it (`graph::fuse`), GPU family only.
    ExpandDepthwise,
    /// A k×k conv and the 1×1 projection after it (`graph::fuse`), GPU family only.
    ConvProject,
}

impl OpKind {
    /// The kind of a graph op.
    pub(crate) fn of(op: &crate::graph::Op) -> OpKind {
        use crate::graph::Op;
        match op {
            Op::Conv(_) => OpKind::Conv,
            Op::Depthwise(_) => OpKind::Depthwise,
            Op::SeExcite(_) => OpKind::SeExcite,
            Op::Pointwise(_) => OpKind::Pointwise,
            Op::PoolClassify(_) => OpKind::Classifier,
            Op::ExpandDepthwise(_) => OpKind::ExpandDepthwise,
            Op::ConvProject(_) => OpKind::ConvProject,
        }
    }

    pub(crate) const ALL: [OpKind; 7] = [
        OpKind::Conv,
        OpKind::Depthwise,
        OpKind::SeExcite,
        OpKind::Pointwise,
        OpKind::Classifier,
        OpKind::ExpandDepthwise,
        OpKind::ConvProject,
    ];

    /// Its name in tuning caches and reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            OpKind::Conv => "conv",
            OpKind::Depthwise => "depthwise",
            OpKind::SeExcite => "se",
            OpKind::Pointwise => "pointwise",
            OpKind::Classifier => "classifier",
            OpKind::ExpandDepthwise => "expand_depthwise",
            OpKind::ConvProject => "conv_project",
        }
    }

    /// The kind [`name`](Self::name) gives `name`.
    pub(crate) fn from_name(name: &str) -> Option<OpKind> {
        OpKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The WGSL declaration of its parameter block `P`.
    pub(crate) fn params_wgsl(self) -> &'static str {
        match self {
            OpKind::Conv => conv::ConvParams::WGSL,
            OpKind::Depthwise => depthwise::DepthwiseParams::WGSL,
            OpKind::SeExcite => se::SeParams::WGSL,
            OpKind::Pointwise => pointwise::PointwiseParams::WGSL,
            OpKind::Classifier => classifier::ClassifierParams::WGSL,
            OpKind::ExpandDepthwise => expand_depthwise::ExpandDepthwiseParams::WGSL,
            OpKind::ConvProject => conv_project::ConvProjectParams::WGSL,
        }
    }
}

/// One WGSL kernel: `op` as `family` computes it (`Cpu` or `Gpu`; a kernel is never `Auto`,
/// which `describe` settles op by op), the family's main kernel for the op (`variant` "")
/// or a named variant beside it. Every kernel is an entry of `candidates::CANDIDATES`; its
/// shader and the preludes in front of it are `source.rs`'s business (`Kernel::body`,
/// `Kernel::source`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Kernel {
    pub(crate) op: OpKind,
    pub family: Family,
    /// "" for the family's main kernel of the op, else the variant's name.
    pub variant: &'static str,
}

impl Kernel {
    /// `op` in the CPU family (its main kernel).
    pub(crate) const fn cpu(op: OpKind) -> Kernel {
        Kernel {
            op,
            family: Family::Cpu,
            variant: "",
        }
    }

    /// `op` in the GPU family (its main kernel).
    pub(crate) const fn gpu(op: OpKind) -> Kernel {
        Kernel {
            op,
            family: Family::Gpu,
            variant: "",
        }
    }

    /// The same op and family, as the variant `name`.
    pub(crate) const fn variant(self, name: &'static str) -> Kernel {
        Kernel {
            variant: name,
            ..self
        }
    }

    /// The family it belongs to.
    pub fn family(self) -> Family {
        self.family
    }

    /// The WGSL declaration of its parameter block `P` (its op's).
    pub(crate) fn params_wgsl(self) -> &'static str {
        self.op.params_wgsl()
    }
}

impl std::fmt::Display for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.family.name(), self.op.name())?;
        match self.variant {
            "" => Ok(()),
            v => write!(f, "/{v}"),
        }
    }
}

/// Override constants of one pipeline, e.g. `[("K", 3), ("STRIDE", 2), ("ACT", 1)]`.
pub(crate) type Constants = Vec<(&'static str, u32)>;

/// A dispatch's uniform parameters, typed by its op.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Params {
    Conv(conv::ConvParams),
    Depthwise(depthwise::DepthwiseParams),
    Se(se::SeParams),
    Pointwise(pointwise::PointwiseParams),
    Classifier(classifier::ClassifierParams),
    ExpandDepthwise(expand_depthwise::ExpandDepthwiseParams),
    ConvProject(conv_project::ConvProjectParams),
}

impl Params {
    /// The op these parameters are for.
    pub(crate) fn op(&self) -> OpKind {
        match self {
            Params::Conv(_) => OpKind::Conv,
            Params::Depthwise(_) => OpKind::Depthwise,
            Params::Se(_) => OpKind::SeExcite,
            Params::Pointwise(_) => OpKind::Pointwise,
            Params::Classifier(_) => OpKind::Classifier,
            Params::ExpandDepthwise(_) => OpKind::ExpandDepthwise,
            Params::ConvProject(_) => OpKind::ConvProject,
        }
    }

    /// The bytes of the uniform block.
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Params::Conv(p) => bytemuck::bytes_of(p),
            Params::Depthwise(p) => bytemuck::bytes_of(p),
            Params::Se(p) => bytemuck::bytes_of(p),
            Params::Pointwise(p) => bytemuck::bytes_of(p),
            Params::Classifier(p) => bytemuck::bytes_of(p),
            Params::ExpandDepthwise(p) => bytemuck::bytes_of(p),
            Params::ConvProject(p) => bytemuck::bytes_of(p),
        }
    }
}

/// Which weights an op reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WeightRef {
    Conv(usize),
    Se(usize),
    Classifier,
}

/// What is bound to the shared `aux` binding (shaders/common/storage.wgsl): no kernel needs
/// more than one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Aux {
    None,
    /// A tensor: the SE gate a GEMM reads, or SE partial sums (depthwise writes, SE reads).
    Tensor(TensorId),
    /// A scratch buffer of at least this many values (the classifier's pooled features).
    Scratch(usize),
    /// A kernel's second weights: the conv's, in the fused conv + projection kernel, whose
    /// projection has no gate.
    Weights(WeightRef),
}

/// One dispatch, described without touching the GPU.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct DispatchDesc {
    /// Which family's kernel runs it (the parameters name the op).
    pub family: Family,
    /// Which of the family's kernels for the op: "" for the main one (`Kernel::variant`).
    pub variant: &'static str,
    pub constants: Constants,
    pub params: Params,
    pub weights: WeightRef,
    /// Weights a kernel reads besides `weights`, bound where the residual goes (binding 4,
    /// `res4`): the expansion's, in the fused expansion + depthwise kernel, which has no
    /// residual.
    pub extra_weights: Option<WeightRef>,
    pub src: Option<TensorId>,
    pub aux: Aux,
    pub residual: Option<TensorId>,
    pub dst: TensorId,
    pub workgroups: [u32; 3],
}

impl DispatchDesc {
    pub(crate) fn new(params: Params, weights: WeightRef, src: TensorId, dst: TensorId) -> Self {
        DispatchDesc {
            family: Family::Cpu,
            variant: "",
            constants: vec![],
            params,
            weights,
            extra_weights: None,
            src: Some(src),
            aux: Aux::None,
            residual: None,
            dst,
            workgroups: [1, 1, 1],
        }
    }

    /// The kernel it runs.
    pub(crate) fn kernel(&self) -> Kernel {
        // (`describe` settles `Auto` op by op: a description never holds it.)
        let family = match self.family {
            Family::Gpu => Family::Gpu,
            Family::Cpu | Family::Auto => Family::Cpu,
        };
        Kernel {
            op: self.params.op(),
            family,
            variant: self.variant,
        }
    }
}
