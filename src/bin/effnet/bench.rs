//! `effnet bench`: runs the library's benchmark and prints it as a table or JSON.

use effnet::bench::{BenchOptions, BenchReport, bench, trace_json};
use effnet::gpu::Precision;
use effnet::{Engine, Error, Model, Result};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub struct BenchArgs {
    pub model: String,
    pub batch: usize,
    pub res: Option<usize>,
    pub precision: String,
    pub iters: usize,
    pub warmup: usize,
    pub trace: Option<PathBuf>,
    pub json: bool,
}

pub fn run(a: BenchArgs) -> Result<ExitCode> {
    let precision = Precision::parse(&a.precision)?;
    if a.batch == 0 || a.res == Some(0) {
        return Err(Error::Input("--batch and --res must be at least 1".into()));
    }
    let path = Path::new(&a.model);
    let model = if path.is_file() {
        Model::from_file(path, None)?
    } else {
        Model::synthetic(&a.model)?
    };
    let engine = Engine::new()?;
    let r = a.res.unwrap_or(model.arch.resolution);
    let loaded = engine.load_with_precision(model, precision)?;
    let opts = BenchOptions {
        batch: a.batch,
        height: r,
        width: r,
        iters: a.iters.max(1),
        warmup: a.warmup,
    };
    let (report, events) = bench(&loaded, opts)?;
    if let Some(t) = &a.trace {
        let text = serde_json::to_string(&trace_json(&events)).expect("trace serializes");
        std::fs::write(t, text).map_err(|e| Error::io(t, e))?;
    }
    if a.json {
        println!(
            "{}",
            serde_json::to_string(&report).expect("report serializes")
        );
    } else {
        print!("{}", format_report(&report));
    }
    Ok(ExitCode::SUCCESS)
}

fn format_report(r: &BenchReport) -> String {
    let mut s = format!(
        "{} batch {} at {}x{} ({}), {}\n\
         latency median {:.2} ms, p90 {:.2} ms, min {:.2} ms over {} runs; {:.1} images/s\n\
         {} dispatches, {} pipelines, {:.2} GFLOP per pass\n",
        r.model,
        r.batch,
        r.height,
        r.width,
        r.precision,
        r.adapter,
        r.median_ms,
        r.p90_ms,
        r.min_ms,
        r.iters,
        r.images_per_s,
        r.dispatches,
        r.pipelines,
        r.gflop_per_pass
    );
    if !r.timestamps {
        s += "no GPU timestamps on this adapter: per-kernel times unavailable\n";
        return s;
    }
    s += &format!(
        "profiled: GPU {:.2} ms (sum of dispatches), host encode+submit {:.3} ms\n\nkind         n   GPU ms  GFLOP/s   GB/s\n",
        r.gpu_ms, r.host_encode_submit_ms
    );
    for k in &r.kinds {
        let kind = format!("{:?}", k.kind).to_lowercase();
        s += &format!(
            "{kind:<10} {:>3} {:>8.2} {:>8.1} {:>6.1}\n",
            k.dispatches, k.gpu_ms, k.gflop_per_s, k.gb_per_s
        );
    }
    s += "\nstage        GPU ms\n";
    for st in &r.stages {
        s += &format!("{:<10} {:>8.2}\n", st.name, st.gpu_ms);
    }
    s
}
