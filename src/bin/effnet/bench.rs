//! `effnet bench`: runs the library's benchmark and prints it as a table or JSON.

use crate::models::AtLeastOne;
use effnet::bench::{BenchOptions, BenchReport, KindTime, Peak, bench, trace_json};
use effnet::gpu::Precision;
use effnet::gpu::tuning::store;
use effnet::kernels::Family;
use effnet::output::{Content, OutputRules};
use effnet::{LoadOptions, Result};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Model name (weights synthesized by the golden rule) or a checkpoint file.
    #[arg(short = 'm', long, default_value = "tf_efficientnet_b0")]
    pub model: String,
    /// Which model a checkpoint file is, when the file does not say (`effnet models`).
    #[arg(long, value_name = "NAME")]
    pub arch: Option<String>,
    /// Run the checkpoint as --arch even where its own metadata or config.json names another
    /// model (whose padding and preprocessing the weights were made with).
    #[arg(long, requires = "arch")]
    pub force_arch: bool,
    /// Images per forward pass.
    #[arg(short = 'b', long, default_value_t = 1, value_parser = AtLeastOne)]
    pub batch: usize,
    /// Input resolution (square); defaults to the model's evaluation resolution.
    #[arg(long, value_parser = AtLeastOne)]
    pub res: Option<usize>,
    /// Storage precision of weights and activations: f32 or f16 (arithmetic is f32).
    #[arg(long, default_value = "f32", value_parser = ["f32", "f16"])]
    pub precision: String,
    /// Timed iterations after the warm-up.
    #[arg(long, default_value_t = 20, value_parser = AtLeastOne)]
    pub iters: usize,
    /// Untimed forward passes before timing (pipeline warm-up, clocks).
    #[arg(long, default_value_t = 3)]
    pub warmup: usize,
    /// Write a Chrome trace-event JSON (Perfetto) with one slice per dispatch.
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Replace the --trace or --roofline file even when it exists and holds something else.
    #[arg(long)]
    pub force: bool,
    /// The device's peak GFLOP/s and GB/s (e.g. 67000,4800 for an H200's FP32 and HBM3e): each
    /// kernel kind then reports its roofline bound, min(GFLOPS, intensity × GBPS) with
    /// intensity its FLOPs over its compulsory DRAM bytes, and the fraction of it reached.
    #[arg(long, value_name = "GFLOPS,GBPS", value_parser = clap::value_parser!(Peak))]
    pub peak: Option<Peak>,
    /// Draw the roofline to this SVG file: each kernel kind a point at its FLOP per
    /// compulsory byte and achieved GFLOP/s, under the --peak ceilings.
    #[arg(long, value_name = "FILE.svg", requires = "peak")]
    pub roofline: Option<PathBuf>,
    /// One JSON object with every figure.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct TuneArgs {
    /// Timed runs per candidate and shape (the best counts).
    #[arg(long, default_value_t = 5, value_parser = AtLeastOne)]
    pub runs: usize,
    /// Print the timings without writing the cache.
    #[arg(long)]
    pub dry_run: bool,
    /// One JSON object: adapter, best candidate, every candidate's time and correctness, and
    /// the cache file written.
    #[arg(long)]
    pub json: bool,
}

