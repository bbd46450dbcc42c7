//! A concrete network: every layer with its channel counts, kernel, stride and the
//! state-dict keys its tensors live under. Built from a variant (`variants.rs`) by the
//! scaling rules; consumed by the lowering to ops (`graph::ops`), the weight loader and `info`.

/// Activation applied after a (batch-norm folded) convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// None.
    Identity,
    /// SiLU (swish): `x * sigmoid(x)`.
    Silu,
    /// `min(max(x, 0), 6)` (the Lite models).
    Relu6,
}

/// How a convolution pads its input (see `../shared/golden/README.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Padding {
    /// TensorFlow "SAME": total = max((ceil(in/s) - 1) * s + k - in, 0), before = total / 2.
    Same,
    /// PyTorch symmetric padding of k / 2 on each side.
    Symmetric,
}

impl Padding {
    /// Output size and padding before the first element for one spatial axis.
    pub fn resolve(self, input: usize, k: usize, stride: usize) -> (usize, usize) {
        match self {
            Padding::Same => {
                let out = input.div_ceil(stride);
                let total = ((out - 1) * stride + k).saturating_sub(input);
                (out, total / 2)
            }
            Padding::Symmetric => {
                let pad = k / 2;
                ((input + 2 * pad - k) / stride + 1, pad)
            }
        }
    }
}

/// State-dict keys of a convolution followed by batch norm.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvKeys {
    /// Key of the conv weight, `[out, in/groups, k, k]`.
    pub weight: String,
    /// Prefix of the batch norm: `{bn}.weight`, `{bn}.bias`, `{bn}.running_mean`, `{bn}.running_var`.
    pub bn: String,
}

/// A convolution + batch norm + activation. `depthwise` means groups == in_c == out_c.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvLayer {
    /// Input channels.
    pub in_c: usize,
    /// Output channels.
    pub out_c: usize,
    /// Kernel size (k×k).
    pub k: usize,
    /// Stride on both axes.
    pub stride: usize,
    /// One filter per channel (groups == channels).
    pub depthwise: bool,
    /// Activation after the batch norm.
    pub act: Activation,
    /// Where its tensors are in a state dict.
    pub keys: ConvKeys,
}

/// Squeeze-and-excitation: mean over H×W, reduce FC (+bias) + activation, expand FC (+bias),
/// sigmoid; the result scales the `channels` input channels of the projection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeLayer {
    /// Channels it gates.
    pub channels: usize,
    /// Width of the bottleneck.
    pub reduced: usize,
    /// Activation after the reduce FC.
    pub act: Activation,
    /// Keys of the reduce weight `[reduced, channels, 1, 1]` and bias `[reduced]`.
    pub reduce_weight: String,
    /// Key of the reduce bias.
    pub reduce_bias: String,
    /// Keys of the expand weight `[channels, reduced, 1, 1]` and bias `[channels]`.
    pub expand_weight: String,
    /// Key of the expand bias.
    pub expand_bias: String,
}

/// Which block of the family this is; all share one shape:
/// `[expand] -> [depthwise] -> [se] -> [project] -> [+ input]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    /// k×k conv + BN + act (V2's first stage, "cn" in timm).
    ConvBnAct,
    /// depthwise k×k, SE, pointwise projection ("ds").
    DepthwiseSeparable,
    /// MBConv: 1×1 expand, depthwise k×k, SE, 1×1 project ("ir").
    InvertedResidual,
    /// Fused-MBConv: k×k expand conv, SE, 1×1 project ("er").
    EdgeResidual,
}

/// One block: its layers in execution order, each optional by kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// Which block of the family it is.
    pub kind: BlockKind,
    /// 1×1 expansion (MBConv) or the strided k×k dense conv (Fused-MBConv, ConvBnAct).
    pub expand: Option<ConvLayer>,
    /// The depthwise k×k conv (MBConv, depthwise separable).
    pub depthwise: Option<ConvLayer>,
    /// Squeeze-and-excitation before the projection.
    pub se: Option<SeLayer>,
    /// 1×1 projection, no activation.
    pub project: Option<ConvLayer>,
    /// Adds the block input to its output (stride 1 and in == out).
    pub residual: bool,
}

impl BlockKind {
    /// The snake_case name `info` prints (`inverted_residual`, ...).
    pub fn name(self) -> &'static str {
        match self {
            BlockKind::ConvBnAct => "conv_bn_act",
            BlockKind::DepthwiseSeparable => "depthwise_separable",
            BlockKind::InvertedResidual => "inverted_residual",
            BlockKind::EdgeResidual => "edge_residual",
        }
    }
}

