//! The GPU family stores whole words only, each word by the invocation holding its first
//! value, so f16 storage packed in u32 words (`Storage::F16Packed`, adapters without
//! SHADER_F16) needs no atomics. The cases here have words two ranges share: odd planes
//! (7×7, 5×5, 15×15, 1×1), odd channel and class counts, several images (words straddling
//! two), tiles and bands ending inside a word, in the tilings that make them; each runs in
//! packed f16 against the f64 reference (`check::cases_packed_f16`, `check::TOL_F16`).
//! (tests/shaders.rs checks that no GPU-family source mentions atomics.)

use super::check;
use super::gpu_conv::{Spec as ConvSpec, odd_case};
use super::gpu_depthwise::{ODD, PATHS, Spec, Tail, allowed};
use super::{gpu_classifier, gpu_pointwise, gpu_se};
use crate::gpu::{Gpu, GpuWeights, Precision};
use crate::graph::Shape;
use crate::kernels::Family;
use crate::kernels::case::{Case, geom};
use crate::kernels::gpu::depthwise::{ONLY, Tiling, candidates};
use crate::kernels::se_partials;
use crate::model::rule::rule_input;
use crate::reference;
use crate::runtime::Executor;

/// 1×1 convs: gated and residual, odd channel counts over several channel tiles (the words
/// at a tile's last channel straddle two tiles), batches of 2 to 5 (words straddling images).
#[test]
fn pointwise_odd_planes_and_channels() {
    use gpu_pointwise::case;
    let cases = [
        case("70to75_1x1_b5_gate_res", (5, 70, 75, 1, 1), true, true),
        case("13to37_1x1_b3_gate", (3, 13, 37, 1, 1), true, false),
        case("13to37_5x5", (1, 13, 37, 5, 5), false, false),
        case("20to67_5x5_b3_gate_res", (3, 20, 67, 5, 5), true, true),
        case("37to13_7x7_b2_gate_res", (2, 37, 13, 7, 7), true, true),
        case("40to80_7x7_b3_gate_res", (3, 40, 80, 7, 7), true, false),
        case("40to40_15x15_b2_gate_res", (2, 40, 40, 15, 15), true, true),
        case("21to75_15x15_b2", (2, 21, 75, 15, 15), false, false),
        case("9to37_41x45_b2_res", (2, 9, 37, 41, 45), false, true),
    ];
    check::cases_packed_f16(Family::Gpu, &cases);
}

/// Dense convs on odd planes: odd channel counts (words straddling planes of two channels
/// and two images), several channel and pixel tiles, 1×1 planes, a residual.
#[test]
fn conv_odd_planes_and_channels() {
    let specs: [ConvSpec; 6] = [
        (
            "b2_c5_to_7_5x5",
            [2, 5, 5, 5],
            7,
            [5, 5],
            3,
            1,
            [1, 1],
            false,
        ),
        (
            "b3_c6_to_9_1x1",
            [3, 6, 3, 3],
            9,
            [1, 1],
            3,
            1,
            [0, 0],
            false,
        ),
        ("b2_c7_res_7x7", [2, 7, 7, 7], 7, [7, 7], 3, 1, [1, 1], true),
        (
            "b2_c8_to_75_15x15",
            [2, 8, 15, 15],
            75,
            [15, 15],
            3,
            1,
            [1, 1],
            false,
        ),
        (
            "b1_c3_to_24_15x15",
            [1, 3, 15, 15],
            24,
            [15, 15],
            3,
            1,
            [1, 1],
            false,
        ),
        (
            "b2_c48_to_192_15x15_s2",
            [2, 48, 30, 30],
            192,
            [15, 15],
            3,
            2,
            [1, 1],
            false,
        ),
    ];
    let cases: Vec<Case> = specs.iter().map(odd_case).collect();
    check::cases_packed_f16(Family::Gpu, &cases);
}

/// Depthwise layers whose planes or bands end inside a word, and their SE sums, in every
/// tiling path (whole planes one or several per workgroup, bands), odd channel counts and
/// batches of 2 and 3 included.
#[test]
fn depthwise_odd_planes_in_every_tiling() {
    let Some(gpu) = check::gpu() else { return };
    let mut specs: Vec<Spec> = ODD.to_vec();
    specs.extend([
        ("b3_c5_5x5_k3s1", 3, 5, (5, 5), 3, 1, false),
        ("b2_c3_15x15_k5s1", 2, 3, (15, 15), 5, 1, false),
        ("b3_c5_1x1_k3s1", 3, 5, (1, 1), 3, 1, false),
        ("b2_c3_57x57_k3s1", 2, 3, (57, 57), 3, 1, false),
    ]);
    // PATHS, and one plane per workgroup (whose range ends inside a word on odd planes).
    let one_plane: fn(&Tiling) -> bool = |t| t.ch == 1;
    for only in PATHS.into_iter().chain([one_plane]) {
        ONLY.set(only);
        check::cases_packed_f16(Family::Gpu, &allowed(&specs, Tail::Output, only));
        for case in allowed(&specs, Tail::Sums, only) {
            sums_match(&gpu, &case);
        }
    }
    ONLY.set(|_| true);
    // The SE gate after them (the GPU family's SE kernel reads the sums).
    check::cases_packed_f16(Family::Gpu, &allowed(&specs, Tail::Gate, |_| true));
}

