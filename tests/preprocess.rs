//! `src/preprocess` against PIL, the reference the checkpoints were evaluated with. Expected
//! values come from `tools/make_preprocess_fixtures.py` (Pillow + numpy, run once, committed);
//! no Python runs here. Decoder edge cases live in `tests/preprocess_decode.rs`; the bilinear
//! models against timm's and torchvision's own transforms in `tests/preprocess_sources.rs`.

#[path = "support/preprocess_fixtures.rs"]
mod fixtures;

use effnet::model::arch::{Interpolation, Pipeline, PreprocessSpec};
use effnet::preprocess::{Transform, load_image, preprocess_batch, resize_pil};
use fixtures::{DATA, Diff, compare_photos, f3, json, photos_dir, u};
use image::RgbImage;
use std::path::{Path, PathBuf};

fn png(name: &str) -> RgbImage {
    load_image(Path::new(DATA).join("resize").join(name)).expect("fixture PNG")
}

/// Resize only, on lossless inputs (so decoding plays no part): synthetic edges and noise,
/// a PIL-decoded photo crop, up- and downscaling, one axis only, 1×N and 1×1, with
/// `Image.BICUBIC` and (cases with `"filter": "bilinear"`) `Image.BILINEAR`.
#[test]
fn resize_matches_pil() {
    let mut all = Diff::default();
    let mut bilinear = 0;
    for case in json("resize_cases.json").as_array().unwrap() {
        let input = png(case["input"].as_str().unwrap());
        let expected = png(case["expected"].as_str().unwrap());
        let (w, h) = (u(&case["width"]) as u32, u(&case["height"]) as u32);
        let filter = case["filter"]
            .as_str()
            .map_or(Interpolation::Bicubic, |name| {
                Interpolation::parse(name).expect("known filter")
            });
        bilinear += usize::from(filter == Interpolation::Bilinear);
        let ours = resize_pil(&input, filter, w, h);
        assert_eq!(ours.dimensions(), (w, h));
        let mut diff = Diff::default();
        for (a, b) in ours.as_raw().iter().zip(expected.as_raw()) {
            diff.add(f64::from(a.abs_diff(*b)));
            all.add(f64::from(a.abs_diff(*b)));
        }
        eprintln!("{} -> {w}x{h} {}: {diff:?}", case["input"], filter.name());
        // The port is exact by construction (measured: 0 differences); the contract allows a
        // float-rounding slip of 1 LSB, and never 3 (a wrong tap or weight gives far more).
        assert!(diff.max <= 2.0, "{case}: max diff {}", diff.max);
    }
    assert!(bilinear >= 10, "only {bilinear} bilinear cases");
    // Contract: ±1 LSB on at least 99.9% of values.
    assert!(all.within_1() >= 0.999, "{all:?}");
}

/// The whole transform (resize, centre crop with torchvision's half-to-even rounding and zero
/// padding, normalisation) on lossless inputs, square and non-square.
#[test]
fn transform_matches_torchvision_on_png() {
    for case in json("transform_cases.json").as_array().unwrap() {
        let input = png(case["input"].as_str().unwrap());
        let expected = png(case["expected"].as_str().unwrap());
        let spec = PreprocessSpec {
            mean: f3(&case["mean"]),
            std: f3(&case["std"]),
            crop_pct: case["crop_pct"].as_f64().unwrap(),
            interpolation: Interpolation::Bicubic,
            pipeline: Pipeline::Pil,
        };
        let (h, w) = (u(&case["height"]), u(&case["width"]));
        let t = Transform::from_spec(&spec, h, w);
        assert_eq!(t.resize_short, u(&case["resize_short"]), "{case}");
        let resized = t.resized_size(input.width(), input.height());
        assert_eq!(
            [resized.0 as usize, resized.1 as usize],
            [0, 1].map(|i| u(&case["resized"][i]))
        );
        let ours = t.apply(&input);
        assert_eq!(ours.len(), 3 * h * w);
        let mut diff = Diff::default();
        for (i, &v) in ours.iter().enumerate() {
            let (c, p) = (i / (h * w), i % (h * w));
            // Padding is level 0 in the expected image, as in torchvision's `pad(fill=0)`.
            let level = expected.as_raw()[p * 3 + c];
            let reference = (f32::from(level) / 255.0 - t.mean[c]) / t.std[c];
            diff.add(f64::from((v - reference).abs() * t.std[c] * 255.0));
        }
        eprintln!("{} {h}x{w}: {diff:?}", case["input"]);
        // Same pixels in, so the same contract as the resize: ±1 LSB on 99.9%, never above 2
        // (a crop offset one pixel off would exceed both on these textured inputs).
        assert!(
            diff.max <= 2.0 && diff.within_1() >= 0.999,
            "{case}: {diff:?}"
        );
    }
}

/// `(x / 255 - mean) / std` must be torchvision's float32 arithmetic bit for bit: a 256×1 image
/// with a 1×256 target is neither resized nor cropped, so the output is the lookup table.
#[test]
fn normalisation_is_torchvision_float32() {
    for spec in json("normalize.json").as_array().unwrap() {
        let t = Transform {
            interpolation: Interpolation::Bicubic,
            pipeline: Pipeline::Pil,
            height: 1,
            width: 256,
            resize_short: 1,
            mean: f3(&spec["mean"]),
            std: f3(&spec["std"]),
        };
        let img = RgbImage::from_fn(256, 1, |x, _| image::Rgb([x as u8; 3]));
        let ours = t.apply(&img);
        for c in 0..3 {
            for level in 0..256 {
                let expected = spec["values"][c][level].as_f64().unwrap() as f32;
                // Exact: the same IEEE-754 single-precision division and subtraction.
                assert_eq!(ours[c * 256 + level], expected, "channel {c} level {level}");
            }
        }
    }
}

