//! `effnet::preprocess::{resize_cv2, cv2_transform}` against OpenCV and the frameworks.
//!
//! - `tests/data/cv2/`: `cv2.resize` outputs written by `tools/make_cv2_fixtures.py` (OpenCV
//!   itself, run once, committed); no Python runs here.
//! - `../shared/seed-checkpoints/*.json`: the input tensors mmpretrain and MindSpore computed
//!   themselves from `../shared/images/n01531178_goldfinch.JPEG`.

use effnet::preprocess::{
    Cv2Filter, Cv2Pipeline, cv2_transform, load_image, mindspore_crop_offset,
    mindspore_resized_size, mmpretrain_crop_box, resize_cv2,
};
use image::RgbImage;
use serde_json::Value;
use std::path::{Path, PathBuf};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cv2");

fn png(name: &str) -> RgbImage {
    load_image(Path::new(DATA).join(name)).expect("fixture PNG")
}

/// Largest difference, where, and how many values differ at all.
#[derive(Debug, Default)]
struct Diff {
    max: f64,
    at: usize,
    ours: f64,
    theirs: f64,
    differing: usize,
    total: usize,
}

impl Diff {
    fn of(ours: impl IntoIterator<Item = f64>, theirs: impl IntoIterator<Item = f64>) -> Self {
        let mut d = Diff::default();
        for (i, (a, b)) in ours.into_iter().zip(theirs).enumerate() {
            let e = (a - b).abs();
            d.total += 1;
            d.differing += usize::from(e > 0.0);
            if e > d.max {
                (d.max, d.at, d.ours, d.theirs) = (e, i, a, b);
            }
        }
        d
    }
}

fn bytes(img: &RgbImage) -> impl Iterator<Item = f64> + '_ {
    img.as_raw().iter().map(|&v| f64::from(v))
}

#[test]
fn resize_matches_cv2() {
    let cases: Value =
        serde_json::from_str(&std::fs::read_to_string(Path::new(DATA).join("cases.json")).unwrap())
            .unwrap();
    let cases = cases["cases"].as_array().unwrap();
    assert!(cases.len() >= 60, "only {} cases", cases.len());
    let (mut ipp_differing, mut ipp_total) = (0, 0);
    for case in cases {
        let input = png(case["input"].as_str().unwrap());
        let expected = png(case["expected"].as_str().unwrap());
        let (w, h) = (
            case["width"].as_u64().unwrap() as u32,
            case["height"].as_u64().unwrap() as u32,
        );
        let filter = match case["filter"].as_str().unwrap() {
            "linear" => Cv2Filter::Linear,
            "cubic" => Cv2Filter::Cubic,
            "cubic_ipp" => Cv2Filter::CubicIpp,
            other => panic!("unknown filter {other}"),
        };
        let ours = resize_cv2(&input, w, h, filter);
        assert_eq!(ours.dimensions(), (w, h));
        let d = Diff::of(bytes(&ours), bytes(&expected));
        eprintln!("{} -> {w}x{h} {filter:?}: {d:?}", case["input"]);
        if filter == Cv2Filter::CubicIpp {
            // IPP's float arithmetic is not public: the f64 model rounds the other way only where
            // the exact value is within ~1e-5 of a half, so by 1 level and rarely.
            assert!(d.max <= 1.0, "{case}: {d:?}");
            (ipp_differing, ipp_total) = (ipp_differing + d.differing, ipp_total + d.total);
        } else {
            // OpenCV's own fixed-point code, ported operation by operation: exact (measured 0).
            assert_eq!(d.max, 0.0, "{case}: {d:?}");
        }
    }
    eprintln!("cubic_ipp: {ipp_differing} of {ipp_total} values differ by 1");
    // Measured 0 here; a wrong kernel, border or centre would move far more than 0.5% by 1.
    assert!(
        ipp_differing * 200 <= ipp_total,
        "{ipp_differing} of {ipp_total}"
    );
}

