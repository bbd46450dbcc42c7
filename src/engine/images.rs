//! Images to an NCHW tensor for `Session::run_images`.
//!
//! A minimal stand-in for `crate::preprocess::Transform` (branch `prep`, not merged when this
//! was written): resize the shorter side to `size / crop_pct` (bicubic), centre crop, scale
//! to [0, 1], normalize. Once `prep` lands, `to_tensor` should delegate to `Transform`.

use crate::model::PreprocessSpec;
use crate::{Error, Result};
use image::imageops::{FilterType, crop_imm, resize};

pub fn to_tensor(
    images: &[image::RgbImage],
    spec: &PreprocessSpec,
    batch: usize,
    height: usize,
    width: usize,
) -> Result<Vec<f32>> {
    if images.len() != batch {
        return Err(Error::Input(format!(
            "the session takes a batch of {batch} images, got {}; make a session with \
             `batch: {}` or pass exactly {batch}",
            images.len(),
            images.len()
        )));
    }
    let plane = height * width;
    let mut out = vec![0f32; batch * 3 * plane];
    for (i, img) in images.iter().enumerate() {
        let cropped = resize_and_crop(img, spec.crop_pct, height as u32, width as u32)?;
        let base = i * 3 * plane;
        for (p, px) in cropped.pixels().enumerate() {
            for c in 0..3 {
                let v = px[c] as f32 / 255.0;
                out[base + c * plane + p] = (v - spec.mean[c]) / spec.std[c];
            }
        }
    }
    Ok(out)
}

/// Crops the source region that the centre crop would keep, then resizes only that: the work
/// and memory are bounded by the output size, whatever the image's aspect ratio (resizing a
/// 1×65535 image first would allocate hundreds of megabytes).
fn resize_and_crop(
    img: &image::RgbImage,
    crop_pct: f32,
    h: u32,
    w: u32,
) -> Result<image::RgbImage> {
    let (iw, ih) = img.dimensions();
    if iw == 0 || ih == 0 {
        return Err(Error::Input(
            "an image has no pixels (0 width or height)".into(),
        ));
    }
    // The scale that makes the shorter side `size / crop_pct` and both sides cover the crop.
    let short = (h.max(w) as f64 / crop_pct.clamp(0.05, 1.0) as f64).ceil();
    let scale = (short / iw.min(ih) as f64)
        .max(w as f64 / iw as f64)
        .max(h as f64 / ih as f64);
    let cw = ((w as f64 / scale).round() as u32).clamp(1, iw);
    let ch = ((h as f64 / scale).round() as u32).clamp(1, ih);
    let region = crop_imm(img, (iw - cw) / 2, (ih - ch) / 2, cw, ch);
    Ok(resize(&*region, w, h, FilterType::CatmullRom))
}