impl ConvLayer {
    /// A 1×1, stride-1 dense conv runs as a GEMM (the pointwise kernel), with its weights
    /// stored transposed on the GPU.
    pub fn runs_as_gemm(&self) -> bool {
        self.k == 1 && self.stride == 1 && !self.depthwise
    }
}

impl Block {
    /// Input channels.
    pub fn in_c(&self) -> usize {
        self.layers().next().map(|l| l.in_c).unwrap_or(0)
    }
    /// Output channels.
    pub fn out_c(&self) -> usize {
        self.layers().last().map(|l| l.out_c).unwrap_or(0)
    }
    /// Total stride (the product of its layers').
    pub fn stride(&self) -> usize {
        self.layers().map(|l| l.stride).product()
    }
    /// The conv layers of the block in execution order.
    pub fn layers(&self) -> impl Iterator<Item = &ConvLayer> {
        [&self.expand, &self.depthwise, &self.project]
            .into_iter()
            .filter_map(|l| l.as_ref())
    }
}

/// A stage: consecutive blocks whose output is reported under one name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    /// Name of the stage output in the source library (`blocks.3`, `features.4`).
    pub name: String,
    /// The blocks, in order.
    pub blocks: Vec<Block>,
}

/// The final linear layer, `[classes, in_features]` plus bias.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Linear {
    /// Input features (the head's channels).
    pub in_features: usize,
    /// Outputs (classes).
    pub out_features: usize,
    /// State-dict key of the weight.
    pub weight: String,
    /// State-dict key of the bias.
    pub bias: String,
}

/// The framework a model comes from: its names, its checkpoints' key names and its
/// preprocessing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// timm (`tf_efficientnet_b0`, `efficientnetv2_s`, ...), including its TensorFlow ports.
    Timm,
    /// torchvision (`torchvision:efficientnet_b0`, `efficientnet_v2_s`, ...).
    Torchvision,
    /// OpenMMLab mmpretrain (`mmpretrain:efficientnet-b0_3rdparty_8xb32_in1k`, ...): timm's
    /// TensorFlow ports under other key names, with OpenCV preprocessing.
    Mmpretrain,
    /// MindSpore Vision (`mindvision:efficientnet_b0`, ...): torchvision's networks under
    /// MindSpore key names, with MindSpore's preprocessing.
    MindVision,
    /// mindcv (`mindcv:efficientnet_b0`, ...): torchvision's networks with TensorFlow "SAME"
    /// padding, under mindcv key names, with MindSpore's preprocessing.
    MindCv,
}

impl Source {
    /// The library whose key names the model's layers carry once a checkpoint is renamed:
    /// mmpretrain's networks are timm's TensorFlow ports, MindSpore's are torchvision's.
    pub fn key_names(self) -> Source {
        match self {
            Source::Timm | Source::Mmpretrain => Source::Timm,
            Source::Torchvision | Source::MindVision | Source::MindCv => Source::Torchvision,
        }
    }

    /// The prefix that names the framework on the command line (`mmpretrain:NAME`).
    pub fn prefix(self) -> &'static str {
        match self {
            Source::Timm => "timm",
            Source::Torchvision => "torchvision",
            Source::Mmpretrain => "mmpretrain",
            Source::MindVision => "mindvision",
            Source::MindCv => "mindcv",
        }
    }
}

/// A whole network, ready to be lowered, loaded and counted.
#[derive(Clone, Debug, PartialEq)]
pub struct Arch {
    /// Canonical name (`tf_efficientnet_b0`, `efficientnet_v2_s`, ...).
    pub name: String,
    /// The library whose code and key names it follows.
    pub source: Source,
    /// How its convolutions pad.
    pub padding: Padding,
    /// Batch-norm epsilon (folded into the weights at load).
    pub bn_eps: f64,
    /// Default evaluation resolution (square).
    pub resolution: usize,
    /// The first conv.
    pub stem: ConvLayer,
    /// Name of the stem output (`stem` or `features.0`).
    pub stem_name: String,
    /// The stages between stem and head.
    pub stages: Vec<Stage>,
    /// The 1×1 conv before pooling.
    pub head: ConvLayer,
    /// Name of the head output (`head` or `features.L`).
    pub head_name: String,
    /// The final linear layer; `None` for a headless backbone, whose output is the pooled
    /// head features (timm `num_classes=0`).
    pub classifier: Option<Linear>,
    /// The evaluation transform its checkpoints were trained for.
    pub preprocess: PreprocessSpec,
}