/// The crop-and-resize of both pipelines on lossless inputs, against OpenCV with the
/// frameworks' rules written out in Python (`tools/make_cv2_fixtures.py`), before normalisation:
/// mean 0 and std 1/255 make the tensor the u8 window itself.
#[test]
fn pipelines_match_cv2() {
    let text = std::fs::read_to_string(Path::new(DATA).join("pipelines.json")).unwrap();
    let cases: Value = serde_json::from_str(&text).unwrap();
    let cases = cases.as_array().unwrap();
    assert!(cases.len() >= 8);
    for case in cases {
        let input = png(case["input"].as_str().unwrap());
        let expected = png(case["expected"].as_str().unwrap());
        let size = case["size"].as_u64().unwrap() as usize;
        let param = case["param"].as_u64().unwrap();
        let pipeline = match case["pipeline"].as_str().unwrap() {
            "mmpretrain" => Cv2Pipeline::Mmpretrain {
                crop_padding: param as u32,
                filter: Cv2Filter::CubicIpp,
            },
            _ => Cv2Pipeline::MindSpore {
                resize_short: param as usize,
            },
        };
        let ours = cv2_transform(&input, size, pipeline, [0.0; 3], [1.0 / 255.0; 3]);
        let plane = size * size;
        let theirs = (0..3 * plane).map(|i| {
            let (c, p) = (i / plane, i % plane);
            f64::from(expected.as_raw()[p * 3 + c])
        });
        let theirs: Vec<f64> = theirs.collect();
        let d = Diff::of(ours.iter().map(|&v| f64::from(v)), theirs.iter().copied());
        let off = ours
            .iter()
            .zip(&theirs)
            .filter(|(a, b)| (f64::from(**a) - *b).abs() > 0.5)
            .count();
        eprintln!(
            "{} {pipeline:?} at {size}: {off} values off by a level; {d:?}",
            case["input"]
        );
        // Integers divided by 255 * f32(1/255) = 1 + 1e-8 stay within 1e-3 of themselves; the
        // model of IPP's cubic may round a near-tie the other way (1 level; measured: 1 value
        // 4 values in 867 for a 30x30 -> 17x17 cubic of the edges image, none elsewhere).
        assert!(d.max <= 1.0 + 1e-3, "{case}: {d:?}");
        assert!(
            off * 100 <= d.total,
            "{case}: {off} of {} values off by a level",
            d.total
        );
    }
}

#[test]
fn mmpretrain_crop_box_rounds_like_python() {
    // The goldfinch photo (500x375) at 224: side 328.125, offsets round(85.9375) = 86 and
    // round(23.4375) = 23, far corner int(86 + 327.125) = 413, int(23 + 327.125) = 350.
    assert_eq!(mmpretrain_crop_box(500, 375, 224, 32), [86, 23, 413, 350]);
    // Python's round is half to even: (301 - 300) / 2 = 0.5 -> 0, 1.5 -> 2, 2.5 -> 2.
    assert_eq!(mmpretrain_crop_box(301, 300, 224, 0), [0, 0, 299, 299]);
    assert_eq!(mmpretrain_crop_box(303, 300, 224, 0), [2, 0, 301, 299]);
    assert_eq!(mmpretrain_crop_box(305, 300, 224, 0), [2, 0, 301, 299]);
    // Tall image, V1 padding: side = 240/272*100 = 88.235..., oy = round(55.88) = 56.
    assert_eq!(mmpretrain_crop_box(100, 200, 240, 32), [6, 56, 93, 143]);
    // A 1-pixel image keeps its pixel.
    assert_eq!(mmpretrain_crop_box(1, 1, 224, 32), [0, 0, 0, 0]);
}

#[test]
fn mindspore_sizes_and_offsets() {
    // The fixture reports "resized image 256x341, crop offset (y,x)=(16,58)".
    assert_eq!(mindspore_resized_size(500, 375, 256), (341, 256));
    assert_eq!(
        (
            mindspore_crop_offset(256, 224),
            mindspore_crop_offset(341, 224)
        ),
        (16, 58)
    );
    // Portrait and square: the width is the short side when h >= w; lround rounds half away
    // from zero (3/2 * 255 = 382.5 -> 383).
    assert_eq!(mindspore_resized_size(375, 500, 256), (256, 341));
    assert_eq!(mindspore_resized_size(200, 300, 255), (255, 383));
    assert_eq!(mindspore_resized_size(40, 40, 256), (256, 256));
    // Smaller than the crop: zero padding, the odd pixel before (ceil(3 / 2) = 2).
    assert_eq!(mindspore_crop_offset(221, 224), -2);
}

fn seed_dir() -> PathBuf {
    // `../shared` next to the main checkout; from a worktree under `wt/`, one level further up.
    [
        "/../shared/seed-checkpoints",
        "/../../shared/seed-checkpoints",
    ]
    .iter()
    .map(|p| PathBuf::from(format!("{}{p}", env!("CARGO_MANIFEST_DIR"))))
    .find(|p| p.is_dir())
    .expect("shared/seed-checkpoints not found next to the checkout")
}

