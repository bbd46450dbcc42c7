//! The GPU family's channels-last kernels (`kernels::gpu::nhwc`) on the GPU, each chosen by
//! name (so its session runs NHWC: `candidates::session_tuning`) on odd shapes: channels
//! not a multiple of 4, 1×1 planes, odd sizes at stride 2, batches of 2 and more; in f32,
//! in f16 packed in u32 words and, where the adapter has SHADER_F16, native f16. The
//! executor uploads the input NHWC and reads the output back NCHW, so the comparison with
//! the reference is the NCHW kernels' own.

use super::check::{self, TOL_F16, TOL_F32};
use super::gpu_pointwise;
use crate::gpu::{Gpu, GpuWeights, Precision};
use crate::graph::ops::{ConvGeom, ConvOp, DepthwiseOp, PointwiseOp, SeExciteOp, Shape};
use crate::graph::{Graph, Op};
use crate::kernels::candidates::Choice;
use crate::kernels::case::{Case, conv_weights, convs_only};
use crate::kernels::gpu::nhwc::VARIANT;
use crate::kernels::{Family, Kernel, OpKind, ops::se, se_partials};
use crate::model::Activation;
use crate::model::rule::rule_input;
use crate::model::weights::ConvKind;
use crate::reference;
use crate::runtime::Executor;

/// Runs every case with `kernel` chosen (the session NHWC), in f32, packed f16 and native
/// f16 where the adapter has it, with each subgroup variant of the sums, against the f64
/// reference.
fn check_nhwc(kernel: Kernel, cases: &[Case]) {
    let Some(mut gpu) = check::gpu() else { return };
    let adapter_f16 = gpu.native_f16;
    // f32, then f16 packed in words (what adapters without SHADER_F16 store), then native.
    // The kernels compute in f32: f16 storage errs as `TOL_F16` says, whichever storage.
    let runs = [
        (Precision::F32, false, TOL_F32, "f32"),
        (Precision::F16, false, TOL_F16, "packed f16"),
        (Precision::F16, true, TOL_F16, "native f16"),
    ];
    for (lanes, sums) in check::subgroup_variants(&gpu) {
        gpu.subgroup_lanes = lanes;
        for &(precision, native, tol, what) in runs.iter().filter(|r| !r.1 || adapter_f16) {
            gpu.native_f16 = native;
            for case in cases {
                let (ours, expected) = run(&gpu, case, kernel, precision);
                let what = format!("{} {kernel} {what} {sums}", case.name);
                check::compare(&ours, &expected, &what, tol);
            }
        }
    }
}

/// The case's output with `kernel` chosen, and the reference's.
fn run(gpu: &Gpu, case: &Case, kernel: Kernel, precision: Precision) -> (Vec<f32>, Vec<f32>) {
    let g = &case.graph;
    let input = rule_input(&g.shapes[g.input].dims());
    let expected = reference::run(g, &case.weights, &input).swap_remove(g.logits);
    let weights = GpuWeights::new(gpu, &case.weights, precision);
    let executor = Executor::new(gpu, &weights, g.clone(), false, Choice::Kernel(kernel))
        .unwrap_or_else(|e| panic!("{}: {e}", case.name));
    (executor.run(&input).unwrap().logits, expected)
}

fn nhwc(op: OpKind) -> Kernel {
    Kernel::gpu(op).variant(VARIANT)
}

