//! The benchmark and profiler behind `effnet bench`: latency percentiles over repeated
//! forward passes, then per-dispatch GPU times from timestamp queries, summed per stage and
//! per kernel kind, with achieved GFLOP/s and GB/s, and a Chrome trace of one pass.

pub mod cases;
pub mod cost;
pub mod tune;

use crate::Result;
use crate::model::rule::rule_input;
use crate::runtime::Profile;
use crate::{LoadedModel, Session, SessionOptions};
use cost::Role;
use serde::Serialize;
use std::time::Instant;

#[derive(Clone, Copy, Debug)]
pub struct BenchOptions {
    pub batch: usize,
    pub height: usize,
    pub width: usize,
    /// Timed forward passes (after `warmup` untimed ones).
    pub iters: usize,
    pub warmup: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct StageTime {
    pub name: String,
    pub gpu_ms: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct KindTime {
    pub kind: Role,
    pub dispatches: usize,
    pub gpu_ms: f64,
    pub gflop_per_s: f64,
    pub gb_per_s: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    pub model: String,
    pub adapter: String,
    pub batch: usize,
    pub height: usize,
    pub width: usize,
    pub precision: String,
    pub iters: usize,
    pub median_ms: f64,
    pub p90_ms: f64,
    pub min_ms: f64,
    pub images_per_s: f64,
    pub dispatches: usize,
    pub pipelines: usize,
    /// Kernel shapes used (from `effnet tune`'s cache, or the defaults).
    pub tuning: crate::gpu::Tuning,
    /// Whether the per-dispatch figures below come from GPU timestamps.
    pub timestamps: bool,
    pub host_encode_submit_ms: f64,
    pub gpu_ms: f64,
    pub gflop_per_pass: f64,
    pub stages: Vec<StageTime>,
    pub kinds: Vec<KindTime>,
}

/// One slice per dispatch of a profiled pass, for `--trace`.
#[derive(Clone, Debug, Serialize)]
pub struct TraceEvent {
    pub name: String,
    pub cat: Role,
    pub ph: &'static str,
    pub ts: f64,
    pub dur: f64,
    pub pid: u32,
    pub tid: u32,
    pub args: serde_json::Value,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Runs the benchmark; returns the report and the trace events of one profiled pass.
pub fn bench(model: &LoadedModel, o: BenchOptions) -> Result<(BenchReport, Vec<TraceEvent>)> {
    let opts = SessionOptions::new(o.batch, o.height, o.width);
    let mut session = model.session(opts)?;
    let input = rule_input(&[o.batch, 3, o.height, o.width]);
    let times = latencies(&mut session, &input, o)?;
    let median_ms = percentile(&times, 0.5);
    let graph = session.graph().clone();
    let costs: Vec<(u64, u64)> = (graph.ops.iter())
        .map(|op| cost::cost(&graph, op))
        .collect();
    let mut report = BenchReport {
        model: model.arch().name.clone(),
        adapter: model.gpu_description(),
        batch: o.batch,
        height: o.height,
        width: o.width,
        precision: format!("{:?}", model.precision()).to_lowercase(),
        iters: times.len(),
        median_ms,
        p90_ms: percentile(&times, 0.9),
        min_ms: times[0],
        images_per_s: o.batch as f64 / (median_ms / 1e3),
        dispatches: session.dispatch_count(),
        pipelines: session.pipeline_count(),
        tuning: model.tuning(),
        timestamps: false,
        host_encode_submit_ms: 0.0,
        gpu_ms: 0.0,
        gflop_per_pass: costs.iter().map(|c| c.0 as f64).sum::<f64>() / 1e9,
        stages: vec![],
        kinds: vec![],
    };
    let Ok(timer) = session.timer() else {
        return Ok((report, vec![]));
    };
    let (ms, last) = profile(
        &mut session,
        &input,
        &timer,
        o.iters.clamp(1, 5),
        &mut report,
    )?;
    summarize(&mut report, &graph, &ms, &costs);
    Ok((report, trace_events(&graph, &last, &costs)))
}

/// Wall-clock milliseconds of `iters` forward passes after `warmup` ones, sorted.
fn latencies(session: &mut Session, input: &[f32], o: BenchOptions) -> Result<Vec<f64>> {
    for _ in 0..o.warmup {
        session.run(input)?;
    }
    let mut times = Vec::with_capacity(o.iters);
    for _ in 0..o.iters.max(1) {
        let t = Instant::now();
        session.run(input)?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok(times)
}

/// Median GPU milliseconds of each dispatch over `runs` profiled passes (and the last pass's
/// profile, for the trace); fills the report's host and GPU totals.
fn profile(
    session: &mut Session,
    input: &[f32],
    timer: &crate::runtime::Timer,
    runs: usize,
    report: &mut BenchReport,
) -> Result<(Vec<f64>, Profile)> {
    let mut per_dispatch: Vec<Vec<f64>> = vec![vec![]; session.dispatch_count()];
    let mut host = vec![];
    let mut last = None;
    for _ in 0..runs {
        let (_, p) = session.run_profiled(input, timer)?;
        host.push(p.host_encode_submit_ns / 1e6);
        for (i, &(s, e)) in p.dispatch_ns.iter().enumerate() {
            per_dispatch[i].push((e - s) / 1e6);
        }
        last = Some(p);
    }
    let ms: Vec<f64> = (per_dispatch.iter_mut())
        .map(|v| {
            v.sort_by(f64::total_cmp);
            percentile(v, 0.5)
        })
        .collect();
    host.sort_by(f64::total_cmp);
    report.timestamps = true;
    report.host_encode_submit_ms = percentile(&host, 0.5);
    report.gpu_ms = ms.iter().sum();
    Ok((ms, last.expect("at least one profiled run")))
}

/// One complete ("X") slice per dispatch of a profiled pass.
fn trace_events(graph: &crate::graph::Graph, p: &Profile, costs: &[(u64, u64)]) -> Vec<TraceEvent> {
    let roles = cost::roles(graph);
    let stage_of = cost::stages(graph);
    (p.dispatch_ns.iter().enumerate())
        .map(|(i, &(s, e))| TraceEvent {
            name: format!("{:?} #{i}", roles[i]),
            cat: roles[i],
            ph: "X",
            ts: s / 1e3,
            dur: (e - s) / 1e3,
            pid: 1,
            tid: 1,
            args: serde_json::json!({
                "stage": graph.stages[stage_of[i]].name,
                "flop": costs[i].0,
                "bytes": costs[i].1,
            }),
        })
        .collect()
}

/// Fills the per-stage and per-kind tables from per-dispatch milliseconds.
fn summarize(r: &mut BenchReport, g: &crate::graph::Graph, ms: &[f64], costs: &[(u64, u64)]) {
    let roles = cost::roles(g);
    let stage_of = cost::stages(g);
    r.stages = g
        .stages
        .iter()
        .map(|s| StageTime {
            name: s.name.clone(),
            gpu_ms: 0.0,
        })
        .collect();
    for (i, &t) in ms.iter().enumerate() {
        r.stages[stage_of[i]].gpu_ms += t;
    }
    let mut kinds: Vec<Role> = roles.clone();
    kinds.sort();
    kinds.dedup();
    r.kinds = kinds
        .into_iter()
        .map(|kind| {
            let idx: Vec<usize> = (0..ms.len()).filter(|&i| roles[i] == kind).collect();
            let t: f64 = idx.iter().map(|&i| ms[i]).sum();
            let flop: f64 = idx.iter().map(|&i| costs[i].0 as f64).sum();
            let bytes: f64 = idx.iter().map(|&i| costs[i].1 as f64).sum();
            let per_s = |x: f64| if t > 0.0 { x / (t / 1e3) / 1e9 } else { 0.0 };
            KindTime {
                kind,
                dispatches: idx.len(),
                gpu_ms: t,
                gflop_per_s: per_s(flop),
                gb_per_s: per_s(bytes),
            }
        })
        .collect();
}

/// The Chrome trace-event JSON document (opens in Perfetto and chrome://tracing).
pub fn trace_json(events: &[TraceEvent]) -> serde_json::Value {
    serde_json::json!({ "traceEvents": events, "displayTimeUnit": "ms" })
}
