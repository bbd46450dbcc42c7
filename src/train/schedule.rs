//! What the GPU trainer and the CPU reference share, so that both walk exactly the same path:
//! the seeded sample order of every epoch, the mini-batches, and the learning rate and AdamW
//! scalars of every step.

use std::ops::Range;

/// AdamW's moment decay rates and denominator epsilon: torch.optim.AdamW's defaults.
pub(crate) const BETA1: f64 = 0.9;
pub(crate) const BETA2: f64 = 0.999;
pub(crate) const EPS: f64 = 1e-8;

/// splitmix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough to shuffle samples; the
/// point is that the order is the same on every platform and in both trainers.
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// A value in `0..n` (n ≥ 1) by multiply-shift; its bias, under n / 2^64, is irrelevant
    /// for shuffling.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }
}

/// splitmix64's output function, a strong 64-bit mixer.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The order in which epoch `epoch` (from 0) visits the `n` samples: a Fisher–Yates shuffle
/// driven by splitmix64. Each epoch's generator is seeded by hashing (seed, epoch), not by
/// continuing one stream, so any epoch's order can be made on its own; hashing (rather than
/// adding the epoch to the seed) keeps the epochs' streams from being shifted copies of one.
pub fn epoch_order(seed: u64, epoch: usize, n: usize) -> Vec<u32> {
    let mut rng = SplitMix64::new(seed ^ mix(epoch as u64 + 1));
    let mut order: Vec<u32> = (0..n as u32).collect();
    for i in (1..n).rev() {
        order.swap(i, rng.below(i + 1));
    }
    order
}

/// Mini-batches and learning rates of a run. Every epoch visits all samples once; the last
/// mini-batch of an epoch is smaller when the batch does not divide the sample count (as
/// PyTorch's DataLoader does by default), and its loss is the mean over its own samples.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Schedule {
    pub samples: usize,
    pub batch: usize,
    pub epochs: usize,
    pub warmup_epochs: usize,
    pub lr: f64,
}

impl Schedule {
    pub(crate) fn steps_per_epoch(&self) -> usize {
        self.samples.div_ceil(self.batch)
    }

    pub(crate) fn total_steps(&self) -> usize {
        self.steps_per_epoch() * self.epochs
    }

    /// Positions in the epoch's order that mini-batch `index` of the epoch covers.
    pub(crate) fn batch_rows(&self, index: usize) -> Range<usize> {
        let first = index * self.batch;
        first..(first + self.batch).min(self.samples)
    }

    /// The learning rate of step `step` (from 0): a linear warm-up from lr / W to lr over the
    /// first W = warmup_epochs · steps_per_epoch steps, then cosine decay over the remaining
    /// ones, lr · 0.5 · (1 + cos(π · s / S)) with s counted from the end of the warm-up. With
    /// no warm-up this is lr · 0.5 · (1 + cos(π · step / total_steps)).
    pub(crate) fn lr_at(&self, step: usize) -> f64 {
        let warmup = self.warmup_epochs * self.steps_per_epoch();
        if step < warmup {
            return self.lr * (step + 1) as f64 / warmup as f64;
        }
        let rest = (self.total_steps() - warmup).max(1) as f64;
        let s = (step - warmup) as f64;
        self.lr * 0.5 * (1.0 + (std::f64::consts::PI * s / rest).cos())
    }
}

/// The per-step scalars of AdamW step `t` (from 1) at learning rate `lr`, in f64; the GPU
/// gets them rounded to f32 once, which is far below the tests' tolerances.
#[derive(Clone, Copy, Debug)]
pub struct AdamStep {
    pub lr: f64,
    /// lr · weight_decay: the decoupled decay is w −= w · lr · wd (passing the product rather
    /// than 1 − lr·wd keeps its precision in f32, where 1 − 1e-7 rounds to a 50% error).
    pub lr_wd: f64,
    /// lr / (1 − β1^t).
    pub step_size: f64,
    /// sqrt(1 − β2^t).
    pub sqrt_bc2: f64,
}

impl AdamStep {
    pub fn new(t: u64, lr: f64, weight_decay: f64) -> Self {
        let t = t.min(i32::MAX as u64) as i32;
        AdamStep {
            lr,
            lr_wd: lr * weight_decay,
            step_size: lr / (1.0 - BETA1.powi(t)),
            sqrt_bc2: (1.0 - BETA2.powi(t)).sqrt(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_are_permutations_that_differ_by_epoch_and_seed() {
        let a = epoch_order(7, 0, 100);
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..100).collect::<Vec<u32>>());
        assert_eq!(a, epoch_order(7, 0, 100), "same seed and epoch, same order");
        assert_ne!(a, epoch_order(7, 1, 100), "epochs differ");
        assert_ne!(a, epoch_order(8, 0, 100), "seeds differ");
        assert!(epoch_order(1, 0, 0).is_empty());
        assert_eq!(epoch_order(1, 3, 1), vec![0]);
    }

    #[test]
    fn schedule_covers_every_sample_once_per_epoch() {
        let s = Schedule {
            samples: 11,
            batch: 4,
            epochs: 2,
            warmup_epochs: 0,
            lr: 1.0,
        };
        assert_eq!(s.steps_per_epoch(), 3);
        let rows: Vec<_> = (0..3).map(|i| s.batch_rows(i)).collect();
        assert_eq!(rows, vec![0..4, 4..8, 8..11]);
    }

    #[test]
    fn cosine_and_warmup() {
        let mut s = Schedule {
            samples: 10,
            batch: 1,
            epochs: 2,
            warmup_epochs: 0,
            lr: 2.0,
        };
        assert_eq!(s.lr_at(0), 2.0);
        // Halfway through the cosine the rate is half of lr (cos(π/2) = 0 up to rounding).
        assert!((s.lr_at(10) - 1.0).abs() < 1e-12, "{}", s.lr_at(10));
        assert!(s.lr_at(19) > 0.0 && s.lr_at(19) < 0.05);
        s.warmup_epochs = 1;
        assert_eq!(s.lr_at(0), 0.2);
        assert_eq!(s.lr_at(9), 2.0);
        assert_eq!(s.lr_at(10), 2.0, "the cosine starts after the warm-up");
    }

    #[test]
    fn adam_bias_correction() {
        let a = AdamStep::new(1, 0.1, 0.5);
        assert!((a.step_size - 1.0).abs() < 1e-12, "0.1 / (1 − 0.9)");
        assert!((a.sqrt_bc2 - 0.001f64.sqrt()).abs() < 1e-12);
        assert!((a.lr_wd - 0.05).abs() < 1e-15);
    }
}
