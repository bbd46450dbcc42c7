//! One-op graphs on shapes EfficientNet really uses: what `cargo bench` and the tuner time
//! and each kernel's test checks against the CPU reference. Weights follow the golden rule;
//! speed does not depend on them. Each kernel module builds its own (`cases()`).

use crate::graph::ops::ConvGeom;
use crate::graph::{Graph, Op, Shape};
use crate::model::Activation;
use crate::model::rule::rule_tensor;
use crate::model::weights::{ConvKind, ConvWeights, ModelWeights};

/// A single op with its weights; its input is tensor 0, its output the graph's `logits`.
pub struct Case {
    pub name: &'static str,
    pub graph: Graph,
    pub weights: ModelWeights,
}

impl Case {
    /// The graph of `op` alone over `shapes`, whose last is the output.
    pub(crate) fn new(name: &'static str, shapes: Vec<Shape>, op: Op, w: ModelWeights) -> Case {
        let graph = Graph {
            logits: shapes.len() - 1,
            shapes,
            ops: vec![op],
            input: 0,
            stages: vec![],
        };
        Case {
            name,
            graph,
            weights: w,
        }
    }
}

/// Weights with nothing but `convs`.
pub(crate) fn convs_only(convs: Vec<ConvWeights>) -> ModelWeights {
    ModelWeights {
        convs,
        ses: vec![],
        classifier_w: vec![],
        classifier_b: vec![],
    }
}

/// One image of `c` channels, `h`×`h`.
pub(super) fn square(c: usize, h: usize) -> Shape {
    Shape { n: 1, c, h, w: h }
}

pub(crate) fn conv_weights(name: &str, out: usize, per_out: usize, kind: ConvKind) -> ConvWeights {
    ConvWeights {
        weight: rule_tensor(name, &[out, per_out]),
        bias: rule_tensor("bias", &[out]),
        kind,
    }
}

/// Symmetric padding k / 2 and SiLU, as EfficientNet's k×k layers.
pub(crate) fn geom(k: usize, stride: usize) -> ConvGeom {
    ConvGeom {
        layer: 0,
        k,
        stride,
        pad_top: k / 2,
        pad_left: k / 2,
        act: Activation::Silu,
    }
}

/// Output size of a `geom(k, stride)` layer on `h` inputs.
pub(super) fn out_size(h: usize, k: usize, stride: usize) -> usize {
    (h + 2 * (k / 2) - k) / stride + 1
}
