//! Shared by the head-training tests: seeded random data and heads, and the comparison that
//! prints index, ours, reference and tolerance on failure.

use effnet::train::schedule::SplitMix64;
use effnet::train::{Examples, Head};

/// Features in [-1, 1) and labels below `classes`, from a seed.
pub struct Data {
    pub features: Vec<f32>,
    pub labels: Vec<u32>,
    pub width: usize,
}

impl Data {
    pub fn random(seed: u64, samples: usize, width: usize, classes: usize) -> Self {
        let mut rng = SplitMix64::new(seed);
        Data {
            features: (0..samples * width).map(|_| uniform(&mut rng)).collect(),
            labels: (0..samples).map(|_| rng.below(classes) as u32).collect(),
            width,
        }
    }

    pub fn examples(&self) -> Examples<'_> {
        Examples::new(&self.features, self.width, &self.labels)
    }
}

pub fn uniform(rng: &mut SplitMix64) -> f32 {
    (rng.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
}

/// A head with weights and biases in [-0.5, 0.5).
pub fn random_head(seed: u64, classes: usize, width: usize) -> Head {
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

pub fn check_close(what: &str, ours: &[f32], reference: &[f64], tol: impl Fn(usize) -> f64) {
    assert_eq!(ours.len(), reference.len(), "{what}: length");
    for (i, (&a, &b)) in ours.iter().zip(reference).enumerate() {
        let t = tol(i);
        assert!(
            (a as f64 - b).abs() <= t,
            "{what}[{i}]: ours {a}, reference {b}, tolerance {t}"
        );
    }
}

/// The head as θ [classes, width + 1], bias last, the reference's layout.
pub fn theta_of(head: &Head) -> Vec<f32> {
    (head.weight.chunks_exact(head.width).zip(&head.bias))
        .flat_map(|(w, &b)| w.iter().copied().chain([b]))
        .collect()
}