/// timm computes `floor(res / crop_pct)` with crop_pct a Python (f64) float, as we do.
#[test]
fn resize_short_follows_timm() {
    let spec = |crop_pct| PreprocessSpec {
        mean: [0.5; 3],
        std: [0.5; 3],
        crop_pct,
        interpolation: Interpolation::Bicubic,
        pipeline: Pipeline::Pil,
    };
    // tf_efficientnet_lite0: 224 / 0.875 = 256.
    assert_eq!(
        Transform::from_spec(&spec(0.875), 224, 224).resize_short,
        256
    );
    // 441 / 0.882 is exactly 500 in f64 (499.99 with an f32 0.882).
    assert_eq!(
        Transform::from_spec(&spec(0.882), 441, 441).resize_short,
        500
    );
    // 117 / 0.936 is 124.99999999999999 in f64 (125.0 with an f32 0.936).
    assert_eq!(
        Transform::from_spec(&spec(0.936), 117, 117).resize_short,
        124
    );
    assert_eq!(Transform::from_spec(&spec(1.0), 300, 300).resize_short, 300);
    // Non-square: the shorter target side sets the scale.
    assert_eq!(
        Transform::from_spec(&spec(0.875), 224, 448).resize_short,
        256
    );
}

/// The full tf_efficientnet_lite0 eval transform of the photos, our JPEG decoder included.
#[test]
fn photos_match_timm_lite0_eval() {
    let fx = json("photos.json");
    let spec = PreprocessSpec {
        mean: f3(&fx["mean"]),
        std: f3(&fx["std"]),
        crop_pct: fx["crop_pct"].as_f64().unwrap(),
        interpolation: Interpolation::Bicubic,
        pipeline: Pipeline::Pil,
    };
    let t = Transform::from_spec(&spec, u(&fx["height"]), u(&fx["width"]));
    let mut all = Diff::default();
    for (file, _, (diff, ..)) in compare_photos(&fx, &t) {
        // zune-jpeg (ours) and libjpeg-turbo (PIL) round their IDCT and chroma upsampling
        // differently: decoded pixels differ by up to 4 levels (measured: max 3 on the 4:4:4
        // files, 4 on the 4:2:0 tree frog with 3.9% of values off by more than 1). On PIL's own
        // decoded pixels our tensors are identical, so all of this is decoding; resizing
        // averages it down to at most 3 levels over whole tensors, 1.5% over 1 on the frog
        // (2% of its samples, mean 0.20) and <= 0.06% elsewhere (sample means <= 0.03).
        assert!(diff.max <= 4.0, "{file}: {diff:?}");
        assert!(
            diff.within_1() >= 0.97 && diff.mean() < 0.3,
            "{file}: {diff:?}"
        );
        all.merge(&diff);
    }
    eprintln!("all photos: {all:?}");
    // Over all photos the 4:4:4 majority dominates: measured 99.85% of samples within 1 LSB.
    assert!(all.within_1() >= 0.995, "{all:?}");
}

/// Parallel decoding keeps the order of `paths` and fails only the bad entries.
#[test]
fn batch_keeps_order_and_isolates_errors() {
    let dir = std::env::temp_dir().join(format!("effnet-prep-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let empty = dir.join("empty.jpg");
    std::fs::write(&empty, b"").unwrap();
    let mut photos: Vec<PathBuf> = std::fs::read_dir(photos_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    photos.sort();
    let mut paths = photos[..5].to_vec();
    paths.insert(2, dir.join("missing.jpg"));
    paths.push(empty);
    let t = Transform {
        interpolation: Interpolation::Bicubic,
        pipeline: Pipeline::Pil,
        height: 64,
        width: 48,
        resize_short: 70,
        mean: [0.5; 3],
        std: [0.25; 3],
    };
    let results = preprocess_batch(&paths, &t);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(results.len(), paths.len());
    for (path, r) in paths.iter().zip(&results) {
        match path.file_name().unwrap().to_str().unwrap() {
            "missing.jpg" => assert!(matches!(r, Err(effnet::Error::Io { .. })), "{r:?}"),
            "empty.jpg" => assert!(matches!(r, Err(effnet::Error::ImageDecode { .. })), "{r:?}"),
            _ => assert_eq!(r.as_ref().unwrap(), &t.apply(&load_image(path).unwrap())),
        }
    }
    assert!(preprocess_batch(&[], &t).is_empty());
}

/// A 1×50000 strip would resize to 256×12.8M; only the 224×224 crop may be computed.
#[test]
fn extreme_aspect_ratio_only_computes_the_crop() {
    let img = RgbImage::from_fn(1, 50_000, |_, y| image::Rgb([(y % 251) as u8, 9, 200]));
    let t = Transform {
        interpolation: Interpolation::Bicubic,
        pipeline: Pipeline::Pil,
        height: 224,
        width: 224,
        resize_short: 256,
        mean: [0.5; 3],
        std: [0.5; 3],
    };
    assert_eq!(t.resized_size(1, 50_000), (256, 12_800_000));
    let out = t.apply(&img);
    assert_eq!(out.len(), 3 * 224 * 224);
    // One source column: every output row is flat, and channel 1 is the constant 9.
    for row in out.chunks(224) {
        assert!(row.iter().all(|&v| v == row[0]));
    }
    assert!(
        out[224 * 224..2 * 224 * 224]
            .iter()
            .all(|&v| v == (9.0 / 255.0 - 0.5) / 0.5)
    );
}
