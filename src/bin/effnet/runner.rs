//! Batched inference over image files. A background thread decodes and resizes the next batch
//! (itself on several threads, `preprocess_batch`) while the GPU runs the current one, so that
//! decoding does not leave the GPU idle. A file that fails to decode fails only itself.
//!
//! One session serves the whole run: a short last batch, or a batch with unreadable images, is
//! padded to the session's size (padding's results are dropped) instead of compiling a session
//! per size. Sizes are checked against the device before any image is decoded.

use effnet::StageTensor;
use effnet::preprocess::{Exif, ImageLimits, Transform, decode_named, load_image_with};
use effnet::preprocess::{preprocess_batch_with, random_resized_crop};
use effnet::{Error, LoadedModel, OutputKind, Pool, Result, Session, SessionOptions};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

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
    /// Output the pooled head features (embeddings) instead of the logits.
    pub embeddings: bool,
    /// Training augmentation instead of the evaluation transform: a random resized crop and
    /// flip per image, drawn from this seed and the image's position.
    pub augment: Option<u64>,
    /// EXIF orientation (`--exif`); `None`: as the model's source does.
    pub exif: Option<Exif>,
}

/// How long the run took to start (session and pipelines) before the first batch ran.
pub struct RunTiming {
    pub startup: Duration,
}

/// The batch to run at: `wanted`, or the largest every device holds at this resolution (with
/// one line on stderr saying so). Errors, before anything is decoded, when not even one image
/// fits.
pub fn fitted_batch(models: &[LoadedModel], wanted: usize, res: usize) -> Result<usize> {
    let mut max = usize::MAX;
    for loaded in models {
        max = max.min(loaded.max_batch(res, res)?);
    }
    if wanted > max {
        note!(
            "note: a batch of {wanted} at {res}x{res} exceeds this device's buffer limit; \
             running batches of {max}"
        );
    }
    Ok(wanted.min(max))
}

/// One decoded batch: where it starts in the input, and each image's tensor or error.
type Decoded = (usize, Vec<Result<Vec<f32>>>);

/// Runs every image in `paths` on one session per model in `models` (one device each, or
/// several on one), sharing the batches out as each device comes free, and calls
/// `on_image(index, result)` in input order. An image that cannot be read or decoded gets its
/// error; a GPU failure stops the run, naming the device.
pub fn run_images(
    models: &[LoadedModel],
    opts: &RunOptions,
    paths: &[PathBuf],
    on_image: impl FnMut(usize, Result<ImageOutput>),
) -> Result<RunTiming> {
    let Some(loaded) = models.first() else {
        return Err(Error::Input("no device to run on".into()));
    };
    let batch = fitted_batch(models, opts.batch, opts.res)?.min(paths.len().max(1));
    let stdin = read_stdin_image(paths)?;
    let exif = (opts.exif).unwrap_or(Exif::of_source(loaded.arch().source));
    let read = |p: &Path| match &stdin {
        Some(bytes) if p == Path::new("-") => {
            decode_named(bytes, "-", &ImageLimits::default(), exif)
        }
        _ => load_image_with(p, exif),
    };
    let mut spec = loaded.arch().preprocess;
    let position: HashMap<&Path, u64> = (paths.iter().enumerate())
        .map(|(i, p)| (p.as_path(), i as u64))
        .collect();
    let load = |p: &Path| {
        let img = read(p)?;
        Ok(match opts.augment {
            // The crop is already the input's size, so the transform only normalises.
            Some(seed) => {
                let seed = seed ^ position[p].wrapping_mul(0x9E37_79B9_7F4A_7C15);
                random_resized_crop(&img, opts.res as u32, spec.interpolation, seed)
            }
            None => img,
        })
    };
    if opts.augment.is_some() {
        spec.crop_pct = 1.0;
    }
    let transform = Transform::from_spec(&spec, opts.res, opts.res);
    // One batch in flight ahead of the pool's own queue: enough to overlap, little memory held.
    let (tx, rx) = mpsc::sync_channel::<Decoded>(1);
    std::thread::scope(|s| {
        let chunks = paths.chunks(batch);
        let (transform, load) = (&transform, &load);
        s.spawn(move || {
            for (i, chunk) in chunks.enumerate() {
                if tx
                    .send((i * batch, preprocess_batch_with(chunk, transform, load)))
                    .is_err()
                {
                    break; // the consumer stopped on an error
                }
            }
        });
        // Compiling the pipelines overlaps with decoding the first batch.
        run_pool(models, session_options(opts, batch), rx, on_image)
    })
}

