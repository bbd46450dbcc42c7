//! The head and its optimizer state on the GPU, and the commands of one training step.
//! Public (hidden) so that tests can drive single steps and read the gradients.

use super::kernels::{Bindings, Kernels, Params, check_size, grid};
use super::schedule::AdamStep;
use super::{Examples, Head, check_examples};
use crate::gpu::{Gpu, create_buffer, create_buffer_init, create_storage};
use crate::{Error, Result};
use std::ops::Range;
use wgpu::util::BufferInitDescriptor;

/// Validation samples run through the forward and loss kernels this many at a time (or a
/// mini-batch, if larger): the logits buffer holds that many rows.
const EVAL_ROWS: usize = 256;

/// One split's data on the GPU: features, labels, visiting order, per-sample results and the
/// parameter block of its dispatches.
struct Split {
    samples: usize,
    /// `[samples, width]`; rewritten each epoch when training on augmented images.
    features: wgpu::Buffer,
    order: wgpu::Buffer,
    params: wgpu::Buffer,
    /// Loss of each position of the order, then 1.0 where the prediction was right.
    stats: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
}

/// The head θ = [W | b] ([classes, width + 1]), AdamW's moments and the training data,
/// resident on the GPU for the whole run.
pub struct GpuHead {
    gpu: Gpu,
    kernels: Kernels,
    classes: usize,
    width: usize,
    /// Rows the logits buffer holds.
    rows: usize,
    theta: wgpu::Buffer,
    logits: wgpu::Buffer,
    grad: wgpu::Buffer,
    moments: wgpu::Buffer,
    train: Split,
    val: Option<Split>,
    /// Grids of the per-parameter kernels, and of per-row kernels at full capacity.
    param_grid: [u32; 3],
}

impl GpuHead {
    /// Uploads `train` and creates a zero head for `classes` classes with room for mini-batches
    /// of `batch` samples.
    pub fn new(gpu: &Gpu, train: Examples, classes: usize, batch: usize) -> Result<Self> {
        check_examples(&train, classes, "training")?;
        let rows = batch.max(EVAL_ROWS);
        let params = classes * (train.width + 1);
        let hint = "train on fewer samples, fewer classes or narrower features";
        let fits = |what, floats: usize| check_size(gpu, what, 4 * floats as u64, hint);
        fits("the training features", train.features.len())?;
        fits("the training statistics", 2 * train.len())?;
        fits("the head's moments", 2 * params)?;
        fits("the logits", rows * classes)?;
        let param_grid = grid(gpu, params, "a training step")?;
        grid(gpu, rows * classes, "a training step")?;
        let width = train.width;
        gpu.scoped("the training buffers and kernels", || {
            let dev = &gpu.device;
            let zeros = |label, floats: usize| create_storage(dev, label, 4 * floats as u64);
            let theta = zeros("head", params);
            let logits = zeros("head logits", rows * classes);
            let grad = zeros("head gradient", params);
            let moments = zeros("head moments", 2 * params);
            let kernels = Kernels::new(dev);
            let shared = [&theta, &logits, &grad, &moments];
            let train = Split::new(gpu, &kernels, train, shared)?;
            Ok(GpuHead {
                gpu: gpu.clone(),
                kernels,
                classes,
                width,
                rows,
                theta,
                logits,
                grad,
                moments,
                train,
                val: None,
                param_grid,
            })
        })
    }

    /// Classes of the head.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Width of the feature vectors.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Uploads a validation split, evaluated by [`GpuHead::evaluate`].
    pub fn set_validation(&mut self, val: Examples) -> Result<()> {
        if val.width != self.width {
            return Err(Error::Input(format!(
                "validation features are {} wide but training features are {}; compute both \
                 with the same model",
                val.width, self.width
            )));
        }
        check_examples(&val, self.classes, "validation")?;
        let hint = "evaluate on fewer validation samples";
        let fits = |what, floats: usize| check_size(&self.gpu, what, 4 * floats as u64, hint);
        fits("the validation features", val.features.len())?;
        fits("the validation statistics", 2 * val.len())?;
        let shared = [&self.theta, &self.logits, &self.grad, &self.moments];
        let split = self.gpu.scoped("the validation buffers", || {
            Split::new(&self.gpu, &self.kernels, val, shared)
        })?;
        let identity: Vec<u32> = (0..val.len() as u32).collect();
        (self.gpu.queue).write_buffer(&split.order, 0, bytemuck::cast_slice(&identity));
        self.val = Some(split);
        Ok(())
    }

