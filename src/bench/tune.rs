//! The autotuner behind `effnet tune`: runs each candidate tuning on the tuning shapes,
//! checks its results against the CPU reference (a driver that mishandles, say, subgroup
//! broadcasts must not win by being fast and wrong), and keeps the fastest correct one (sum
//! over shapes of the best of a few runs). Two sweeps: the CPU family's kernel shapes
//! (pointwise channel block, subgroup weights), then the compute units the GPU family sizes
//! its grids for, with its sums by subgroup operations and through workgroup memory where
//! the adapter has subgroups; and on adapters with native f16, the GPU family in f16
//! storage with f16 arithmetic and with f32 (`Tuning::gpu_f16_math`).

use super::cases::{gpu_tuning_set, tuning_set};
use crate::gpu::tuning::GPU_UNIT_CANDIDATES;
use crate::gpu::{Gpu, GpuWeights, Precision, Tuning};
use crate::kernels::gpu::subgroup_reductions;
use crate::kernels::{self, Case, Family};
use crate::reference;
use crate::runtime::Executor;
use crate::{Error, Result};
use serde::Serialize;
use web_time::Instant;

#[derive(Clone, Debug, Serialize)]
pub struct Candidate {
    /// The kernel family the candidate's sweep ran.
    pub family: Family,
    /// What ran (its fields appear inline in JSON).
    #[serde(flatten)]
    pub tuning: Tuning,
    /// The precision the candidate ran in: f16 for the f16-arithmetic sweep.
    pub precision: Precision,
    /// Sum over the tuning shapes of the best run, in milliseconds.
    pub ms: f64,
    /// Every output matched the CPU reference; only such candidates can win.
    pub correct: bool,
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
    let cpu_cases = (Family::Cpu, Precision::F32, tuning_set());
    let mut results = sweep(gpu, runs, &cpu_cases, |t| t.candidates(gpu.subgroup_lanes))?;
    let cpu_best = fastest(&results, Family::Cpu)?;
    let sums = if subgroup_reductions(gpu.subgroup_lanes) {
        vec![true, false]
    } else {
        vec![cpu_best.gpu_subgroup_sums]
    };
    let gpu_cases = (Family::Gpu, Precision::F32, gpu_tuning_set());
    let gpu_runs = sweep(gpu, runs, &gpu_cases, |_| {
        (sums.iter())
            .flat_map(|&gpu_subgroup_sums| {
                distinct_grids(Tuning {
                    gpu_subgroup_sums,
                    ..cpu_best
                })
            })
            .collect()
    })?;
    results.extend(gpu_runs);
    let gpu_best = fastest(&results, Family::Gpu)?;
    let mut best = Tuning {
        gpu_units: gpu_best.gpu_units,
        gpu_subgroup_sums: gpu_best.gpu_subgroup_sums,
        ..cpu_best
    };
    // f16 arithmetic needs native f16 storage (without it the choice changes no kernel).
    if gpu.native_f16 {
        let f16_cases = (Family::Gpu, Precision::F16, gpu_tuning_set());
        let f16_runs = sweep(gpu, runs, &f16_cases, |_| {
            [true, false]
                .map(|gpu_f16_math| Tuning {
                    gpu_f16_math,
                    ..best
                })
                .to_vec()
        })?;
        let winner = (f16_runs.iter().filter(|c| c.correct)).min_by(|a, b| a.ms.total_cmp(&b.ms));
        best.gpu_f16_math = winner.is_some_and(|c| c.tuning.gpu_f16_math);
        results.extend(f16_runs);
    }
    Ok((best, results))
}

/// The fastest correct candidate of `family`'s sweep.
fn fastest(results: &[Candidate], family: Family) -> Result<Tuning> {
    let best = (results.iter())
        .filter(|c| c.correct && c.family == family && c.precision == Precision::F32)
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

/// Runs `family` on `cases` in `precision` under each of `candidates(gpu.tuning)`.
fn sweep(
    gpu: &Gpu,
    runs: usize,
    (family, precision, cases): &(Family, Precision, Vec<Case>),
    candidates: impl Fn(Tuning) -> Vec<Tuning>,
) -> Result<Vec<Candidate>> {
    let (family, precision) = (*family, *precision);
    let inputs: Vec<Vec<f32>> = (cases.iter())
        .map(|c| vec![0.5f32; c.graph.shapes[0].len()])
        .collect();
    let expected: Vec<Vec<f32>> = (cases.iter().zip(&inputs))
        .map(|(c, x)| reference::run(&c.graph, &c.weights, x).swap_remove(c.graph.logits))
        .collect();
    let mut results = vec![];
    for tuning in candidates(gpu.tuning) {
        let mut g = gpu.clone();
        g.tuning = tuning;
        let (mut total, mut correct) = (0.0, true);
        for ((case, input), expected) in cases.iter().zip(&inputs).zip(&expected) {
            let gw = GpuWeights::new(&g, &case.weights, precision);
            let session = Executor::new(&g, &gw, case.graph.clone(), false, family)?;
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
        results.push(Candidate {
            family,
            tuning,
            precision,
            ms: total,
            correct,
        });
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::{distinct_grids, matches};
    use crate::gpu::{Precision, Tuning};

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
