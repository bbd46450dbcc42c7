//! The autotuner behind `effnet tune`: runs each candidate tuning on the tuning shapes,
//! checks its results against the CPU reference (a driver that mishandles, say, subgroup
//! broadcasts must not win by being fast and wrong), and keeps the fastest correct one (sum
//! over shapes of the best of a few runs). Two sweeps: the CPU family's kernel shapes
//! (pointwise channel block, subgroup weights), then the compute units the GPU family sizes
//! its grids for, with its sums by subgroup operations and through workgroup memory where
//! the adapter has subgroups; on adapters with native f16, the GPU family in f16 storage
//! with f16 arithmetic and with f32 (`Tuning::gpu_f16_math`); the GPU family with MBConv
//! expansions fused into their depthwise convs and apart (`Tuning::gpu_fused_blocks`), and
//! with fused-MBConv convs fused into their projections and apart
//! (`Tuning::gpu_fused_convs`); the GPU family's sessions with activations channel planes
//! and channels last (`Tuning::gpu_layout`); last,
//! every kernel variant of
//! `kernels::candidates` against its family's main kernel (`Tuning::variants`), so a new
//! variant is timed and checked by adding its entry there (in f16 where it runs only there,
//! as the tensor-core kernels do; listed as skipped, with why, where it takes no shape).

mod variants;

use super::cases::{fused_conv_tuning_set, fused_tuning_set, gpu_tuning_set, tuning_set};
use crate::gpu::tuning::GPU_UNIT_CANDIDATES;
use crate::gpu::{Gpu, GpuWeights, Precision, Tuning};
use crate::kernels::candidates::Choice;
use crate::kernels::gpu::subgroup_reductions;
use crate::kernels::{self, Case, Family, Layout};
use crate::reference;
use crate::runtime::Executor;
use crate::{Error, Result};
use serde::Serialize;
use variants::pick_variants;
use web_time::Instant;

