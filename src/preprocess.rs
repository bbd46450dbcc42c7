//! The evaluation transform of timm / torchvision, reproduced on PIL semantics: decode to RGB8,
//! resize the shorter side to `floor(res / crop_pct)` with PIL's antialiased bicubic or bilinear
//! filter (whichever the checkpoint's source uses), centre crop,
//! scale to [0, 1], normalise per channel, and lay out as NCHW f32.
//!
//! `cv2` holds the OpenCV-based counterparts (mmpretrain, MindSpore): [`resize_cv2`] and
//! [`cv2_transform`].

mod augment;
mod cv2;
mod decode;
mod resize;

pub use augment::random_resized_crop;
pub use cv2::{
    Cv2Filter, Cv2Pipeline, cv2_transform, mindspore_crop_offset, mindspore_resized_size,
    mmpretrain_crop_box, resize_cv2,
};
pub use decode::{Exif, ImageLimits, decode_image, decode_named, load_image, load_image_with};
pub use resize::{resize_bicubic_pil, resize_pil};

use crate::Result;
use crate::model::arch::{Interpolation, Pipeline, PreprocessSpec};
use image::RgbImage;
use std::path::PathBuf;

/// One checkpoint's evaluation transform for an `height × width` input.
#[derive(Clone, Debug, PartialEq)]
pub struct Transform {
    /// Output height.
    pub height: usize,
    /// Output width.
    pub width: usize,
    /// The shorter side after resizing (timm's `scale_size`, torchvision's `resize_size`).
    pub resize_short: usize,
    /// The resize filter.
    pub interpolation: Interpolation,
    /// Per-channel (RGB) mean, subtracted after scaling to [0, 1].
    pub mean: [f32; 3],
    /// Per-channel (RGB) standard deviation, divided by.
    pub std: [f32; 3],
    /// PIL's resize and crop (timm, torchvision), or a framework's OpenCV-style one; with the
    /// latter `resize_short` and `interpolation` are what that pipeline uses.
    pub pipeline: Pipeline,
}

impl Transform {
    /// timm's eval transform: `resize_short = floor(min(height, width) / crop_pct)`. For a
    /// non-square target timm would resize to exactly `floor(h / crop_pct)` ×
    /// `floor(w / crop_pct)`; we keep the aspect ratio and centre crop, padding with zeros where
    /// the resized image is smaller than the target, as torchvision's `CenterCrop` does. For
    /// torchvision weights, which use a fixed `resize_size`, set `resize_short` to it directly.
    pub fn from_spec(spec: &PreprocessSpec, height: usize, width: usize) -> Self {
        let short = height.min(width);
        let resize_short = match spec.pipeline {
            Pipeline::Pil => scale_size(short, spec.crop_pct),
            Pipeline::MindSpore { plus: 0, crop_pct } => scale_size(short, crop_pct),
            Pipeline::MindSpore { plus, .. } => short + plus as usize,
            // mmpretrain crops first and resizes the crop to the output size.
            Pipeline::MmCenterCrop { .. } => short,
        };
        Transform {
            height,
            width,
            resize_short,
            interpolation: spec.interpolation,
            mean: spec.mean,
            std: spec.std,
            pipeline: spec.pipeline,
        }
    }

    /// Size `(width, height)` after the resize: the shorter side becomes `resize_short` and the
    /// longer one `int(resize_short * long / short)` as torchvision computes it (the exact
    /// integer floor; a float quotient of such integers cannot round across an integer).
    pub fn resized_size(&self, width: u32, height: u32) -> (u32, u32) {
        let short = self.resize_short as u64;
        let (w, h) = (u64::from(width.max(1)), u64::from(height.max(1)));
        // Saturate rather than wrap for absurd aspect ratios; only the crop window is computed.
        let side = |v: u64| v.min(u64::from(u32::MAX)) as u32;
        if w <= h {
            (side(short), side(short * h / w))
        } else {
            (side(short * w / h), side(short))
        }
    }

    /// Resize, centre crop, normalise: NCHW f32 with `3 × height × width` values. A
    /// framework's OpenCV-style pipeline is square: it produces `height × height`.
    pub fn apply(&self, img: &RgbImage) -> Vec<f32> {
        let size = self.height;
        match self.pipeline {
            Pipeline::Pil => self.apply_pil(img),
            // The configs' bicubic, as the x86 OpenCV wheels the frameworks publish with run it.
            Pipeline::MmCenterCrop { crop_padding } => {
                let filter = Cv2Filter::CubicIpp;
                let p = Cv2Pipeline::Mmpretrain {
                    crop_padding,
                    filter,
                };
                cv2_transform(img, size, p, self.mean, self.std)
            }
            Pipeline::MindSpore { .. } => {
                let p = Cv2Pipeline::MindSpore {
                    resize_short: self.resize_short,
                };
                cv2_transform(img, size, p, self.mean, self.std)
            }
        }
    }