/// Makes the sessions, runs the decoded batches from `decoded` over them and hands each
/// image's result to `on_image` in input order.
fn run_pool(
    models: &[LoadedModel],
    options: SessionOptions,
    decoded: mpsc::Receiver<Decoded>,
    mut on_image: impl FnMut(usize, Result<ImageOutput>),
) -> Result<RunTiming> {
    let started = Instant::now();
    let mut pool = Pool::new(models, options)?;
    let startup = started.elapsed();
    note_sessions(&pool, models, startup);
    let work = |session: &mut Session, (start, inputs): Decoded| {
        let mut outputs = run_batch(session, &inputs)?.into_iter();
        let results: Vec<Result<ImageOutput>> = (inputs.into_iter())
            .map(|input| input.map(|_| outputs.next().expect("one per image")))
            .collect();
        Ok((start, results))
    };
    let ran = pool.run_jobs(decoded, work, |_, (start, results)| {
        for (i, result) in results.into_iter().enumerate() {
            on_image(start + i, result);
        }
    })?;
    if pool.len() > 1 {
        // How the shared queue split the work: a faster device ran more batches.
        let shares: Vec<String> = ran.iter().map(usize::to_string).collect();
        note!(
            "batches per device (in --device order): {}",
            shares.join(", ")
        );
    }
    Ok(RunTiming { startup })
}

/// The session every device makes for this run.
fn session_options(opts: &RunOptions, batch: usize) -> SessionOptions {
    let output = match opts.embeddings {
        true => OutputKind::Embeddings,
        false => OutputKind::Logits,
    };
    SessionOptions::new(batch, opts.res, opts.res)
        .with_capture_stages(opts.capture_stages)
        .with_output(output)
}

/// Says on stderr what the run's sessions are and how long they took to make: the adapter
/// of each, counted where one holds several (`--device 0,0`).
fn note_sessions(pool: &Pool, models: &[LoadedModel], startup: Duration) {
    let o = pool.options();
    let mut adapters: Vec<(String, usize)> = Vec::new();
    for d in models.iter().map(LoadedModel::gpu_description) {
        match adapters.iter_mut().find(|(a, _)| *a == d) {
            Some((_, n)) => *n += 1,
            None => adapters.push((d, 1)),
        }
    }
    let on: Vec<String> = (adapters.into_iter())
        .map(|(a, n)| {
            if n == 1 {
                a
            } else {
                format!("{a} ({n} sessions)")
            }
        })
        .collect();
    let word = if pool.len() == 1 {
        "session"
    } else {
        "sessions"
    };
    note!(
        "{word}: batch {} at {}x{} on {}, ready in {:.1} s",
        o.batch,
        o.height,
        o.width,
        on.join(", "),
        startup.as_secs_f64()
    );
}

/// The bytes of standard input where an image path is `-` (at most one may be).
fn read_stdin_image(paths: &[PathBuf]) -> Result<Option<Vec<u8>>> {
    let dashes = paths.iter().filter(|p| p.as_os_str() == "-").count();
    if dashes == 0 {
        return Ok(None);
    }
    if dashes > 1 {
        return Err(Error::Input(
            "`-` (an image on standard input) may be given once".into(),
        ));
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)
        .map_err(|e| Error::io("<standard input>", e))?;
    Ok(Some(bytes))
}

/// Runs the images of one batch that decoded, padded with zeros to the session's batch.
fn run_batch(session: &mut Session, inputs: &[Result<Vec<f32>>]) -> Result<Vec<ImageOutput>> {
    let good: Vec<&Vec<f32>> = inputs.iter().filter_map(|r| r.as_ref().ok()).collect();
    let n = good.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    let o = session.options();
    let per_image = 3 * o.height * o.width;
    let mut input: Vec<f32> = good.into_iter().flatten().copied().collect();
    input.resize(o.batch * per_image, 0.0);
    let out = session.run(&input)?;
    let width = out.logits.len() / o.batch;
    Ok((0..n)
        .map(|i| ImageOutput {
            logits: out.logits[i * width..(i + 1) * width].to_vec(),
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
