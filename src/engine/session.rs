//! `Session`: a forward pass prepared for one batch size, resolution and output.

use super::{LoadedModel, images};
use crate::graph::Output;
use crate::kernels::Family;
use crate::kernels::lower;
use crate::runtime::{Executor, Input, guard};
use crate::{Error, Prediction, Result};

mod asynchronous;

/// What a session's [`Output::logits`] holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutputKind {
    /// The classifier's logits, `[batch, classes]`.
    #[default]
    Logits,
    /// The pooled features the classifier would read, `[batch, channels]` (the global average
    /// of the head's output): embeddings for retrieval or a new head. The classifier is not
    /// run; a headless backbone gives these whatever the session asks.
    Embeddings,
}

/// What a session is prepared for: make one with [`SessionOptions::new`] or
/// [`LoadedModel::default_options`] and adjust it with the `with_` methods.
///
/// ```
/// use effnet::{OutputKind, SessionOptions};
/// let o = SessionOptions::new(8, 224, 224).with_output(OutputKind::Embeddings);
/// assert_eq!((o.batch, o.height, o.output), (8, 224, OutputKind::Embeddings));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionOptions {
    /// Images per run.
    pub batch: usize,
    /// Input height in pixels.
    pub height: usize,
    /// Input width in pixels.
    pub width: usize,
    /// Return every stage's output (stem, each stage, head) with the logits.
    pub capture_stages: bool,
    /// Logits (the default) or pooled embeddings.
    pub output: OutputKind,
    /// The kernel family to run (`None`: `EFFNET_KERNELS`, else the adapter's default:
    /// `Family::Auto` on GPUs, the CPU family on CPU drivers).
    pub kernels: Option<Family>,
}

impl SessionOptions {
    /// `batch` images of `height`×`width`, logits only.
    pub fn new(batch: usize, height: usize, width: usize) -> Self {
        SessionOptions {
            batch,
            height,
            width,
            capture_stages: false,
            output: OutputKind::Logits,
            kernels: None,
        }
    }

    /// The same options for `batch` images per run.
    pub fn with_batch(self, batch: usize) -> Self {
        SessionOptions { batch, ..self }
    }

    /// The same options at `height`×`width`.
    pub fn with_resolution(self, height: usize, width: usize) -> Self {
        SessionOptions {
            height,
            width,
            ..self
        }
    }

    /// The same options, returning every stage's output too (`capture`) or not.
    pub fn with_capture_stages(self, capture: bool) -> Self {
        SessionOptions {
            capture_stages: capture,
            ..self
        }
    }

    /// The same options with `output` in [`Output::logits`].
    pub fn with_output(self, output: OutputKind) -> Self {
        SessionOptions { output, ..self }
    }

    /// The same options running the kernels of `family`.
    pub fn with_kernels(self, family: Family) -> Self {
        SessionOptions {
            kernels: Some(family),
            ..self
        }
    }
}

/// The first `images` rows of `width` values, one vector each.
fn embedding_rows(rows: &[f32], width: usize, images: usize) -> Vec<Vec<f32>> {
    (rows.chunks(width.max(1)).take(images))
        .map(<[f32]>::to_vec)
        .collect()
}

/// A prepared forward pass for one batch size and resolution, made by
/// [`LoadedModel::session`]. Runs reuse every buffer: nothing is allocated on the GPU per run.
/// One per thread (runs take `&mut self`); make several from one `LoadedModel`.
pub struct Session {
    inner: Executor,
    options: SessionOptions,
    model: LoadedModel,
    /// Whether the output is pooled features: asked for, or a model without a classifier.
    embeds: bool,
}

/// What a session needs before its executor exists: its graph, kernels and output.
struct Prepared {
    graph: crate::graph::Graph,
    family: Family,
    embeds: bool,
}

impl Session {
    /// Checks the sizes against the device, then makes every buffer, pipeline and bind group.
    pub(super) fn new(model: &LoadedModel, o: SessionOptions) -> Result<Self> {
        let p = Self::prepare(model, o)?;
        let (gpu, weights) = (&model.gpu, &model.weights);
        let inner = Executor::new(gpu, weights, p.graph, o.capture_stages, p.family)?;
        Ok(Self::assemble(model, o, inner, p.embeds))
    }

    /// Like `new`, awaiting the device's verdict instead of blocking (as a browser needs).
    pub(super) async fn new_async(model: &LoadedModel, o: SessionOptions) -> Result<Self> {
        let p = Self::prepare(model, o)?;
        let (gpu, weights) = (&model.gpu, &model.weights);
        let inner = Executor::new_async(gpu, weights, p.graph, o.capture_stages, p.family).await?;
        Ok(Self::assemble(model, o, inner, p.embeds))
    }

