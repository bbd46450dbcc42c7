//! The GPU family's dense conv (`kernels::gpu::conv`) on the GPU: B0's and V2-S's layers and
//! odd shapes against the reference, in f32, in f16 arithmetic and in packed f16 against the
//! CPU family; and its tiles, whose last check needs an odd case.

use super::check;
use crate::gpu::{Gpu, GpuWeights, Precision};
use crate::graph::Op;
use crate::graph::ops::{ConvOp, Shape};
use crate::kernels::case::{Case, conv_weights, convs_only, geom};
use crate::kernels::gpu::DEFAULT_UNITS;
use crate::kernels::gpu::conv::{FILL_PER_UNIT, WORKGROUP_BYTES, describe, tile};
use crate::kernels::{Family, describe as describe_any, ops::conv};
use crate::model::rule::rule_input;
use crate::model::weights::ConvKind;
use crate::runtime::Executor;

/// One odd case: name, input [n, c, h, w], output channels, output h × w, k, stride,
/// (pad_top, pad_left) (TF "same" where they differ from k / 2), whether the input is
/// also the residual (then input and output shapes agree).
pub(crate) type Spec = (
    &'static str,
    [usize; 4],
    usize,
    [usize; 2],
    usize,
    usize,
    [usize; 2],
    bool,
);

/// Shapes off the beaten path: channels not a multiple of 4 or of the layout's block
/// (37), 3 and 13 input channels, odd sizes with stride 2 (15 → 8), odd planes (225, 49,
/// 9, 35: words across lanes, tiles and planes), planes of 2 mod 4 (42: pairs), TF
/// padding, H or W = 1, k = 5, batch 2 (tiles across images), residuals, several channel
/// tiles.
const ODD: [Spec; 11] = [
    (
        "c13_to_37_15x15_s2",
        [1, 13, 15, 15],
        37,
        [8, 8],
        3,
        2,
        [1, 1],
        false,
    ),
    (
        "c3_to_24_15x15_s1",
        [1, 3, 15, 15],
        24,
        [15, 15],
        3,
        1,
        [1, 1],
        false,
    ),
    (
        "c3_to_37_tf_16x16_s2",
        [1, 3, 16, 16],
        37,
        [8, 8],
        3,
        2,
        [0, 0],
        false,
    ),
    (
        "c5_to_6_tf_13x10_s2",
        [1, 5, 13, 10],
        6,
        [7, 5],
        3,
        2,
        [1, 0],
        false,
    ),
    (
        "c8_to_12_1x9_s1",
        [1, 8, 1, 9],
        12,
        [1, 9],
        3,
        1,
        [1, 1],
        false,
    ),
    (
        "c8_to_12_9x1_s2",
        [1, 8, 9, 1],
        12,
        [5, 1],
        3,
        2,
        [1, 1],
        false,
    ),
    (
        "c8_to_20_k5_11x11_s1",
        [1, 8, 11, 11],
        20,
        [11, 11],
        5,
        1,
        [2, 2],
        false,
    ),
    (
        "b2_c16_res_7x7_s1",
        [2, 16, 7, 7],
        16,
        [7, 7],
        3,
        1,
        [1, 1],
        true,
    ),
    (
        "b2_c24_res_6x7_s1",
        [2, 24, 6, 7],
        24,
        [6, 7],
        3,
        1,
        [1, 1],
        true,
    ),
    (
        "b2_c24_res_8x8_s1",
        [2, 24, 8, 8],
        24,
        [8, 8],
        3,
        1,
        [1, 1],
        true,
    ),
    (
        "b2_c48_to_192_30x30_s2",
        [2, 48, 30, 30],
        192,
        [15, 15],
        3,
        2,
        [1, 1],
        false,
    ),
];

pub(crate) fn odd_case(&(name, [n, c, h, w], c_out, [ho, wo], k, stride, pad, res): &Spec) -> Case {
    let input = Shape { n, c, h, w };
    let output = Shape {
        n,
        c: c_out,
        h: ho,
        w: wo,
    };
    let mut geom = geom(k, stride);
    [geom.pad_top, geom.pad_left] = pad;
    let residual = res.then_some(0);
    let op = Op::Conv(ConvOp {
        input: 0,
        output: 1,
        geom,
        residual,
    });
    let wts = conv_weights(name, c_out, c * k * k, ConvKind::Dense { k });
    Case::new(name, vec![input, output], op, convs_only(vec![wts]))
}

