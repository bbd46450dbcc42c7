//! Teaching the network new classes: training a linear classifier head, logits = W·f + b, on
//! pooled feature vectors (e.g. [`Session::embed`](crate::Session::embed)), on the GPU.
//!
//! Softmax cross-entropy with label smoothing, AdamW with a cosine learning-rate schedule
//! (optionally after a linear warm-up), mini-batches in a seeded shuffled order. The features
//! are uploaded once; every mini-batch is four small kernels (forward GEMM, softmax
//! gradient, weight-gradient GEMM, AdamW) in one command buffer, and only the per-sample
//! losses come back, once per epoch. Every sum runs in a fixed order, so the same seed gives
//! a bit-identical head on the same device. The module `reference` is the CPU oracle in f64.
//!
//! ```
//! use effnet::train::{Examples, TrainOptions, Trainer};
//! # fn main() -> effnet::Result<()> {
//! let Ok(engine) = effnet::Engine::new() else { return Ok(()) };
//! // Two classes told apart by the sign of the first feature.
//! let features = vec![1.0, 0.3, 0.9, -0.2, -1.0, 0.1, -0.8, 0.4];
//! let labels = vec![0, 0, 1, 1];
//! let train = Examples::new(&features, 2, &labels);
//! let options = TrainOptions { epochs: 20, lr: 0.05, ..TrainOptions::default() };
//! let trained = Trainer::new(engine.gpu(), train, 2, options)?
//!     .run(|e| println!("epoch {}: loss {:.3}", e.epoch, e.train_loss))?;
//! assert_eq!(trained.head.predict(&features), labels);
//! # Ok(()) }
//! ```

mod checks;
mod gpu;
mod kernels;
// Hidden: the CPU oracle, the schedule, the GPU head alone and the shader sources are public
// only for tests/ (train.rs, train/, shaders.rs); not a stable API.
#[doc(hidden)]
pub mod reference;
#[doc(hidden)]
pub mod schedule;

#[doc(hidden)]
pub use gpu::GpuHead;
#[doc(hidden)]
pub use kernels::sources as shader_sources;

use crate::gpu::Gpu;
use crate::{Error, Result};
use schedule::{AdamStep, Schedule, epoch_order};

pub(crate) use checks::check_examples;
pub use checks::check_options;

/// How to train. The defaults suit a linear probe on ~1k samples of 1280-d pooled
/// EfficientNet features. Measured on the bundled Lite0's features of 821 ImageNet photos in
/// 7 coarse classes (`../shared/data/transfer_coarse.tsv`, 179 validation photos, where one
/// photo is 0.56 points): the defaults score 93.3% with seeds 0–3 (tests/train/transfer.rs,
/// `transfer_coarse_lite0`; PyTorch's logistic regression on the same features: 92.7%).
/// - `lr` 1e-3 with `batch` 32: 26 AdamW steps per epoch; Adam moves each weight by about lr
///   per step, enough for the O(1) weights a probe on O(1) features needs within the run.
///   2e-3 and 3e-3 fit the training set as well but scored 91–92%; 5e-4 underfits (99.8%
///   training accuracy);
/// - `epochs` 50 (1,300 steps): the training loss has flattened before the cosine schedule
///   ends; 30 epochs scored 92–93%, 100 epochs at 2e-3 91%;
/// - `weight_decay` 1e-2 (torch.optim.AdamW's default): a mild pull towards zero (1e-4 made
///   no difference here) that keeps weights bounded once the data are fit;
/// - `label_smoothing` 0.1: the same accuracy as none here, but separable data (a probe on
///   1280 features and 821 samples always is) no longer drive the logits up without bound,
///   so the probabilities are not all 0 or 1;
/// - no warm-up: the loss is convex and Adam's first steps are bounded by lr, so there is no
///   early instability to tame (2 epochs of warm-up made no difference).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrainOptions {
    /// Passes over the training set.
    pub epochs: usize,
    /// Peak learning rate of AdamW.
    pub lr: f64,
    /// Samples per mini-batch (at most the number of samples is used).
    pub batch: usize,
    /// Decoupled weight decay (as torch.optim.AdamW), on the weights, not the bias.
    pub weight_decay: f64,
    /// Label smoothing S in [0, 1): the target is S/classes + (1 − S)·one-hot.
    pub label_smoothing: f64,
    /// Seed of the shuffled sample order.
    pub seed: u64,
    /// Epochs of linear learning-rate warm-up before the cosine decay.
    pub warmup: usize,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            epochs: 50,
            lr: 1e-3,
            batch: 32,
            weight_decay: 1e-2,
            label_smoothing: 0.1,
            seed: 0,
            warmup: 0,
        }
    }
}

