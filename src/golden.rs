//! Golden files (`../shared/golden/README.md`): reference outputs of PyTorch models whose
//! weights and input follow the deterministic rule. Any file of that format can be checked.

use crate::Engine;
use crate::gpu::{GpuWeights, Precision};
use crate::kernels::lower;
use crate::model::rule::{RuleSource, rule_input};
use crate::model::{Source, info, load_weights, resolve};
use crate::runtime::{Executor, Input};
use crate::{Error, Result, reference};
use std::path::{Path, PathBuf};

mod parse;
pub(crate) use parse::{RawStage, parse_stage};

/// Float32 tolerances from the golden README: relative L2 error of the logits, and the
/// largest sample error in units of its stage's RMS.
pub(crate) const F32_LOGITS_REL: f64 = 1e-4;
pub(crate) const F32_SAMPLE_RMS: f64 = 1e-3;

#[derive(Clone, Debug)]
pub(crate) struct GoldenStage {
    pub name: String,
    pub shape: [usize; 4],
    pub rms: f64,
    /// `(n, c, y, x, value)`
    pub samples: Vec<([usize; 4], f64)>,
}

#[derive(Clone, Debug)]
pub struct Golden {
    pub path: PathBuf,
    pub source: Source,
    pub model: String,
    pub input_shape: [usize; 4],
    pub params: u64,
    /// Classifier outputs (`num_classes`; absent: the width of the logits rows, 1000 for the
    /// shared files). 0: no classifier, the "logits" are the pooled head features.
    pub num_classes: usize,
    pub(crate) stages: Vec<GoldenStage>,
    /// `N` rows, each of the model's output width, concatenated.
    pub logits: Vec<f64>,
}

/// The outcome of checking one file.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Verdict {
    pub pass: bool,
    pub logits_rel_err: f64,
    /// Largest `|ours - ref| / rms` over all stage samples, and where.
    pub worst_sample: f64,
    pub worst_stage: String,
    pub problems: Vec<String>,
}

fn bad(path: &Path, msg: impl Into<String>) -> Error {
    Error::bad_file(path, msg)
}

/// With float16 storage the README allows: logits 2e-2 relative, samples 5e-2 of the RMS.
pub(crate) const F16_LOGITS_REL: f64 = 2e-2;
pub(crate) const F16_SAMPLE_RMS: f64 = 5e-2;

/// A stage output: name, NCHW shape, values.
pub(crate) type StageData = (String, [usize; 4], Vec<f32>);

/// Where to run: an engine's GPU, with its kernel family and a storage precision, or the
/// CPU reference.
pub enum Backend<'a> {
    Gpu(&'a Engine, Precision),
    Cpu,
}

impl Backend<'_> {
    /// (logits relative error, sample error in RMS units) allowed on this backend.
    pub fn tolerances(&self) -> (f64, f64) {
        match self {
            Backend::Gpu(_, Precision::F16) => (F16_LOGITS_REL, F16_SAMPLE_RMS),
            _ => (F32_LOGITS_REL, F32_SAMPLE_RMS),
        }
    }
}

/// The model a golden file names, filled by the rule, lowered for its input; and the input.
struct Case {
    weights: crate::model::ModelWeights,
    graph: crate::graph::Graph,
    input: Vec<f32>,
}

/// Builds the named model, fills it by the rule, runs it and compares with the file.
pub fn verify(golden: &Golden, backend: &Backend) -> Result<Verdict> {
    let Case {
        weights,
        graph,
        input,
    } = case(golden)?;
    let (logits, stages) = run(&weights, graph, &input, backend)?;
    Ok(compare(golden, &logits, &stages, backend.tolerances()))
}

/// Runs `graph` with `weights` on `input` with every stage captured.
pub(crate) fn run(
    weights: &crate::model::ModelWeights,
    graph: crate::graph::Graph,
    input: &[f32],
    backend: &Backend,
) -> Result<(Vec<f32>, Vec<StageData>)> {
    Ok(match backend {
        Backend::Gpu(engine, precision) => {
            let gpu = engine.gpu();
            let gw = GpuWeights::new(gpu, weights, *precision);
            let session = Executor::new(gpu, &gw, graph, true, engine.kernels())?;
            split(session.run(input)?)
        }
        Backend::Cpu => {
            let t = reference::run(&graph, weights, input);
            let stages = graph
                .stages
                .iter()
                .map(|s| {
                    (
                        s.name.clone(),
                        graph.shapes[s.tensor].dims(),
                        t[s.tensor].clone(),
                    )
                })
                .collect();
            (t[graph.logits].clone(), stages)
        }
    })
}

