//! effnet in a browser: the library's async path on the WebGPU of headless Chromium (on CI
//! SwiftShader, a CPU implementation). Only for `wasm32`: `.ci/run` runs it with
//! `cargo test --target wasm32-unknown-unknown --test web` and wasm-bindgen-test-runner
//! driving Chromium through chromedriver (`webdriver.json` has the browser's flags).
//!
//! A browser has no files, so the test data is compiled in from `../shared` (the goldens,
//! the reference top-5 and two photos), read from disk at build time.
#![cfg(target_arch = "wasm32")]

use effnet::golden::{Golden, verify_async};
use effnet::gpu::Precision;
use effnet::preprocess::{ImageLimits, decode_image};
use effnet::{Engine, Model, SessionOptions};
use std::path::Path;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

macro_rules! shared {
    ($rel:literal) => {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/", $rel)
    };
}

/// The two goldens small enough for SwiftShader on 2 cores: B0 at 160×128 and Lite0 (no SE,
/// ReLU6) at 224, so both block kinds run.
const GOLDENS: [(&str, &str); 2] = [
    (
        "timm-efficientnet_b0-160x128-b1.json",
        include_str!(shared!("golden/timm-efficientnet_b0-160x128-b1.json")),
    ),
    (
        "timm-tf_efficientnet_lite0-224x224-b1.json",
        include_str!(shared!("golden/timm-tf_efficientnet_lite0-224x224-b1.json")),
    ),
];

/// timm's float32 top-5 of the bundled Lite0 on the shared photos; tests/classify.rs checks
/// the native build against the same rows.
const REFERENCE: &str = include_str!(shared!("data/lite0_reference.tsv"));

const PHOTOS: [(&str, &[u8]); 2] = [
    (
        "n02099601_golden_retriever.JPEG",
        include_bytes!(shared!("images/n02099601_golden_retriever.JPEG")),
    ),
    (
        "n02123045_tabby.JPEG",
        include_bytes!(shared!("images/n02123045_tabby.JPEG")),
    ),
];

async fn engine() -> Engine {
    let engine = Engine::new_async().await.unwrap_or_else(|e| {
        panic!("{e} (Chromium needs --enable-unsafe-webgpu; see webdriver.json)")
    });
    console_log!("WebGPU adapter: {}", engine.describe());
    engine
}

async fn check_golden(index: usize) {
    let (name, text) = GOLDENS[index];
    let engine = engine().await;
    let golden = Golden::parse(Path::new(name), text).unwrap();
    let start = web_time::Instant::now();
    let v = verify_async(&golden, &engine, Precision::F32)
        .await
        .unwrap();
    console_log!(
        "{name}: logits rel err {:.2e}, worst sample {:.2e} x rms at {} ({:.1} s)",
        v.logits_rel_err,
        v.worst_sample,
        v.worst_stage,
        start.elapsed().as_secs_f64()
    );
    // The golden README's f32 tolerances (effnet::golden), as the native tests use them.
    assert!(v.pass, "{name} outside the f32 tolerances: {v:?}");
}

#[wasm_bindgen_test]
async fn golden_b0_160x128_matches_in_the_browser() {
    check_golden(0).await;
}

#[wasm_bindgen_test]
async fn golden_lite0_matches_in_the_browser() {
    check_golden(1).await;
}

/// The reference's top-1 class and its probability for `file`.
fn reference_top1(file: &str) -> (usize, f64) {
    let row = (REFERENCE.lines().skip(1))
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .find(|cols| cols[0] == file)
        .unwrap_or_else(|| panic!("{file} missing from data/lite0_reference.tsv"));
    let class = row[2].split(',').next().unwrap().parse().unwrap();
    let prob = row[3].split(',').next().unwrap().parse().unwrap();
    (class, prob)
}

#[wasm_bindgen_test]
async fn bundled_lite0_classifies_two_photos_as_natively() {
    let engine = engine().await;
    let model = engine.load_async(Model::bundled().unwrap()).await.unwrap();
    let mut session = model
        .session_async(SessionOptions::new(2, 224, 224))
        .await
        .unwrap();
    let images: Vec<_> = (PHOTOS.iter())
        .map(|(_, bytes)| decode_image(bytes, &ImageLimits::default()).unwrap())
        .collect();
    let start = web_time::Instant::now();
    let top = session.classify_async(&images, 5).await.unwrap();
    let seconds = start.elapsed().as_secs_f64();
    for ((file, _), top5) in PHOTOS.iter().zip(&top) {
        let (class, prob) = reference_top1(file);
        let ours = &top5[0];
        console_log!(
            "{file}: {} p={:.4} ({seconds:.1} s for both)",
            ours.label,
            ours.prob
        );
        assert_eq!(
            ours.index, class,
            "{file}: reference top-1 {class}, ours {top5:?}"
        );
        // 0.03 as in tests/classify.rs: f16 rounding of the stored weights and the
        // reference's 4 decimals; a wrong transform or kernel moves it by far more.
        let diff = (ours.prob - prob).abs();
        assert!(
            diff <= 0.03,
            "{file}: probability {} vs reference {prob}",
            ours.prob
        );
    }
}
