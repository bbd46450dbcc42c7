//! The `effnet` command line: a thin layer over the library.

use clap::{Parser, Subcommand};
use effnet::golden::{Backend, Golden, verify};
use effnet::gpu::{Gpu, Precision};
use effnet::model::{format_table, try_info};
use std::path::PathBuf;

/// `println!` for results: a closed stdout (`effnet classify ... | head -1`) ends the process
/// quietly with success instead of a panic; any other write error ends it with a message.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::write_stdout(format_args!($($arg)*))
    };
}

/// `eprintln!` for messages: a closed or broken stderr (`effnet ... 2>&1 | head -n1`) loses
/// the message instead of panicking, since a message nobody reads is no reason to fail.
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::write_stderr(format_args!($($arg)*))
    };
}

mod bench;
mod classify;
mod convert;
mod device_args;
mod eval;
mod features;
mod models;
mod output;
mod progress;
mod runner;
mod sha256;
mod train;
mod train_data;
pub use device_args::GpuArgs;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "effnet",
    version,
    about = "EfficientNet B0–B8, L2, Lite0–4 and V2 on any GPU through WGSL/wgpu"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    gpu: GpuArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Classify images: the top-k ImageNet classes with probabilities (bundled Lite0 by default).
    Classify(classify::ClassifyArgs),
    /// Save pooled embeddings (and optionally every stage's output) of images as safetensors.
    Features(features::FeaturesArgs),
    /// Top-1/top-5 accuracy and images/s over an ImageFolder tree (one folder per class).
    Eval(eval::EvalArgs),
    /// Convert a checkpoint (.pth, .pt, .bin, .safetensors) to a canonical safetensors file
    /// that loads with no flags.
    Convert(convert::ConvertArgs),
    /// Print a model's stages, parameters, multiply-adds and activation memory.
    Info {
        /// Model name: timm (`tf_efficientnet_b0`, `efficientnetv2_s`, ...) or torchvision
        /// (`torchvision:efficientnet_b0`, `efficientnet_v2_s`, ...), or a checkpoint file.
        model: String,
        /// Which model a checkpoint file is, when the file does not say.
        #[arg(long, value_name = "NAME")]
        arch: Option<String>,
        /// Read the checkpoint as --arch even where its own metadata or config.json names
        /// another model.
        #[arg(long, requires = "arch")]
        force_arch: bool,
        /// Input resolution (square); defaults to the model's evaluation resolution.
        #[arg(long)]
        res: Option<usize>,
        /// One JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// List every model name with its source, default resolution, preprocessing and size.
    Models {
        /// One JSON object per model and line.
        #[arg(long)]
        json: bool,
    },
    /// List the GPU adapters wgpu finds, numbered for `--device N`.
    Devices {
        /// One JSON object per adapter and line.
        #[arg(long)]
        json: bool,
    },
    /// Check golden files (PyTorch outputs for rule-generated weights) against our engine.
    Verify {
        /// Golden JSON files, e.g. ../shared/golden/*.json
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Run the CPU reference instead of the GPU.
        #[arg(long)]
        cpu: bool,
        /// GPU storage precision (f16 is checked against the README's f16 tolerances).
        #[arg(long, default_value = "f32", value_parser = ["f32", "f16"])]
        precision: String,
        /// One JSON object per file.
        #[arg(long)]
        json: bool,
    },
    /// Teach the model new classes: train a new classifier head on an ImageFolder tree (the
    /// backbone's features computed once on the GPU) and write a checkpoint that classifies.
    Train(train::TrainArgs),
    /// Time forward passes: latency percentiles, images/s, GPU time per stage and kernel kind.
    Bench(bench::BenchArgs),
    /// Time the kernel tile candidates on this adapter and cache the fastest for later runs.
    Tune(bench::TuneArgs),
}

fn write_stdout(args: std::fmt::Arguments) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_fmt(args)
        .and_then(|()| stdout.write_all(b"\n"));
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            note!("error: cannot write to standard output: {e}");
            std::process::exit(1)
        }
    }
}

fn write_stderr(args: std::fmt::Arguments) {
    use std::io::Write;
    let mut stderr = std::io::stderr().lock();
    let _ = stderr
        .write_fmt(args)
        .and_then(|()| stderr.write_all(b"\n"));
}

