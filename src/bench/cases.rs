//! One-op graphs on the shapes EfficientNet-B0 (224) and V2-S (384) really use, for
//! `cargo bench` and the tuner. Weights follow the golden rule; speed does not depend on them.

use crate::graph::ops::ConvGeom;
use crate::graph::{Graph, Op, Shape};
use crate::model::Activation;
use crate::model::rule::rule_tensor;
use crate::model::weights::{ConvKind, ConvWeights, ModelWeights, SeWeights};

/// A single op with its weights.
pub struct Case {
    pub name: &'static str,
    pub graph: Graph,
    pub weights: ModelWeights,
    /// `(channels, reduced)` of its SE layer, if it is one.
    pub se: Vec<(usize, usize)>,
}

fn square(c: usize, h: usize) -> Shape {
    Shape { n: 1, c, h, w: h }
}

fn conv_weights(name: &str, out: usize, per_out: usize, kind: ConvKind) -> ConvWeights {
    ConvWeights {
        weight: rule_tensor(name, &[out, per_out]),
        bias: rule_tensor("bias", &[out]),
        kind,
    }
}

fn case(
    name: &'static str,
    shapes: Vec<Shape>,
    op: Op,
    convs: Vec<ConvWeights>,
    ses: Vec<SeWeights>,
) -> Case {
    let output = shapes.len() - 1;
    let se = ses
        .iter()
        .map(|s| (s.expand_b.len(), s.reduce_b.len()))
        .collect();
    let weights = ModelWeights {
        convs,
        ses,
        classifier_w: vec![],
        classifier_b: vec![],
    };
    let graph = Graph {
        shapes,
        ops: vec![op],
        input: 0,
        logits: output,
        stages: vec![],
    };
    Case {
        name,
        graph,
        weights,
        se,
    }
}

/// 1×1 conv; `gated` makes it a projection (SE gate, no activation), else an expansion.
pub fn pointwise(name: &'static str, cin: usize, cout: usize, h: usize, gated: bool) -> Case {
    let mut shapes = vec![square(cin, h)];
    let gate = gated.then(|| {
        shapes.push(square(cin, 1));
        shapes.len() - 1
    });
    shapes.push(square(cout, h));
    let output = shapes.len() - 1;
    let act = if gated {
        Activation::Identity
    } else {
        Activation::Silu
    };
    let op = Op::Pointwise {
        input: 0,
        output,
        layer: 0,
        act,
        gate,
        residual: None,
    };
    case(
        name,
        shapes,
        op,
        vec![conv_weights(name, cout, cin, ConvKind::Gemm)],
        vec![],
    )
}

fn geom(k: usize, stride: usize) -> ConvGeom {
    ConvGeom {
        layer: 0,
        k,
        stride,
        pad_top: k / 2,
        pad_left: k / 2,
        act: Activation::Silu,
    }
}

fn out_size(h: usize, k: usize, stride: usize) -> usize {
    (h + 2 * (k / 2) - k) / stride + 1
}

pub fn depthwise(name: &'static str, c: usize, h: usize, k: usize, stride: usize) -> Case {
    let shapes = vec![square(c, h), square(c, out_size(h, k, stride))];
    let op = Op::Depthwise {
        input: 0,
        output: 1,
        geom: geom(k, stride),
        se_sums: None,
    };
    case(
        name,
        shapes,
        op,
        vec![conv_weights(name, c, k * k, ConvKind::Depthwise { k })],
        vec![],
    )
}

pub fn conv(
    name: &'static str,
    cin: usize,
    cout: usize,
    h: usize,
    k: usize,
    stride: usize,
) -> Case {
    let shapes = vec![square(cin, h), square(cout, out_size(h, k, stride))];
    let op = Op::Conv {
        input: 0,
        output: 1,
        geom: geom(k, stride),
        residual: None,
    };
    case(
        name,
        shapes,
        op,
        vec![conv_weights(name, cout, cin * k * k, ConvKind::Dense { k })],
        vec![],
    )
}

pub fn se(name: &'static str, c: usize, r: usize, hw: usize) -> Case {
    let op = Op::SeExcite {
        sums: 0,
        gate: 1,
        se: 0,
        hw,
        act: Activation::Silu,
    };
    let w = SeWeights {
        reduce_w: rule_tensor("reduce", &[r, c]),
        reduce_b: rule_tensor("reduce_bias", &[r]),
        expand_w: rule_tensor("expand", &[c, r]),
        expand_b: rule_tensor("expand_bias", &[c]),
    };
    case(name, vec![square(c, 1), square(c, 1)], op, vec![], vec![w])
}

/// Every kernel on the shapes that dominate B0 and V2-S.
pub fn all() -> Vec<Case> {
    vec![
        conv("b0_stem_3x3s2_3to32_224", 3, 32, 224, 3, 2),
        pointwise("b0_expand_16to96_112", 16, 96, 112, false),
        pointwise("b0_project_gated_144to24_56", 144, 24, 56, true),
        pointwise("b0_expand_192to1152_7", 192, 1152, 7, false),
        pointwise("b0_head_320to1280_7", 320, 1280, 7, false),
        depthwise("b0_dw3x3s1_c32_112", 32, 112, 3, 1),
        depthwise("b0_dw3x3s2_c96_112", 96, 112, 3, 2),
        depthwise("b0_dw5x5s2_c144_56", 144, 56, 5, 2),
        depthwise("b0_dw5x5s1_c672_14", 672, 14, 5, 1),
        se("b0_se_1152to48", 1152, 48, 49),
        conv("v2s_fused_3x3s2_24to96_192", 24, 96, 192, 3, 2),
        pointwise("v2s_expand_128to512_24", 128, 512, 24, false),
    ]
}

/// The shapes the tuner times: pointwise (an early wide-plane expansion, a gated projection,
/// a late narrow-plane expansion), since its channel block is tuned, and a depthwise and a
/// dense conv, since the subgroup choice applies to their weights too.
pub fn tuning_set() -> Vec<Case> {
    vec![
        pointwise("b0_expand_16to96_112", 16, 96, 112, false),
        pointwise("b0_project_gated_144to24_56", 144, 24, 56, true),
        pointwise("b0_expand_192to1152_7", 192, 1152, 7, false),
        depthwise("b0_dw3x3s1_c144_56", 144, 56, 3, 1),
        conv("b0_stem_3to32_224", 3, 32, 224, 3, 2),
    ]
}
