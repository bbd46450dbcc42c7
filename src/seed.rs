//! Seed fixtures (`../shared/seed-checkpoints/README.md`): a checkpoint written by mmpretrain or
//! MindSpore themselves, the framework's own preprocessing of a photo as a tensor, and its
//! logits and stage samples on that tensor. Verifying one loads the checkpoint as a user's file
//! (no flag), runs it on the tensor and compares, and compares effnet's own preprocessing of the
//! photo with the tensor.

use crate::golden::{Backend, Golden, RawStage, StageData, Verdict, compare, parse_stage, run};
use crate::kernels::lower;
use crate::model::loader::load_checkpoint;
use crate::model::{Arch, qualified_name};
use crate::preprocess::{Exif, Transform, load_image_with};
use crate::{Error, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Largest difference allowed between effnet's preprocessing and the framework's tensor: two
/// pixel levels, the README's tolerance. effnet's resizes match OpenCV's to the level; what is
/// left comes from the JPEG decoder (zune-jpeg's IDCT differs from libjpeg's by up to 3
/// levels on about 1% of pixels, which the resize averages down to 2).
pub const INPUT_LEVELS: f64 = 2.0;
/// What f32 arithmetic adds to a difference of whole levels: the tensors are
/// `(x − mean) / std` in f32, one rounding of values near 2.6, 2.4e-7 × 58 ≈ 1.4e-5 levels.
const F32_LEVELS: f64 = 1e-4;

/// The fields of a fixture file that verifying needs.
#[derive(Debug, Deserialize)]
struct Fixture {
    framework: String,
    model: String,
    checkpoint: PathBuf,
    photo: PathBuf,
    input: PathBuf,
    input_shape: [usize; 4],
    logits: Vec<f64>,
    stages: Vec<RawStage>,
}

/// The outcome of checking one fixture: the network on the framework's tensor (the golden
/// verdict), and effnet's preprocessing of the photo against that tensor.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SeedVerdict {
    /// The checkpoint's model as effnet identified it, with its framework prefix.
    pub model: String,
    #[serde(flatten)]
    pub network: Verdict,
    /// Largest difference between effnet's preprocessing and the framework's tensor, in pixel
    /// levels (0–255).
    pub input_levels: f64,
    pub input_pass: bool,
}

impl SeedVerdict {
    /// Both the network and the preprocessing within tolerance.
    pub fn pass(&self) -> bool {
        self.network.pass && self.input_pass
    }
}

/// Whether `text` is a seed fixture (it names a checkpoint and a framework) rather than a
/// golden file.
pub fn is_seed_fixture(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text)
        .is_ok_and(|v| v["checkpoint"].is_string() && v["framework"].is_string())
}

/// Verifies the fixture at `path` on `backend`.
pub fn verify_seed(path: &Path, backend: &Backend) -> Result<SeedVerdict> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let f: Fixture = serde_json::from_str(&text)
        .map_err(|e| Error::bad_file(path, format!("not a seed fixture: {e}")))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let loaded = load_checkpoint(&dir.join(&f.checkpoint), None)?;
    let arch = &loaded.arch;
    let [n, c, h, w] = f.input_shape;
    if n == 0 || c != 3 || h == 0 || w == 0 || h > 1 << 14 || w > 1 << 14 {
        return Err(Error::bad_file(
            path,
            format!(
                "`input_shape` must be [N ≥ 1, 3, H, W] of a real image, got {:?}",
                f.input_shape
            ),
        ));
    }
    let input = read_input(&dir.join(&f.input), n * c * h * w)?;
    let photo = dir.join(&f.photo);
    let golden = as_golden(path, f, arch)?;
    let (logits, stages) = run(&loaded.weights, lower(arch, n, h, w)?, &input, backend)?;
    let stages = framework_stage_names(&golden, stages);
    let network = compare(&golden, &logits, &stages, backend.tolerances());
    let photo = load_image_with(photo, Exif::of_source(arch.source))?;
    let ours = Transform::from_spec(&arch.preprocess, h, w).apply(&photo);
    if ours.len() != 3 * h * w {
        return Err(Error::bad_file(
            path,
            format!(
                "{h}x{w}: effnet's preprocessing of {} makes square inputs",
                arch.name
            ),
        ));
    }
    let levels = max_levels(&ours, &input[..3 * h * w], arch.preprocess.std);
    Ok(SeedVerdict {
        model: qualified_name(arch),
        network,
        input_levels: levels,
        input_pass: levels <= INPUT_LEVELS + F32_LEVELS,
    })
}