    /// Replaces the training features (the same samples and labels, e.g. the features of
    /// this epoch's augmented images); the head and AdamW's moments carry on.
    pub fn set_features(&self, features: &[f32]) -> Result<()> {
        let expected = self.train.samples * self.width;
        if features.len() != expected {
            return Err(Error::Shape {
                what: "the training features (the same samples as before)".into(),
                expected: vec![self.train.samples, self.width],
                got: vec![features.len()],
            });
        }
        let bytes = bytemuck::cast_slice(features);
        (self.gpu.queue).write_buffer(&self.train.features, 0, bytes);
        Ok(())
    }

    /// Replaces the head and resets AdamW's moments (tests start from a given head).
    pub fn set_head(&self, head: &Head) -> Result<()> {
        let shape = (head.weight.len(), head.bias.len());
        if shape != (self.classes * self.width, self.classes) {
            return Err(Error::Shape {
                what: "head weight and bias".into(),
                expected: vec![self.classes * self.width, self.classes],
                got: vec![shape.0, shape.1],
            });
        }
        let theta: Vec<f32> = (head.weight.chunks_exact(self.width).zip(&head.bias))
            .flat_map(|(w, &b)| w.iter().copied().chain([b]))
            .collect();
        let q = &self.gpu.queue;
        q.write_buffer(&self.theta, 0, bytemuck::cast_slice(&theta));
        q.write_buffer(&self.moments, 0, &vec![0; 8 * theta.len()]);
        Ok(())
    }

    /// Sets the order in which the training samples are visited (a permutation of 0..N,
    /// e.g. `schedule::epoch_order`); mini-batches are ranges of positions in it.
    pub fn set_order(&self, order: &[u32]) -> Result<()> {
        let n = self.train.samples;
        if order.len() != n || order.iter().any(|&i| i as usize >= n) {
            return Err(Error::Input(format!(
                "the order must list {n} sample indices below {n}, e.g. a permutation"
            )));
        }
        (self.gpu.queue).write_buffer(&self.train.order, 0, bytemuck::cast_slice(order));
        Ok(())
    }

    /// Records and submits one training step on the samples at positions `rows` of the
    /// order: forward, softmax-CE gradient, weight gradient, AdamW update. Nothing is read
    /// back; the losses and hits of those positions land in the training statistics.
    pub fn step(&self, rows: Range<usize>, adam: &AdamStep, smoothing: f64) -> Result<()> {
        let count = rows.len();
        if count == 0 || count > self.rows || rows.end > self.train.samples {
            return Err(Error::Input(format!(
                "a step covers 1 to {} positions of the {} in the order, not {rows:?}",
                self.rows, self.train.samples
            )));
        }
        let params = Params {
            lr_wd: adam.lr_wd as f32,
            step_size: adam.step_size as f32,
            sqrt_bc2: adam.sqrt_bc2 as f32,
            train: 1,
            ..self.params(rows, self.train.samples, smoothing)
        };
        self.submit(&self.train, &params, count, true);
        Ok(())
    }

    /// Mean loss and accuracy of the training samples over the last epoch.
    pub fn train_stats(&self) -> Result<(f64, f64)> {
        let (loss, hits) = self.read_stats(&self.train)?;
        Ok(mean_stats(&loss, &hits))
    }

    /// The per-sample losses and hits (1.0 or 0.0) of the training positions.
    pub fn read_train_stats(&self) -> Result<(Vec<f32>, Vec<f32>)> {
        self.read_stats(&self.train)
    }

    /// Mean loss (with the same label smoothing as training, so the two compare) and
    /// accuracy of the current head on the validation set, if there is one.
    pub fn evaluate(&self, smoothing: f64) -> Result<Option<(f64, f64)>> {
        let Some(val) = &self.val else {
            return Ok(None);
        };
        for first in (0..val.samples).step_by(self.rows) {
            let rows = first..(first + self.rows).min(val.samples);
            let count = rows.len();
            self.submit(
                val,
                &self.params(rows, val.samples, smoothing),
                count,
                false,
            );
        }
        let (loss, hits) = self.read_stats(val)?;
        Ok(Some(mean_stats(&loss, &hits)))
    }

    /// The gradient [classes, width + 1] (bias last in each row) of the last step.
    pub fn read_grad(&self) -> Result<Vec<f32>> {
        self.read(&self.grad, self.classes * (self.width + 1))
    }

    /// The head as it is now.
    pub fn read_head(&self) -> Result<Head> {
        let theta = self.read(&self.theta, self.classes * (self.width + 1))?;
        let rows = theta.chunks_exact(self.width + 1).take(self.classes);
        let (mut weight, mut bias) = (Vec::new(), Vec::new());
        for row in rows {
            weight.extend_from_slice(&row[..self.width]);
            bias.push(row[self.width]);
        }
        Ok(Head {
            classes: self.classes,
            width: self.width,
            weight,
            bias,
        })
    }