pub fn tune(a: TuneArgs, gpu: &crate::GpuArgs) -> Result<ExitCode> {
    let engine = gpu.open()?;
    let gpu = engine.gpu();
    note!(
        "adapter: {} (current tuning {:?})",
        gpu.describe(),
        gpu.tuning
    );
    let (best, candidates) = effnet::bench::tune::tune(gpu, a.runs)?;
    let saved = if a.dry_run {
        None
    } else {
        Some(store(&gpu.info, best)?)
    };
    if a.json {
        let o = serde_json::json!({ "adapter": gpu.describe(), "best": best, "candidates": candidates, "cache": saved });
        out!("{o}");
    } else {
        for c in &candidates {
            if let (Some(why), Some(kernel)) = (&c.skipped, &c.kernel) {
                out!("kernel {kernel:<30}: skipped: {why}");
                continue;
            }
            let t = &c.tuning;
            let weights = if t.subgroups { "subgroup" } else { "per lane" };
            let verdict = if c.correct {
                ""
            } else {
                "  WRONG RESULTS, never used"
            };
            let shape = match (&c.kernel, c.family) {
                (Some(kernel), _) => format!("kernel {kernel:<30}"),
                (None, Family::Gpu) => {
                    let sums = if t.gpu_subgroup_sums {
                        "subgroup"
                    } else {
                        "workgroup"
                    };
                    let storage = match (c.precision, t.gpu_f16_math) {
                        (Precision::F32, _) => "f32",
                        (_, true) => "f16 arithmetic",
                        (_, false) => "f16 storage",
                    };
                    let fused = |on| if on { "fused" } else { "apart" };
                    format!(
                        "gpu family, grids for {:>3} units, {sums:>9} sums, {storage}, blocks {}, convs {}, {}",
                        t.gpu_units,
                        fused(t.gpu_fused_blocks),
                        fused(t.gpu_fused_convs),
                        t.gpu_layout.name()
                    )
                }
                (None, _) => format!("pointwise_co {:>2}, weights {weights:>8}", t.pointwise_co),
            };
            out!("{shape}: {:8.2} ms{verdict}", c.ms);
        }
        out!("best: {best:?}");
        if let Some(p) = saved {
            out!("saved to {}", p.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run(a: BenchArgs, gpu: &crate::GpuArgs) -> Result<ExitCode> {
    let precision = Precision::parse(&a.precision)?;
    let model =
        crate::models::read_model(Some(&a.model), a.arch.as_deref(), a.force_arch, false)?.0;
    // Before the work: a trace that cannot be written should fail the run now, not after it.
    let trace = (a.trace.as_deref())
        .map(|t| {
            let rules = OutputRules::new(Content::Json)
                .with_inputs([&a.model])
                .with_force(a.force);
            crate::output::open(t, &rules)
        })
        .transpose()?;
    let roofline = (a.roofline.as_deref())
        .map(|f| {
            let rules = OutputRules::new(Content::Svg)
                .with_inputs([&a.model])
                .with_force(a.force);
            crate::output::open(f, &rules)
        })
        .transpose()?;
    let engine = gpu.open()?;
    let r = a.res.unwrap_or(model.arch.resolution);
    let loaded = engine.load_with(model, LoadOptions::default().with_precision(precision))?;
    let opts = BenchOptions {
        batch: a.batch,
        height: r,
        width: r,
        iters: a.iters,
        warmup: a.warmup,
        peak: a.peak,
    };
    let (report, events) = bench(&loaded, opts)?;
    if let Some(t) = trace {
        let text = serde_json::to_string(&trace_json(&events)).expect("trace serializes");
        t.commit(text.as_bytes())?;
    }
    if let (Some(file), Some(peak)) = (roofline, a.peak) {
        file.commit(effnet::bench::roofline_svg(&report, peak).as_bytes())?;
    }
    if a.json {
        out!(
            "{}",
            serde_json::to_string(&report).expect("report serializes")
        );
    } else {
        out!("{}", format_report(&report).trim_end());
    }
    Ok(ExitCode::SUCCESS)
}

fn format_report(r: &BenchReport) -> String {
    let mut s = format!(
        "{} batch {} at {}x{} ({}, {} kernels), {}\n\
         input on the GPU (submit + wait, no transfers): median {:.2} ms, p90 {:.2} ms, \
         min {:.2} ms over {} runs; {:.1} images/s; host submit {:.3} ms of it\n\
         with transfers (host upload + pass + logits readback): median {:.2} ms, p90 {:.2} ms; \
         {:.1} images/s\n\
         {} dispatches, {} pipelines, {:.2} GFLOP and {:.1} MB compulsory DRAM traffic per pass\n",
        r.model,
        r.batch,
        r.height,
        r.width,
        r.precision,
        r.kernels.name(),
        r.adapter,
        r.median_ms,
        r.p90_ms,
        r.min_ms,
        r.iters,
        r.images_per_s,
        r.host_submit_ms,
        r.with_transfers_median_ms,
        r.with_transfers_p90_ms,
        r.with_transfers_images_per_s,
        r.dispatches,
        r.pipelines,
        r.gflop_per_pass,
        r.compulsory_bytes as f64 / 1e6,
    );
    if r.timestamps {
        s += &format!(
            "profiled: GPU {:.2} ms (sum of dispatches), host encode+submit {:.3} ms (the \
             encoding off the critical path: recorded while the GPU runs the pass before)\n",
            r.gpu_ms, r.host_encode_submit_ms
        );
    } else {
        s += "no GPU timestamps on this adapter: per-kernel times unavailable\n";
    }
    if let Some(p) = r.peak {
        s += &format!(
            "roofline: peak {:.0} GFLOP/s, {:.0} GB/s; bound = min(peak, FLOP/B × GB/s)\n",
            p.gflop_per_s, p.gb_per_s
        );
    }
    s += &kind_table(r);
    if r.timestamps {
        s += "\nstage        GPU ms\n";
        for st in &r.stages {
            s += &format!("{:<10} {:>8.2}\n", st.name, st.gpu_ms);
        }
    }
    s
}

/// Per kernel kind: FLOPs, compulsory bytes and intensity; with timestamps the GPU time and
/// achieved rates; with `--peak` the roofline bound and the fraction of it reached.
fn kind_table(r: &BenchReport) -> String {
    let timed = r.timestamps;
    let roof = timed && r.peak.is_some();
    let mut s = String::from("\nkind         n    GFLOP       MB  FLOP/B");
    if timed {
        s += "   GPU ms  GFLOP/s     GB/s";
    }
    if roof {
        s += "  bound GFLOP/s  of bound";
    }
    s += "\n";
    for k in &r.kinds {
        s += &kind_row(k, timed, roof);
    }
    s
}

fn kind_row(k: &KindTime, timed: bool, roof: bool) -> String {
    let kind = format!("{:?}", k.kind).to_lowercase();
    let mut s = format!(
        "{kind:<10} {:>3} {:>8.3} {:>8.2} {:>7.2}",
        k.dispatches,
        k.flop as f64 / 1e9,
        k.compulsory_bytes as f64 / 1e6,
        k.intensity
    );
    if timed {
        s += &format!(
            " {:>8.2} {:>8.1} {:>8.1}",
            k.gpu_ms, k.gflop_per_s, k.gb_per_s
        );
    }
    if let (true, Some(b), Some(f)) = (roof, k.roofline_gflop_per_s, k.roofline_fraction) {
        s += &format!(" {b:>14.0} {:>8.2}%", 100.0 * f);
    }
    s + "\n"
}
