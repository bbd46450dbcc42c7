//! Model weights with batch norm folded into each convolution, in the order the graph
//! lowering numbers layers: stem, every block's conv layers, head.

use super::arch::{Arch, ConvLayer, SeLayer};
use crate::{Error, Result};

/// Where named tensors come from: a checkpoint, or the golden rule.
pub trait TensorSource {
    /// The tensor stored under `key`, which must have `shape`.
    fn fetch(&mut self, key: &str, shape: &[usize]) -> Result<Vec<f32>>;
}

/// A convolution with batch norm folded in: `y = conv(x, weight) + bias`.
#[derive(Clone, Debug)]
pub struct ConvWeights {
    /// `[out, in / groups, k, k]`, as PyTorch lays it out.
    pub weight: Vec<f32>,
    /// `[out]`: the conv bias and the folded batch norm's shift.
    pub bias: Vec<f32>,
    /// Which kernel runs it, and so how the GPU lays the weights out.
    pub kind: ConvKind,
}

/// The kernel a conv layer runs on (`src/kernels/` lays its weights out for it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvKind {
    /// Dense k×k (conv.wgsl): blocks of output channels.
    Dense {
        /// Kernel size.
        k: usize,
    },
    /// Depthwise k×k (depthwise.wgsl): rows padded, bias beside them.
    Depthwise {
        /// Kernel size.
        k: usize,
    },
    /// 1×1 stride 1 (`ConvLayer::runs_as_gemm`, pointwise.wgsl): transposed.
    Gemm,
}

impl ConvKind {
    /// The kernel `layer` runs on.
    pub fn of(layer: &ConvLayer) -> Self {
        if layer.runs_as_gemm() {
            ConvKind::Gemm
        } else if layer.depthwise {
            ConvKind::Depthwise { k: layer.k }
        } else {
            ConvKind::Dense { k: layer.k }
        }
    }
}

/// A squeeze-and-excitation block's two fully connected layers.
#[derive(Clone, Debug)]
pub struct SeWeights {
    /// `[reduced, channels]`
    pub reduce_w: Vec<f32>,
    /// `[reduced]`
    pub reduce_b: Vec<f32>,
    /// `[channels, reduced]`
    pub expand_w: Vec<f32>,
    /// `[channels]`
    pub expand_b: Vec<f32>,
}

/// Every weight of a model, batch norm folded, in the order the lowering numbers layers.
#[derive(Clone, Debug)]
pub struct ModelWeights {
    /// Every conv layer: stem, each block's layers, head.
    pub convs: Vec<ConvWeights>,
    /// Every SE block, in block order.
    pub ses: Vec<SeWeights>,
    /// `[classes, features]`; both empty without a classifier.
    pub classifier_w: Vec<f32>,
    /// `[classes]`
    pub classifier_b: Vec<f32>,
}

/// Every conv layer of `arch` in lowering order.
pub fn conv_layers(arch: &Arch) -> Vec<&ConvLayer> {
    let blocks = arch.stages.iter().flat_map(|s| s.blocks.iter());
    std::iter::once(&arch.stem)
        .chain(blocks.flat_map(|b| b.layers()))
        .chain(std::iter::once(&arch.head))
        .collect()
}

/// Every SE layer of `arch` in lowering order.
pub fn se_layers(arch: &Arch) -> Vec<&SeLayer> {
    let blocks = arch.stages.iter().flat_map(|s| s.blocks.iter());
    blocks.filter_map(|b| b.se.as_ref()).collect()
}

/// `[out, in / groups, k, k]` of a conv layer's weight.
fn conv_shape(layer: &ConvLayer) -> [usize; 4] {
    let in_per_group = if layer.depthwise { 1 } else { layer.in_c };
    [layer.out_c, in_per_group, layer.k, layer.k]
}

