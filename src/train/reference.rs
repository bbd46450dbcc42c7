//! The CPU oracle of head training: the same loss, gradients, AdamW steps, schedule and sample
//! order as the GPU trainer, written plainly in f64. Tests compare the GPU against it; it is
//! not fast.

use super::schedule::{AdamStep, BETA1, BETA2, EPS, Schedule, epoch_order};
use super::{EpochStats, Examples, Head, TrainOptions, check_examples, check_options};
use crate::Result;

/// θ = [W | b] as [classes, width + 1] (bias last in each row, like the GPU's) and AdamW's
/// state, all in f64.
#[derive(Clone, Debug)]
pub struct RefHead {
    pub classes: usize,
    pub width: usize,
    pub theta: Vec<f64>,
    pub m: Vec<f64>,
    pub v: Vec<f64>,
}

/// What one mini-batch gives: each sample's loss and whether its argmax was the label, and
/// the gradient of the batch-mean loss, [classes, width + 1].
#[derive(Clone, Debug)]
pub struct BatchResult {
    pub loss: Vec<f64>,
    pub hit: Vec<bool>,
    pub grad: Vec<f64>,
}

impl RefHead {
    pub(crate) fn zeros(classes: usize, width: usize) -> Self {
        let n = classes * (width + 1);
        RefHead {
            classes,
            width,
            theta: vec![0.0; n],
            m: vec![0.0; n],
            v: vec![0.0; n],
        }
    }

    pub fn from_head(head: &Head) -> Self {
        let mut r = Self::zeros(head.classes, head.width);
        let rows = r.theta.chunks_exact_mut(head.width + 1);
        for ((row, w), &b) in rows
            .zip(head.weight.chunks_exact(head.width))
            .zip(&head.bias)
        {
            row.iter_mut().zip(w).for_each(|(t, &w)| *t = w as f64);
            row[head.width] = b as f64;
        }
        r
    }

    pub(crate) fn head(&self) -> Head {
        let rows = self.theta.chunks_exact(self.width + 1);
        Head {
            classes: self.classes,
            width: self.width,
            weight: (rows.clone())
                .flat_map(|r| r[..self.width].iter().map(|&v| v as f32))
                .collect(),
            bias: rows.map(|r| r[self.width] as f32).collect(),
        }
    }

    /// W·x + b for one feature vector.
    pub fn logits(&self, x: &[f32]) -> Vec<f64> {
        let rows = self.theta.chunks_exact(self.width + 1);
        rows.map(|r| r[self.width] + r.iter().zip(x).map(|(&w, &x)| w * x as f64).sum::<f64>())
            .collect()
    }

    /// Softmax cross-entropy with label smoothing on the samples `samples` of `data`: the
    /// target is q = S/K + (1 − S)·one-hot, the loss −Σ q log softmax(z), and the gradient of
    /// the mean over the batch is (softmax − q)/B times [x, 1].
    pub fn batch(&self, data: &Examples, samples: &[u32], smoothing: f64) -> BatchResult {
        let (k_count, f1) = (self.classes, self.width + 1);
        let mut out = BatchResult {
            loss: Vec::new(),
            hit: Vec::new(),
            grad: vec![0.0; k_count * f1],
        };
        let uniform = smoothing / k_count as f64;
        for &s in samples {
            let x = data.row(s as usize);
            let y = data.labels[s as usize] as usize;
            let z = self.logits(x);
            let top = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let total: f64 = z.iter().map(|&z| (z - top).exp()).sum();
            let lse = top + total.ln();
            let q = |k: usize| uniform + if k == y { 1.0 - smoothing } else { 0.0 };
            out.loss
                .push((0..k_count).map(|k| q(k) * (lse - z[k])).sum());
            out.hit.push(first_max(&z) == y);
            for (k, row) in out.grad.chunks_exact_mut(f1).enumerate() {
                let d = ((z[k] - top).exp() / total - q(k)) / samples.len() as f64;
                row.iter_mut().zip(x).for_each(|(g, &x)| *g += d * x as f64);
                row[self.width] += d;
            }
        }
        out
    }

    /// One torch.optim.AdamW step: decoupled decay of the weights (not the bias), then the
    /// moments, then the bias-corrected update.
    pub fn adamw(&mut self, grad: &[f64], a: &AdamStep) {
        let f1 = self.width + 1;
        for (i, &g) in grad.iter().enumerate() {
            if i % f1 != self.width {
                self.theta[i] -= self.theta[i] * a.lr_wd;
            }
            self.m[i] = BETA1 * self.m[i] + (1.0 - BETA1) * g;
            self.v[i] = BETA2 * self.v[i] + (1.0 - BETA2) * g * g;
            self.theta[i] -= a.step_size * self.m[i] / (self.v[i].sqrt() / a.sqrt_bc2 + EPS);
        }
    }

    /// Mean loss and accuracy on every sample of `data`, in order.
    pub fn evaluate(&self, data: &Examples, smoothing: f64) -> (f64, f64) {
        let all: Vec<u32> = (0..data.len() as u32).collect();
        let r = self.batch(data, &all, smoothing);
        mean(&r.loss, &r.hit)
    }
}

/// The index of the first largest value (the GPU's tie rule).
fn first_max(z: &[f64]) -> usize {
    let mut best = 0;
    for (k, &v) in z.iter().enumerate() {
        if v > z[best] {
            best = k;
        }
    }
    best
}

fn mean(loss: &[f64], hit: &[bool]) -> (f64, f64) {
    let n = loss.len().max(1) as f64;
    let hits = hit.iter().filter(|&&h| h).count() as f64;
    (loss.iter().sum::<f64>() / n, hits / n)
}

/// The whole run, as `Trainer::run` does it on the GPU: from a zero head, the same epochs,
/// orders, mini-batches and learning rates.
pub fn train(
    data: Examples,
    val: Option<Examples>,
    classes: usize,
    options: &TrainOptions,
) -> Result<(Head, Vec<EpochStats>)> {
    check_options(options)?;
    check_examples(&data, classes, "training")?;
    let mut head = RefHead::zeros(classes, data.width);
    let s = Schedule {
        samples: data.len(),
        batch: options.batch.min(data.len()),
        epochs: options.epochs,
        warmup_epochs: options.warmup,
        lr: options.lr,
    };
    let steps = s.steps_per_epoch();
    let mut history = Vec::new();
    for e in 0..options.epochs {
        let order = epoch_order(options.seed, e, data.len());
        let (mut loss, mut hit) = (Vec::new(), Vec::new());
        for i in 0..steps {
            let t = e * steps + i;
            let r = head.batch(&data, &order[s.batch_rows(i)], options.label_smoothing);
            head.adamw(
                &r.grad,
                &AdamStep::new(t as u64 + 1, s.lr_at(t), options.weight_decay),
            );
            loss.extend(r.loss);
            hit.extend(r.hit);
        }
        let (train_loss, train_accuracy) = mean(&loss, &hit);
        let val = val.map(|v| head.evaluate(&v, options.label_smoothing));
        history.push(EpochStats {
            epoch: e + 1,
            lr: s.lr_at((e + 1) * steps - 1),
            train_loss,
            train_accuracy,
            val_loss: val.map(|v| v.0),
            val_accuracy: val.map(|v| v.1),
        });
    }
    Ok((head.head(), history))
}