    /// Checks the sizes against the device and lowers the graph; allocates nothing.
    fn prepare(model: &LoadedModel, o: SessionOptions) -> Result<Prepared> {
        let embeds = o.output == OutputKind::Embeddings || model.arch().classifier.is_none();
        // Without the classifier, the graph's last op writes the pooled features instead.
        let arch = if embeds {
            model.arch().clone().with_classes(0)
        } else {
            model.arch().clone()
        };
        let limit = guard::tensor_limit(&model.gpu.limits);
        let size = (o.batch, o.height, o.width);
        guard::check_size(&arch, size, model.weights.precision, limit)?;
        Ok(Prepared {
            graph: lower(&arch, o.batch, o.height, o.width)?,
            family: o.kernels.unwrap_or(model.kernels),
            embeds,
        })
    }

    fn assemble(model: &LoadedModel, o: SessionOptions, inner: Executor, embeds: bool) -> Self {
        Session {
            inner,
            options: o,
            model: model.clone(),
            embeds,
        }
    }

    /// The options the session was made with.
    pub fn options(&self) -> SessionOptions {
        self.options
    }

    /// Runs on NCHW f32 input of exactly `batch × 3 × height × width` values, preprocessed
    /// as the model expects, blocking until the results are back.
    pub fn run(&mut self, input: &[f32]) -> Result<Output> {
        let inner = &self.inner;
        self.model.gpu.scoped("a forward pass", || inner.run(input))
    }

    /// Runs on input already on the GPU: `buffer` (usage `COPY_SRC`, same device) holds NCHW
    /// values from offset 0 in the model's precision (f32 unless loaded with
    /// [`LoadOptions::with_precision`](crate::LoadOptions::with_precision)); it is copied into
    /// the session on the GPU, no CPU round trip.
    ///
    /// ```
    /// # use effnet::{Engine, Model};
    /// use effnet::wgpu::{self, util::DeviceExt};
    /// # fn main() -> effnet::Result<()> {
    /// let Ok(engine) = Engine::new() else { return Ok(()) };
    /// let model = engine.load(Model::bundled()?)?;
    /// let mut session = model.session(model.default_options(1).with_resolution(32, 32))?;
    /// let input = engine.device().create_buffer_init(&wgpu::util::BufferInitDescriptor {
    ///     label: Some("app frame"),
    ///     contents: bytemuck::cast_slice(&vec![0.5f32; 3 * 32 * 32]),
    ///     usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
    /// });
    /// let from_gpu = session.run_gpu_buffer(&input)?;
    /// let from_host = session.run(&vec![0.5; 3 * 32 * 32])?;
    /// assert_eq!(from_gpu.logits, from_host.logits);
    /// # Ok(()) }
    /// ```
    pub fn run_gpu_buffer(&mut self, buffer: &wgpu::Buffer) -> Result<Output> {
        let inner = &self.inner;
        let input = Input::Gpu(buffer);
        (self.model.gpu).scoped("a forward pass", || inner.run_from(input))
    }

    /// Runs on input already on the GPU and leaves the logits there: returns the buffer
    /// (`[batch, classes]` in the model's precision, usage `STORAGE | COPY_SRC`) without
    /// waiting. Work the app submits to the same queue afterwards sees the results; the next
    /// run overwrites them.
    pub fn run_on_gpu(&mut self, buffer: &wgpu::Buffer) -> Result<&wgpu::Buffer> {
        let inner = &self.inner;
        let input = Input::Gpu(buffer);
        (self.model.gpu).scoped("a forward pass", || inner.run_on_gpu(input))
    }

    /// Runs on decoded images (exactly `batch` of them), preprocessed the way the model's
    /// checkpoint family expects (resize, centre crop, normalize).
    pub fn run_images(&mut self, images: &[image::RgbImage]) -> Result<Output> {
        let o = self.options;
        let spec = &self.model.arch().preprocess;
        let input = images::to_tensor(images, spec, o.batch, o.height, o.width)?;
        self.run(&input)
    }

    /// The top `k` classes of each image (at most `batch` of them; a short batch is padded),
    /// best first, named by [`Model::class_names`](crate::Model::class_names).
    ///
    /// ```
    /// use effnet::image::{Rgb, RgbImage};
    /// # use effnet::{Engine, Model};
    /// # fn main() -> effnet::Result<()> {
    /// let Ok(engine) = Engine::new() else { return Ok(()) };
    /// let model = engine.load(Model::bundled()?)?;
    /// let mut session = model.session(model.default_options(2).with_resolution(32, 32))?;
    /// let grey = RgbImage::from_pixel(40, 30, Rgb([128, 128, 128]));
    /// let top = session.classify(&[grey], 5)?;
    /// assert_eq!((top.len(), top[0].len()), (1, 5));
    /// assert!(top[0][0].prob >= top[0][1].prob && top[0][0].wnid.is_some());
    /// # Ok(()) }
    /// ```
    pub fn classify(
        &mut self,
        images: &[image::RgbImage],
        k: usize,
    ) -> Result<Vec<Vec<Prediction>>> {
        self.check_logits()?;
        let (rows, width) = self.run_padded(images)?;
        Ok(self.predict_rows(&rows, width, images.len(), k))
    }

