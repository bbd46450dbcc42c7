//! The autotuner behind `effnet tune`: runs each candidate tuning on the tuning shapes,
//! checks its results against the CPU reference (a driver that mishandles, say, subgroup
//! broadcasts must not win by being fast and wrong), and keeps the fastest correct one (sum
//! over shapes of the best of a few runs).

use super::cases::tuning_set;
use crate::gpu::{Gpu, GpuWeights, Precision, Tuning};
use crate::reference;
use crate::runtime::Executor;
use crate::{Error, Result};
use serde::Serialize;
use web_time::Instant;

#[derive(Clone, Debug, Serialize)]
pub struct Candidate {
    pub pointwise_co: u32,
    pub subgroups: bool,
    /// Sum over the tuning shapes of the best run, in milliseconds.
    pub ms: f64,
    /// Every output matched the CPU reference; only such candidates can win.
    pub correct: bool,
}

/// Off by more than this fraction of the output's RMS counts as wrong. f32 kernels land
/// within ~1e-6 of the f64 reference on these shapes (tests/kernels.rs holds them to 1e-4);
/// 1e-3 only has to tell broken results from right ones.
const TOLERANCE: f64 = 1e-3;

fn matches(ours: &[f32], reference: &[f32]) -> bool {
    let rms = (reference.iter().map(|&v| (v as f64).powi(2)).sum::<f64>()
        / reference.len().max(1) as f64)
        .sqrt();
    let tol = TOLERANCE * rms.max(1e-6);
    ours.len() == reference.len()
        && ours
            .iter()
            .zip(reference)
            .all(|(&a, &b)| ((a - b) as f64).abs() <= tol)
}

/// Times every candidate on `gpu`; returns the fastest correct one and all timings.
pub fn tune(gpu: &Gpu, runs: usize) -> Result<(Tuning, Vec<Candidate>)> {
    let cases = tuning_set();
    let inputs: Vec<Vec<f32>> = (cases.iter())
        .map(|c| vec![0.5f32; c.graph.shapes[0].len()])
        .collect();
    let expected: Vec<Vec<f32>> = (cases.iter().zip(&inputs))
        .map(|(c, x)| reference::run(&c.graph, &c.weights, x).swap_remove(c.graph.logits))
        .collect();
    let mut results = vec![];
    for tuning in Tuning::candidates(gpu.subgroup_lanes) {
        let mut g = gpu.clone();
        g.tuning = tuning;
        let (mut total, mut correct) = (0.0, true);
        for ((case, input), expected) in cases.iter().zip(&inputs).zip(&expected) {
            let gw = GpuWeights::new(&g, &case.weights, Precision::F32);
            let session = Executor::new(&g, &gw, case.graph.clone(), false)?;
            // Warm-up (pipeline creation and first-use costs), checked for device errors so a
            // candidate the driver rejects fails instead of timing nothing.
            let out = g.scoped("a tuning run", || session.run(input))?;
            correct &= matches(&out.logits, expected);
            let mut best = f64::INFINITY;
            for _ in 0..runs.max(1) {
                let t = Instant::now();
                session.run(input)?;
                best = best.min(t.elapsed().as_secs_f64() * 1e3);
            }
            total += best;
        }
        results.push(Candidate {
            pointwise_co: tuning.pointwise_co,
            subgroups: tuning.subgroups,
            ms: total,
            correct,
        });
    }
    let best = (results.iter().filter(|c| c.correct))
        .min_by(|a, b| a.ms.total_cmp(&b.ms))
        .ok_or_else(|| Error::Gpu("no kernel shape gave correct results on this adapter".into()))?;
    Ok((
        Tuning {
            pointwise_co: best.pointwise_co,
            subgroups: best.subgroups,
        },
        results,
    ))
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn a_wrong_value_fails_the_reference_check() {
        let reference = [1.0f32, -2.0, 3.0, 0.5];
        let mut ours = reference;
        assert!(matches(&ours, &reference));
        // 1% of the RMS (~1.9) off: far outside TOLERANCE.
        ours[2] += 0.02;
        assert!(!matches(&ours, &reference), "{ours:?} vs {reference:?}");
        assert!(
            !matches(&ours[..3], &reference),
            "a short output never matches"
        );
    }
}