/// The fixture as a golden file of the identified model, so the golden comparison applies.
fn as_golden(path: &Path, f: Fixture, arch: &Arch) -> Result<Golden> {
    // Shapes and sample positions checked as a golden file's are.
    let stages = (f.stages.into_iter())
        .map(|s| parse_stage(path, s))
        .collect::<Result<Vec<_>>>()?;
    if !f.framework.eq_ignore_ascii_case(arch.source.prefix()) {
        return Err(Error::bad_file(
            path,
            format!(
                "the fixture is {}'s {} but the checkpoint was identified as {}",
                f.framework,
                f.model,
                qualified_name(arch)
            ),
        ));
    }
    Ok(Golden {
        path: path.to_path_buf(),
        source: arch.source,
        model: qualified_name(arch),
        input_shape: f.input_shape,
        params: 0,
        num_classes: arch.num_classes(),
        stages,
        logits: f.logits,
    })
}

/// Our stage outputs under the fixture's stage names. The frameworks name stages their own
/// way and group blocks differently (mmpretrain's `layers.4` is timm's `blocks.3` and
/// `blocks.4`), so each fixture stage takes our stage of the same name without the
/// `backbone.` prefix and shape, else: the first stage for the first, the last for the last,
/// and otherwise the last of ours with its shape.
fn framework_stage_names(golden: &Golden, ours: Vec<StageData>) -> Vec<StageData> {
    let count = golden.stages.len();
    (golden.stages.iter().enumerate())
        .filter_map(|(i, gs)| {
            let bare = gs.name.strip_prefix("backbone.").unwrap_or(&gs.name);
            let same = |s: &&StageData| s.1 == gs.shape;
            let found = (ours.iter().find(|s| s.0 == bare && s.1 == gs.shape))
                .or_else(|| (i == 0).then(|| ours.first()).flatten().filter(same))
                .or_else(|| (i + 1 == count).then(|| ours.last()).flatten().filter(same))
                .or_else(|| ours.iter().rev().find(same))?;
            Some((gs.name.clone(), found.1, found.2.clone()))
        })
        .collect()
}

/// The `input` tensor of a fixture's safetensors file, `len` float32 values.
fn read_input(path: &Path, len: usize) -> Result<Vec<f32>> {
    let sd = crate::checkpoint::load(path)?;
    let t = (sd.tensors.get("input")).ok_or_else(|| {
        Error::bad_file(
            path,
            "no tensor named `input`: is it a seed fixture's input?",
        )
    })?;
    if t.data.len() != len {
        return Err(Error::bad_file(
            path,
            format!(
                "`input` holds {} values, the fixture's shape {len}",
                t.data.len()
            ),
        ));
    }
    Ok(t.data.clone())
}

/// Largest difference of two normalised NCHW images, in 0–255 pixel levels (each channel's
/// values times its standard deviation on that scale).
fn max_levels(ours: &[f32], theirs: &[f32], std: [f32; 3]) -> f64 {
    let plane = theirs.len() / 3;
    (ours.iter().zip(theirs).enumerate())
        .map(|(i, (&a, &b))| ((a - b) as f64).abs() * std[i / plane.max(1)] as f64 * 255.0)
        .fold(0.0, f64::max)
}
