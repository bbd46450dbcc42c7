//! The evaluation transforms of mmpretrain (`EfficientNetCenterCrop`, cv2 backend) and MindSpore
//! (`Resize` + `CenterCrop`, as mindvision and mindcv use them), from a decoded RGB image to the
//! normalised NCHW f32 tensor the frameworks feed their nets.

use super::{Cv2Filter, resize_cv2};
use image::RgbImage;

/// Which framework's crop-and-resize to reproduce (the normalisation is shared).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cv2Pipeline {
    /// mmpretrain `EfficientNetCenterCrop(crop_size=size, crop_padding, backend='cv2')`: a centred
    /// square of side `size / (size + crop_padding) * min(h, w)` cut with mmcv's `imcrop`, then
    /// `cv2.resize` to `size × size` with `filter` (the configs' `interpolation='bicubic'` is
    /// [`Cv2Filter::CubicIpp`] on the x86 wheels the released results come from, or
    /// [`Cv2Filter::Cubic`] without IPP). EfficientNet V1 configs use `crop_padding = 32`, V2
    /// configs 0. mmpretrain decodes BGR and its data preprocessor flips to RGB before
    /// normalising; per-channel operations commute with that, so RGB in gives the same tensor.
    Mmpretrain {
        /// `crop_padding` of the config.
        crop_padding: u32,
        /// The resize interpolation.
        filter: Cv2Filter,
    },
    /// MindSpore `Resize(resize_short)` (default `Inter.LINEAR`, i.e. cv2 `INTER_LINEAR`) and
    /// `CenterCrop(size)`. mindvision uses `resize_short = size + 32`; mindcv
    /// `floor(size / crop_pct)` with `crop_pct = 0.875` by default.
    MindSpore {
        /// The shorter side after resizing.
        resize_short: usize,
    },
}

/// mmpretrain `EfficientNetCenterCrop`'s crop box `(x1, y1, x2, y2)`, inclusive, for a `w × h`
/// image: `side = size / (size + padding) * min(h, w)` in f64, offsets
/// `max(0, int(round((h|w - side) / 2)))` with Python's half-to-even `round`, the box
/// `[ox, oy, ox + side - 1, oy + side - 1]` truncated toward zero by `astype(np.int32)` and clipped
/// to the image by mmcv's `bbox_clip`. (An empty box, possible only for images a few pixels
/// wide, where mmcv would hand cv2 an empty array, keeps one pixel.)
pub fn mmpretrain_crop_box(w: u32, h: u32, size: usize, crop_padding: u32) -> [u32; 4] {
    let side = size as f64 / (size as f64 + f64::from(crop_padding)) * f64::from(w.min(h));
    let offset = |len: u32| {
        ((f64::from(len) - side) / 2.0)
            .round_ties_even()
            .max(0.0)
            .trunc()
    };
    let (ox, oy) = (offset(w), offset(h));
    // `astype(np.int32)` truncates toward zero; `bbox_clip` then clamps to [0, len - 1].
    let clip = |v: f64, len: u32| (v.trunc().max(0.0) as u32).min(len.saturating_sub(1));
    let (x1, y1) = (clip(ox, w), clip(oy, h));
    let (x2, y2) = (clip(ox + side - 1.0, w), clip(oy + side - 1.0, h));
    [x1, y1, x2.max(x1), y2.max(y1)]
}

/// MindSpore `Resize(short)`'s output `(width, height)` for a `w × h` image: the shorter side
/// (the height when `h < w`, else the width) becomes `short` and the other
/// `lround((float)long / short_in * short)` in f32, as `ResizeOp::Compute` computes it.
pub fn mindspore_resized_size(w: u32, h: u32, short: usize) -> (u32, u32) {
    let scaled = |long: u32, short_in: u32| {
        let v = (long as f32 / short_in.max(1) as f32 * short as f32).round();
        v.clamp(1.0, u32::MAX as f32) as u32
    };
    let short = short as u32;
    if h < w {
        (scaled(w, h), short)
    } else {
        (short, scaled(h, w))
    }
}