/// Labelled feature vectors: `features` is `[labels.len(), width]`, row-major.
#[derive(Clone, Copy, Debug)]
pub struct Examples<'a> {
    /// `[samples, width]`, row-major.
    pub features: &'a [f32],
    /// Values per feature vector.
    pub width: usize,
    /// The class index (below the number of classes) of each sample.
    pub labels: &'a [u32],
}

impl<'a> Examples<'a> {
    /// Feature vectors `[labels.len(), width]` and their labels (checked when training).
    pub fn new(features: &'a [f32], width: usize, labels: &'a [u32]) -> Self {
        Examples {
            features,
            width,
            labels,
        }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The feature vector of sample `i`.
    pub fn row(&self, i: usize) -> &'a [f32] {
        &self.features[i * self.width..(i + 1) * self.width]
    }
}

/// A trained linear head: logits = weight · f + bias.
#[derive(Clone, Debug, PartialEq)]
pub struct Head {
    /// Number of classes (rows of `weight`).
    pub classes: usize,
    /// Width of the feature vectors (columns of `weight`).
    pub width: usize,
    /// `[classes, width]`, row-major (PyTorch's `nn.Linear.weight` layout).
    pub weight: Vec<f32>,
    /// `[classes]`.
    pub bias: Vec<f32>,
}

impl Head {
    /// Logits `[rows, classes]` of feature vectors `[rows, width]`, on the CPU (values past
    /// the last whole row are ignored).
    pub fn logits(&self, features: &[f32]) -> Vec<f32> {
        let rows = features.chunks_exact(self.width.max(1));
        rows.flat_map(|x| {
            let weights = self.weight.chunks_exact(self.width.max(1));
            weights.zip(&self.bias).map(move |(w, &b)| {
                let dot: f64 = w.iter().zip(x).map(|(&w, &x)| w as f64 * x as f64).sum();
                (dot + b as f64) as f32
            })
        })
        .collect()
    }

    /// The predicted class (the first largest logit) of each feature vector.
    pub fn predict(&self, features: &[f32]) -> Vec<u32> {
        let logits = self.logits(features);
        logits
            .chunks_exact(self.classes.max(1))
            .map(argmax)
            .collect()
    }
}

/// The index of the first largest value.
pub(crate) fn argmax(values: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best as u32
}

/// What one epoch did. Training loss and accuracy are means over the epoch's samples, each
/// taken with the head as it was when its mini-batch ran (as training loops usually report).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochStats {
    /// From 1.
    pub epoch: usize,
    /// Learning rate of the epoch's last step.
    pub lr: f64,
    /// Mean cross-entropy (with the label smoothing of the run) over the training samples.
    pub train_loss: f64,
    /// Fraction of training samples whose largest logit was their label's.
    pub train_accuracy: f64,
    /// Mean loss on the validation set, with the head at the end of the epoch.
    pub val_loss: Option<f64>,
    /// Accuracy on the validation set, with the head at the end of the epoch.
    pub val_accuracy: Option<f64>,
}

/// The result of a whole run.
#[derive(Clone, Debug)]
pub struct Trained {
    /// The head after the last epoch.
    pub head: Head,
    /// What every epoch did, in order.
    pub history: Vec<EpochStats>,
}

/// Trains a head on the GPU, one epoch per [`Iterator::next`] (so a command line can show
/// progress), or all at once with [`Trainer::run`].
pub struct Trainer {
    gpu: Gpu,
    head: GpuHead,
    schedule: Schedule,
    options: TrainOptions,
    history: Vec<EpochStats>,
    /// Set after an error: a diverged or failed run does not continue.
    stopped: bool,
}

