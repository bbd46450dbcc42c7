//! The trainer as a whole: reproducible, able to fit, and failing with errors that say what
//! to change.

use super::TOL_GRAD;
use super::support::Data;
use effnet::gpu::Gpu;
use effnet::train::reference::RefHead;
use effnet::train::{Head, TrainOptions, Trained, Trainer};

fn run(gpu: &Gpu, data: &Data, classes: usize, options: TrainOptions) -> Trained {
    let trainer = Trainer::new(gpu, data.examples(), classes, options).unwrap();
    trainer.run(|_| {}).unwrap()
}

#[test]
fn same_seed_gives_bit_identical_heads() {
    let Some(gpu) = crate::common::gpu() else {
        return;
    };
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
    let Some(gpu) = crate::common::gpu() else {
        return;
    };
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
    let smoothing = options.label_smoothing;
    let (loss, _) = RefHead::from_head(&trained.head).evaluate(&val.examples(), smoothing);
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
    let Some(gpu) = crate::common::gpu() else {
        return;
    };
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
        (
            with(TrainOptions { epochs: 0, ..o }),
            "number of epochs (`epochs`) is 0",
        ),
        (
            with(TrainOptions { batch: 0, ..o }),
            "mini-batch size (`batch`) is 0",
        ),
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
            "weight decay (`weight_decay`) is -1",
        ),
        (
            with(TrainOptions {
                label_smoothing: 1.0,
                ..o
            }),
            "label smoothing (`label_smoothing`) is 1",
        ),
        (
            with(TrainOptions { warmup: 60, ..o }),
            "warm-up (`warmup`) is 60 epochs",
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
    let Some(gpu) = crate::common::gpu() else {
        return;
    };
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