/// The comma-separated numbers in `text` right after `key` (`mean=[1, 2, 3]`, `Resize(256)`).
fn numbers_after(text: &str, key: &str) -> Vec<f64> {
    let start = text
        .find(key)
        .unwrap_or_else(|| panic!("{key} not in {text}"))
        + key.len();
    let end = start + text[start..].find([']', ')']).unwrap();
    let numbers: Vec<f64> = text[start..end]
        .split(',')
        .map_while(|v| v.trim().parse().ok())
        .collect();
    assert!(!numbers.is_empty(), "no number after {key}");
    numbers
}

fn reference_input(dir: &Path, id: &str) -> Vec<f32> {
    let data = std::fs::read(dir.join(format!("{id}.input.safetensors"))).unwrap();
    let st = safetensors::SafeTensors::deserialize(&data).unwrap();
    let t = st.tensor("input").unwrap();
    assert_eq!(t.shape(), [1, 3, 224, 224]);
    t.data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

/// Every seed fixture's own input tensor, from the photo through our pipeline.
#[test]
fn seed_inputs_match_the_frameworks() {
    let dir = seed_dir();
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let meta: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let id = path.file_stem().unwrap().to_str().unwrap();
        let pre = meta["preprocess"].as_str().unwrap();
        eprintln!("{id}: {pre}\n  {}", meta["preprocess_reproduction"]);
        let img = load_image(dir.join(meta["photo"].as_str().unwrap())).unwrap();
        let mean255 = numbers_after(pre, "mean=[");
        let std255 = numbers_after(pre, "std=[");
        let unit = |v: &[f64]| -> [f32; 3] { std::array::from_fn(|c| (v[c] / 255.0) as f32) };
        let pipelines = if pre.contains("EfficientNetCenterCrop") {
            let crop_padding = numbers_after(pre, "crop_padding=")[0] as u32;
            // The seed ran on x86 opencv-python (IPP cubic); OpenCV's own cubic is checked too.
            vec![
                (
                    Cv2Pipeline::Mmpretrain {
                        crop_padding,
                        filter: Cv2Filter::CubicIpp,
                    },
                    0.98,
                ),
                (
                    Cv2Pipeline::Mmpretrain {
                        crop_padding,
                        filter: Cv2Filter::Cubic,
                    },
                    0.95,
                ),
            ]
        } else {
            let resize_short = numbers_after(pre, "Resize(")[0] as usize;
            vec![(Cv2Pipeline::MindSpore { resize_short }, 0.98)]
        };
        let reference = reference_input(&dir, id);
        for (pipeline, min_close) in pipelines {
            let ours = cv2_transform(&img, 224, pipeline, unit(&mean255), unit(&std255));
            check_seed(id, pipeline, &ours, &reference, &std255, min_close);
        }
        seen += 1;
    }
    assert!(seen >= 2, "only {seen} seed fixtures in {}", dir.display());
}

/// One pipeline's tensor against a seed's, in pixel levels (see the comments for the bounds).
fn check_seed(
    id: &str,
    pipeline: Cv2Pipeline,
    ours: &[f32],
    reference: &[f32],
    std255: &[f64],
    min_close: f64,
) {
    assert_eq!(ours.len(), reference.len());
    // Compare in pixel levels: (ours - ref) * std_255 of the value's channel.
    let scaled = |v: &[f32]| -> Vec<f64> {
        v.iter()
            .enumerate()
            .map(|(i, &x)| f64::from(x) * std255[i / (224 * 224)])
            .collect()
    };
    let d = Diff::of(scaled(ours), scaled(reference));
    let close = scaled(ours)
        .iter()
        .zip(scaled(reference))
        .filter(|(a, b)| (*a - b).abs() <= 1e-4)
        .count() as f64
        / d.total as f64;
    eprintln!(
        "  {pipeline:?}: max {:.7} levels, {close:.4} within 1e-4; {d:?}",
        d.max
    );
    // Contract (README of the seeds): 2 levels. `load_image` (zune-jpeg) decodes this
    // photo up to 3 levels away from libjpeg (cv2 and PIL, identical here) on 0.9% of
    // the values; through the resize that is at most 2 levels (cv2 itself run on our
    // decode: 2.0000056 mmpretrain, 2.0000049 MindSpore). The 1e-4 on top covers f32
    // rounding of the frameworks' normalisation (measured 1e-5 levels).
    assert!(d.max <= 2.0 + 1e-4, "{id} {pipeline:?}: {d:?}");
    // Where the decodes agree the pipeline is exact: measured 98.5% (mmpretrain, IPP
    // cubic) and 99.0% (MindSpore) of the values within 1e-4 levels. OpenCV's
    // fixed-point cubic in place of IPP's rounds ~2% of the values the other way.
    assert!(
        close >= min_close,
        "{id} {pipeline:?}: {close} within 1e-4 levels"
    );
}
