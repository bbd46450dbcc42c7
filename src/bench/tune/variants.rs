//! The tuner's last sweep: every kernel variant of `kernels::candidates` against its
//! family's main kernel for the op (`Tuning::variants`), so a new variant is timed and
//! checked by adding its entry there.

use super::{Candidate, sweep};
use crate::Result;
use crate::bench::cases::{all, gpu_tuning_set, tuning_set};
use crate::gpu::{Gpu, Precision, Tuning};
use crate::kernels::candidates::{self, CANDIDATES, Choice};
use crate::kernels::{Case, Family, Kernel, Layout, OpKind};

/// Times each kernel variant of `candidates::CANDIDATES` against its family's main kernel
/// for the op, under `best`, on the op's tuning shapes the variant takes (else the first
/// three of its real-shape cases it takes), in f32, or in f16 for variants that run only
/// there (tensor cores: `variant_precision`); returns `best` with, per op and family, the
/// variant that beat the main kernel by the largest ratio picked (or the main kernel). A
/// variant that takes no shape on this adapter is listed as skipped, with why.
pub(super) fn pick_variants(
    gpu: &Gpu,
    runs: usize,
    mut best: Tuning,
) -> Result<(Tuning, Vec<Candidate>)> {
    let mut results = vec![];
    let mut ratios: Vec<(Kernel, f64)> = vec![];
    // The NHWC kernels are a session's choice, not an op's: `sweep_layouts` times them.
    let per_op = |c: &&candidates::Candidate| c.layouts.contains(&Layout::Nchw);
    for variant in (CANDIDATES.iter().filter(per_op)).filter(|c| !c.kernel.variant.is_empty()) {
        let k = variant.kernel;
        let Some((precision, cases)) = variant_precision(gpu, variant, best) else {
            results.push(skipped(gpu, k, best));
            continue;
        };
        let main = Kernel { variant: "", ..k };
        let pair = vec![(best, Choice::Kernel(main)), (best, Choice::Kernel(k))];
        let timed = sweep(gpu, runs, (precision, &cases), pair)?;
        if timed.iter().all(|c| c.correct) {
            ratios.push((k, timed[1].ms / timed[0].ms));
        } else if timed[0].correct {
            ratios.push((main, 1.0));
        }
        results.extend(timed);
    }
    for (k, ratio) in &ratios {
        let op_family = |o: &&(Kernel, f64)| o.0.op == k.op && o.0.family == k.family;
        let winner = (ratios.iter().filter(op_family)).min_by(|a, b| a.1.total_cmp(&b.1));
        if winner.is_some_and(|w| w.0 == *k) {
            let pick = if *ratio < 1.0 {
                *k
            } else {
                Kernel { variant: "", ..*k }
            };
            best.variants = best.variants.with(pick);
        }
    }
    Ok((best, results))
}

/// The precision a variant is timed in and its shapes there: f32 where it takes shapes
/// in f32, else f16 (native f16 storage, where the tensor-core kernels run:
/// `Gpu::session_tuning`); `None` where it takes none in either.
pub(super) fn variant_precision(
    gpu: &Gpu,
    variant: &candidates::Candidate,
    best: Tuning,
) -> Option<(Precision, Vec<Case>)> {
    let mut g = gpu.clone();
    g.tuning = best;
    [Precision::F32, Precision::F16]
        .into_iter()
        .map(|p| (p, variant_cases(variant, &g.session_tuning(p))))
        .find(|(_, cases)| !cases.is_empty())
}

/// The entry of variant `k` that took no shape on this adapter, with why.
pub(super) fn skipped(gpu: &Gpu, k: Kernel, tuning: Tuning) -> Candidate {
    let why = match &gpu.coop_f16 {
        Err(why) if k.cooperative_matrix() => why.clone(),
        _ => "it takes none of its op's shapes on this adapter".into(),
    };
    Candidate {
        family: k.family,
        kernel: Some(k.to_string()),
        tuning,
        precision: Precision::F32,
        ms: 0.0,
        correct: false,
        skipped: Some(why),
    }
}

/// The shapes a variant is timed on: its family's tuning shapes of its op that it takes,
/// else the first three real-shape cases of its op that it takes.
fn variant_cases(variant: &candidates::Candidate, tuning: &Tuning) -> Vec<Case> {
    let takes = |c: &Case| {
        let op = &c.graph.ops[0];
        OpKind::of(op) == variant.kernel.op && (variant.describe)(&c.graph, op, tuning).is_some()
    };
    let tuning_shapes = match variant.kernel.family {
        Family::Gpu => gpu_tuning_set(),
        _ => tuning_set(),
    };
    let mut cases: Vec<Case> = tuning_shapes.into_iter().filter(takes).collect();
    if cases.is_empty() {
        cases = (all().into_iter()).filter(takes).take(3).collect();
    }
    cases
}