/// The GPU every command runs on, its notes (caches off or recovered) said once, here.
fn main() -> ExitCode {
    let matches = <Cli as clap::CommandFactory>::command().get_matches();
    let cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    device_args::refuse_device_list(&cli.gpu, matches.subcommand_name());
    let gpu = &cli.gpu;
    let result = match cli.command {
        Command::Devices { json } => cmd_devices(json),
        Command::Classify(a) => classify::run(a, gpu),
        Command::Features(a) => features::run(a, gpu),
        Command::Eval(a) => eval::run(a, gpu),
        Command::Convert(a) => convert::run(a),
        Command::Info {
            model,
            arch,
            force_arch,
            res,
            json,
        } => cmd_info(&model, (arch.as_deref(), force_arch), res, json),
        Command::Models { json } => models::list(json),
        Command::Verify {
            files,
            cpu,
            precision,
            json,
        } => cmd_verify(&files, (cpu, gpu), &precision, json),
        Command::Bench(a) => bench::run(a, gpu),
        Command::Train(a) => train::run(a, gpu),
        Command::Tune(a) => bench::tune(a, gpu),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            note!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn cmd_devices(json: bool) -> effnet::Result<ExitCode> {
    let adapters = Gpu::adapters();
    if adapters.is_empty() {
        note!(
            "no GPU adapter found; install a Vulkan driver (e.g. `apt-get install \
             mesa-vulkan-drivers` for the CPU driver lavapipe) or set WGPU_BACKEND"
        );
        return Ok(ExitCode::FAILURE);
    }
    let in_all = effnet::distinct_adapters(&adapters);
    for (n, a) in adapters.iter().enumerate() {
        let kind = format!("{:?}", a.device_type).to_lowercase();
        let backend = format!("{:?}", a.backend).to_lowercase();
        let bus = &a.device_pci_bus_id;
        let all = in_all.contains(&n);
        if json {
            let row = serde_json::json!({"index": n, "name": a.name, "backend": backend,
                "device_type": kind, "driver": a.driver, "driver_info": a.driver_info,
                "pci_bus_id": bus, "in_device_all": all});
            out!("{row}");
        } else {
            // Only Vulkan and DX12 report a bus id; "-" keeps the columns readable.
            let bus = if bus.is_empty() { "-" } else { bus.as_str() };
            let all = if all { ", in --device all" } else { "" };
            out!(
                "{n}: {} ({backend}, {kind}, PCI bus {bus}, {} {}{all})",
                a.name,
                a.driver,
                a.driver_info
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_info(
    model: &str,
    (arch, force_arch): (Option<&str>, bool),
    res: Option<usize>,
    json: bool,
) -> effnet::Result<ExitCode> {
    let arch = models::read_model(Some(model), arch, force_arch, false)?
        .0
        .arch;
    let r = res.unwrap_or(arch.resolution);
    if r == 0 {
        return Err(effnet::Error::Input("--res must be at least 1".into()));
    }
    // Checked: a huge --res must be refused, not printed with wrapped (small, false) counts.
    let i = try_info(&arch, r, r, 1)?;
    if json {
        out!("{}", serde_json::to_string(&i).expect("info serializes"));
    } else {
        out!("{}", format_table(&i));
    }
    Ok(ExitCode::SUCCESS)
}

/// Checks one seed fixture (a framework's own checkpoint, input tensor and outputs) and prints
/// its verdict; whether it passed.
fn print_seed_verdict(f: &std::path::Path, backend: &Backend, json: bool) -> bool {
    let name = f.display();
    match effnet::seed::verify_seed(f, backend) {
        Ok(v) if json => {
            let mut o = serde_json::to_value(&v).expect("verdict serializes");
            o["file"] = name.to_string().into();
            o["pass"] = v.pass().into();
            out!("{o}");
            v.pass()
        }
        Ok(v) => {
            let word = if v.pass() { "PASS" } else { "FAIL" };
            let n = &v.network;
            out!(
                "{word} {name}: {}: logits rel err {:.2e}, worst stage sample {:.2e} x rms ({}); \
                 preprocessing max diff {:.2e} levels (at most {}){}",
                v.model,
                n.logits_rel_err,
                n.worst_sample,
                n.worst_stage,
                v.input_levels,
                effnet::seed::INPUT_LEVELS,
                n.problems
                    .iter()
                    .map(|p| format!("; {p}"))
                    .collect::<String>()
            );
            v.pass()
        }
        Err(e) => {
            out!("FAIL {name}: {e}");
            false
        }
    }
}

fn cmd_verify(
    files: &[PathBuf],
    (cpu, gpu_args): (bool, &GpuArgs),
    precision: &str,
    json: bool,
) -> effnet::Result<ExitCode> {
    let precision = Precision::parse(precision)?;
    let gpu = if cpu { None } else { Some(gpu_args.open()?) };
    if let Some(g) = &gpu {
        note!("adapter: {}", g.describe());
    }
    let backend = gpu
        .as_ref()
        .map_or(Backend::Cpu, |g| Backend::Gpu(g, precision));
    let mut failed = 0;
    for f in files {
        let name = f.display();
        let text = std::fs::read_to_string(f).unwrap_or_default();
        if effnet::seed::is_seed_fixture(&text) {
            failed += usize::from(!print_seed_verdict(f, &backend, json));
            continue;
        }
        let verdict = Golden::load(f).and_then(|g| verify(&g, &backend));
        match verdict {
            Ok(v) if json => {
                let mut o = serde_json::to_value(&v).expect("verdict serializes");
                o["file"] = name.to_string().into();
                out!("{o}");
                failed += usize::from(!v.pass);
            }
            Ok(v) => {
                let word = if v.pass { "PASS" } else { "FAIL" };
                out!(
                    "{word} {name}: logits rel err {:.2e}, worst stage sample {:.2e} x rms ({}){}",
                    v.logits_rel_err,
                    v.worst_sample,
                    v.worst_stage,
                    v.problems
                        .iter()
                        .map(|p| format!("; {p}"))
                        .collect::<String>()
                );
                failed += usize::from(!v.pass);
            }
            Err(e) => {
                out!("FAIL {name}: {e}");
                failed += 1;
            }
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
