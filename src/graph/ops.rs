//! The model lowered to a flat list of fused ops over NCHW f32 tensors. Both executors,
//! the GPU one and the CPU reference, run exactly this list.

use crate::model::Activation;

pub type TensorId = usize;

/// Shape of an NCHW tensor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Shape {
    /// Batch.
    pub n: usize,
    /// Channels.
    pub c: usize,
    /// Height.
    pub h: usize,
    /// Width.
    pub w: usize,
}

impl Shape {
    /// Number of values.
    pub fn len(&self) -> usize {
        self.n * self.c * self.h * self.w
    }
    /// Whether it holds no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// `[n, c, h, w]`.
    pub fn dims(&self) -> [usize; 4] {
        [self.n, self.c, self.h, self.w]
    }
}

/// Geometry of a k×k convolution: kernel, stride, padding before the first row / column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeom {
    /// Index into `ModelWeights::convs`.
    pub layer: usize,
    pub k: usize,
    pub stride: usize,
    pub pad_top: usize,
    pub pad_left: usize,
    pub act: Activation,
}

/// One fused op; each kernel of `kernels::` runs one kind.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    Conv(ConvOp),
    Depthwise(DepthwiseOp),
    SeExcite(SeExciteOp),
    Pointwise(PointwiseOp),
    PoolClassify(PoolClassifyOp),
    ExpandDepthwise(ExpandDepthwiseOp),
    ConvProject(ConvProjectOp),
}

/// Dense k×k conv + folded BN + activation (+ residual after the activation).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConvOp {
    pub input: TensorId,
    pub output: TensorId,
    pub geom: ConvGeom,
    pub residual: Option<TensorId>,
}

/// Depthwise k×k conv + folded BN + activation; optionally writes per-channel sums of its
/// output for the SE block that follows, as `[n, c, 1, partials]`: partial sums whose total
/// is the channel's sum (the GPU kernel leaves one per invocation,
/// `kernels::se_partials`; the reference puts the total in the first).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DepthwiseOp {
    pub input: TensorId,
    pub output: TensorId,
    pub geom: ConvGeom,
    pub se_sums: Option<TensorId>,
}

/// SE excitation: gate = sigmoid(W2 act(W1 (sums / hw) + b1) + b2), `[n, c, 1, 1]`, with
/// `sums` the totals of the `[n, c, 1, partials]` partial sums.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SeExciteOp {
    pub sums: TensorId,
    pub gate: TensorId,
    /// Index into `ModelWeights::ses`.
    pub se: usize,
    /// Width of the hidden layer (W1's rows).
    pub reduced: usize,
    /// Pixels the sums were taken over.
    pub hw: usize,
    pub act: Activation,
}

/// 1×1 conv as a GEMM: input channels scaled by `gate`, folded BN, activation, + residual.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PointwiseOp {
    pub input: TensorId,
    pub output: TensorId,
    /// Index into `ModelWeights::convs`.
    pub layer: usize,
    pub act: Activation,
    pub gate: Option<TensorId>,
    pub residual: Option<TensorId>,
}

/// A conv and the depthwise conv that reads it, as one op (`graph::fuse`): an MBConv
/// block's 1×1 expansion, or the stem before a first block that has none. The tensor in
/// between (`expand`'s output, `depthwise.input`) is never stored, so it takes no buffer
/// and no DRAM traffic; the kernel recomputes it where its tiles overlap.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExpandDepthwiseOp {
    pub expand: Expansion,
    pub depthwise: DepthwiseOp,
}

/// A dense k×k conv and the 1×1 projection that alone reads it, as one op (`graph::fuse`):
/// EfficientNetV2's fused-MBConv block (the conv expands, the projection narrows). The
/// expanded tensor in between (`conv`'s output, `project.input`) is never stored; the
/// projection has no SE gate (those blocks have none) and may add a residual.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConvProjectOp {
    pub conv: ConvOp,
    pub project: PointwiseOp,
}

/// The conv an `ExpandDepthwiseOp` computes on the fly: without a gate or a residual.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Expansion {
    Pointwise(PointwiseOp),
    Conv(ConvOp),
}

impl Expansion {
    /// The conv as an op of its own.
    pub fn op(&self) -> Op {
        match *self {
            Expansion::Pointwise(p) => Op::Pointwise(p),
            Expansion::Conv(c) => Op::Conv(c),
        }
    }

    pub fn input(&self) -> TensorId {
        match self {
            Expansion::Pointwise(p) => p.input,
            Expansion::Conv(c) => c.input,
        }
    }

    pub fn output(&self) -> TensorId {
        match self {
            Expansion::Pointwise(p) => p.output,
            Expansion::Conv(c) => c.output,
        }
    }

    /// Its weights' index into `ModelWeights::convs`.
    pub fn layer(&self) -> usize {
        match self {
            Expansion::Pointwise(p) => p.layer,
            Expansion::Conv(c) => c.geom.layer,
        }
    }

    pub fn act(&self) -> crate::model::Activation {
        match self {
            Expansion::Pointwise(p) => p.act,
            Expansion::Conv(c) => c.geom.act,
        }
    }
}

/// Global average pool followed by the classifier: `[n, c, h, w]` -> `[n, classes]`; a model
/// without a classifier outputs the pooled `[n, c]` (the weights have no classes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PoolClassifyOp {
    pub input: TensorId,
    pub output: TensorId,
    /// False for a headless backbone: the output is the pooled features.
    pub classify: bool,
}

/// A stage whose output a run can return.
#[derive(Clone, Debug, PartialEq)]
pub struct StageOutput {
    pub name: String,
    pub tensor: TensorId,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Graph {
    pub shapes: Vec<Shape>,
    pub ops: Vec<Op>,
    pub input: TensorId,
    pub logits: TensorId,
    pub stages: Vec<StageOutput>,
}
