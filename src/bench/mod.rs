//! The benchmark and profiler behind `effnet bench`: latency percentiles over repeated
//! forward passes on input already on the GPU (what PyTorch's timing measures), the same with
//! the host upload and readback, then per-dispatch GPU times from timestamp queries, summed
//! per stage and per kernel kind, with FLOPs, compulsory bytes, achieved GFLOP/s and GB/s and
//! the roofline, and a Chrome trace of one pass.

pub mod cases;
pub mod cost;
pub(crate) mod roofline;
mod roofline_svg;
pub mod tune;

use crate::model::rule::rule_input;
use crate::runtime::Profile;
use crate::{Error, Result};
use crate::{LoadedModel, Session, SessionOptions};
use cost::Role;
pub use roofline::{KindTime, Peak};
use serde::Serialize;
use web_time::Instant;

#[derive(Clone, Copy, Debug)]
pub struct BenchOptions {
    pub batch: usize,
    pub height: usize,
    pub width: usize,
    /// Timed forward passes (after `warmup` untimed ones), for each of the two timings.
    pub iters: usize,
    pub warmup: usize,
    /// The device's peaks, for the roofline figures of each kernel kind.
    pub peak: Option<Peak>,
}

#[derive(Clone, Debug, Serialize)]
pub struct StageTime {
    pub name: String,
    pub gpu_ms: f64,
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
    /// Latency of a forward pass whose input is already on the GPU: submit, then wait for
    /// the GPU; no upload, no readback (as PyTorch's `model(x); synchronize()`).
    pub median_ms: f64,
    pub p90_ms: f64,
    pub min_ms: f64,
    pub images_per_s: f64,
    /// The host's share of that latency, median: the input copy and the submit. The pass's
    /// dispatches were recorded while the GPU ran the pass before (`host_encode_submit_ms`,
    /// measured apart, is that recording: off the critical path of back-to-back passes).
    pub host_submit_ms: f64,
    /// Latency end to end: host upload of the input (converted to the storage precision on
    /// the CPU), the pass, and the readback of the logits (`Session::run`).
    pub with_transfers_median_ms: f64,
    pub with_transfers_p90_ms: f64,
    pub with_transfers_images_per_s: f64,
    pub dispatches: usize,
    pub pipelines: usize,
    /// Kernel shapes used (from `effnet tune`'s cache, or the defaults).
    pub tuning: crate::gpu::Tuning,
    /// The kernel family that ran (`EFFNET_KERNELS`, else the adapter's default).
    pub kernels: crate::kernels::Family,
    /// Whether the per-dispatch figures below come from GPU timestamps.
    pub timestamps: bool,
    pub host_encode_submit_ms: f64,
    pub gpu_ms: f64,
    pub gflop_per_pass: f64,
    /// Compulsory DRAM bytes of a pass, the sum over kernel kinds.
    pub compulsory_bytes: u64,
    /// The peaks given for the roofline (`--peak`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peak: Option<Peak>,
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
    let (resident, host_submit_ms) = resident_latencies(model, &mut session, &input, o)?;
    let transfers = timed(o, || session.run(&input).map(drop))?;
    let graph = session.graph().clone();
    let costs = cost::costs(&graph, model.precision());
    let mut report = BenchReport {
        model: model.arch().name.clone(),
        adapter: model.gpu_description(),
        batch: o.batch,
        height: o.height,
        width: o.width,
        precision: format!("{:?}", model.precision()).to_lowercase(),
        iters: resident.len(),
        median_ms: percentile(&resident, 0.5),
        p90_ms: percentile(&resident, 0.9),
        min_ms: resident[0],
        images_per_s: o.batch as f64 / (percentile(&resident, 0.5) / 1e3),
        host_submit_ms,
        with_transfers_median_ms: percentile(&transfers, 0.5),
        with_transfers_p90_ms: percentile(&transfers, 0.9),
        with_transfers_images_per_s: o.batch as f64 / (percentile(&transfers, 0.5) / 1e3),
        dispatches: session.dispatch_count(),
        pipelines: session.pipeline_count(),
        tuning: model.tuning(),
        kernels: session.kernels(),
        timestamps: false,
        host_encode_submit_ms: 0.0,
        gpu_ms: 0.0,
        gflop_per_pass: costs.iter().map(|c| c.0 as f64).sum::<f64>() / 1e9,
        compulsory_bytes: costs.iter().map(|c| c.1).sum(),
        peak: o.peak,
        stages: vec![],
        kinds: roofline::kinds(&cost::roles(&graph), &costs, None, o.peak),
    };
    let Ok(timer) = session.timer() else {
        return Ok((report, vec![]));
    };
    let runs = o.iters.clamp(1, 5);
    let (ms, last) = profile(&mut session, &input, &timer, runs, &mut report)?;
    summarize(&mut report, &graph, &ms, &costs);
    let labels: Vec<String> = (0..session.dispatch_count())
        .map(|i| session.dispatch_label(i).to_string())
        .collect();
    Ok((report, trace_events(&graph, &last, &costs, &labels)))
}

