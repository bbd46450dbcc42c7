//! The deterministic weight rule of `../shared/golden/README.md`: every tensor's values derive
//! from its state-dict key, so anyone can rebuild the golden networks without weight files.

use super::weights::TensorSource;
use crate::Result;

/// FNV-1a, 64 bit, over the bytes of a key.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `u_i` in [0, 1) for element `i` of the tensor named `name`.
pub fn uniform(name: &str, i: u64) -> f64 {
    let seed = fnv1a64(name.as_bytes());
    (splitmix64(seed.wrapping_add(i)) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The values of the tensor `name` of `shape`, computed in f64 and rounded to f32.
pub fn rule_tensor(name: &str, shape: &[usize]) -> Vec<f32> {
    let n: usize = shape.iter().product();
    let fan_in: usize = shape.iter().skip(1).product();
    let value = |i: usize| -> f64 {
        let u = uniform(name, i as u64);
        let v = 2.0 * u - 1.0;
        if name.ends_with("running_var") {
            0.75 + 0.5 * u
        } else if name.ends_with("running_mean") {
            0.1 * v
        } else if shape.len() >= 2 {
            v * (3.0 / fan_in as f64).sqrt()
        } else if name.ends_with("weight") {
            1.0 + 0.2 * v
        } else {
            0.1 * v
        }
    };
    (0..n).map(|i| value(i) as f32).collect()
}

/// The golden input: tensor `input`, element i = v_i.
pub fn rule_input(shape: &[usize]) -> Vec<f32> {
    let n: usize = shape.iter().product();
    (0..n)
        .map(|i| (2.0 * uniform("input", i as u64) - 1.0) as f32)
        .collect()
}

/// A weight source that synthesizes every tensor by the rule.
pub struct RuleSource;

impl TensorSource for RuleSource {
    fn fetch(&mut self, key: &str, shape: &[usize]) -> Result<Vec<f32>> {
        Ok(rule_tensor(key, shape))
    }
}