#[test]
fn b0_and_v2s_shapes_and_odd_shapes_match_the_reference() {
    check::cases_in(Family::Gpu, &conv::cases());
    check::cases_in(Family::Gpu, &ODD.iter().map(odd_case).collect::<Vec<_>>());
}

/// Native f16 storage with f16 arithmetic: slices of 27 to hundreds of taps.
#[test]
fn f16_arithmetic_matches_the_reference() {
    check::cases_f16_math(&conv::cases());
    check::cases_f16_math(&ODD.iter().map(odd_case).collect::<Vec<_>>());
}

/// The odd cases in f16 packed in u32 words (adapters without SHADER_F16), whose
/// whole-word stores (and the CPU family's atomic ones) f32 storage does not exercise,
/// against the CPU family in the same storage. Both read the same halves and sum in f32
/// in different orders, so they differ by check.rs's f32 tolerance (1e-4 of the output's
/// RMS) and then by one f16 rounding, at most 2^-10 of the value.
#[test]
fn packed_f16_odd_shapes_match_the_cpu_family() {
    // As check.rs: no adapter skips the test, except in CI, which must run the kernels.
    let Ok(mut gpu) = Gpu::new() else {
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true"),
            "CI=true but no GPU"
        );
        return eprintln!("skipping GPU test: no adapter");
    };
    gpu.native_f16 = false;
    for case in ODD.iter().map(odd_case) {
        let g = &case.graph;
        let input = rule_input(&g.shapes[g.input].dims());
        let weights = GpuWeights::new(&gpu, &case.weights, Precision::F16);
        let run = |family| {
            let e = Executor::new(&gpu, &weights, g.clone(), false, family).unwrap();
            e.run(&input).unwrap().logits
        };
        let kernel = describe_any(g, &g.ops[0], &Default::default(), Family::Gpu).kernel();
        assert_eq!(kernel.family(), Family::Gpu, "{}", case.name);
        let (ours, cpu) = (run(Family::Gpu), run(Family::Cpu));
        let rms = (cpu.iter().map(|v| v * v).sum::<f32>() / cpu.len() as f32).sqrt();
        for (i, (&a, &b)) in ours.iter().zip(&cpu).enumerate() {
            let tol = 1e-4 * rms + a.abs().max(b.abs()) / 1024.0;
            assert!(
                (a - b).abs() <= tol,
                "{} [{i}]: ours {a}, cpu family {b}",
                case.name
            );
        }
    }
}

/// Every tile keeps to WebGPU's defaults (64–256 lanes, 16 KiB of workgroup memory) and
/// a batch-1 layer still gets enough workgroups to fill a big GPU where it has the work.
#[test]
fn tiles_fit_the_limits_and_fill_the_gpu() {
    let layers = [
        (3, 32, 112 * 112, 3),
        (24, 96, 96 * 96, 3),
        (64, 256, 48 * 48, 3),
        (48, 192, 24 * 24, 3),
        (13, 37, 64, 3),
        (8, 20, 121, 5),
        (3, 24, 64 * 150 * 150, 3),
        (1, 1, 1, 1),
    ];
    for (c_in, c_out, pixels, k) in layers {
        let t = tile(c_in, c_out, pixels, k, DEFAULT_UNITS).unwrap();
        assert!((64..=256).contains(&(t.tx * t.ty)), "{t:?}");
        assert!(t.workgroup_bytes(k) <= WORKGROUP_BYTES, "{t:?}");
        let groups = pixels.div_ceil(4 * t.tx) * c_out.div_ceil(4 * t.ty);
        assert!(
            groups >= FILL_PER_UNIT * DEFAULT_UNITS || t.tx * t.ty == 64,
            "{t:?}: {groups}"
        );
    }
    // The stem's 3 input channels are one K-slice of 27 taps.
    assert_eq!(
        tile(3, 32, 112 * 112, 3, DEFAULT_UNITS).unwrap().taps(3),
        27
    );
    // V2-S's stem at batch 256 has 90000 pixel tiles: past 65535, they spread over z.
    let spec = (
        "big",
        [256, 3, 300, 300],
        24,
        [150, 150],
        3,
        2,
        [0, 0],
        false,
    );
    let case = odd_case(&spec);
    let Op::Conv(op) = &case.graph.ops[0] else {
        unreachable!()
    };
    let [x, _, z] = describe(&case.graph, op, DEFAULT_UNITS).unwrap().workgroups;
    let tx = tile(3, 24, 256 * 150 * 150, 3, DEFAULT_UNITS).unwrap().tx as u32;
    assert!(
        x <= 65535 && z == 2 && x * z * 4 * tx >= 256 * 150 * 150,
        "{x} {z}"
    );
}
