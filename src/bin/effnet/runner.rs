//! Batched inference over image files. A background thread decodes and resizes the next batch
//! (itself on several threads, `preprocess_batch`) while the GPU runs the current one, so that
//! decoding does not leave the GPU idle. A file that fails to decode fails only itself.

use effnet::graph::StageTensor;
use effnet::preprocess::{Transform, preprocess_batch};
use effnet::{LoadedModel, Result, Session, SessionOptions};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc;

/// What the model gives for one image.
pub struct ImageOutput {
    pub logits: Vec<f32>,
    /// Each stage's `[C, H, W]` map with its name, when stages are captured.
    pub stages: Vec<(String, [usize; 3], Vec<f32>)>,
}

pub struct RunOptions {
    pub batch: usize,
    pub res: usize,
    pub capture_stages: bool,
}

/// Runs every image in `paths` and calls `on_image(index, result)` in order. An image that
/// cannot be read or decoded gets its error; a GPU failure stops the run.
pub fn run_images(
    loaded: &LoadedModel,
    opts: &RunOptions,
    paths: &[PathBuf],
    mut on_image: impl FnMut(usize, Result<ImageOutput>),
) -> Result<()> {
    let transform = Transform::from_spec(&loaded.arch().preprocess, opts.res, opts.res);
    let mut sessions: HashMap<usize, Session> = HashMap::new();
    // One batch in flight ahead of the GPU: enough to overlap, little memory held.
    let (tx, rx) = mpsc::sync_channel::<(usize, Vec<Result<Vec<f32>>>)>(1);
    std::thread::scope(|s| {
        let chunks = paths.chunks(opts.batch);
        let transform = &transform;
        s.spawn(move || {
            for (i, chunk) in chunks.enumerate() {
                let start = i * opts.batch;
                if tx
                    .send((start, preprocess_batch(chunk, transform)))
                    .is_err()
                {
                    break; // the consumer stopped on an error
                }
            }
        });
        for (start, inputs) in rx {
            let outputs = run_batch(loaded, opts, &mut sessions, &inputs)?;
            let mut outputs = outputs.into_iter();
            for (i, input) in inputs.into_iter().enumerate() {
                match input {
                    Ok(_) => on_image(start + i, Ok(outputs.next().expect("one per image"))),
                    Err(e) => on_image(start + i, Err(e)),
                }
            }
        }
        Ok(())
    })
}

/// Runs the images of one batch that decoded, with a session sized for exactly them.
fn run_batch(
    loaded: &LoadedModel,
    opts: &RunOptions,
    sessions: &mut HashMap<usize, Session>,
    inputs: &[Result<Vec<f32>>],
) -> Result<Vec<ImageOutput>> {
    let good: Vec<&Vec<f32>> = inputs.iter().filter_map(|r| r.as_ref().ok()).collect();
    let n = good.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    let session = match sessions.entry(n) {
        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
        std::collections::hash_map::Entry::Vacant(e) => {
            e.insert(loaded.session(SessionOptions {
                batch: n,
                height: opts.res,
                width: opts.res,
                capture_stages: opts.capture_stages,
            })?)
        }
    };
    let input: Vec<f32> = good.into_iter().flatten().copied().collect();
    let out = session.run(&input)?;
    let classes = out.logits.len() / n;
    Ok((0..n)
        .map(|i| ImageOutput {
            logits: out.logits[i * classes..(i + 1) * classes].to_vec(),
            stages: out.stages.iter().map(|t| image_slice(t, i)).collect(),
        })
        .collect())
}

/// Image `i` of a batched stage output.
fn image_slice(t: &StageTensor, i: usize) -> (String, [usize; 3], Vec<f32>) {
    let [_, c, h, w] = t.shape.dims();
    let len = c * h * w;
    (
        t.name.clone(),
        [c, h, w],
        t.data[i * len..(i + 1) * len].to_vec(),
    )
}
