//! Logits to ranked, named classes: what `Session::classify` and the `effnet classify`
//! command print.

use crate::imagenet;

/// One of an image's top-k classes.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// The class index (the position in the model's output).
    pub index: usize,
    /// The class name (see [`Model::class_names`](crate::Model::class_names)).
    pub label: String,
    /// The WordNet id where the classes are ImageNet-1k's, e.g. `n01443537`.
    pub wnid: Option<String>,
    /// The softmax probability, in [0, 1].
    pub prob: f64,
}

/// Softmax in f64, so that a large logit cannot overflow.
///
/// ```
/// let p = effnet::softmax(&[1000.0, 1000.0]);
/// assert_eq!(p, vec![0.5, 0.5]);
/// ```
pub fn softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x)) as f64;
    let exps: Vec<f64> = logits.iter().map(|&x| (x as f64 - max).exp()).collect();
    let sum: f64 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

/// Indices of the `k` largest values, largest first (ties by lower index, so the order is
/// deterministic).
///
/// ```
/// assert_eq!(effnet::top_k(&[0.1, 0.7, 0.1, 0.1], 2), vec![1, 0]);
/// ```
pub fn top_k(values: &[f64], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..values.len()).collect();
    idx.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    idx.truncate(k);
    idx
}

/// A model's class names, and whether they are ImageNet-1k's (so each has a WordNet id).
#[derive(Debug)]
pub(crate) struct Classes {
    pub names: Vec<String>,
    pub imagenet: bool,
}

impl Classes {
    pub fn new(names: Vec<String>) -> Self {
        let table = imagenet::classes();
        // A checkpoint may carry ImageNet's own names; those have WordNet ids too.
        let imagenet =
            names.len() == table.len() && names.iter().zip(table).all(|(n, c)| n == c.label);
        Classes { names, imagenet }
    }

    /// The top `k` classes of one image's logits.
    pub fn predict(&self, logits: &[f32], k: usize) -> Vec<Prediction> {
        let probs = softmax(logits);
        top_k(&probs, k)
            .into_iter()
            .map(|index| Prediction {
                index,
                label: self.names[index].clone(),
                wnid: (self.imagenet).then(|| imagenet::classes()[index].wnid.to_string()),
                prob: probs[index],
            })
            .collect()
    }
}