impl Trainer {
    /// Checks the inputs, uploads the features and builds the kernels. The head starts at
    /// zero (the loss is convex, so no random start is needed, and the run depends on the
    /// seed only through the sample order).
    pub fn new(gpu: &Gpu, train: Examples, classes: usize, options: TrainOptions) -> Result<Self> {
        check_options(&options)?;
        let batch = options.batch.min(train.len());
        let head = GpuHead::new(gpu, train, classes, batch)?;
        let schedule = Schedule {
            samples: train.len(),
            batch,
            epochs: options.epochs,
            warmup_epochs: options.warmup,
            lr: options.lr,
        };
        Ok(Trainer {
            gpu: gpu.clone(),
            head,
            schedule,
            options,
            history: Vec::new(),
            stopped: false,
        })
    }

    /// Replaces the training features before the next epoch: the same samples, in the same
    /// order, with the same labels (e.g. computed from this epoch's augmented images).
    pub fn set_features(&mut self, features: &[f32]) -> Result<()> {
        self.head.set_features(features)
    }

    /// Also evaluates the head on `val` after every epoch.
    pub fn with_validation(mut self, val: Examples) -> Result<Self> {
        self.head.set_validation(val)?;
        Ok(self)
    }

    /// The options of the run.
    pub fn options(&self) -> &TrainOptions {
        &self.options
    }

    /// The epochs run so far.
    pub fn history(&self) -> &[EpochStats] {
        &self.history
    }

    /// The head as it is now (reads it back from the GPU).
    pub fn head(&self) -> Result<Head> {
        self.gpu
            .scoped("reading the head", || self.head.read_head())
    }

    /// Runs the remaining epochs, calling `progress` after each, and returns the head.
    pub fn run(mut self, mut progress: impl FnMut(&EpochStats)) -> Result<Trained> {
        for stats in &mut self {
            progress(&stats?);
        }
        let head = self.head()?;
        if let Some(i) = head
            .weight
            .iter()
            .chain(&head.bias)
            .position(|v| !v.is_finite())
        {
            return Err(self.diverged(format!("parameter {i} of the head is not finite")));
        }
        let history = self.history;
        Ok(Trained { head, history })
    }

    fn epoch(&mut self) -> Result<EpochStats> {
        let e = self.history.len();
        let order = epoch_order(self.options.seed, e, self.schedule.samples);
        let steps = self.schedule.steps_per_epoch();
        let (o, s) = (self.options, self.schedule);
        let (train, val) = self.gpu.scoped("a training epoch", || {
            self.head.set_order(&order)?;
            for i in 0..steps {
                let t = e * steps + i;
                let adam = AdamStep::new(t as u64 + 1, s.lr_at(t), o.weight_decay);
                self.head.step(s.batch_rows(i), &adam, o.label_smoothing)?;
            }
            Ok((
                self.head.train_stats()?,
                self.head.evaluate(o.label_smoothing)?,
            ))
        })?;
        let stats = EpochStats {
            epoch: e + 1,
            lr: s.lr_at((e + 1) * steps - 1),
            train_loss: train.0,
            train_accuracy: train.1,
            val_loss: val.map(|v| v.0),
            val_accuracy: val.map(|v| v.1),
        };
        if !stats.train_loss.is_finite() || !stats.val_loss.unwrap_or(0.0).is_finite() {
            return Err(self.diverged(format!("the loss of epoch {} is not finite", e + 1)));
        }
        Ok(stats)
    }

    fn diverged(&self, what: String) -> Error {
        Error::Input(format!(
            "training diverged: {what}; use a lower learning rate (this run's is {}, the \
             default {}) or check the features for extreme values",
            self.options.lr,
            TrainOptions::default().lr
        ))
    }
}

impl Iterator for Trainer {
    type Item = Result<EpochStats>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.stopped || self.history.len() >= self.options.epochs {
            return None;
        }
        let result = self.epoch();
        match &result {
            Ok(stats) => self.history.push(*stats),
            Err(_) => self.stopped = true,
        }
        Some(result)
    }
}