/// Like `verify` on the GPU, without blocking (as a browser needs), with the engine's
/// kernel family.
pub async fn verify_async(
    golden: &Golden,
    engine: &Engine,
    precision: Precision,
) -> Result<Verdict> {
    let gpu = engine.gpu();
    let Case {
        weights,
        graph,
        input,
    } = case(golden)?;
    let gw = gpu
        .scoped_async("the model's weights", || {
            Ok(GpuWeights::new(gpu, &weights, precision))
        })
        .await?;
    let session = Executor::new_async(gpu, &gw, graph, true, engine.kernels()).await?;
    let (logits, stages) = split(session.run_async(Input::Host(&input)).await?);
    // A dispatch the device rejected reports here, not through the run.
    gpu.check()?;
    let tolerances = Backend::Gpu(engine, precision).tolerances();
    Ok(compare(golden, &logits, &stages, tolerances))
}

/// A run's logits and stage outputs.
fn split(out: crate::Output) -> (Vec<f32>, Vec<StageData>) {
    let stages = (out.stages.into_iter())
        .map(|s| (s.name, s.shape.dims(), s.data))
        .collect();
    (out.logits, stages)
}

/// Checks the file against the model it names and builds the model, graph and input.
fn case(golden: &Golden) -> Result<Case> {
    let path = &golden.path;
    let arch = resolve(&golden.model, Some(golden.source))
        .map_err(|e| bad(path, e.to_string()))?
        .with_classes(golden.num_classes);
    let [n, _, h, w] = golden.input_shape;
    let width = arch.output_width();
    if golden.logits.len() != n * width {
        return Err(bad(
            path,
            format!(
                "logits rows have {} values, {} with num_classes {} outputs {width} per image",
                golden.logits.len() / n,
                arch.name,
                golden.num_classes
            ),
        ));
    }
    let ours = info(&arch, h, w, n).params;
    if ours != golden.params {
        return Err(bad(
            path,
            format!(
                "{} has {ours} parameters, the file says {}",
                arch.name, golden.params
            ),
        ));
    }
    Ok(Case {
        weights: load_weights(&arch, &mut RuleSource)?,
        graph: lower(&arch, n, h, w)?,
        input: rule_input(&golden.input_shape),
    })
}

pub(crate) fn compare(
    golden: &Golden,
    logits: &[f32],
    stages: &[StageData],
    (logits_tol, sample_tol): (f64, f64),
) -> Verdict {
    let mut problems = vec![];
    let logits_rel_err = if logits.len() == golden.logits.len() {
        let num: f64 = logits
            .iter()
            .zip(&golden.logits)
            .map(|(&a, &b)| (a as f64 - b).powi(2))
            .sum();
        let den: f64 = golden.logits.iter().map(|b| b * b).sum();
        (num / den.max(f64::MIN_POSITIVE)).sqrt()
    } else {
        problems.push(format!(
            "{} logits, expected {}",
            logits.len(),
            golden.logits.len()
        ));
        f64::INFINITY
    };
    let (mut worst_sample, mut worst_stage) = (0.0f64, String::new());
    for gs in &golden.stages {
        let Some((_, shape, data)) = stages.iter().find(|s| s.0 == gs.name) else {
            problems.push(format!("no stage named {}", gs.name));
            continue;
        };
        if *shape != gs.shape {
            problems.push(format!(
                "stage {}: shape {shape:?}, expected {:?}",
                gs.name, gs.shape
            ));
            continue;
        }
        for &([n, c, y, x], value) in &gs.samples {
            let ours = data[((n * shape[1] + c) * shape[2] + y) * shape[3] + x] as f64;
            let err = (ours - value).abs() / gs.rms.max(f64::MIN_POSITIVE);
            if err > worst_sample || err.is_nan() {
                worst_sample = if err.is_nan() { f64::INFINITY } else { err };
                worst_stage = format!("{}[{n},{c},{y},{x}] ours {ours:.7} ref {value:.7}", gs.name);
            }
        }
    }
    let pass = problems.is_empty() && logits_rel_err <= logits_tol && worst_sample <= sample_tol;
    Verdict {
        pass,
        logits_rel_err,
        worst_sample,
        worst_stage,
        problems,
    }
}
