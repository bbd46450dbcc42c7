//! The yardstick on real features (ignored by default: slow on a software driver).

use effnet::train::{Examples, TrainOptions, Trainer};
use effnet::{Engine, Model, OutputKind, Session};
use std::time::Instant;

const DATA: &str = "../shared/data";
/// Images per forward pass while computing features.
const BATCH: usize = 16;

/// One split of transfer_coarse.tsv: pooled features [photos, width] and class indices
/// (the coarse labels' positions in `names`, sorted).
struct Split {
    features: Vec<f32>,
    labels: Vec<u32>,
}

impl Split {
    fn embed(session: &mut Session, rows: &[Vec<&str>], names: &[&str], split: &str) -> Self {
        let rows: Vec<_> = rows.iter().filter(|r| r[2] == split).collect();
        let mut features = Vec::new();
        for chunk in rows.chunks(BATCH) {
            let load = |r: &&Vec<&str>| {
                effnet::preprocess::load_image(format!("{DATA}/imagenet-sample/{}", r[0]))
            };
            let images: Vec<_> = chunk.iter().map(load).collect::<Result<_, _>>().unwrap();
            features.extend(session.embed(&images).unwrap().into_iter().flatten());
        }
        let class = |r: &&Vec<&str>| names.iter().position(|n| *n == r[1]).unwrap() as u32;
        let labels = rows.iter().map(class).collect();
        Split { features, labels }
    }

    fn examples(&self) -> Examples<'_> {
        let width = self.features.len() / self.labels.len();
        Examples::new(&self.features, width, &self.labels)
    }
}

/// The yardstick: a head on the bundled Lite0's pooled features of the 821 training
/// photos of `../shared/data/transfer_coarse.tsv` (7 coarse classes), with the default
/// options, scores at least 91% on its 179 validation photos (PyTorch's logistic regression
/// on the same features: 92.7%; we measured 93.3%). Ignored by default: computing the
/// features of 1,000 photos takes ~2.5 minutes on lavapipe.
#[test]
#[ignore = "slow: Lite0 features of 1,000 photos; run with `cargo test --release --test train -- --ignored`"]
fn transfer_coarse_lite0() {
    let Some(_) = crate::common::gpu() else {
        return;
    };
    let tsv = std::fs::read_to_string(format!("{DATA}/transfer_coarse.tsv")).unwrap();
    let rows: Vec<Vec<&str>> = (tsv.lines().skip(1))
        .map(|l| l.split('\t').collect())
        .collect();
    let mut names: Vec<&str> = rows.iter().map(|r| r[1]).collect();
    names.sort();
    names.dedup();
    let engine = Engine::new().unwrap();
    let model = engine.load(Model::bundled().unwrap()).unwrap();
    let options = model
        .default_options(BATCH)
        .with_output(OutputKind::Embeddings);
    let mut session = model.session(options).unwrap();
    let started = Instant::now();
    let train = Split::embed(&mut session, &rows, &names, "train");
    let val = Split::embed(&mut session, &rows, &names, "val");
    let extraction_s = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let options = TrainOptions::default();
    let trained = Trainer::new(engine.gpu(), train.examples(), names.len(), options)
        .and_then(|t| t.with_validation(val.examples()))
        .and_then(|t| t.run(|_| {}))
        .unwrap();
    let last = trained.history.last().unwrap();
    let accuracy = last.val_accuracy.unwrap();
    eprintln!(
        "{} train / {} val photos, {} features: extraction {extraction_s:.1} s, training \
         {:.2} s ({options:?}); val accuracy {:.2}%, train accuracy {:.2}%",
        train.labels.len(),
        val.labels.len(),
        train.examples().width,
        started.elapsed().as_secs_f64(),
        100.0 * accuracy,
        100.0 * last.train_accuracy
    );
    // 91%: the target, 1.7 points (3 photos) under PyTorch's logistic regression.
    assert!(
        accuracy >= 0.91,
        "val accuracy {accuracy}, at least 0.91 expected; {last:?}"
    );
}