/// Every tensor `load_weights` fetches, as (key, shape), without any data: what a checkpoint
/// of this model holds (`num_batches_tracked` counters aside).
pub fn expected_tensors(arch: &Arch) -> Vec<(String, Vec<usize>)> {
    let mut out = Vec::new();
    for l in conv_layers(arch) {
        out.push((l.keys.weight.clone(), conv_shape(l).to_vec()));
        for p in ["weight", "bias", "running_mean", "running_var"] {
            out.push((format!("{}.{p}", l.keys.bn), vec![l.out_c]));
        }
    }
    for se in se_layers(arch) {
        out.push((
            se.reduce_weight.clone(),
            vec![se.reduced, se.channels, 1, 1],
        ));
        out.push((se.reduce_bias.clone(), vec![se.reduced]));
        out.push((
            se.expand_weight.clone(),
            vec![se.channels, se.reduced, 1, 1],
        ));
        out.push((se.expand_bias.clone(), vec![se.channels]));
    }
    if let Some(c) = &arch.classifier {
        out.push((c.weight.clone(), vec![c.out_features, c.in_features]));
        out.push((c.bias.clone(), vec![c.out_features]));
    }
    out
}

/// Fetches every tensor the model needs and folds batch norm. Problems with individual tensors
/// (missing, wrong shape) are collected and reported together, not one at a time.
pub fn load_weights(arch: &Arch, src: &mut dyn TensorSource) -> Result<ModelWeights> {
    let mut problems = Vec::new();
    let mut get = |key: &str, shape: &[usize]| -> Vec<f32> {
        src.fetch(key, shape).unwrap_or_else(|e| {
            problems.push(e.to_string());
            vec![0.0; shape.iter().product()]
        })
    };
    let convs = conv_layers(arch)
        .into_iter()
        .map(|l| fold_conv(l, arch.bn_eps, &mut get))
        .collect();
    let ses = se_layers(arch)
        .into_iter()
        .map(|se| SeWeights {
            reduce_w: get(&se.reduce_weight, &[se.reduced, se.channels, 1, 1]),
            reduce_b: get(&se.reduce_bias, &[se.reduced]),
            expand_w: get(&se.expand_weight, &[se.channels, se.reduced, 1, 1]),
            expand_b: get(&se.expand_bias, &[se.channels]),
        })
        .collect();
    let (classifier_w, classifier_b) = match &arch.classifier {
        Some(c) => (
            get(&c.weight, &[c.out_features, c.in_features]),
            get(&c.bias, &[c.out_features]),
        ),
        None => (Vec::new(), Vec::new()),
    };
    if !problems.is_empty() {
        return Err(Error::Weights {
            report: problems.join("\n"),
        });
    }
    Ok(ModelWeights {
        convs,
        ses,
        classifier_w,
        classifier_b,
    })
}

/// `w' = w * gamma / sqrt(var + eps)`, `b' = beta - mean * gamma / sqrt(var + eps)`, in f64.
fn fold_conv(
    layer: &ConvLayer,
    eps: f64,
    get: &mut dyn FnMut(&str, &[usize]) -> Vec<f32>,
) -> ConvWeights {
    let weight = get(&layer.keys.weight, &conv_shape(layer));
    let bn = |name: &str| format!("{}.{}", layer.keys.bn, name);
    let gamma = get(&bn("weight"), &[layer.out_c]);
    let beta = get(&bn("bias"), &[layer.out_c]);
    let mean = get(&bn("running_mean"), &[layer.out_c]);
    let var = get(&bn("running_var"), &[layer.out_c]);
    let per_out = weight.len() / layer.out_c.max(1);
    let scale: Vec<f64> = (0..layer.out_c)
        .map(|o| gamma[o] as f64 / (var[o] as f64 + eps).sqrt())
        .collect();
    let weight = weight
        .iter()
        .enumerate()
        .map(|(i, &w)| (w as f64 * scale[i / per_out]) as f32)
        .collect();
    let bias = (0..layer.out_c)
        .map(|o| (beta[o] as f64 - mean[o] as f64 * scale[o]) as f32)
        .collect();
    ConvWeights {
        weight,
        bias,
        kind: ConvKind::of(layer),
    }
}
