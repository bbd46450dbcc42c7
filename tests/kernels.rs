//! Every kernel against the CPU reference, on small networks with awkward shapes.

mod common;

use effnet::Family;
use effnet::gpu::{Gpu, GpuWeights, Precision};
use effnet::kernels::lower;
use effnet::model::rule::{RuleSource, rule_input};
use effnet::model::{Activation, Arch, Padding, load_weights};
use effnet::reference;
use effnet::runtime::Executor;

/// f32 GPU arithmetic vs the f64-accumulating reference over a few hundred terms: relative
/// error stays near 1e-6; 1e-4 of the tensor's RMS leaves room for exp() in SiLU/sigmoid
/// differing by a few ULP between drivers, and is still 10× tighter than the golden tolerance.
const TOL_RMS: f64 = 1e-4;

fn check(padding: Padding, act: Activation, n: usize, h: usize, w: usize) {
    check_arch(common::tiny_arch(padding, act), n, h, w);
}

fn check_arch(arch: Arch, n: usize, h: usize, w: usize) {
    let Some(mut gpu) = common::gpu() else { return };
    // Every tile shape and weight path the tuner may pick must be correct, whichever one a
    // cache holds (they shape the CPU family's kernels).
    let adapter = gpu.tuning;
    for tuning in adapter.candidates(gpu.subgroup_lanes) {
        gpu.tuning = tuning;
        check_on(&gpu, Family::Cpu, &arch, (n, h, w));
    }
    // And the GPU family's kernels on the same networks, with grids for a small and a big
    // GPU (every `gpu_units` the tuner may pick sizes tiles between theirs), then mixed op by
    // op with the CPU family's as `Auto` mixes them (GPU-family SE reading CPU-family
    // depthwise sums).
    for tuning in adapter.gpu_family_checks() {
        gpu.tuning = tuning;
        check_on(&gpu, Family::Gpu, &arch, (n, h, w));
    }
    // Also as adapters without subgroups run it (its sums through workgroup memory).
    if gpu.subgroup_lanes > 0 {
        let lanes = gpu.subgroup_lanes;
        gpu.subgroup_lanes = 0;
        check_on(&gpu, Family::Gpu, &arch, (n, h, w));
        gpu.subgroup_lanes = lanes;
    }
    gpu.tuning = adapter;
    check_on(&gpu, Family::Auto, &arch, (n, h, w));
}

fn check_on(gpu: &Gpu, family: Family, arch: &Arch, (n, h, w): (usize, usize, usize)) {
    let (padding, act) = (arch.padding, arch.stem.act);
    let weights = load_weights(arch, &mut RuleSource).unwrap();
    let graph = lower(arch, n, h, w).unwrap();
    let input = rule_input(&[n, 3, h, w]);
    let expected = reference::run(&graph, &weights, &input);
    let gw = GpuWeights::new(gpu, &weights, Precision::F32);
    let session = Executor::new(gpu, &gw, graph.clone(), true, family).unwrap();
    let out = session.run(&input).unwrap();
    let mut checked = vec![(graph.logits, out.logits.clone(), "logits".to_string())];
    for s in &out.stages {
        let t = graph
            .stages
            .iter()
            .find(|g| g.name == s.name)
            .unwrap()
            .tensor;
        checked.push((t, s.data.clone(), s.name.clone()));
    }
    assert_eq!(
        checked.len(),
        graph.stages.len() + 1,
        "every stage read back"
    );
    for (t, ours, name) in checked {
        let reference = &expected[t];
        assert_eq!(ours.len(), reference.len(), "{name}: length");
        let rms = (reference.iter().map(|&v| (v as f64).powi(2)).sum::<f64>()
            / reference.len() as f64)
            .sqrt();
        let tol = TOL_RMS * rms.max(1e-3);
        for (i, (&a, &b)) in ours.iter().zip(reference).enumerate() {
            assert!(
                ((a - b) as f64).abs() <= tol,
                "{padding:?} {act:?} {:?} {:?} {n}x3x{h}x{w} {name}[{i}]: ours {a}, reference {b}, tolerance {tol}",
                family,
                gpu.tuning
            );
        }
    }
}

#[test]
fn same_padding_silu_odd_sizes() {
    check(Padding::Same, Activation::Silu, 1, 17, 13);
}

#[test]
fn symmetric_padding_relu6_batch_two() {
    check(Padding::Symmetric, Activation::Relu6, 2, 15, 21);
}

#[test]
fn width_one() {
    check(Padding::Same, Activation::Silu, 1, 9, 1);
}

#[test]
fn height_one_symmetric() {
    check(Padding::Symmetric, Activation::Silu, 2, 1, 11);
}

#[test]
fn larger_planes_use_many_tiles() {
    // 70×70 output planes after the stem: several depthwise tiles and GEMM tiles per channel.
    check(Padding::Same, Activation::Silu, 1, 139, 141);
}

#[test]
fn kernel_sizes_off_the_fast_path() {
    // k = 7 and stride 3 take the kernels' generic row loop instead of the k ∈ {3, 5},
    // stride ∈ {1, 2} straight-line code; both must agree with the reference.
    let mut arch = common::tiny_arch(Padding::Same, Activation::Silu);
    arch.stem.k = 7;
    arch.stem.stride = 3;
    let dw = arch.stages[0].blocks[0].depthwise.as_mut().unwrap();
    dw.k = 7;
    check_arch(arch, 1, 23, 19);
}
