//! Training a linear head on the GPU against the f64 CPU reference (src/train/reference.rs),
//! on awkward sizes: 1, 3 and 7 classes, feature widths 13 and 37 (not multiples of 4),
//! mini-batches of 1 and 5 and a last mini-batch that is smaller than the others.

mod common;

use effnet::gpu::Gpu;
use effnet::train::reference::{self, RefHead};
use effnet::train::schedule::{AdamStep, SplitMix64, epoch_order};
use effnet::train::{EpochStats, Trained};
use effnet::train::{Examples, GpuHead, Head, TrainOptions, Trainer};

/// Features in [-1, 1) and labels below `classes`, from a seed.
struct Data {
    features: Vec<f32>,
    labels: Vec<u32>,
    width: usize,
}

impl Data {
    fn random(seed: u64, samples: usize, width: usize, classes: usize) -> Self {
        let mut rng = SplitMix64::new(seed);
        Data {
            features: (0..samples * width).map(|_| uniform(&mut rng)).collect(),
            labels: (0..samples).map(|_| rng.below(classes) as u32).collect(),
            width,
        }
    }

    fn examples(&self) -> Examples<'_> {
        Examples::new(&self.features, self.width, &self.labels)
    }
}

fn uniform(rng: &mut SplitMix64) -> f32 {
    (rng.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
}

/// A head with weights and biases in [-0.5, 0.5).
fn random_head(seed: u64, classes: usize, width: usize) -> Head {
    let mut rng = SplitMix64::new(seed);
    Head {
        classes,
        width,
        weight: (0..classes * width)
            .map(|_| 0.5 * uniform(&mut rng))
            .collect(),
        bias: (0..classes).map(|_| 0.5 * uniform(&mut rng)).collect(),
    }
}

/// f32 on the GPU vs f64 in the reference, for the gradient, the logits and the loss. Each
/// logit sums F + 1 ≤ 38 products of size ≤ 0.5 (weights in ±0.5, features in ±1): f32's
/// worst-case rounding error of such a sum is (F + 1)·2^-24·Σ|terms| ≤ 38·6e-8·19 ≈ 4e-5,
/// typically ~100× less as the errors partly cancel; exp, log and the division in the
/// softmax add a few ULP (~1e-6 relative) on GPUs, and the gradient's sum over B ≤ 5 samples
/// of |dlogit·x| ≤ 1/B keeps that size. Values are of order 0.1–1 (losses 1–3), so 1e-4
/// covers the worst case (measured errors on lavapipe stay below 4e-7), while an indexing or
/// formula bug shows as errors of 1e-2 or more.
const TOL_GRAD: f64 = 1e-4;

/// Tolerance of a parameter after one AdamW step with gradient `g` (the reference's). The
/// step is lr·m̂/(sqrt(v̂) + eps): a gradient error δ ≤ TOL_GRAD changes it by at most
/// lr·eps·δ/(|g| + eps)², negligible unless |g| is near 0, where the step's sign is truly
/// undecided and the bound reaches its cap of 2·lr. f32 itself rounds the parameter and the
/// update at a few ULP: 1e-6 of the parameter's size and of lr.
fn tol_param(theta: f64, g: f64, lr: f64) -> f64 {
    let eps = 1e-8;
    let sign_sensitivity = (TOL_GRAD * eps / (g.abs() + eps).powi(2)).min(2.0);
    1e-6 * (theta.abs() + lr) + lr * sign_sensitivity
}

fn check_close(what: &str, ours: &[f32], reference: &[f64], tol: impl Fn(usize) -> f64) {
    assert_eq!(ours.len(), reference.len(), "{what}: length");
    for (i, (&a, &b)) in ours.iter().zip(reference).enumerate() {
        let t = tol(i);
        assert!(
            (a as f64 - b).abs() <= t,
            "{what}[{i}]: ours {a}, reference {b}, tolerance {t}"
        );
    }
}

/// One step from a random head on the first `batch` positions of a shuffled order: the loss
/// of every sample, the gradient and the head after AdamW (with weight decay, so that the
/// decay and its skipping of the bias are checked too).
fn one_step(gpu: &Gpu, classes: usize, width: usize, batch: usize) {
    let case = format!("{classes} classes, width {width}, batch {batch}");
    let data = Data::random(classes as u64 * 100 + width as u64, 11, width, classes);
    let start = random_head(7, classes, width);
    let (lr, smoothing) = (0.01, 0.1);
    let adam = AdamStep::new(1, lr, 0.5);
    let order = epoch_order(3, 0, 11);
    let gpu_head = GpuHead::new(gpu, data.examples(), classes, batch).unwrap();
    gpu_head.set_head(&start).unwrap();
    gpu_head.set_order(&order);
    gpu_head.step(0..batch, &adam, smoothing);
    let mut reference = RefHead::from_head(&start);
    let r = reference.batch(&data.examples(), &order[..batch], smoothing);
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
    let tol = |i: usize| tol_param(reference.theta[i], r.grad[i], lr);
    check_close(
        &format!("{case}: head after AdamW"),
        &ours,
        &reference.theta,
        tol,
    );

    // A second step on the epoch's last, shorter mini-batch checks the offsets into the
    // order and the statistics, and the mean over fewer rows. (The heads it starts from
    // differ by the tolerance above, ~1e-6·lr, far below TOL_GRAD's effect.)
    let last = (10 / batch) * batch..11;
    gpu_head.step(last.clone(), &AdamStep::new(2, lr, 0.5), smoothing);
    let r = reference.batch(&data.examples(), &order[last.clone()], smoothing);
    let (loss, _) = gpu_head.read_train_stats().unwrap();
    check_close(
        &format!("{case}: last batch loss"),
        &loss[last],
        &r.loss,
        |_| TOL_GRAD,
    );
    let grad = gpu_head.read_grad().unwrap();
    check_close(
        &format!("{case}: last batch gradient"),
        &grad,
        &r.grad,
        |_| TOL_GRAD,
    );
}

/// The head as θ [classes, width + 1], bias last, the reference's layout.
fn theta_of(head: &Head) -> Vec<f32> {
    (head.weight.chunks_exact(head.width).zip(&head.bias))
        .flat_map(|(w, &b)| w.iter().copied().chain([b]))
        .collect()
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
    check_history(&case, &ours, &history);
}

/// Losses (means of values within TOL_GRAD of the reference's) and accuracies per epoch.
fn check_history(case: &str, ours: &Trained, expected: &[EpochStats]) {
    assert_eq!(ours.history.len(), expected.len(), "{case}: epochs");
    for (a, b) in ours.history.iter().zip(expected) {
        let e = a.epoch;
        assert_eq!(a.epoch, b.epoch);
        assert!(
            (a.lr - b.lr).abs() < 1e-15,
            "{case}: lr of epoch {e}: ours {}, reference {}",
            a.lr,
            b.lr
        );
        let pairs = [
            ("train loss", a.train_loss, b.train_loss),
            ("val loss", a.val_loss.unwrap(), b.val_loss.unwrap()),
        ];
        for (what, x, y) in pairs {
            assert!(
                (x - y).abs() <= TOL_GRAD,
                "{case}: {what} of epoch {e}: ours {x}, reference {y}, tolerance {TOL_GRAD}"
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

fn run(gpu: &Gpu, data: &Data, classes: usize, options: TrainOptions) -> Trained {
    let trainer = Trainer::new(gpu, data.examples(), classes, options).unwrap();
    trainer.run(|_| {}).unwrap()
}

#[test]
fn same_seed_gives_bit_identical_heads() {
    let Some(gpu) = common::gpu() else { return };
    let data = Data::random(5, 50, 37, 7);
    let options = TrainOptions {
        epochs: 4,
        batch: 8,
        seed: 42,
        ..TrainOptions::default()
    };
    let a = run(&gpu, &data, 7, options);
    let b = run(&gpu, &data, 7, options);
    let bits = |h: &Head| -> Vec<u32> {
        h.weight
            .iter()
            .chain(&h.bias)
            .map(|v| v.to_bits())
            .collect()
    };
    assert_eq!(
        bits(&a.head),
        bits(&b.head),
        "same seed: bit-identical head"
    );
    assert_eq!(a.history, b.history, "same seed: identical losses");
    let c = run(
        &gpu,
        &data,
        7,
        TrainOptions {
            seed: 43,
            ..options
        },
    );
    assert_ne!(
        bits(&a.head),
        bits(&c.head),
        "another seed visits the samples in another order"
    );
}

/// Five well-separated clusters in 20 dimensions: any working trainer fits them exactly.
#[test]
fn separable_problem_reaches_full_accuracy() {
    let Some(gpu) = common::gpu() else { return };
    let (classes, width) = (5, 20);
    let centres = Data::random(1, classes, width, classes).features;
    let cluster = |seed: u64, samples: usize| {
        let mut noise = Data::random(seed, samples, width, classes);
        for (i, v) in noise.features.iter_mut().enumerate() {
            let class = noise.labels[i / width] as usize;
            *v = centres[class * width + i % width] + 0.1 * *v;
        }
        noise
    };
    let (train, val) = (cluster(2, 200), cluster(3, 50));
    let options = TrainOptions {
        epochs: 10,
        ..TrainOptions::default()
    };
    let mut epochs = Vec::new();
    let trained = Trainer::new(&gpu, train.examples(), classes, options)
        .and_then(|t| t.with_validation(val.examples()))
        .and_then(|t| t.run(|e| epochs.push(*e)))
        .unwrap();
    assert_eq!(epochs, trained.history, "the callback sees every epoch");
    let last = trained.history.last().unwrap();
    assert_eq!(last.train_accuracy, 1.0, "{last:?}");
    assert_eq!(last.val_accuracy, Some(1.0), "{last:?}");
    assert!(
        last.train_loss < trained.history[0].train_loss,
        "{:?}",
        trained.history
    );
    assert_eq!(trained.head.predict(&val.features), val.labels);
    // The validation loss the GPU reports is the final head's, as the reference computes it.
    let (loss, _) = RefHead::from_head(&trained.head).evaluate(&val.examples(), 0.1);
    let ours = last.val_loss.unwrap();
    assert!(
        (ours - loss).abs() <= TOL_GRAD,
        "val loss: ours {ours}, reference {loss}, tolerance {TOL_GRAD}"
    );
}

fn error_of(gpu: &Gpu, data: &Data, val: Option<&Data>, classes: usize, o: TrainOptions) -> String {
    let trainer = Trainer::new(gpu, data.examples(), classes, o);
    let trainer = match val {
        Some(v) => trainer.and_then(|t| t.with_validation(v.examples())),
        None => trainer,
    };
    match trainer.and_then(|t| t.run(|_| {})) {
        Ok(_) => panic!("expected an error for {o:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_inputs_are_errors() {
    let Some(gpu) = common::gpu() else { return };
    let ok = Data::random(1, 6, 5, 3);
    let changed = |f: &dyn Fn(&mut Data)| {
        let mut d = Data::random(1, 6, 5, 3);
        f(&mut d);
        d
    };
    let empty = changed(&|d| (d.features, d.labels) = (vec![], vec![]));
    let no_width = changed(&|d| (d.width, d.features) = (0, vec![]));
    let short_rows = changed(&|d| d.width = 4);
    let high = changed(&|d| d.labels[4] = 2);
    let nan = changed(&|d| d.features[7] = f32::NAN);
    let val_high = changed(&|d| d.labels[1] = 3);
    let o = TrainOptions::default();
    let err = |data: &Data, classes, o| error_of(&gpu, data, None, classes, o);
    let with = |o: TrainOptions| err(&ok, 3, o);
    let cases = [
        (err(&ok, 0, o), "at least 1 class"),
        (err(&empty, 3, o), "no samples"),
        (err(&no_width, 3, o), "width is 0"),
        (
            err(&short_rows, 3, o),
            "30 feature values for 6 labels of width 4",
        ),
        (
            err(&high, 2, o),
            "sample 4 has label 2 but there are 2 classes",
        ),
        (err(&nan, 3, o), "feature 2 of sample 1 is NaN"),
        (with(TrainOptions { epochs: 0, ..o }), "epochs is 0"),
        (with(TrainOptions { batch: 0, ..o }), "batch is 0"),
        (
            with(TrainOptions { lr: 0.0, ..o }),
            "positive learning rate",
        ),
        (
            with(TrainOptions { lr: f64::NAN, ..o }),
            "positive learning rate",
        ),
        (
            with(TrainOptions {
                weight_decay: -1.0,
                ..o
            }),
            "weight_decay is -1",
        ),
        (
            with(TrainOptions {
                label_smoothing: 1.0,
                ..o
            }),
            "label_smoothing is 1",
        ),
        (
            with(TrainOptions { warmup: 60, ..o }),
            "warmup is 60 epochs",
        ),
        (
            error_of(&gpu, &ok, Some(&Data::random(2, 4, 6, 3)), 3, o),
            "6 wide but training features are 5",
        ),
        (
            error_of(&gpu, &ok, Some(&val_high), 3, o),
            "validation set: sample 1 has label 3",
        ),
    ];
    for (message, expected) in cases {
        assert!(
            message.contains(expected),
            "expected {expected:?} in: {message}"
        );
    }
}

/// A learning rate so large that the logits overflow f32 stops the run with an error that
/// says what to change, and the trainer yields nothing after it.
#[test]
fn diverging_run_is_an_error() {
    let Some(gpu) = common::gpu() else { return };
    let data = Data::random(9, 20, 13, 3);
    let options = TrainOptions {
        lr: 1e37,
        epochs: 5,
        ..TrainOptions::default()
    };
    let mut trainer = Trainer::new(&gpu, data.examples(), 3, options).unwrap();
    let message = loop {
        match trainer.next() {
            Some(Ok(_)) => continue,
            Some(Err(e)) => break e.to_string(),
            None => panic!("a run at lr 1e37 did not fail: {:?}", trainer.history()),
        }
    };
    assert!(message.contains("lower learning rate"), "{message}");
    assert!(trainer.next().is_none(), "no epochs after a failure");
}
