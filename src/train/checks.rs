//! Inputs that cannot train are refused before anything reaches the GPU, with the value to
//! change.

use super::{Examples, TrainOptions};
use crate::{Error, Result};

/// Options that cannot train are refused up front, with the value to change.
pub fn check_options(o: &TrainOptions) -> Result<()> {
    // Plain words first, then the field in backticks, so both a reader and a grep find it.
    let bad = |m: String| Err(Error::Input(format!("training options: {m}")));
    if o.epochs == 0 {
        return bad("the number of epochs (`epochs`) is 0; train for at least 1 epoch".into());
    }
    if o.batch == 0 {
        return bad(
            "the mini-batch size (`batch`) is 0; use at least 1 sample per mini-batch (e.g. 32)"
                .into(),
        );
    }
    if !(o.lr.is_finite() && o.lr > 0.0) {
        return bad(format!(
            "the learning rate (`lr`) is {}; use a positive learning rate such as 1e-3",
            o.lr
        ));
    }
    if !(o.weight_decay.is_finite() && o.weight_decay >= 0.0) {
        return bad(format!(
            "the weight decay (`weight_decay`) is {}; use 0 or more",
            o.weight_decay
        ));
    }
    if !(0.0..1.0).contains(&o.label_smoothing) {
        return bad(format!(
            "the label smoothing (`label_smoothing`) is {}; use a value in [0, 1), e.g. 0.1",
            o.label_smoothing
        ));
    }
    if o.warmup > o.epochs {
        return bad(format!(
            "the warm-up (`warmup`) is {} epochs, more than the {} epochs of the run; shorten it",
            o.warmup, o.epochs
        ));
    }
    Ok(())
}

/// Shapes, labels and values of a split, checked before anything reaches the GPU.
pub(crate) fn check_examples(x: &Examples, classes: usize, split: &str) -> Result<()> {
    let bad = |m: String| Err(Error::Input(format!("{split} set: {m}")));
    if classes == 0 {
        return bad("the number of classes is 0; a head needs at least 1 class".into());
    }
    if x.is_empty() {
        return bad("no samples; pass at least one feature vector with its label".into());
    }
    if x.width == 0 {
        return bad("the feature width is 0; pass feature vectors of at least 1 value".into());
    }
    if Some(x.features.len()) != x.len().checked_mul(x.width) {
        return bad(format!(
            "{} feature values for {} labels of width {}; pass features as [samples, width] \
             row-major, one row per label",
            x.features.len(),
            x.len(),
            x.width
        ));
    }
    if let Some(i) = x.labels.iter().position(|&l| l as usize >= classes) {
        return bad(format!(
            "sample {i} has label {} but there are {classes} classes; labels are class \
             indices 0..{classes}",
            x.labels[i]
        ));
    }
    if let Some(i) = x.features.iter().position(|v| !v.is_finite()) {
        return bad(format!(
            "feature {} of sample {} is {}; every feature must be finite",
            i % x.width,
            i / x.width,
            x.features[i]
        ));
    }
    Ok(())
}
