//! Image bytes through guarded decoding and, when they decode, the model's eval transform at
//! a small size: what `classify` does with a file from disk.
#![no_main]
use effnet::preprocess::{ImageLimits, Transform, decode_image};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(img) = decode_image(data, &ImageLimits::default()) {
        let spec = effnet::model::PreprocessSpec {
            mean: [0.5; 3],
            std: [0.5; 3],
            crop_pct: 0.875,
            interpolation: effnet::model::Interpolation::Bicubic,
            pipeline: effnet::model::Pipeline::Pil,
        };
        let _ = Transform::from_spec(&spec, 32, 32).apply(&img);
    }
});