    fn params(&self, rows: Range<usize>, samples: usize, smoothing: f64) -> Params {
        Params {
            rows: rows.len() as u32,
            first: rows.start as u32,
            classes: self.classes as u32,
            width: self.width as u32,
            smoothing: smoothing as f32,
            inv_rows: 1.0 / rows.len().max(1) as f32,
            n_stats: samples as u32,
            ..Params::default()
        }
    }

    /// Writes `params` and submits one command buffer: forward and softmax on `count` rows
    /// of `split`, then with `update` the gradient and AdamW kernels. (The write lands
    /// before this submission and after the previous ones, so one params buffer suffices.)
    fn submit(&self, split: &Split, params: &Params, count: usize, update: bool) {
        let (dev, queue) = (&self.gpu.device, &self.gpu.queue);
        queue.write_buffer(&split.params, 0, bytemuck::bytes_of(params));
        // The grids were checked against the device limits at full capacity in `new`.
        let rows_grid = grid(&self.gpu, count, "").unwrap_or([1, 1, 1]);
        let logits_grid = grid(&self.gpu, count * self.classes, "").unwrap_or([1, 1, 1]);
        let mut enc = dev.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&Default::default());
            pass.set_bind_group(0, &split.bind_group, &[]);
            let mut run = |pipeline: &wgpu::ComputePipeline, [x, y, z]: [u32; 3]| {
                pass.set_pipeline(pipeline);
                pass.dispatch_workgroups(x, y, z);
            };
            run(&self.kernels.forward, logits_grid);
            run(&self.kernels.softmax, rows_grid);
            if update {
                run(&self.kernels.grad, self.param_grid);
                run(&self.kernels.adamw, self.param_grid);
            }
        }
        queue.submit([enc.finish()]);
    }

    fn read_stats(&self, split: &Split) -> Result<(Vec<f32>, Vec<f32>)> {
        let mut loss = self.read(&split.stats, 2 * split.samples)?;
        let hits = loss.split_off(split.samples);
        Ok((loss, hits))
    }

    /// Copies the first `len` floats of `buffer` into a staging buffer and waits for them;
    /// the staging buffer is made per call since reads happen once per epoch, not per step.
    fn read(&self, buffer: &wgpu::Buffer, len: usize) -> Result<Vec<f32>> {
        let (dev, size) = (&self.gpu.device, 4 * len as u64);
        let staging = create_buffer(
            dev,
            &wgpu::BufferDescriptor {
                label: Some("train readback"),
                size,
                usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            },
        );
        let mut enc = dev.create_command_encoder(&Default::default());
        enc.copy_buffer_to_buffer(buffer, 0, &staging, 0, size);
        self.gpu.queue.submit([enc.finish()]);
        let slice = staging.slice(..);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        dev.poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu(format!("waiting for the GPU failed: {e}")))?;
        rx.recv()
            .map_err(|_| Error::Gpu("readback was dropped".into()))?
            .map_err(|e| Error::Gpu(format!("cannot map the readback buffer: {e}")))?;
        let values = {
            let bytes = (slice.get_mapped_range())
                .map_err(|e| Error::Gpu(format!("cannot read the readback buffer: {e}")))?;
            bytemuck::cast_slice(&bytes).to_vec()
        };
        staging.unmap();
        Ok(values)
    }
}

/// Mean loss and accuracy, summed in f64 in position order (so the result is reproducible).
fn mean_stats(loss: &[f32], hits: &[f32]) -> (f64, f64) {
    let n = loss.len().max(1) as f64;
    let mean = |v: &[f32]| v.iter().map(|&x| x as f64).sum::<f64>() / n;
    (mean(loss), mean(hits))
}

impl Split {
    fn new(
        gpu: &Gpu,
        kernels: &Kernels,
        x: Examples,
        [theta, logits, grad, moments]: [&wgpu::Buffer; 4],
    ) -> Result<Self> {
        let dev = &gpu.device;
        let upload = |label, contents: &[u8]| {
            let usage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST;
            let desc = BufferInitDescriptor {
                label: Some(label),
                contents,
                usage,
            };
            create_buffer_init(dev, &desc)
        };
        let features = upload("train features", bytemuck::cast_slice(x.features));
        let labels = upload("train labels", bytemuck::cast_slice(x.labels));
        let order = upload("train order", &vec![0; 4 * x.len()]);
        let stats = create_storage(dev, "train stats", 8 * x.len() as u64);
        let params = create_buffer(
            dev,
            &wgpu::BufferDescriptor {
                label: Some("train params"),
                size: size_of::<Params>() as u64,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            },
        );
        let bindings = Bindings {
            params: &params,
            features: &features,
            order: &order,
            labels: &labels,
            theta,
            logits,
            grad,
            moments,
            stats: &stats,
        };
        let bind_group = bindings.bind_group(dev, &kernels.layout);
        Ok(Split {
            samples: x.len(),
            features,
            order,
            params,
            stats,
            bind_group,
        })
    }
}
