//! Our preprocessing for bilinear models against the libraries' own eval transforms (timm's
//! `create_transform`, torchvision's `Weights.transforms()`), run once by
//! `tools/make_preprocess_fixtures.py` on the shared photos and on decoder-free synthetic
//! images; the transforms' parameters come from effnet's table, not from the fixtures.

#[path = "support/preprocess_fixtures.rs"]
mod fixtures;

use effnet::model::arch::Interpolation;
use effnet::model::pretrained::{pretrained, rows};
use effnet::model::{known_names, resolve};
use effnet::preprocess::Transform;
use fixtures::{Diff, compare, compare_photos, f3, json, u};
use image::RgbImage;

/// The pattern of `synth_pattern` in tools/make_preprocess_fixtures.py.
fn synth_pattern(w: u32, h: u32) -> RgbImage {
    let g_den = u64::from(w - 1 + 2 * (h - 1));
    RgbImage::from_fn(w, h, |x, y| {
        let (x, y) = (u64::from(x), u64::from(y));
        let r = ((x * 7) ^ (y * 13)) & 255;
        let g = (x + 2 * y) * 255 / g_den;
        let b = (x / 9 + y / 5) % 2 * 255;
        image::Rgb([r as u8, g as u8, b as u8])
    })
}

/// A bilinear model's eval transform, built from effnet's own table (`model::resolve`; the
/// fixture only confirms the parameters), against the tensors its library's real transform
/// made (timm's `create_transform`, torchvision's `Weights.transforms()`), stored in
/// `photos_<model>.json` (`:` as `_`).
fn check_library_transform(model: &str) {
    let arch = effnet::model::resolve(model, None).unwrap();
    let fx = json(&format!("photos_{}.json", model.replace(':', "_")));
    let spec = arch.preprocess;
    assert_eq!(spec.interpolation, Interpolation::Bilinear);
    assert_eq!(fx["interpolation"], spec.interpolation.name());
    assert_eq!((spec.mean, spec.std), (f3(&fx["mean"]), f3(&fx["std"])));
    let t = Transform::from_spec(&spec, arch.resolution, arch.resolution);
    let stride = u(&fx["sample_stride"]);
    // Decoder-free inputs: every sample is exact, and the channel means agree to 1e-6 LSB (one
    // value off by a level would move a mean by 1 / (H·W) ≈ 7e-6 LSB).
    for case in fx["synthetic"].as_array().unwrap() {
        let img = synth_pattern(u(&case["size"][0]) as u32, u(&case["size"][1]) as u32);
        let (diff, _, mean_lsb) = compare(case, &img, &t, stride);
        assert!(diff.max == 0.0, "{model} {}: {diff:?}", case["size"]);
        assert!(mean_lsb.iter().all(|&d| d < 1e-6), "{model}: {mean_lsb:?}");
    }
    // Photos through our own JPEG decoder. On PIL's decoded pixels these tensors are identical
    // (measured: 0 differences on every sample of every photo), so what remains is zune-jpeg
    // vs libjpeg-turbo: their IDCT and YCbCr->RGB rounding differ by up to 1 level per pixel on
    // greyscale files and 3 on 4:4:4 colour (~0.15% of values > 1, mostly R and B, where Cr/Cb
    // are scaled by 1.40 / 1.77), and chroma upsampling lifts it to 4 on the 4:2:0 frog (3.9%
    // > 1). Bilinear weights are non-negative, so the resize cannot amplify a decoding error;
    // it averages it down. Hence the contract: within 1 LSB of 8-bit everywhere on greyscale;
    // on colour within 2 (measured: max 2 on the samples; whole tensors reach 3, and 4 on 1-2
    // frog values), with at most 0.5% of samples off by 2 on 4:4:4 (measured <= 0.15%) and 4%
    // on 4:2:0 (measured 2.6%).
    let (mut all, mut failures) = (Diff::default(), Vec::new());
    for (file, sampling, (diff, each, _)) in compare_photos(&fx, &t) {
        let (tol, share) = match sampling.as_str() {
            "grey" => (1.0, 0.0),
            "4:4:4" => (2.0, 0.005),
            _ => (2.0, 0.04),
        };
        for (i, d, ours, reference) in each.into_iter().filter(|e| e.1 > tol + 1e-3) {
            let (c, y, x) = (
                i / (t.height * t.width),
                i / t.width % t.height,
                i % t.width,
            );
            failures.push(format!(
                "{file}: index {i} (c {c}, y {y}, x {x}): ours {ours:.3}, \
                 reference {reference}, |diff| {d:.3}, tolerance {tol}"
            ));
        }
        if 1.0 - diff.within_1() > share {
            failures.push(format!(
                "{file} ({sampling}): more than {share} over 1: {diff:?}"
            ));
        }
        all.merge(&diff);
    }
    eprintln!("{model}, all photos: {all:?}");
    assert!(failures.is_empty(), "{model}:\n{}", failures.join("\n"));
}

#[test]
fn photos_match_timm_lite4_eval() {
    check_library_transform("tf_efficientnet_lite4");
}

#[test]
fn photos_match_torchvision_v2_s_eval() {
    check_library_transform("torchvision:efficientnet_v2_s");
}

// Here, not in src/model: it walks every name through `Transform`, and the model must not
// use the preprocessing (the preprocessing uses the model).
#[test]
fn every_known_name_has_its_sources_transform() {
    // mmpretrain's and MindSpore's names take theirs from frameworks.tsv.
    let timm_and_torchvision: Vec<String> = (known_names().into_iter())
        .filter(|n| resolve(n, None).is_ok_and(|a| a.source.key_names() == a.source))
        .collect();
    for name in &timm_and_torchvision {
        let arch = resolve(name, None).unwrap();
        let row = pretrained(&arch.name, arch.source)
            .unwrap_or_else(|| panic!("{name}: no row in preprocess.tsv"));
        assert_eq!(arch.resolution, row.resolution, "{name}");
        assert_eq!(arch.preprocess, row.spec, "{name}");
        // Our resize arithmetic must land on the source's shorter side exactly.
        let t = Transform::from_spec(&arch.preprocess, row.resolution, row.resolution);
        assert_eq!(
            t.resize_short, row.resize,
            "{name}: resize of the shorter side"
        );
    }
    let rows = rows().count();
    assert_eq!(
        rows,
        timm_and_torchvision.len(),
        "a row per timm and torchvision name"
    );
}
