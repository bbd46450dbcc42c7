//! Training-time augmentation as torchvision does it: `RandomResizedCrop(size, scale=(0.08,
//! 1), ratio=(3/4, 4/3))` then `RandomHorizontalFlip(0.5)`, drawn from a seed so that a run
//! can be repeated exactly.

use super::resize::resize_pil;
use crate::model::Interpolation;
use crate::model::rule::splitmix64;
use image::RgbImage;

/// Uniform draws in [0, 1) from a splitmix64 stream.
struct Draws(u64);

impl Draws {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(1);
        (splitmix64(self.0) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// An integer in `0..=max`.
    fn up_to(&mut self, max: u32) -> u32 {
        ((self.next() * (f64::from(max) + 1.0)) as u32).min(max)
    }
}

/// A random crop of `img` covering 8–100% of its area at an aspect ratio in [3/4, 4/3],
/// resized to `size`×`size` with `f`, mirrored left-right half of the time.
pub fn random_resized_crop(img: &RgbImage, size: u32, f: Interpolation, seed: u64) -> RgbImage {
    let mut draws = Draws(splitmix64(seed));
    let (x, y, w, h) = crop_box(img.width(), img.height(), &mut draws);
    let crop = image::imageops::crop_imm(img, x, y, w, h).to_image();
    let mut out = resize_pil(&crop, f, size, size);
    if draws.next() < 0.5 {
        image::imageops::flip_horizontal_in_place(&mut out);
    }
    out
}

/// torchvision's `RandomResizedCrop.get_params`: ten tries at a random area and ratio, then
/// the whole image's centre at the nearest allowed ratio.
fn crop_box(width: u32, height: u32, draws: &mut Draws) -> (u32, u32, u32, u32) {
    let (wf, hf) = (f64::from(width), f64::from(height));
    let area = wf * hf;
    let (lo, hi) = ((3.0f64 / 4.0).ln(), (4.0f64 / 3.0).ln());
    for _ in 0..10 {
        let target = area * (0.08 + 0.92 * draws.next());
        let ratio = (lo + (hi - lo) * draws.next()).exp();
        let w = (target * ratio).sqrt().round();
        let h = (target / ratio).sqrt().round();
        if w >= 1.0 && h >= 1.0 && w <= wf && h <= hf {
            let (w, h) = (w as u32, h as u32);
            return (draws.up_to(width - w), draws.up_to(height - h), w, h);
        }
    }
    let ratio = wf / hf;
    let (w, h) = if ratio < 3.0 / 4.0 {
        (wf, (wf * 4.0 / 3.0).round())
    } else if ratio > 4.0 / 3.0 {
        ((hf * 4.0 / 3.0).round(), hf)
    } else {
        (wf, hf)
    };
    let (w, h) = ((w as u32).clamp(1, width), (h as u32).clamp(1, height));
    ((width - w) / 2, (height - h) / 2, w, h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crops_stay_inside_the_image_and_repeat_with_the_seed() {
        let img = RgbImage::from_fn(61, 37, |x, y| image::Rgb([x as u8, y as u8, 7]));
        for seed in 0..200 {
            let mut d = Draws(splitmix64(seed));
            let (x, y, w, h) = crop_box(61, 37, &mut d);
            assert!(
                w >= 1 && h >= 1 && x + w <= 61 && y + h <= 37,
                "{seed}: {x} {y} {w} {h}"
            );
            let a = random_resized_crop(&img, 16, Interpolation::Bilinear, seed);
            let b = random_resized_crop(&img, 16, Interpolation::Bilinear, seed);
            assert_eq!((a.dimensions(), a.as_raw()), ((16, 16), b.as_raw()));
        }
        // A 1×1 image can only be itself.
        let one = RgbImage::from_pixel(1, 1, image::Rgb([9, 9, 9]));
        assert_eq!(
            random_resized_crop(&one, 4, Interpolation::Bicubic, 3).get_pixel(2, 2)[0],
            9
        );
    }
}