    /// The top `k` classes of each of the first `images` rows of `width` logits.
    fn predict_rows(
        &self,
        rows: &[f32],
        width: usize,
        images: usize,
        k: usize,
    ) -> Vec<Vec<Prediction>> {
        let classes = &self.model.classes;
        (rows.chunks(width.max(1)).take(images))
            .map(|row| classes.predict(row, k))
            .collect()
    }

    /// The pooled embedding of each image (at most `batch` of them; a short batch is padded):
    /// one `[channels]` vector per image, the classifier's input. Needs a session made with
    /// [`OutputKind::Embeddings`] (or a model without a classifier).
    ///
    /// ```
    /// use effnet::image::{Rgb, RgbImage};
    /// # use effnet::{Engine, Model, OutputKind};
    /// # fn main() -> effnet::Result<()> {
    /// let Ok(engine) = Engine::new() else { return Ok(()) };
    /// let model = engine.load(Model::bundled()?)?;
    /// let options = model.default_options(1).with_resolution(32, 32);
    /// let mut session = model.session(options.with_output(OutputKind::Embeddings))?;
    /// let grey = RgbImage::from_pixel(40, 30, Rgb([128, 128, 128]));
    /// let embeddings = session.embed(&[grey])?;
    /// assert_eq!(embeddings[0].len(), 1280);
    /// # Ok(()) }
    /// ```
    pub fn embed(&mut self, images: &[image::RgbImage]) -> Result<Vec<Vec<f32>>> {
        self.check_embeds()?;
        let (rows, width) = self.run_padded(images)?;
        Ok(embedding_rows(&rows, width, images.len()))
    }

    /// Runs up to `batch` images, padding with zeros (their results are dropped by the
    /// caller); returns the output rows and the width of one.
    fn run_padded(&mut self, images: &[image::RgbImage]) -> Result<(Vec<f32>, usize)> {
        let Some(input) = self.padded_input(images)? else {
            return Ok((Vec::new(), 1));
        };
        let rows = self.run(&input)?.logits;
        let width = rows.len() / self.options.batch;
        Ok((rows, width))
    }

    /// The tensor of up to `batch` images, zeros after the last; `None` for no images.
    fn padded_input(&self, images: &[image::RgbImage]) -> Result<Option<Vec<f32>>> {
        if images.is_empty() {
            return Ok(None);
        }
        let o = self.options;
        let spec = &self.model.arch().preprocess;
        images::to_tensor_padded(images, spec, o.batch, o.height, o.width).map(Some)
    }

    /// `Error::Input` unless the session outputs embeddings.
    fn check_embeds(&self) -> Result<()> {
        if self.embeds {
            return Ok(());
        }
        Err(Error::Input(
            "this session outputs logits; make it with \
             `SessionOptions::with_output(OutputKind::Embeddings)` to get embeddings"
                .into(),
        ))
    }

    /// `classify`'s error on a session without logits.
    fn check_logits(&self) -> Result<()> {
        if self.embeds {
            return Err(self.not_logits());
        }
        Ok(())
    }

    /// Why `classify` cannot run on this session.
    fn not_logits(&self) -> Error {
        if self.model.arch().classifier.is_none() {
            return Error::Input(
                "the model has no classifier (a headless backbone, e.g. timm's num_classes=0): \
                 it gives embeddings, not classes; use `Session::embed`, or a checkpoint with a \
                 classifier"
                    .into(),
            );
        }
        Error::Input(
            "this session outputs embeddings; make it with `OutputKind::Logits` (the default) \
             to classify"
                .into(),
        )
    }

    /// Runs with a GPU timestamp around every dispatch (see `bench`).
    pub(crate) fn run_profiled(
        &mut self,
        input: &[f32],
        timer: &crate::runtime::Timer,
    ) -> Result<(Output, crate::runtime::Profile)> {
        self.inner.run_profiled(input, timer)
    }

    /// Timestamp queries sized for this session; an error where the adapter has none.
    pub(crate) fn timer(&self) -> Result<crate::runtime::Timer> {
        self.inner.timer()
    }

    /// The lowered graph this session runs.
    pub(crate) fn graph(&self) -> &crate::graph::Graph {
        self.inner.graph()
    }

    /// The kernel family it runs.
    pub fn kernels(&self) -> Family {
        self.inner.family()
    }

    /// Compute dispatches per run.
    /// Host milliseconds of the last run's critical path: its input put in place and its
    /// pass submitted (`runtime::Executor::last_submit_ms`).
    pub(crate) fn last_submit_ms(&self) -> f64 {
        self.inner.last_submit_ms()
    }

    pub(crate) fn dispatch_count(&self) -> usize {
        self.inner.dispatch_count()
    }

    /// Dispatch `i`'s kernel, override constants and grid.
    pub(crate) fn dispatch_label(&self, i: usize) -> &str {
        self.inner.dispatch_label(i)
    }

    /// Distinct compute pipelines the session uses.
    pub(crate) fn pipeline_count(&self) -> usize {
        self.inner.pipeline_count()
    }
}