/// A k×k depthwise conv (SiLU, padding k / 2) at batch `n` over `c` channels of `h`×`w`;
/// with `se`, its SE sums go through an SE block (the NCHW sessions' kernel, which NHWC
/// sessions share) whose gate is the output, so the sums are checked too.
fn depthwise_case(
    name: &'static str,
    (n, c, h, w): (usize, usize, usize, usize),
    (k, stride): (usize, usize),
    se: bool,
) -> Case {
    let geom = ConvGeom {
        layer: 0,
        k,
        stride,
        pad_top: k / 2,
        pad_left: k / 2,
        act: Activation::Silu,
    };
    let out = |s: usize| (s + 2 * (k / 2) - k) / stride + 1;
    let (ho, wo) = (out(h), out(w));
    let shapes = vec![Shape { n, c, h, w }, Shape { n, c, h: ho, w: wo }];
    let dw = DepthwiseOp {
        input: 0,
        output: 1,
        geom,
        se_sums: None,
    };
    let conv = conv_weights(name, c, k * k, ConvKind::Depthwise { k });
    let mut case = Case::new(name, shapes, Op::Depthwise(dw), convs_only(vec![conv]));
    if se {
        add_se(&mut case.graph, 0, (c / 3).max(1));
        case.weights.ses = se::case_weights(c, (c / 3).max(1)).ses;
    }
    case
}

/// Makes op `at` (a depthwise conv) of `g` leave SE sums, adds the SE block reading them
/// (`reduced` wide) and makes its gate the output; returns the gate.
fn add_se(g: &mut Graph, at: usize, reduced: usize) -> usize {
    let Op::Depthwise(dw) = &mut g.ops[at] else {
        unreachable!("SE follows a depthwise conv")
    };
    let o = g.shapes[dw.output];
    let partials = se_partials(o.h, o.w, &dw.geom);
    g.shapes.push(Shape {
        h: 1,
        w: partials,
        ..o
    });
    dw.se_sums = Some(g.shapes.len() - 1);
    g.shapes.push(Shape { h: 1, w: 1, ..o });
    let gate = g.shapes.len() - 1;
    g.ops.push(Op::SeExcite(SeExciteOp {
        sums: gate - 1,
        gate,
        se: 0,
        reduced,
        hw: o.h * o.w,
        act: Activation::Silu,
    }));
    g.logits = gate;
    gate
}

/// As an MBConv block's tail: a 3×3 depthwise conv of the input with SE, and the projection
/// of its output gated by the SE block (no activation), plus a residual when asked for (a
/// SiLU 1×1 conv of the input, an activation like the block's input).
fn gated_case(name: &'static str, (n, cin, cout, h, w): Dims, res: bool) -> Case {
    let mut case = depthwise_case(name, (n, cin, h, w), (3, 1), true);
    let g = &mut case.graph;
    let gate = g.logits;
    let shape = |c| Shape { n, c, h, w };
    let residual = res.then(|| {
        g.shapes.push(shape(cout));
        case.weights
            .convs
            .push(conv_weights("res", cout, cin, ConvKind::Gemm));
        let op = pointwise(0, g.shapes.len() - 1, case.weights.convs.len() - 1);
        g.ops.push(Op::Pointwise(PointwiseOp {
            act: Activation::Silu,
            ..op
        }));
        g.shapes.len() - 1
    });
    g.shapes.push(shape(cout));
    case.weights
        .convs
        .push(conv_weights(name, cout, cin, ConvKind::Gemm));
    let projection = pointwise(1, g.shapes.len() - 1, case.weights.convs.len() - 1);
    g.ops.push(Op::Pointwise(PointwiseOp {
        gate: Some(gate),
        residual,
        ..projection
    }));
    g.logits = g.shapes.len() - 1;
    case
}

type Dims = (usize, usize, usize, usize, usize);

/// A 1×1 conv without activation, gate or residual.
fn pointwise(input: usize, output: usize, layer: usize) -> PointwiseOp {
    PointwiseOp {
        input,
        output,
        layer,
        act: Activation::Identity,
        gate: None,
        residual: None,
    }
}