/// Wall-clock milliseconds of forward passes on input uploaded once to a GPU buffer: each
/// submits the pass (a GPU copy of the input, the dispatches) and waits for the GPU to finish,
/// reading nothing back. The GPU is idle when each timing starts. Also the median host time
/// of a submit (`Session::last_submit_ms`).
fn resident_latencies(
    model: &LoadedModel,
    session: &mut Session,
    input: &[f32],
    o: BenchOptions,
) -> Result<(Vec<f64>, f64)> {
    let device = model.gpu().device.clone();
    let contents = crate::gpu::weights::encode(input, model.precision());
    let buffer = crate::gpu::create_buffer_init(
        &device,
        &wgpu::util::BufferInitDescriptor {
            label: Some("bench input"),
            contents: &contents,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        },
    );
    let wait = || {
        (device.poll(wgpu::PollType::wait_indefinitely()))
            .map(drop)
            .map_err(|e| Error::Gpu(format!("waiting for the GPU failed: {e}")))
    };
    wait()?;
    let mut submits = vec![];
    let times = timed(o, || {
        session.run_on_gpu(&buffer)?;
        submits.push(session.last_submit_ms());
        wait()
    })?;
    let mut submits = submits.split_off(o.warmup.min(submits.len()));
    submits.sort_by(f64::total_cmp);
    Ok((times, percentile(&submits, 0.5)))
}

/// Wall-clock milliseconds of `iters` calls of `pass` after `warmup` untimed ones, sorted.
fn timed(o: BenchOptions, mut pass: impl FnMut() -> Result<()>) -> Result<Vec<f64>> {
    for _ in 0..o.warmup {
        pass()?;
    }
    let mut times = Vec::with_capacity(o.iters.max(1));
    for _ in 0..o.iters.max(1) {
        let t = Instant::now();
        pass()?;
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

/// One complete ("X") slice per dispatch of a profiled pass, named by role and holding
/// its kernel, constants and grid (`labels`).
fn trace_events(
    graph: &crate::graph::Graph,
    p: &Profile,
    costs: &[(u64, u64)],
    labels: &[String],
) -> Vec<TraceEvent> {
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
                "kernel": labels[i],
            }),
        })
        .collect()
}

/// Fills the per-stage and per-kind tables from per-dispatch milliseconds.
fn summarize(r: &mut BenchReport, g: &crate::graph::Graph, ms: &[f64], costs: &[(u64, u64)]) {
    let stage_of = cost::stages(g);
    r.stages = (g.stages.iter())
        .map(|s| StageTime {
            name: s.name.clone(),
            gpu_ms: 0.0,
        })
        .collect();
    for (i, &t) in ms.iter().enumerate() {
        r.stages[stage_of[i]].gpu_ms += t;
    }
    r.kinds = roofline::kinds(&cost::roles(g), costs, Some(ms), r.peak);
}

/// The Chrome trace-event JSON document (opens in Perfetto and chrome://tracing).
/// The report's kernel kinds drawn under `peak`'s ceilings (`effnet bench --roofline`), an
/// SVG document.
pub fn roofline_svg(report: &BenchReport, peak: Peak) -> String {
    let title = format!(
        "{} batch {} at {}x{}, {}, {} kernels",
        report.model,
        report.batch,
        report.height,
        report.width,
        report.precision,
        report.kernels.name()
    );
    roofline_svg::svg(&report.kinds, peak, &title, &report.adapter)
}

pub fn trace_json(events: &[TraceEvent]) -> serde_json::Value {
    serde_json::json!({ "traceEvents": events, "displayTimeUnit": "ms" })
}
