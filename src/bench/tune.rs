//! The autotuner behind `effnet tune`: times each pointwise tile candidate on the tuning
//! shapes and keeps the fastest (sum over shapes of the best of a few runs).

use super::cases::tuning_set;
use crate::Result;
use crate::gpu::{Gpu, GpuWeights, Precision, Tuning};
use crate::graph::Session;
use serde::Serialize;
use std::time::Instant;

#[derive(Clone, Debug, Serialize)]
pub struct Candidate {
    pub pointwise_co: u32,
    pub subgroups: bool,
    /// Sum over the tuning shapes of the best run, in milliseconds.
    pub ms: f64,
}

/// Times every candidate on `gpu`; returns the winner and all timings.
pub fn tune(gpu: &Gpu, runs: usize) -> Result<(Tuning, Vec<Candidate>)> {
    let cases = tuning_set();
    let mut results = vec![];
    for tuning in Tuning::candidates(gpu.subgroup_lanes) {
        let mut g = gpu.clone();
        g.tuning = tuning;
        let mut total = 0.0;
        for case in &cases {
            let gw = GpuWeights::new(&g, &case.weights, Precision::F32);
            let session = Session::new(&g, &gw, &case.se, case.graph.clone(), false)?;
            let input = vec![0.5f32; case.graph.shapes[0].len()];
            // Warm-up (pipeline creation and first-use costs), checked for device errors so a
            // candidate the driver rejects fails instead of timing nothing.
            g.scoped("a tuning run", || session.run(&input))?;
            let mut best = f64::INFINITY;
            for _ in 0..runs.max(1) {
                let t = Instant::now();
                session.run(&input)?;
                best = best.min(t.elapsed().as_secs_f64() * 1e3);
            }
            total += best;
        }
        results.push(Candidate {
            pointwise_co: tuning.pointwise_co,
            subgroups: tuning.subgroups,
            ms: total,
        });
    }
    let best = results
        .iter()
        .min_by(|a, b| a.ms.total_cmp(&b.ms))
        .expect("candidates");
    Ok((
        Tuning {
            pointwise_co: best.pointwise_co,
            subgroups: best.subgroups,
        },
        results,
    ))
}