/// 1×1 convs whose channels are not multiples of 4 (in, out or both), 1×1 and odd planes,
/// batches 2 to 5, more pixels than one workgroup's tile, a residual, and (`gated_case`)
/// the SE gate; and 64 output channels and more (several workgroups along x).
#[test]
fn pointwise_odd_shapes_match_the_reference() {
    let case = gpu_pointwise::case;
    let cases = vec![
        case("nhwc_13to37_5x5", (1, 13, 37, 5, 5), false, false),
        case("nhwc_13to37_1x1_b3", (3, 13, 37, 1, 1), false, false),
        case("nhwc_3to8_8x8", (1, 3, 8, 8, 8), false, false),
        case("nhwc_36to36_6x6_b3_res", (3, 36, 36, 6, 6), false, true),
        case("nhwc_21to70_15x15_b2", (2, 21, 70, 15, 15), false, false),
        case("nhwc_96to200_7x3_b5_res", (5, 96, 200, 7, 3), false, true),
        case("nhwc_5to37_36x1", (1, 5, 37, 36, 1), false, false),
        gated_case("nhwc_37to13_7x7_b2_gate_res", (2, 37, 13, 7, 7), true),
        gated_case("nhwc_13to37_1x1_b3_gate", (3, 13, 37, 1, 1), false),
        gated_case("nhwc_24to40_9x5_gate_res", (1, 24, 40, 9, 5), true),
        gated_case("nhwc_6to3_3x1_b2_gate", (2, 6, 3, 3, 1), false),
    ];
    check_nhwc(nhwc(OpKind::Pointwise), &cases);
}

/// Depthwise convs over channels not a multiple of 4 (and fewer than 4), 1×1 planes, odd
/// sizes at stride 2, k = 3 and 5, batches 2 and 3, with and without SE sums (checked
/// through the SE block after them), planes of one band and of many.
#[test]
fn depthwise_odd_shapes_match_the_reference() {
    let cases = vec![
        depthwise_case("nhwc_dw3s1_c13_7x9", (1, 13, 7, 9), (3, 1), false),
        depthwise_case("nhwc_dw3s2_c13_7x9_b2", (2, 13, 7, 9), (3, 2), false),
        depthwise_case("nhwc_dw5s2_c6_9x5_b2_se", (2, 6, 9, 5), (5, 2), true),
        depthwise_case("nhwc_dw3s1_c5_1x1_b3_se", (3, 5, 1, 1), (3, 1), true),
        depthwise_case("nhwc_dw5s1_c3_1x1", (1, 3, 1, 1), (5, 1), false),
        depthwise_case("nhwc_dw3s2_c37_15x15_se", (1, 37, 15, 15), (3, 2), true),
        depthwise_case("nhwc_dw5s1_c70_14x14_b2_se", (2, 70, 14, 14), (5, 1), true),
        depthwise_case("nhwc_dw3s1_c2_31x29_se", (1, 2, 31, 29), (3, 1), true),
        depthwise_case("nhwc_dw3s2_c96_29x29", (1, 96, 29, 29), (3, 2), false),
    ];
    check_nhwc(nhwc(OpKind::Depthwise), &cases);
}

/// A k×k conv (SiLU, padding k / 2) at batch `n`, `cin` → `cout` channels on `h`×`w`, with a
/// residual (a SiLU 1×1 conv of the input; stride 1 only) when asked for.
fn conv_case(
    name: &'static str,
    (n, cin, cout, h, w): Dims,
    (k, s): (usize, usize),
    res: bool,
) -> Case {
    let out = |x: usize| (x + 2 * (k / 2) - k) / s + 1;
    let shapes = vec![
        Shape { n, c: cin, h, w },
        Shape {
            n,
            c: cout,
            h: out(h),
            w: out(w),
        },
    ];
    let mut geom = crate::kernels::case::geom(k, s);
    let conv = conv_weights(name, cout, cin * k * k, ConvKind::Dense { k });
    let mut case = Case::new(
        name,
        shapes,
        Op::Conv(ConvOp {
            input: 0,
            output: 1,
            geom,
            residual: None,
        }),
        convs_only(vec![conv]),
    );
    if res {
        let g = &mut case.graph;
        g.shapes.push(g.shapes[1]);
        case.weights
            .convs
            .push(conv_weights("res", cout, cin, ConvKind::Gemm));
        g.ops.insert(
            0,
            Op::Pointwise(PointwiseOp {
                act: Activation::Silu,
                ..pointwise(0, 2, 1)
            }),
        );
        geom.layer = 0;
        g.ops[1] = Op::Conv(ConvOp {
            input: 0,
            output: 1,
            geom,
            residual: Some(2),
        });
    }
    case
}

