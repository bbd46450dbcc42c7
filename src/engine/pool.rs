//! `Pool`: one session per device (several per adapter allowed), fed batches from one shared
//! queue by a thread per device, results handed back in input order.
//!
//! A shared queue rather than a fixed split: a device takes the next batch when it finishes
//! its last, so a GPU twice as fast as its neighbour runs about twice the batches, and a slow
//! device holds up at most the batch it is running.

// In a browser the sessions take the jobs in turn (`run_in_turn`): the thread machinery
// below is native only.
#![cfg_attr(target_arch = "wasm32", allow(dead_code, unused_imports))]

use super::{Engine, LoadOptions, LoadedModel, Model, Session, SessionOptions};
use crate::{Devices, Error, Prediction, Result};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex, mpsc};

/// Sessions on several devices (or several on one) working through one queue of batches:
/// every GPU of a machine on one job. Made by [`Pool::open`] (adapters by number, or all of
/// them) or [`Pool::new`] (models the app loaded itself). Results come back in input order,
/// whichever device ran them.
///
/// ```
/// use effnet::image::{Rgb, RgbImage};
/// use effnet::{Devices, LoadOptions, Model, Pool, SessionOptions};
/// # fn main() -> effnet::Result<()> {
/// # if effnet::Engine::adapters().is_empty() { return Ok(()) }
/// let options = SessionOptions::new(2, 32, 32); // 2 images per batch, 32×32 for speed
/// let mut pool = Pool::open(&Devices::All, Model::bundled()?, LoadOptions::default(), options)?;
/// let photos: Vec<RgbImage> = (0..5u8)
///     .map(|i| RgbImage::from_pixel(40, 30, Rgb([i * 50, 90, 200 - i * 40])))
///     .collect();
/// let top = pool.classify(&photos, 3)?; // one answer per photo, in order
/// assert_eq!(top.len(), 5);
/// # Ok(()) }
/// ```
pub struct Pool {
    members: Vec<Member>,
    options: SessionOptions,
}

/// One device's session and how messages name it.
struct Member {
    name: String,
    session: Session,
}

/// A job's place in the input and the result of running it.
type Done<R> = (usize, usize, Result<R>);

impl Pool {
    /// Opens the adapters `devices` names (a repeated number shares one device: `0,0` is two
    /// sessions on adapter 0), uploads `model` once per adapter and makes one session per
    /// entry with `options`.
    pub fn open(
        devices: &Devices,
        model: Model,
        load: LoadOptions,
        options: SessionOptions,
    ) -> Result<Pool> {
        let models = Self::load(&devices.indices()?, model, load)?;
        Self::new(&models, options)
    }

    /// `model` on each adapter of `indices` (numbers of [`Engine::adapters`]), one entry per
    /// index: each adapter is opened and given the weights once, a repeated index shares them.
    pub fn load(indices: &[usize], model: Model, load: LoadOptions) -> Result<Vec<LoadedModel>> {
        let mut opened: Vec<(usize, LoadedModel)> = Vec::new();
        let mut models = Vec::with_capacity(indices.len());
        for &i in indices {
            if let Some((_, m)) = opened.iter().find(|(j, _)| *j == i) {
                models.push(m.clone());
                continue;
            }
            let loaded = Engine::on_adapter(Some(i))?.load_with(model.clone(), load)?;
            opened.push((i, loaded.clone()));
            models.push(loaded);
        }
        Ok(models)
    }

