//! Expected values under `tests/data/preprocess/` and how our transform is compared with them;
//! shared by `tests/preprocess.rs` and `tests/preprocess_sources.rs`.
#![allow(dead_code)]

use effnet::preprocess::{Transform, load_image};
use image::RgbImage;
use serde_json::Value;
use std::path::{Path, PathBuf};

pub const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/preprocess");

pub fn photos_dir() -> PathBuf {
    // The shared images sit next to the main checkout; from a worktree under `wt/` they are
    // one level further up.
    let main = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/images"));
    let worktree = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/images"));
    [main, worktree]
        .into_iter()
        .find(|p| p.is_dir())
        .expect("shared/images not found next to the checkout")
}

pub fn json(name: &str) -> Value {
    let text = std::fs::read_to_string(Path::new(DATA).join(name)).expect("fixture");
    serde_json::from_str(&text).expect("fixture is JSON")
}

pub fn u(v: &Value) -> usize {
    v.as_u64().expect("unsigned") as usize
}

pub fn f3(v: &Value) -> [f32; 3] {
    std::array::from_fn(|i| v[i].as_f64().expect("number") as f32)
}

/// Absolute differences, in u8 levels, summarised.
#[derive(Default, Debug)]
pub struct Diff {
    pub n: usize,
    pub over_1: usize,
    pub max: f64,
    pub sum: f64,
}

impl Diff {
    pub fn add(&mut self, d: f64) {
        self.n += 1;
        self.over_1 += usize::from(d > 1.0 + 1e-3);
        self.max = self.max.max(d);
        self.sum += d;
    }
    pub fn within_1(&self) -> f64 {
        1.0 - self.over_1 as f64 / self.n as f64
    }
    pub fn mean(&self) -> f64 {
        self.sum / self.n as f64
    }
    pub fn merge(&mut self, other: &Diff) {
        self.n += other.n;
        self.over_1 += other.over_1;
        self.max = self.max.max(other.max);
        self.sum += other.sum;
    }
}

/// Sampled differences (u8 levels before normalisation) of `t` applied to `img` against one
/// fixture entry (`size`, `resized`, `channel_mean`, `samples`: every `sample_stride`-th value
/// of the NCHW tensor as a level), each sample's `(index, difference, ours, reference)` with
/// ours mapped back to a level, and how far off each channel's mean is, in LSB.
pub type Compared = (Diff, Vec<(usize, f64, f32, u64)>, [f64; 3]);

pub fn compare(entry: &Value, img: &RgbImage, t: &Transform, stride: usize) -> Compared {
    let sides = |v: &Value| [0, 1].map(|i| u(&v[i]) as u32);
    assert_eq!([img.width(), img.height()], sides(&entry["size"]));
    let (rw, rh) = t.resized_size(img.width(), img.height());
    assert_eq!([rw, rh], sides(&entry["resized"]));
    let ours = t.apply(img);
    let plane = t.height * t.width;
    let (mut diff, mut each) = (Diff::default(), Vec::new());
    for (k, level) in entry["samples"].as_array().unwrap().iter().enumerate() {
        let (i, level) = (k * stride, level.as_u64().unwrap());
        let c = i / plane;
        let reference = (level as f32 / 255.0 - t.mean[c]) / t.std[c];
        let d = f64::from((ours[i] - reference).abs() * t.std[c] * 255.0);
        diff.add(d);
        each.push((i, d, (ours[i] * t.std[c] + t.mean[c]) * 255.0, level));
    }
    let mean_lsb = std::array::from_fn(|c| {
        let sum: f64 = ours[c * plane..][..plane]
            .iter()
            .copied()
            .map(f64::from)
            .sum();
        let delta = (sum / plane as f64 - entry["channel_mean"][c].as_f64().unwrap()).abs();
        delta * f64::from(t.std[c]) * 255.0
    });
    (diff, each, mean_lsb)
}

/// Every photo of a `photos*.json` fixture, decoded by `load_image`, against the reference:
/// `(file, JPEG sampling if recorded, compared)`.
pub fn compare_photos(fx: &Value, t: &Transform) -> Vec<(String, String, Compared)> {
    assert_eq!(t.resize_short, u(&fx["resize_short"]));
    assert_eq!([t.height, t.width], [u(&fx["height"]), u(&fx["width"])]);
    let mut out = Vec::new();
    for photo in fx["photos"].as_array().unwrap() {
        let file = photo["file"].as_str().unwrap().to_string();
        let img = load_image(photos_dir().join(&file)).unwrap();
        let compared = compare(photo, &img, t, u(&fx["sample_stride"]));
        let (diff, _, mean_lsb) = &compared;
        for (c, lsb) in mean_lsb.iter().enumerate() {
            // Decoder differences barely move the means: measured <= 0.011 LSB on the 4:4:4
            // files; the 4:2:0 tree frog's chroma upsampling shifts them by up to 0.22 LSB.
            assert!(*lsb < 0.3, "{file}: channel {c} mean off by {lsb} LSB");
        }
        eprintln!("{file}: {diff:?} (mean {:.3})", diff.mean());
        let sampling = photo["jpeg"].as_str().unwrap_or("").to_string();
        out.push((file, sampling, compared));
    }
    out
}
