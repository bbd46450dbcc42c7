//! Per-kernel benchmarks on the shapes EfficientNet-B0 (224) and V2-S (384) really use.
//! Each case is a one-op graph run through the real executor; criterion reports time and
//! throughput as FLOP/s ("elem/s") and bytes/s from the op's arithmetic and traffic
//! (`effnet::bench::cost`). A sample includes the input upload and output readback, as a
//! caller of a single op would see it. Run with `cargo bench` (on lavapipe expect minutes).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use effnet::bench::cost::cost;
use effnet::gpu::{Gpu, GpuWeights, Precision};
use effnet::graph::ops::ConvGeom;
use effnet::graph::{Graph, Op, Session, Shape};
use effnet::model::Activation;
use effnet::model::rule::rule_tensor;
use effnet::model::weights::{ConvWeights, ModelWeights, SeWeights};

struct Case {
    name: &'static str,
    graph: Graph,
    weights: ModelWeights,
    se: Vec<(usize, usize)>,
}

fn shape(c: usize, h: usize) -> Shape {
    Shape { n: 1, c, h, w: h }
}

fn conv_weights(name: &str, out: usize, per_out: usize) -> ConvWeights {
    ConvWeights {
        weight: rule_tensor(name, &[out, per_out]),
        bias: rule_tensor("b", &[out]),
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
    Case {
        name,
        graph: Graph {
            shapes,
            ops: vec![op],
            input: 0,
            logits: output,
            stages: vec![],
        },
        weights,
        se,
    }
}

fn pointwise(name: &'static str, cin: usize, cout: usize, h: usize, gated: bool) -> Case {
    let mut shapes = vec![shape(cin, h)];
    let gate = gated.then(|| {
        shapes.push(Shape {
            h: 1,
            w: 1,
            ..shape(cin, h)
        });
        shapes.len() - 1
    });
    shapes.push(shape(cout, h));
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
        vec![conv_weights(name, cout, cin)],
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

fn depthwise(name: &'static str, c: usize, h: usize, k: usize, stride: usize) -> Case {
    let oh = (h + 2 * (k / 2) - k) / stride + 1;
    let shapes = vec![shape(c, h), shape(c, oh)];
    let op = Op::Depthwise {
        input: 0,
        output: 1,
        geom: geom(k, stride),
        se_sums: None,
    };
    case(name, shapes, op, vec![conv_weights(name, c, k * k)], vec![])
}

fn conv(name: &'static str, cin: usize, cout: usize, h: usize, k: usize, stride: usize) -> Case {
    let oh = (h + 2 * (k / 2) - k) / stride + 1;
    let shapes = vec![shape(cin, h), shape(cout, oh)];
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
        vec![conv_weights(name, cout, cin * k * k)],
        vec![],
    )
}

fn se(name: &'static str, c: usize, r: usize, hw: usize) -> Case {
    let pooled = Shape {
        n: 1,
        c,
        h: 1,
        w: 1,
    };
    let op = Op::SeExcite {
        sums: 0,
        gate: 1,
        se: 0,
        hw,
        act: Activation::Silu,
    };
    let w = SeWeights {
        reduce_w: rule_tensor("r", &[r, c]),
        reduce_b: rule_tensor("rb", &[r]),
        expand_w: rule_tensor("e", &[c, r]),
        expand_b: rule_tensor("eb", &[c]),
    };
    case(name, vec![pooled, pooled], op, vec![], vec![w])
}

fn cases() -> Vec<Case> {
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

fn kernels(c: &mut Criterion) {
    let gpu = match Gpu::new() {
        Ok(g) => g,
        Err(e) => {
            eprintln!("no GPU, no kernel benchmarks: {e}");
            return;
        }
    };
    eprintln!("adapter: {}", gpu.describe());
    let mut group = c.benchmark_group("kernels");
    group.sample_size(10);
    for case in cases() {
        let gw = GpuWeights::new(&gpu, &case.weights, Precision::F32);
        let session =
            Session::new(&gpu, &gw, &case.se, case.graph.clone(), false).expect("session");
        let input = vec![0.5f32; case.graph.shapes[0].len()];
        let (flop, bytes) = cost(&case.graph, &case.graph.ops[0], &case.se);
        group.throughput(Throughput::ElementsAndBytes {
            elements: flop,
            bytes,
        });
        group.bench_function(case.name, |b| b.iter(|| session.run(&input).expect("run")));
    }
    group.finish();
}

criterion_group!(benches, kernels);
criterion_main!(benches);
