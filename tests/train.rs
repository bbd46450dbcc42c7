//! Training a linear head on the GPU against the f64 CPU reference (src/train/reference.rs),
//! on awkward sizes: 1, 3 and 7 classes, feature widths 13 and 37 (not multiples of 4),
//! mini-batches of 1 and 5 and a last mini-batch that is smaller than the others.

#[path = "train/behaviour.rs"]
mod behaviour;
mod common;
#[path = "train/support.rs"]
mod support;
#[path = "train/transfer.rs"]
mod transfer;

use effnet::gpu::Gpu;
use effnet::train::reference::{self, RefHead};
use effnet::train::schedule::{AdamStep, epoch_order};
use effnet::train::{EpochStats, GpuHead, TrainOptions, Trained, Trainer};
use support::{Data, check_close, random_head, theta_of};

/// f32 on the GPU vs f64 in the reference, for the gradient, the logits and the loss. Each
/// logit sums F + 1 ≤ 38 products of size ≤ 0.5 (weights in ±0.5, features in ±1): f32's
/// worst-case rounding error of such a sum is (F + 1)·2^-24·Σ|terms| ≤ 38·6e-8·19 ≈ 4e-5,
/// typically ~100× less as the errors partly cancel; exp, log and the division in the
/// softmax add a few ULP (~1e-6 relative) on GPUs, and the gradient's sum over B ≤ 5 samples
/// of |dlogit·x| ≤ 1/B keeps that size. Values are of order 0.1–1 (losses 1–3), so 1e-4
/// covers the worst case (measured errors on lavapipe stay below 4e-7), while an indexing or
/// formula bug shows as errors of 1e-2 or more.
pub const TOL_GRAD: f64 = 1e-4;

/// Tolerance of a parameter after one AdamW step, from the reference's gradient `g` and ours.
/// The first step is lr·g/(|g| + eps) (m̂ = g, sqrt(v̂) = |g|), which moves by at most
/// lr·eps·|δ|/(min |g| + eps)² when the gradient moves by δ without changing sign: negligible
/// unless |g| is near 0, where the bound reaches its cap of 2·lr (the step's sign is truly
/// undecided). Using our actual δ rather than TOL_GRAD keeps exact zeros (one class: the
/// gradient is exactly 0 on both sides) exact. f32 itself rounds the parameter and the
/// update at a few ULP: 1e-6 of the parameter's size and of lr.
fn tol_param(theta: f64, g: f64, ours: f32, lr: f64) -> f64 {
    let (eps, delta) = (1e-8, (ours as f64 - g).abs());
    let smallest = g.abs().min(ours.abs() as f64);
    let sign_sensitivity = (delta * eps / (smallest + eps).powi(2)).min(2.0);
    1e-6 * (theta.abs() + lr) + lr * sign_sensitivity
}

/// One step from a random head on the first `batch` positions of a shuffled order: the loss
/// of every sample, the gradient and the head after AdamW (with weight decay, so that the
/// decay and its skipping of the bias are checked too).
fn one_step(gpu: &Gpu, classes: usize, width: usize, batch: usize) {
    let case = format!("{classes} classes, width {width}, batch {batch}");
    let data = Data::random(classes as u64 * 100 + width as u64, 11, width, classes);
    let start = random_head(7, classes, width);
    let adam = AdamStep::new(1, LR, 0.5);
    let order = epoch_order(3, 0, 11);
    let gpu_head = GpuHead::new(gpu, data.examples(), classes, batch).unwrap();
    gpu_head.set_head(&start).unwrap();
    gpu_head.set_order(&order).unwrap();
    gpu_head.step(0..batch, &adam, SMOOTHING).unwrap();
    let mut reference = RefHead::from_head(&start);
    let r = reference.batch(&data.examples(), &order[..batch], SMOOTHING);
    reference.adamw(&r.grad, &adam);

    let (loss, hits) = gpu_head.read_train_stats().unwrap();
    check_close(&format!("{case}: loss"), &loss[..batch], &r.loss, |_| {
        TOL_GRAD
    });
    let expected_hits: Vec<f64> = r.hit.iter().map(|&h| h as u8 as f64).collect();
    let margins = top_two_margins(&RefHead::from_head(&start), &data, &order[..batch]);
    // A near-tie between the two largest logits may go either way in f32.
    let hit_tol = |i: usize| if margins[i] > TOL_GRAD { 0.0 } else { 1.0 };
    check_close(
        &format!("{case}: hit"),
        &hits[..batch],
        &expected_hits,
        hit_tol,
    );
    let grad = gpu_head.read_grad().unwrap();
    check_close(&format!("{case}: gradient"), &grad, &r.grad, |_| TOL_GRAD);
    let ours = theta_of(&gpu_head.read_head().unwrap());
    let tol = |i: usize| tol_param(reference.theta[i], r.grad[i], grad[i], LR);
    check_close(&format!("{case}: AdamW step"), &ours, &reference.theta, tol);
    last_batch_step(&case, &gpu_head, &reference, &data, &order, batch);
}

/// Learning rate and label smoothing of the single-step checks.
const LR: f64 = 0.01;
const SMOOTHING: f64 = 0.1;