#[derive(Clone, Debug, Serialize)]
pub struct Candidate {
    /// The kernel family the candidate's sweep ran.
    pub family: Family,
    /// The kernel timed (`family/op/variant` or `family/op` for a main kernel), for the
    /// variant sweep; absent for the tuning sweeps, which run the family's kernels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    /// What ran (its fields appear inline in JSON).
    #[serde(flatten)]
    pub tuning: Tuning,
    /// The precision the candidate ran in: f16 for the f16-arithmetic sweep.
    pub precision: Precision,
    /// Sum over the tuning shapes of the best run, in milliseconds.
    pub ms: f64,
    /// Every output matched the CPU reference; only such candidates can win.
    pub correct: bool,
    /// Why a kernel variant did not run at all on this adapter (then `ms` is 0 and
    /// `correct` false): it takes none of its op's shapes here, e.g. a tensor-core kernel
    /// on an adapter without cooperative matrices.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// Off by more than this fraction of the output's RMS counts as wrong. f32 kernels land
/// within ~1e-6 of the f64 reference on these shapes (tests/kernels.rs holds them to 1e-4);
/// 1e-3 only has to tell broken results from right ones.
const TOLERANCE: f64 = 1e-3;
/// The same for f16 storage and arithmetic, which the kernel tests hold to 2e-2 of the RMS
/// plus 2^-10 of each value (`check::TOL_F16_MATH`); 5e-2, the goldens' per-stage f16
/// tolerance, still fails a broken kernel.
const TOLERANCE_F16: f64 = 5e-2;

fn matches(ours: &[f32], reference: &[f32], precision: Precision) -> bool {
    let tolerance = match precision {
        Precision::F32 => TOLERANCE,
        Precision::F16 => TOLERANCE_F16,
    };
    let rms = (reference.iter().map(|&v| (v as f64).powi(2)).sum::<f64>()
        / reference.len().max(1) as f64)
        .sqrt();
    let tol = tolerance * rms.max(1e-6);
    ours.len() == reference.len()
        && ours
            .iter()
            .zip(reference)
            .all(|(&a, &b)| ((a - b) as f64).abs() <= tol)
}

/// Times every candidate on `gpu`; returns the fastest correct one and all timings.
pub fn tune(gpu: &Gpu, runs: usize) -> Result<(Tuning, Vec<Candidate>)> {
    let family = |f: Family| move |t: Tuning| (t, Choice::Family(f));
    let cpu_cases = tuning_set();
    let cpu_runs = gpu.tuning.candidates(gpu.subgroup_lanes);
    let cpu_runs = cpu_runs.into_iter().map(family(Family::Cpu)).collect();
    let mut results = sweep(gpu, runs, (Precision::F32, &cpu_cases), cpu_runs)?;
    let cpu_best = fastest(&results, Family::Cpu)?;
    let sums = if subgroup_reductions(gpu.subgroup_lanes) {
        vec![true, false]
    } else {
        vec![cpu_best.gpu_subgroup_sums]
    };
    let grids = (sums.iter()).flat_map(|&gpu_subgroup_sums| {
        distinct_grids(Tuning {
            gpu_subgroup_sums,
            ..cpu_best
        })
    });
    let gpu_runs = grids.map(family(Family::Gpu)).collect();
    results.extend(sweep(
        gpu,
        runs,
        (Precision::F32, &gpu_tuning_set()),
        gpu_runs,
    )?);
    let gpu_best = fastest(&results, Family::Gpu)?;
    let mut best = Tuning {
        gpu_units: gpu_best.gpu_units,
        gpu_subgroup_sums: gpu_best.gpu_subgroup_sums,
        ..cpu_best
    };
    // f16 arithmetic needs native f16 storage (without it the choice changes no kernel).
    if gpu.native_f16 {
        let f16_runs = [true, false].map(|gpu_f16_math| Tuning {
            gpu_f16_math,
            ..best
        });
        let f16_runs = f16_runs.into_iter().map(family(Family::Gpu)).collect();
        let f16_runs = sweep(gpu, runs, (Precision::F16, &gpu_tuning_set()), f16_runs)?;
        let winner = (f16_runs.iter().filter(|c| c.correct)).min_by(|a, b| a.ms.total_cmp(&b.ms));
        best.gpu_f16_math = winner.is_some_and(|c| c.tuning.gpu_f16_math);
        results.extend(f16_runs);
    }
    let blocks = |t: Tuning, gpu_fused_blocks| Tuning {
        gpu_fused_blocks,
        ..t
    };
    best = fused_or_apart(gpu, runs, (best, blocks), &fused_tuning_set(), &mut results)?;
    let convs = |t: Tuning, gpu_fused_convs| Tuning {
        gpu_fused_convs,
        ..t
    };
    best = fused_or_apart(
        gpu,
        runs,
        (best, convs),
        &fused_conv_tuning_set(),
        &mut results,
    )?;
    let layout_runs = sweep_layouts(gpu, runs, &mut best)?;
    results.extend(layout_runs);
    let (best, variant_runs) = pick_variants(gpu, runs, best)?;
    results.extend(variant_runs);
    Ok((best, results))
}

/// `best` with one fusion (`fused(t, true)`) or without it, whichever ran `cases` faster
/// in the GPU family and correct (fused where neither was); the timings go to `results`.
fn fused_or_apart(
    gpu: &Gpu,
    runs: usize,
    (best, fused): (Tuning, fn(Tuning, bool) -> Tuning),
    cases: &[Case],
    results: &mut Vec<Candidate>,
) -> Result<Tuning> {
    let both = [true, false].map(|on| (fused(best, on), Choice::Family(Family::Gpu)));
    let timed = sweep(gpu, runs, (Precision::F32, cases), both.to_vec())?;
    let winner = (timed.iter().filter(|c| c.correct)).min_by(|a, b| a.ms.total_cmp(&b.ms));
    // Which of the two a candidate is: the one whose tuning the fused one's equals.
    let on = winner.is_none_or(|c| c.tuning == fused(best, true));
    results.extend(timed);
    Ok(fused(best, on))
}

/// Times GPU-family sessions under `best` in each activation layout (`Tuning::gpu_layout`)
/// on its tuning shapes and the fused ones (which NCHW sessions fuse and NHWC ones run
/// apart), and sets `best`'s to the fastest correct one (NCHW where none is).
fn sweep_layouts(gpu: &Gpu, runs: usize, best: &mut Tuning) -> Result<Vec<Candidate>> {
    let layouts = [Layout::Nchw, Layout::Nhwc].map(|gpu_layout| Tuning {
        gpu_layout,
        ..*best
    });
    let layouts = (layouts.into_iter())
        .map(|t| (t, Choice::Family(Family::Gpu)))
        .collect();
    let cases: Vec<Case> = gpu_tuning_set()
        .into_iter()
        .chain(fused_tuning_set())
        .collect();
    let timed = sweep(gpu, runs, (Precision::F32, &cases), layouts)?;
    let winner = (timed.iter().filter(|c| c.correct)).min_by(|a, b| a.ms.total_cmp(&b.ms));
    best.gpu_layout = winner.map_or(Layout::Nchw, |c| c.tuning.gpu_layout);
    Ok(timed)
}

/// The fastest correct candidate of `family`'s sweep.
fn fastest(results: &[Candidate], family: Family) -> Result<Tuning> {
    let best = (results.iter())
        .filter(|c| c.correct && c.family == family && c.precision == Precision::F32)
        .filter(|c| c.kernel.is_none())
        .min_by(|a, b| a.ms.total_cmp(&b.ms))
        .ok_or_else(|| {
            Error::Gpu(format!(
                "no {family:?}-family kernel shape gave correct results on this adapter"
            ))
        })?;
    Ok(best.tuning)
}

/// `base` with each of `GPU_UNIT_CANDIDATES`, keeping only the first of those that give
/// every GPU-tuning shape the same grids and tiles (timing them again would measure noise).
fn distinct_grids(base: Tuning) -> Vec<Tuning> {
    let cases = gpu_tuning_set();
    let mut seen = vec![];
    let mut out = vec![];
    for gpu_units in GPU_UNIT_CANDIDATES {
        let t = Tuning { gpu_units, ..base };
        let shapes: Vec<_> = (cases.iter())
            .map(|c| {
                let d = kernels::describe(&c.graph, &c.graph.ops[0], &t, Family::Gpu);
                (d.constants, d.workgroups)
            })
            .collect();
        if !seen.contains(&shapes) {
            seen.push(shapes);
            out.push(t);
        }
    }
    out
}

/// Runs `cases` in `precision` under each `(tuning, choice)` of `runs_of`.
fn sweep(
    gpu: &Gpu,
    runs: usize,
    (precision, cases): (Precision, &[Case]),
    runs_of: Vec<(Tuning, Choice)>,
) -> Result<Vec<Candidate>> {
    let inputs: Vec<Vec<f32>> = (cases.iter())
        .map(|c| vec![0.5f32; c.graph.shapes[0].len()])
        .collect();
    let expected: Vec<Vec<f32>> = (cases.iter().zip(&inputs))
        .map(|(c, x)| reference::run(&c.graph, &c.weights, x).swap_remove(c.graph.logits))
        .collect();
    let mut results = vec![];
    for (tuning, choice) in runs_of {
        let mut g = gpu.clone();
        g.tuning = tuning;
        let (mut total, mut correct) = (0.0, true);
        for ((case, input), expected) in cases.iter().zip(&inputs).zip(&expected) {
            let gw = GpuWeights::new(&g, &case.weights, precision);
            let session = Executor::new(&g, &gw, case.graph.clone(), false, choice)?;
            // Warm-up (pipeline creation and first-use costs), checked for device errors so a
            // candidate the driver rejects fails instead of timing nothing.
            let out = g.scoped("a tuning run", || session.run(input))?;
            correct &= matches(&out.logits, expected, precision);
            let mut best = f64::INFINITY;
            for _ in 0..runs.max(1) {
                let t = Instant::now();
                session.run(input)?;
                best = best.min(t.elapsed().as_secs_f64() * 1e3);
            }
            total += best;
        }
        let kernel = match choice {
            Choice::Kernel(k) => Some(k.to_string()),
            Choice::Family(_) => None,
        };
        results.push(Candidate {
            family: choice.family(),
            kernel,
            tuning,
            precision,
            ms: total,
            correct,
            skipped: None,
        });
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::variants::{skipped, variant_precision};
    use super::{distinct_grids, matches};
    use crate::gpu::{Precision, Tuning};
    use crate::kernels::candidates;
    use crate::kernels::gpu::pointwise_coop::KERNEL as COOP;

    /// The tensor-core variant is timed in f16 where the adapter has cooperative matrices;
    /// elsewhere (lavapipe) it takes no shape, and the tuner lists it as skipped with the
    /// adapter's reason (what `effnet tune` prints).
    #[test]
    fn the_tensor_core_variant_runs_in_f16_or_says_why_not() {
        let gpu = match crate::gpu::Gpu::new() {
            Ok(gpu) => gpu,
            Err(e) => return eprintln!("skipping GPU test: {e}"),
        };
        let coop = candidates::find(COOP);
        let timed = variant_precision(&gpu, coop, gpu.tuning).map(|(p, _)| p);
        match &gpu.coop_f16 {
            Ok(()) => assert_eq!(timed, Some(Precision::F16)),
            Err(why) => {
                assert_eq!(timed, None);
                let entry = skipped(&gpu, COOP, gpu.tuning);
                assert_eq!(entry.skipped.as_ref(), Some(why));
                assert!(!entry.correct, "a skipped variant never wins");
            }
        }
    }

    #[test]
    fn a_wrong_value_fails_the_reference_check() {
        let reference = [1.0f32, -2.0, 3.0, 0.5];
        let mut ours = reference;
        let f32 = Precision::F32;
        assert!(matches(&ours, &reference, f32));
        // 1% of the RMS (~1.9) off: far outside TOLERANCE, inside TOLERANCE_F16.
        ours[2] += 0.02;
        assert!(
            !matches(&ours, &reference, f32),
            "{ours:?} vs {reference:?}"
        );
        assert!(matches(&ours, &reference, Precision::F16));
        // 10% of the RMS off: outside TOLERANCE_F16 too.
        ours[2] += 0.18;
        assert!(!matches(&ours, &reference, Precision::F16));
        assert!(
            !matches(&ours[..3], &reference, f32),
            "a short output never matches"
        );
    }

    /// The GPU sweep keeps the ends (one unit: the largest tiles; 528: the smallest) and
    /// drops unit counts that change no grid, so it times each distinct choice once.
    #[test]
    fn the_gpu_sweep_times_each_distinct_grid_once() {
        let units: Vec<u32> = (distinct_grids(Tuning::default()).iter())
            .map(|t| t.gpu_units)
            .collect();
        assert_eq!(units.first(), Some(&1), "{units:?}");
        assert!(units.len() >= 3, "{units:?}");
        assert!(units.windows(2).all(|w| w[0] < w[1]), "{units:?}");
    }
}