/// Global pooling of `c` channels of `h`×`w` at batch `n` into `classes` logits, or (0) the
/// pooled features of a headless backbone (`gpu_classifier::case`).
fn classifier_case(
    name: &'static str,
    (n, c, h, w): (usize, usize, usize, usize),
    classes: usize,
) -> Case {
    super::gpu_classifier::case(name, n, c, (h, w), classes)
}

/// Dense convs: the stem's 3 input channels, channels not a multiple of 4, odd sizes at
/// stride 2, a 1×1 input plane, batch 2, k = 1, 3 and 5, a residual. Where a conv alone
/// reads the graph's input it reads it NCHW, as a stem does (`layout::input_stays_nchw`);
/// with a residual, whose 1×1 conv reads the input too, NHWC.
#[test]
fn conv_odd_shapes_match_the_reference() {
    let cases = vec![
        conv_case(
            "nhwc_stem_3to32_s2_17x15_b2",
            (2, 3, 32, 17, 15),
            (3, 2),
            false,
        ),
        conv_case("nhwc_conv_13to37_s2_9x7", (1, 13, 37, 9, 7), (3, 2), false),
        conv_case(
            "nhwc_conv_6to6_s1_5x3_b2_res",
            (2, 6, 6, 5, 3),
            (3, 1),
            true,
        ),
        conv_case("nhwc_conv_5to70_s1_1x1", (1, 5, 70, 1, 1), (3, 1), false),
        conv_case(
            "nhwc_conv_24to20_k5s2_11x11",
            (1, 24, 20, 11, 11),
            (5, 2),
            false,
        ),
        conv_case("nhwc_conv_7to9_k1_4x6_res", (1, 7, 9, 4, 6), (1, 1), true),
    ];
    check_nhwc(nhwc(OpKind::Conv), &cases);
}

/// Pooling and classes: features and classes not multiples of 4, 1×1 planes, batch 3, more
/// classes than one workgroup's 256, a headless backbone.
#[test]
fn classifier_odd_shapes_match_the_reference() {
    let cases = vec![
        classifier_case("nhwc_cls_37to13_5x3_b3", (3, 37, 5, 3), 13),
        classifier_case("nhwc_cls_6to1030_1x1_b2", (2, 6, 1, 1), 1030),
        classifier_case("nhwc_cls_1280to1000_7x7", (1, 1280, 7, 7), 1000),
        classifier_case("nhwc_headless_37_3x3_b2", (2, 37, 3, 3), 0),
    ];
    check_nhwc(nhwc(OpKind::Classifier), &cases);
}

/// With no GPU: every real-shape case an NHWC kernel takes sets exactly the overrides its
/// WGSL declares without a default (and no others), as the NCHW kernels' check does.
#[test]
fn nhwc_cases_set_exactly_the_overrides_their_wgsl_declares() {
    use crate::kernels::formats::{Arithmetic, Storage};
    let tuning = crate::gpu::Tuning {
        gpu_layout: crate::kernels::Layout::Nhwc,
        ..Default::default()
    };
    let mut described = 0;
    for case in crate::bench::cases::all() {
        let (g, op) = (&case.graph, &case.graph.ops[0]);
        let Some(d) = crate::kernels::gpu::nhwc::describe(g, op) else {
            continue;
        };
        let kernel = nhwc(OpKind::of(op));
        assert_eq!(
            crate::kernels::describe(g, op, &tuning, Family::Gpu).kernel(),
            kernel
        );
        let src = kernel.source(Storage::F32, false, Arithmetic::F32);
        let m = naga::front::wgsl::parse_str(&src).unwrap_or_else(|e| panic!("{kernel}: {e}"));
        super::check::assert_overrides_match(&m, &d, case.name);
        described += 1;
    }
    assert!(
        described >= 4,
        "the real-shape cases of conv, depthwise, pointwise, classifier"
    );
}