/// Each plane's SE slots add up to its total in the reference: the sums of a tiling's bands,
/// each in its own word of slots.
fn sums_match(gpu: &Gpu, case: &Case) {
    let mut gpu = gpu.clone();
    gpu.native_f16 = false;
    let g = &case.graph;
    let input = rule_input(&g.shapes[g.input].dims());
    let expected = reference::run(g, &case.weights, &input).swap_remove(g.logits);
    let weights = GpuWeights::new(&gpu, &case.weights, Precision::F16);
    let run = Executor::new(&gpu, &weights, g.clone(), false, Family::Gpu);
    let ours = run.unwrap().run(&input).unwrap().logits;
    let partials = g.shapes[g.logits].w;
    let totals = |v: &[f32]| -> Vec<f32> {
        let sum = |p: &[f32]| p.iter().map(|&x| x as f64).sum::<f64>() as f32;
        v.chunks(partials).map(sum).collect()
    };
    let what = format!("{} SE sums, packed f16", case.name);
    // A band's sum of f16 outputs is rounded to f16 once more (2^-11 of it), and a plane's
    // slots add up to at most its total's magnitude where its outputs share a sign: within
    // check's f16 tolerance as an output is (measured worst 1.2e-3 of the RMS).
    check::compare(&totals(&ours), &totals(&expected), &what, check::TOL_F16);
}

/// SE with odd channel counts: one image per workgroup over several blocks of channels (its
/// last word needs the next image's first gate), 2 and 4 images per workgroup, batches 2 to
/// 299, one channel.
#[test]
fn se_odd_channel_counts() {
    use gpu_se::case;
    let cases = [
        case("se_b2_37to1", 2, 37, 1, 3),
        case("se_b5_1to1_1x1", 5, 1, 1, 1),
        case("se_b3_75to9", 3, 75, 9, 16),
        case("se_b5_1603to83", 5, 1603, 83, 832),
        case("se_b64_1151to48", 64, 1151, 48, 8),
        case("se_b1_3001to67", 1, 3001, 67, 5),
        case("se_b299_37to3", 299, 37, 3, 2),
    ];
    check::cases_packed_f16(Family::Gpu, &cases);
}

/// Classifiers with odd class counts (blocks of classes ending inside a word, rows of images
/// sharing words) and headless backbones with odd feature counts, at several batches.
#[test]
fn classifier_odd_class_and_feature_counts() {
    use gpu_classifier::case;
    let cases = [
        case("cls_b2_37to1_7", 2, 37, (7, 7), 1),
        case("cls_b5_37to3_1x1", 5, 37, (1, 1), 3),
        case("cls_b3_64to999_7", 3, 64, (7, 7), 999),
        case("cls_b64_1280to999_7", 64, 1280, (7, 7), 999),
        case("cls_b1_1281to999_1x1", 1, 1281, (1, 1), 999),
        case("headless_b2_37_7", 2, 37, (7, 7), 0),
        case("headless_b3_1281_1x1", 3, 1281, (1, 1), 0),
        case("headless_b3_1281_7", 3, 1281, (7, 7), 0),
        case("headless_b299_37_7", 299, 37, (7, 7), 0),
    ];
    check::cases_packed_f16(Family::Gpu, &cases);
}

/// Each depthwise band owns a word of SE slots, so a layer may have at most half as many
/// bands as slots: that rule still leaves a tiling for every layer the former one (a slot per
/// band) did: every height to 400 at widths from 1 (narrow planes, few slots) to 400.
#[test]
fn depthwise_bands_owning_words_leave_a_tiling() {
    let widths = [
        1, 2, 3, 4, 5, 7, 8, 9, 13, 15, 16, 28, 31, 57, 100, 113, 227, 400,
    ];
    for (k, stride) in [(3, 1), (3, 2), (5, 1), (5, 2)] {
        let geom = geom(k, stride);
        for (h, w) in (1..=400).flat_map(|h| widths.map(|w| (h, w))) {
            let o = Shape { n: 1, c: 8, h, w };
            let partials = se_partials(h, w, &geom);
            // Twice the slots under the new rule is the former rule.
            let before = !candidates(o, &geom, 2 * partials).is_empty();
            let now = !candidates(o, &geom, partials).is_empty();
            assert!(now || !before, "{h}x{w} k{k} s{stride}: no tiling left");
        }
    }
}