    /// timm's and torchvision's resize and crop on PIL semantics.
    fn apply_pil(&self, img: &RgbImage) -> Vec<f32> {
        let (rw, rh) = self.resized_size(img.width(), img.height());
        let (x0, xs) = crop_window(rw, self.width as u32);
        let (y0, ys) = crop_window(rh, self.height as u32);
        let f = self.interpolation;
        let window = resize::resize_window(img, f, (rw, rh), xs.clone(), ys.clone());
        // Exactly torchvision's f32 ops: `x.float().div(255)`, then `sub_(mean).div_(std)`.
        let lut: [[f32; 256]; 3] = std::array::from_fn(|c| {
            std::array::from_fn(|v| (v as f32 / 255.0 - self.mean[c]) / self.std[c])
        });
        let plane = self.height * self.width;
        let mut out = Vec::with_capacity(3 * plane);
        for (c, lut) in lut.iter().enumerate() {
            // Padding (crop larger than the resized image) is black before normalisation.
            out.resize(c * plane + plane, lut[0]);
            let dst = &mut out[c * plane..];
            for (wy, y) in ys.clone().enumerate() {
                let row = (i64::from(y) - y0) as usize * self.width;
                for (wx, x) in xs.clone().enumerate() {
                    let px = window.get_pixel(wx as u32, wy as u32)[c];
                    dst[row + (i64::from(x) - x0) as usize] = lut[usize::from(px)];
                }
            }
        }
        out
    }
}

/// timm's `math.floor(img_size / crop_pct)`, on the same f64 quotient (117 / 0.936 is
/// 124.99999999999999 there, so 124). torchvision's weights give an integer `resize_size`,
/// stored as `crop_pct = crop / resize`, which divides back exactly at the weights'
/// resolution (`src/model/pretrained.rs` tests every source's resize).
fn scale_size(size: usize, crop_pct: f64) -> usize {
    if !crop_pct.is_finite() || crop_pct <= 0.0 {
        return size;
    }
    ((size as f64 / crop_pct).floor() as usize).max(1)
}

/// torchvision `center_crop` along one axis of length `size` for a crop of `crop`: the offset of
/// the crop in image coordinates (negative when the image is zero-padded) and the image range it
/// covers. torchvision uses `int(round((size - crop) / 2.0))`, and Python rounds half to even.
fn crop_window(size: u32, crop: u32) -> (i64, std::ops::Range<u32>) {
    if crop > size {
        let pad_before = i64::from((crop - size) / 2);
        return (-pad_before, 0..size);
    }
    let diff = size - crop;
    let half = diff / 2;
    let offset = if diff % 2 == 1 && half % 2 == 1 {
        half + 1
    } else {
        half
    };
    (i64::from(offset), offset..offset + crop)
}

/// Decode and transform `paths` on a few threads (at most one per core, at most 8: decoding is
/// CPU bound, and more threads only multiply the memory held by images in flight). Results are
/// in the order of `paths`; a bad file fails only its own entry.
pub fn preprocess_batch(paths: &[PathBuf], t: &Transform) -> Vec<Result<Vec<f32>>> {
    preprocess_batch_with(paths, t, &|p: &std::path::Path| load_image(p))
}

/// Like [`preprocess_batch`], with `load` reading each path (e.g. `-` for standard input).
pub fn preprocess_batch_with(
    paths: &[PathBuf],
    t: &Transform,
    load: &(dyn Fn(&std::path::Path) -> Result<RgbImage> + Sync),
) -> Vec<Result<Vec<f32>>> {
    map_in_parallel(paths.len(), |i| Ok(t.apply(&load(&paths[i])?)))
}

/// `f(0) .. f(count - 1)` in order, computed on a few threads (at most one per core, at most
/// 8: decoding is what they do, and more would only contend), each taking the next index.
pub fn map_in_parallel<T: Send>(count: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8)
        .min(count);
    if threads <= 1 {
        return (0..count).map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Option<T>> = (0..count).map(|_| None).collect();
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= count {
                            break done;
                        }
                        done.push((i, f(i)));
                    }
                })
            })
            .collect();
        for worker in workers {
            for (i, r) in worker.join().expect("preprocess worker panicked") {
                results[i] = Some(r);
            }
        }
    });
    results
        .into_iter()
        .map(|r| r.expect("every index is claimed once"))
        .collect()
}