/// A second step, on the epoch's last, shorter mini-batch, checks the offsets into the order
/// and the statistics, and the mean over fewer rows. (The heads it starts from differ by the
/// AdamW step's tolerance, ~1e-6·lr, far below TOL_GRAD's effect.)
fn last_batch_step(
    case: &str,
    gpu_head: &GpuHead,
    reference: &RefHead,
    data: &Data,
    order: &[u32],
    batch: usize,
) {
    let last = (10 / batch) * batch..11;
    let adam = AdamStep::new(2, LR, 0.5);
    gpu_head.step(last.clone(), &adam, SMOOTHING).unwrap();
    let r = reference.batch(&data.examples(), &order[last.clone()], SMOOTHING);
    let (loss, _) = gpu_head.read_train_stats().unwrap();
    check_close(&format!("{case}: last loss"), &loss[last], &r.loss, |_| {
        TOL_GRAD
    });
    let grad = gpu_head.read_grad().unwrap();
    check_close(&format!("{case}: last gradient"), &grad, &r.grad, |_| {
        TOL_GRAD
    });
}

fn top_two_margins(head: &RefHead, data: &Data, samples: &[u32]) -> Vec<f64> {
    let x = data.examples();
    samples
        .iter()
        .map(|&s| {
            let mut z = head.logits(x.row(s as usize));
            z.sort_by(|a, b| b.total_cmp(a));
            if z.len() < 2 {
                f64::INFINITY
            } else {
                z[0] - z[1]
            }
        })
        .collect()
}

#[test]
fn one_step_matches_reference_on_odd_sizes() {
    let Some(gpu) = common::gpu() else { return };
    for classes in [1, 3, 7] {
        for width in [13, 37] {
            for batch in [1, 5] {
                one_step(&gpu, classes, width, batch);
            }
        }
    }
}

/// Tolerance of the heads after several epochs (lr 0.01, at most 27 steps). Each AdamW step
/// moves a parameter by about lr·m̂/sqrt(v̂); the GPU's differs from the reference's by its
/// gradient's f32 error (measured ~1e-7, see TOL_GRAD) relative to sqrt(v̂), the gradient's
/// running size (0.01–1 here): ≤ 1e-5·lr per step, ≤ 3e-4·lr = 3e-6 over the run. 1e-5 is
/// three times that (measured: 4e-8), while one step with a wrong decay (lr·wd·|w| ≈ 1e-4),
/// bias correction or learning rate shows at once.
const TOL_EPOCHS: f64 = 1e-5;

fn train_both(classes: usize, width: usize, samples: usize, options: TrainOptions) {
    let Some(gpu) = common::gpu() else { return };
    let case = format!("{classes} classes, width {width}, {samples} samples, {options:?}");
    let data = Data::random(samples as u64 + 17, samples, width, classes);
    let val = Data::random(samples as u64 + 18, 7, width, classes);
    let ours = Trainer::new(&gpu, data.examples(), classes, options)
        .and_then(|t| t.with_validation(val.examples()))
        .and_then(|t| t.run(|_| {}))
        .unwrap();
    let (head, history) =
        reference::train(data.examples(), Some(val.examples()), classes, &options).unwrap();
    let expected = RefHead::from_head(&head).theta;
    check_close(
        &format!("{case}: head"),
        &theta_of(&ours.head),
        &expected,
        |_| TOL_EPOCHS,
    );
    check_history(&case, &ours, &history, [samples, val.labels.len()]);
}

/// Learning rates, losses (means of values within TOL_GRAD of the reference's) and
/// accuracies per epoch. An accuracy may differ by one of the training (`samples[0]`) or
/// validation (`samples[1]`) samples: a near-tie of the two largest logits (within
/// TOL_GRAD) may go either way in f32.
fn check_history(case: &str, ours: &Trained, expected: &[EpochStats], samples: [usize; 2]) {
    assert_eq!(ours.history.len(), expected.len(), "{case}: epochs");
    let one_sample = |n: usize| 1.0 / n as f64 + 1e-12;
    for (a, b) in ours.history.iter().zip(expected) {
        let e = a.epoch;
        assert_eq!(a.epoch, b.epoch);
        let pairs = [
            // Both take the rate from the same f64 function of the step.
            ("lr", a.lr, b.lr, 0.0),
            ("train loss", a.train_loss, b.train_loss, TOL_GRAD),
            (
                "val loss",
                a.val_loss.unwrap(),
                b.val_loss.unwrap(),
                TOL_GRAD,
            ),
            (
                "train accuracy",
                a.train_accuracy,
                b.train_accuracy,
                one_sample(samples[0]),
            ),
            (
                "val accuracy",
                a.val_accuracy.unwrap(),
                b.val_accuracy.unwrap(),
                one_sample(samples[1]),
            ),
        ];
        for (what, x, y, tol) in pairs {
            assert!(
                (x - y).abs() <= tol,
                "{case}: {what} of epoch {e}: ours {x}, reference {y}, tolerance {tol}"
            );
        }
    }
}

#[test]
fn three_epochs_match_reference() {
    let options = TrainOptions {
        epochs: 3,
        lr: 0.01,
        batch: 5,
        weight_decay: 0.1,
        label_smoothing: 0.1,
        seed: 11,
        warmup: 1,
    };
    train_both(3, 13, 23, options);
    train_both(
        7,
        37,
        9,
        TrainOptions {
            batch: 1,
            warmup: 0,
            ..options
        },
    );
    train_both(1, 13, 6, options);
    // A batch larger than the training set is the whole set.
    train_both(
        7,
        13,
        4,
        TrainOptions {
            batch: 64,
            label_smoothing: 0.0,
            ..options
        },
    );
}
