//! `effnet features`: pooled embeddings (the global average of the head output, the
//! classifier's input) and optionally every stage's output map, saved as safetensors.

use crate::models::ModelArgs;
use crate::progress::image_bar;
use crate::runner::{ImageOutput, RunOptions, run_images};
use clap::Args;
use effnet::checkpoint::{StateDict, Tensor, encode_safetensors};
use effnet::model::meta::META_VARIANT;
use effnet::output::{Content, OutputRules};
use effnet::{Error, Result};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct FeaturesArgs {
    /// JPEG or PNG files.
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<PathBuf>,
    /// safetensors file to write: `embeddings` [N, C], the file list in metadata.
    #[arg(short = 'o', long, value_name = "FILE.safetensors")]
    out: PathBuf,
    /// Also save every stage's output map as [N, C, H, W], named by stage (`stem`,
    /// `blocks.0`, ..., `head`).
    #[arg(long)]
    stages: bool,
    /// Replace FILE even when it exists and is not a safetensors file.
    #[arg(long)]
    force: bool,
    /// Write the embeddings of the images that could be read when some could not (their names
    /// are in the metadata `effnet.files`); without it such a run writes nothing.
    #[arg(long)]
    skip_unreadable: bool,
    #[command(flatten)]
    model: ModelArgs,
}

pub fn run(a: FeaturesArgs, gpu: &crate::GpuArgs) -> Result<ExitCode> {
    // Before the work: a run that cannot save its result should not start.
    let output = crate::output::open(&a.out, &output_rules(&a))?;
    let opened = a.model.open(gpu)?;
    let opts = RunOptions {
        batch: a.model.batch,
        res: opened.res,
        capture_stages: a.stages,
        // Pooled on the GPU: only the embeddings come back unless stages are asked for.
        embeddings: true,
        augment: None,
        exif: a.model.exif()?,
    };
    let bar = image_bar(a.images.len() as u64, a.model.batch);
    let mut files = Vec::new();
    let mut collected = Collected::default();
    let mut failed = 0usize;
    run_images(&opened.devices, &opts, &a.images, |i, result| {
        bar.inc(1);
        match result.map(|o| collected.add(o)) {
            Ok(()) => files.push(a.images[i].display().to_string()),
            Err(e) => {
                failed += 1;
                bar.suspend(|| note!("error: {e}"));
            }
        }
    })?;
    bar.finish_and_clear();
    if files.is_empty() {
        return Err(Error::Input(format!(
            "no image could be read; nothing written{}",
            unchanged(&a)
        )));
    }
    if failed > 0 && !a.skip_unreadable {
        return Err(Error::Input(format!(
            "{failed} of {} images could not be read (see above); nothing written{}, since its \
             rows would not line up with the arguments: leave those images out, or pass \
             --skip-unreadable to write the others",
            a.images.len(),
            unchanged(&a)
        )));
    }
    let mut metadata = BTreeMap::new();
    metadata.insert(
        "effnet.files".into(),
        serde_json::to_string(&files).unwrap_or_default(),
    );
    metadata.insert(
        META_VARIANT.into(),
        effnet::model::qualified_name(opened.loaded.arch()),
    );
    metadata.insert("effnet.model".into(), opened.origin.clone());
    metadata.insert("effnet.resolution".into(), opened.res.to_string());
    let sd = collected.into_state_dict(files.len());
    output.commit(&encode_safetensors(&sd, &metadata, false)?)?;
    note!("wrote {} ({} images)", a.out.display(), files.len());
    if failed > 0 {
        note!("note: {failed} unreadable images left out (--skip-unreadable)");
    }
    Ok(ExitCode::SUCCESS)
}

/// What `features` may not overwrite: its inputs, and a file that is not safetensors unless
/// `--force`.
fn output_rules(a: &FeaturesArgs) -> OutputRules {
    let model = a.model.model.iter().map(PathBuf::from);
    OutputRules::new(Content::Safetensors)
        .with_inputs(a.images.iter().cloned().chain(model))
        .with_inputs(a.model.labels.iter())
        .with_force(a.force)
}

/// The end of a "nothing written" message: the target is as it was.
fn unchanged(a: &FeaturesArgs) -> String {
    if a.out.exists() {
        format!(" ({} is unchanged)", a.out.display())
    } else {
        String::new()
    }
}

/// Embeddings and stage maps of the images so far, image after image.
#[derive(Default)]
struct Collected {
    channels: usize,
    embeddings: Vec<f32>,
    /// Stage name -> ([C, H, W], values of every image so far), in network order.
    stages: Vec<(String, [usize; 3], Vec<f32>)>,
}

impl Collected {
    /// One image's pooled embedding (the session's output) and stage maps, if captured.
    fn add(&mut self, o: ImageOutput) {
        self.channels = o.logits.len();
        self.embeddings.extend_from_slice(&o.logits);
        if !o.stages.is_empty() {
            if self.stages.is_empty() {
                self.stages = (o.stages.iter())
                    .map(|(n, s, _)| (n.clone(), *s, Vec::new()))
                    .collect();
            }
            for ((_, _, all), (_, _, data)) in self.stages.iter_mut().zip(o.stages) {
                all.extend(data);
            }
        }
    }

    fn into_state_dict(self, n: usize) -> StateDict {
        let mut tensors = BTreeMap::new();
        let embeddings = Tensor {
            shape: vec![n, self.channels],
            data: self.embeddings,
        };
        tensors.insert("embeddings".to_string(), embeddings);
        for (name, [c, h, w], data) in self.stages {
            let shape = vec![n, c, h, w];
            tensors.insert(name, Tensor { shape, data });
        }
        StateDict {
            tensors,
            metadata: BTreeMap::new(),
        }
    }
}