/// MindSpore `CenterCrop` along one axis of length `len` for a crop of `crop`: the source offset,
/// or, when the image is smaller, how many zero pixels precede it (negative). `CenterCropOp`
/// crops at `(len - crop) / 2` (integer division) and pads `ceil(pad / 2)` before.
pub fn mindspore_crop_offset(len: u32, crop: u32) -> i64 {
    if crop > len {
        let pad = crop - len;
        -i64::from(pad / 2 + pad % 2)
    } else {
        i64::from((len - crop) / 2)
    }
}

/// Run `pipeline` on `img` and normalise: `(x - mean * 255) / (std * 255)` per RGB channel, NCHW
/// f32 with `3 × size × size` values. `mean` and `std` are in [0, 1] units as
/// [`PreprocessSpec`](crate::model::arch::PreprocessSpec) keeps them (ImageNet:
/// `[0.485, 0.456, 0.406]`, `[0.229, 0.224, 0.225]`, i.e. the frameworks' `[123.675, 116.28,
/// 103.53]`, `[58.395, 57.12, 57.375]`; mmpretrain's "01norm" configs: 0.5, 0.5 = 127.5).
/// Each value is computed in f64 from the decimal each f32 stands for, then rounded to f32.
pub fn cv2_transform(
    img: &RgbImage,
    size: usize,
    pipeline: Cv2Pipeline,
    mean: [f32; 3],
    std: [f32; 3],
) -> Vec<f32> {
    let s = size as u32;
    let (window, x0, y0) = match pipeline {
        Cv2Pipeline::Mmpretrain {
            crop_padding,
            filter,
        } => {
            let [x1, y1, x2, y2] =
                mmpretrain_crop_box(img.width(), img.height(), size, crop_padding);
            let crop = image::imageops::crop_imm(img, x1, y1, x2 - x1 + 1, y2 - y1 + 1).to_image();
            (resize_cv2(&crop, s, s, filter), 0, 0)
        }
        Cv2Pipeline::MindSpore { resize_short } => {
            let (rw, rh) = mindspore_resized_size(img.width(), img.height(), resize_short);
            let resized = resize_cv2(img, rw, rh, Cv2Filter::Linear);
            (
                resized,
                mindspore_crop_offset(rw, s),
                mindspore_crop_offset(rh, s),
            )
        }
    };
    normalise(&window, size, (x0, y0), to_255(mean), to_255(std))
}

/// A [0, 1]-unit f32 constant as the 0–255 f64 the frameworks write: the f32's shortest decimal
/// (0.485, not 0.48500001430511475) times 255.
fn to_255(v: [f32; 3]) -> [f64; 3] {
    v.map(|x| x.to_string().parse::<f64>().unwrap_or(f64::from(x)) * 255.0)
}

/// The `size × size` window of `img` at `(x0, y0)` (pixels outside are 0, MindSpore's padding),
/// normalised into NCHW.
fn normalise(
    img: &RgbImage,
    size: usize,
    (x0, y0): (i64, i64),
    mean: [f64; 3],
    std: [f64; 3],
) -> Vec<f32> {
    let lut: [[f32; 256]; 3] =
        std::array::from_fn(|c| std::array::from_fn(|v| ((v as f64 - mean[c]) / std[c]) as f32));
    let plane = size * size;
    let mut out = vec![0.0; 3 * plane];
    for y in 0..size {
        for x in 0..size {
            let (sx, sy) = (x as i64 + x0, y as i64 + y0);
            let inside = (0..i64::from(img.width())).contains(&sx)
                && (0..i64::from(img.height())).contains(&sy);
            let px = if inside {
                img.get_pixel(sx as u32, sy as u32).0
            } else {
                [0; 3]
            };
            for c in 0..3 {
                out[c * plane + y * size + x] = lut[c][usize::from(px[c])];
            }
        }
    }
    out
}