impl Arch {
    /// Classes the model outputs (0 without a classifier).
    pub fn num_classes(&self) -> usize {
        self.classifier.as_ref().map_or(0, |c| c.out_features)
    }

    /// Values per image of the model's output: the classes, or the pooled features of a
    /// headless backbone.
    pub fn output_width(&self) -> usize {
        self.classifier
            .as_ref()
            .map_or(self.head.out_c, |c| c.out_features)
    }

    /// The model with `classes` outputs (`0`: no classifier), as fine-tuned checkpoints have.
    pub fn with_classes(mut self, classes: usize) -> Self {
        if classes == 0 {
            self.classifier = None;
        } else if let Some(c) = &mut self.classifier {
            c.out_features = classes;
        }
        self
    }
}

/// Resampling filter of the resize, as PIL implements it (both antialias when downscaling).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Interpolation {
    /// PIL's bicubic (timm's default).
    Bicubic,
    /// PIL's bilinear (torchvision's).
    Bilinear,
}

impl Interpolation {
    /// The name timm and torchvision use (`bicubic`, `bilinear`).
    pub fn name(self) -> &'static str {
        match self {
            Interpolation::Bicubic => "bicubic",
            Interpolation::Bilinear => "bilinear",
        }
    }

    /// Parses timm's / torchvision's name.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "bicubic" => Some(Interpolation::Bicubic),
            "bilinear" => Some(Interpolation::Bilinear),
            _ => None,
        }
    }
}

/// The evaluation transform of a checkpoint: resize the shorter side to
/// `floor(resolution / crop_pct)` with `interpolation`, centre crop, scale to [0, 1],
/// normalize.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct PreprocessSpec {
    /// Per-channel (RGB) mean subtracted after scaling to [0, 1].
    pub mean: [f32; 3],
    /// Per-channel (RGB) standard deviation divided by.
    pub std: [f32; 3],
    /// A Python float in the sources; kept in f64 so that `floor` lands where theirs does.
    pub crop_pct: f64,
    /// The resize filter.
    pub interpolation: Interpolation,
    /// How the picture is resized and cropped: PIL's way (timm, torchvision) or a framework's
    /// OpenCV-style one.
    pub pipeline: Pipeline,
}

impl PreprocessSpec {
    /// The resize and crop in a few words (`PIL bicubic, crop_pct 0.875`,
    /// `OpenCV bicubic, mmpretrain centre crop (padding 32)`).
    pub fn describe(&self) -> String {
        let filter = self.interpolation.name();
        match self.pipeline {
            Pipeline::Pil => format!("PIL {filter}, crop_pct {}", self.crop_pct),
            Pipeline::MmCenterCrop { crop_padding } => {
                format!("OpenCV {filter}, mmpretrain centre crop (padding {crop_padding})")
            }
            Pipeline::MindSpore { plus: 0, crop_pct } => {
                format!("OpenCV {filter}, MindSpore resize to res / {crop_pct} and crop")
            }
            Pipeline::MindSpore { plus, .. } => {
                format!("OpenCV {filter}, MindSpore resize to res + {plus} and crop")
            }
        }
    }
}

/// The resize-and-crop steps of an evaluation transform.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pipeline {
    /// timm / torchvision: the shorter side to `floor(resolution / crop_pct)` with PIL's
    /// antialiased `interpolation`, then a centre crop.
    #[default]
    Pil,
    /// mmpretrain's `EfficientNetCenterCrop`: a centred square of side
    /// `resolution / (resolution + crop_padding) × shorter side`, resized to the resolution
    /// with OpenCV's bicubic filter (no antialiasing).
    MmCenterCrop {
        /// 32 for EfficientNet, 0 for EfficientNetV2.
        crop_padding: u32,
    },
    /// MindSpore: the shorter side resized with OpenCV's bilinear filter to `resolution + plus`
    /// (MindSpore Vision) or `floor(resolution / crop_pct)` (mindcv), then a centre crop.
    MindSpore {
        /// Added to the resolution for the resize (MindSpore Vision: 32), or 0.
        plus: u32,
        /// Divides the resolution for the resize where `plus` is 0 (mindcv: 0.875).
        crop_pct: f64,
    },
}
