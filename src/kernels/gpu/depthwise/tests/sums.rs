//! The depthwise kernel's SE sums, slot by slot: the SE gate after them (tests.rs) would
//! hide a small error in one slot.

use super::super::ONLY;
use super::{ODD, PATHS, Tail, allowed};
use crate::gpu::{Gpu, GpuWeights, Precision};
use crate::kernels::case::Case;
use crate::kernels::{Family, check};
use crate::model::rule::rule_input;
use crate::reference;
use crate::runtime::Executor;

/// Each plane's SE slots add up to its total in the reference, in every tiling, with the
/// sums across a plane's lanes by subgroup operations and through workgroup memory; over
/// the cases, planes of 1 to 256 lanes (below, at and above any subgroup size).
#[test]
fn se_sums_add_up_to_the_reference_totals() {
    let Some(mut gpu) = check::gpu() else { return };
    let mut lanes_per_plane = vec![];
    for (lanes, variant) in check::subgroup_variants(&gpu) {
        gpu.subgroup_lanes = lanes;
        for only in PATHS {
            ONLY.set(only);
            for case in allowed(&ODD, Tail::Sums, only) {
                lanes_per_plane.push(sums_match(&gpu, &case, variant));
            }
        }
    }
    ONLY.set(|_| true);
    check::lanes_cover(&lanes_per_plane);
    assert!(lanes_per_plane.contains(&128), "{lanes_per_plane:?}");
}

/// Compares `case`'s per-plane totals with the reference's; returns its lanes per plane.
fn sums_match(gpu: &Gpu, case: &Case, variant: &str) -> u32 {
    let g = &case.graph;
    let d = crate::kernels::describe(g, &g.ops[0], &gpu.tuning, Family::Gpu);
    assert_eq!(d.kernel().family(), Family::Gpu, "{}", case.name);
    let input = rule_input(&g.shapes[g.input].dims());
    let expected = reference::run(g, &case.weights, &input).swap_remove(g.logits);
    let weights = GpuWeights::new(gpu, &case.weights, Precision::F32);
    let run = Executor::new(gpu, &weights, g.clone(), false, Family::Gpu);
    let ours = run.unwrap().run(&input).unwrap().logits;
    let partials = g.shapes[g.logits].w;
    let totals = |v: &[f32]| -> Vec<f64> {
        let sum = |p: &[f32]| p.iter().map(|&x| x as f64).sum();
        v.chunks(partials).map(sum).collect()
    };
    let (ours, expected) = (totals(&ours), totals(&expected));
    let rms = (expected.iter().map(|v| v * v).sum::<f64>() / expected.len() as f64).sqrt();
    // check.rs's tolerance (1e-4 of the RMS): f32 sums of up to a few thousand outputs
    // stay within ~1e-6 of it.
    let tol = 1e-4 * rms.max(1e-3);
    for (i, (a, b)) in ours.iter().zip(&expected).enumerate() {
        assert!(
            (a - b).abs() <= tol,
            "{} {variant} plane {i}: ours {a}, reference {b}, tolerance {tol}",
            case.name
        );
    }
    let lpc = d.constants.iter().find(|(name, _)| *name == "LPC");
    lpc.map_or(0, |&(_, v)| v)
}