    /// One session with `options` per model (models the app loaded, on any devices; one model
    /// twice gives two sessions on its device), made in parallel so the devices compile their
    /// pipelines at once. An empty list is `Error::Input`.
    pub fn new(models: &[LoadedModel], options: SessionOptions) -> Result<Pool> {
        if models.is_empty() {
            return Err(Error::Input("a pool needs at least one model".into()));
        }
        #[cfg(not(target_arch = "wasm32"))]
        let sessions = std::thread::scope(|s| {
            let spawned: Vec<_> = (models.iter())
                .map(|m| s.spawn(move || m.session(options)))
                .collect();
            let joined = spawned.into_iter().map(|h| h.join());
            joined
                .map(|r| r.unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                .collect::<Vec<_>>()
        });
        // A browser page has one thread (and wgpu's WebGPU types are not `Send`).
        #[cfg(target_arch = "wasm32")]
        let sessions: Vec<_> = models.iter().map(|m| m.session(options)).collect();
        let count = models.len();
        let mut members = Vec::with_capacity(count);
        for (k, (model, session)) in models.iter().zip(sessions).enumerate() {
            let name = member_name(k, count, model);
            let session = session.map_err(|e| on_device(&name, None, e))?;
            members.push(Member { name, session });
        }
        Ok(Pool { members, options })
    }

    /// How many sessions (devices) work.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Always false: a pool has at least one session.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The options every session was made with.
    pub fn options(&self) -> SessionOptions {
        self.options
    }

    /// Each session's device, in pool order, as messages name it.
    pub fn device_names(&self) -> Vec<String> {
        self.members.iter().map(|m| m.name.clone()).collect()
    }

    /// Runs `jobs` over the pool: each device's thread takes the next job from a shared queue
    /// (a faster device takes more) and runs `work` on its session; `done(index, result)` is
    /// called on this thread in job order. Job `k` is taken to hold images from
    /// `k × batch` (batches in input order), which is what a failure names: the first failure
    /// stops the run with `Error::OnDevice` (device, batch, first image; the cause inside).
    /// Returns how many jobs each session ran. The jobs are drawn on a thread of their own,
    /// so decoding the next batch there overlaps the GPUs' work.
    pub fn run_jobs<J, R>(
        &mut self,
        jobs: impl IntoIterator<Item = J, IntoIter: Send>,
        work: impl Fn(&mut Session, J) -> Result<R> + Sync,
        done: impl FnMut(usize, R),
    ) -> Result<Vec<usize>>
    where
        J: Send,
        R: Send,
    {
        #[cfg(target_arch = "wasm32")]
        return self.run_in_turn(jobs, work, done);
        #[cfg(not(target_arch = "wasm32"))]
        self.run_on_threads(jobs, work, done)
    }

    /// `run_jobs` with a thread per device and one drawing the jobs.
    #[cfg(not(target_arch = "wasm32"))]
    fn run_on_threads<J, R>(
        &mut self,
        jobs: impl IntoIterator<Item = J, IntoIter: Send>,
        work: impl Fn(&mut Session, J) -> Result<R> + Sync,
        mut done: impl FnMut(usize, R),
    ) -> Result<Vec<usize>>
    where
        J: Send,
        R: Send,
    {
        let stop = AtomicBool::new(false);
        // One job waiting per device: enough to keep each busy, little memory held.
        let (job_tx, job_rx) = mpsc::sync_channel::<(usize, J)>(self.members.len());
        let queue = Arc::new(Mutex::new(job_rx));
        let (res_tx, res_rx) = mpsc::channel::<Done<R>>();
        let names = self.device_names();
        let batch = self.options.batch;
        std::thread::scope(|s| {
            let (stop, work) = (&stop, &work);
            let jobs = jobs.into_iter();
            s.spawn(move || feed(jobs, job_tx, stop));
            for (m, member) in self.members.iter_mut().enumerate() {
                let (queue, results) = (queue.clone(), res_tx.clone());
                s.spawn(move || serve(m, &mut member.session, &queue, &results, work, stop));
            }
            // Only the workers hold these now: when the last one stops, the feeder's sends
            // fail and it stops too, and the results channel ends.
            drop((queue, res_tx));
            let collected = collect(res_rx, names.len(), &mut done);
            if collected.is_err() {
                stop.store(true, Ordering::Relaxed);
            }
            collected.map_err(|(m, k, e)| on_device(&names[m], Some((k, k * batch)), e))
        })
    }

    /// `run_jobs` on the one thread a browser page has: the sessions take the jobs in turn.
    #[cfg(target_arch = "wasm32")]
    fn run_in_turn<J, R>(
        &mut self,
        jobs: impl IntoIterator<Item = J>,
        work: impl Fn(&mut Session, J) -> Result<R>,
        mut done: impl FnMut(usize, R),
    ) -> Result<Vec<usize>> {
        let (names, batch) = (self.device_names(), self.options.batch);
        let mut ran = vec![0; self.members.len()];
        for (k, job) in jobs.into_iter().enumerate() {
            let m = k % self.members.len();
            let r = work(&mut self.members[m].session, job)
                .map_err(|e| on_device(&names[m], Some((k, k * batch)), e))?;
            ran[m] += 1;
            done(k, r);
        }
        Ok(ran)
    }

    /// Logits (or embeddings, for an embeddings session) of any number of images given as
    /// NCHW f32 values, preprocessed as the model expects: one row per image, in order. The
    /// last batch is padded; padding's rows are dropped.
    pub fn run(&mut self, input: &[f32]) -> Result<Vec<Vec<f32>>> {
        let o = self.options;
        let per_image = 3 * o.height * o.width;
        if per_image == 0 || !input.len().is_multiple_of(per_image) {
            return Err(Error::Shape {
                what: "a pool's input (whole images of 3 × height × width values)".into(),
                expected: vec![input.len() / per_image.max(1), 3, o.height, o.width],
                got: vec![input.len()],
            });
        }
        let mut rows = Vec::with_capacity(input.len() / per_image);
        let padded_len = o.batch * per_image;
        let jobs = input.chunks(padded_len);
        let work = |session: &mut Session, chunk: &[f32]| {
            let mut padded = chunk.to_vec();
            padded.resize(padded_len, 0.0);
            let logits = session.run(&padded)?.logits;
            let width = (logits.len() / o.batch).max(1);
            let images = chunk.len() / per_image;
            Ok(logits
                .chunks(width)
                .take(images)
                .map(<[f32]>::to_vec)
                .collect())
        };
        self.run_jobs(jobs, work, |_, batch: Vec<Vec<f32>>| rows.extend(batch))?;
        Ok(rows)
    }

    /// The top `k` classes of each image, in order ([`Session::classify`] over the pool).
    pub fn classify(
        &mut self,
        images: &[image::RgbImage],
        k: usize,
    ) -> Result<Vec<Vec<Prediction>>> {
        let mut all = Vec::with_capacity(images.len());
        let jobs = images.chunks(self.options.batch.max(1));
        let work = |s: &mut Session, chunk: &[image::RgbImage]| s.classify(chunk, k);
        self.run_jobs(jobs, work, |_, top| all.extend(top))?;
        Ok(all)
    }

    /// The pooled embedding of each image, in order ([`Session::embed`] over the pool; needs
    /// an embeddings session).
    pub fn embed(&mut self, images: &[image::RgbImage]) -> Result<Vec<Vec<f32>>> {
        let mut all = Vec::with_capacity(images.len());
        let jobs = images.chunks(self.options.batch.max(1));
        let work = |s: &mut Session, chunk: &[image::RgbImage]| s.embed(chunk);
        self.run_jobs(jobs, work, |_, rows| all.extend(rows))?;
        Ok(all)
    }
}

/// "device 1 of 2 (llvmpipe (Vulkan, ...))"; a pool of one is named by its adapter alone.
fn member_name(k: usize, count: usize, model: &LoadedModel) -> String {
    match count {
        1 => model.gpu_description(),
        _ => format!("device {k} of {count} ({})", model.gpu_description()),
    }
}

/// `e` as the failure of the device `name`, on `(batch, first image)` where it was running one.
fn on_device(name: &str, at: Option<(usize, usize)>, e: Error) -> Error {
    Error::OnDevice {
        device: name.to_string(),
        batch: at.map(|(k, _)| k),
        first_image: at.map(|(_, i)| i),
        source: Box::new(e),
    }
}

/// Draws the jobs, numbered, into the shared queue until they end, the run stops or no device
/// is left to take them.
fn feed<J>(jobs: impl Iterator<Item = J>, queue: SyncSender<(usize, J)>, stop: &AtomicBool) {
    for numbered in jobs.enumerate() {
        if stop.load(Ordering::Relaxed) || queue.send(numbered).is_err() {
            break;
        }
    }
}

/// One device's thread: takes jobs until the queue ends or the run stops; sends each result
/// back with the job's number and this member's, and stops after its own failure.
fn serve<J, R>(
    member: usize,
    session: &mut Session,
    queue: &Mutex<Receiver<(usize, J)>>,
    results: &Sender<Done<R>>,
    work: &(impl Fn(&mut Session, J) -> Result<R> + Sync),
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::Relaxed) {
        // A poisoned lock only means another worker panicked, which the scope re-raises.
        let next = queue.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok((k, job)) = next else { break };
        let result = work(session, job);
        let failed = result.is_err();
        if results.send((k, member, result)).is_err() || failed {
            break;
        }
    }
}

/// Hands results to `done` in job order as they complete (holding early ones back); returns
/// how many jobs each of `members` ran, or the first failure as (member, job, error).
fn collect<R>(
    results: Receiver<Done<R>>,
    members: usize,
    done: &mut impl FnMut(usize, R),
) -> std::result::Result<Vec<usize>, (usize, usize, Error)> {
    let mut held = BTreeMap::new();
    let mut next = 0;
    let mut ran = vec![0; members];
    for (k, member, result) in results {
        held.insert(k, result.map_err(|e| (member, k, e))?);
        ran[member] += 1;
        while let Some(r) = held.remove(&next) {
            done(next, r);
            next += 1;
        }
    }
    Ok(ran)
}
