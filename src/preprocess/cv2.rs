//! OpenCV's `cv2.resize` on 8-bit RGB and the two evaluation transforms built on it: mmpretrain's
//! `EfficientNetCenterCrop` (cv2 backend) and MindSpore's `Resize` + `CenterCrop`.
//!
//! OpenCV interpolates without antialiasing and maps output pixel `d` to the source coordinate
//! `(d + 0.5) * scale - 0.5`, so on a downscale it differs from PIL (`resize.rs`) by tens of levels.
//! The 8-bit paths are reproduced operation by operation from `modules/imgproc/src/resize.cpp`
//! (`cv::hal::resize`, `HResizeLinear`, `VResizeLinear<uchar, ...>`, `HResizeCubic`,
//! `VResizeCubic` + `VResizeCubicVec_32s8u`, `interpolateCubic`, `FixedPtCast`):
//! coefficients are computed in f32 and quantised to 11 fractional bits
//! (`INTER_RESIZE_COEF_BITS`), the horizontal pass sums in integers, and borders replicate the
//! edge pixel.

use image::RgbImage;

mod pipeline;
pub use pipeline::{
    Cv2Pipeline, cv2_transform, mindspore_crop_offset, mindspore_resized_size, mmpretrain_crop_box,
};

/// `INTER_RESIZE_COEF_SCALE`: weights are quantised to `1 << 11`.
const COEF_SCALE: f32 = 2048.0;

/// Which `cv2.resize` interpolation to reproduce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cv2Filter {
    /// `INTER_LINEAR`. Bit-exact on every build: OpenCV never hands 8-bit bilinear to IPP,
    /// because IPP's result differs from its own.
    Linear,
    /// `INTER_CUBIC` (a = -0.75) as OpenCV's own code computes it: bit-exact to cv2 builds without
    /// Intel IPP and to x86 wheels after `cv2.ipp.setUseIPP(False)`. (Its vertical pass rounds
    /// `f32` products and sums separately; a build whose baseline fuses them with FMA may differ
    /// by 1 level on rare pixels.)
    Cubic,
    /// `INTER_CUBIC` as the x86 opencv-python wheels compute it by default: Intel IPP's
    /// floating-point resize, modelled as the exact a = -0.75 kernel in f64 with replicated borders
    /// and round-half-even. IPP's own f32 arithmetic is not public; the model differs from it by 1
    /// level only where the exact value lies within ~1e-5 of a half (measured: 0 to 11 pixels in
    /// 150 000), where `Cubic` differs by 1 on about 2% of the values.
    CubicIpp,
}

/// `cv2.resize(img, (width, height), interpolation=...)` for 8-bit RGB (see [`Cv2Filter`]).
/// An empty image or a zero target size gives an empty image.
pub fn resize_cv2(img: &RgbImage, width: u32, height: u32, filter: Cv2Filter) -> RgbImage {
    let (sw, sh) = img.dimensions();
    if sw == 0 || sh == 0 || width == 0 || height == 0 {
        return RgbImage::new(width, height);
    }
    if (sw, sh) == (width, height) {
        // `cv::resize` copies when the size does not change.
        return img.clone();
    }
    let (sw, sh, dw, dh) = (sw as usize, sh as usize, width as usize, height as usize);
    let raw = match filter {
        Cv2Filter::Linear | Cv2Filter::Cubic => {
            let cubic = filter == Cv2Filter::Cubic;
            let xs = Taps::fixed(sw, dw, cubic, true);
            let ys = Taps::fixed(sh, dh, cubic, false);
            let rows = horizontal_fixed(img, &xs);
            vertical_fixed(&rows, &ys, dw * 3, cubic)
        }
        Cv2Filter::CubicIpp => cubic_f64(img, dw, dh),
    };
    RgbImage::from_raw(width, height, raw).expect("resize output has width * height * 3 bytes")
}

/// For each output index along one axis: the `k` clamped source indices and their weights.
struct Taps<W> {
    k: usize,
    index: Vec<usize>,
    weight: Vec<W>,
}

/// `(fx, sx)`: the source coordinate of output index `d` as `cv::hal::resize` computes it, in
/// f32 after an f64 product (`inv_scale = dst / src` and `scale = 1 / inv_scale`, both f64).
fn source_coord(d: usize, scale: f64) -> (f32, i64) {
    let f = ((d as f64 + 0.5) * scale - 0.5) as f32;
    let s = f.floor();
    (f - s, s as i64)
}

/// `scale_x` of `cv::hal::resize`: the reciprocal of `dsize / ssize`, not `ssize / dsize`.
fn scale_of(src: usize, dst: usize) -> f64 {
    1.0 / (dst as f64 / src as f64)
}

/// OpenCV's `interpolateCubic`, in its f32 operation order.
fn interpolate_cubic(x: f32) -> [f32; 4] {
    const A: f32 = -0.75;
    let c0 = ((A * (x + 1.0) - 5.0 * A) * (x + 1.0) + 8.0 * A) * (x + 1.0) - 4.0 * A;
    let c1 = ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
    let c2 = ((A + 2.0) * (1.0 - x) - (A + 3.0)) * (1.0 - x) * (1.0 - x) + 1.0;
    [c0, c1, c2, 1.0 - c0 - c1 - c2]
}

/// `saturate_cast<short>(v * INTER_RESIZE_COEF_SCALE)`: `cvRound`, i.e. round half to even.
fn quantise(v: f32) -> i32 {
    (v * COEF_SCALE).round_ties_even().clamp(-32768.0, 32767.0) as i32
}

impl Taps<i32> {
    /// The fixed-point taps of `cv::hal::resize`. Bilinear along x (`clamp_linear`) moves a
    /// source coordinate left of the first pixel or right of the last onto it with weight
    /// (1, 0), as `hal::resize` does for `xofs`; along y it keeps the fraction and only clips
    /// the rows (`resizeGeneric_Invoker`'s `clip`), which rounds differently near the edges.
    fn fixed(src: usize, dst: usize, cubic: bool, clamp_linear: bool) -> Self {
        let scale = scale_of(src, dst);
        let k = if cubic { 4 } else { 2 };
        let mut taps = Taps {
            k,
            index: Vec::with_capacity(dst * k),
            weight: Vec::with_capacity(dst * k),
        };
        let last = src as i64 - 1;
        for d in 0..dst {
            let (mut fx, mut sx) = source_coord(d, scale);
            let coeffs: Vec<f32> = if cubic {
                interpolate_cubic(fx).to_vec()
            } else {
                if clamp_linear && sx < 0 {
                    (fx, sx) = (0.0, 0);
                }
                if clamp_linear && sx >= last {
                    (fx, sx) = (0.0, last);
                }
                vec![1.0 - fx, fx]
            };
            let first = sx - (k as i64 / 2 - 1);
            for (j, c) in coeffs.into_iter().enumerate() {
                taps.index.push((first + j as i64).clamp(0, last) as usize);
                taps.weight.push(quantise(c));
            }
        }
        taps
    }
}

/// The horizontal pass for every source row: `sum(S[x_j] * alpha_j)` in integers
/// (`HResizeLinear` / `HResizeCubic`; their SIMD variants compute the same integers).
fn horizontal_fixed(img: &RgbImage, xs: &Taps<i32>) -> Vec<Vec<i32>> {
    let src = img.as_raw();
    let row_len = img.width() as usize * 3;
    let dw = xs.index.len() / xs.k;
    src.chunks_exact(row_len)
        .map(|row| {
            let mut out = Vec::with_capacity(dw * 3);
            for d in 0..dw {
                let taps = d * xs.k..(d + 1) * xs.k;
                for c in 0..3 {
                    let sum = xs.index[taps.clone()]
                        .iter()
                        .zip(&xs.weight[taps.clone()])
                        .map(|(&x, &w)| i32::from(row[x * 3 + c]) * w)
                        .sum();
                    out.push(sum);
                }
            }
            out
        })
        .collect()
}

/// The vertical pass over the horizontally filtered rows, with each interpolation's own
/// rounding (see `linear_px` and `cubic_px`).
fn vertical_fixed(rows: &[Vec<i32>], ys: &Taps<i32>, width: usize, cubic: bool) -> Vec<u8> {
    let dh = ys.index.len() / ys.k;
    // `VResizeCubicVec_32s8u` takes 8 values at a time (16-byte vectors, the x86 baseline);
    // the rest go through the scalar `FixedPtCast`.
    let simd_end = width / 8 * 8;
    let mut out = Vec::with_capacity(dh * width);
    for d in 0..dh {
        let taps = d * ys.k..(d + 1) * ys.k;
        let src: Vec<&[i32]> = ys.index[taps.clone()]
            .iter()
            .map(|&y| rows[y].as_slice())
            .collect();
        let beta = &ys.weight[taps];
        out.extend((0..width).map(|x| {
            if !cubic {
                linear_px(src[0][x], src[1][x], beta[0], beta[1])
            } else if x < simd_end {
                cubic_px_f32(std::array::from_fn(|j| src[j][x]), beta)
            } else {
                cubic_px_int(std::array::from_fn(|j| src[j][x]), beta)
            }
        }));
    }
    out
}

/// The specialised `VResizeLinear<uchar, int, short, ...>` (scalar and SIMD alike): each row
/// is shifted down by 4 bits, multiplied keeping the high 16 bits, and the sum rounded off by 2.
fn linear_px(s0: i32, s1: i32, b0: i32, b1: i32) -> u8 {
    let v = ((b0 * (s0 >> 4)) >> 16) + ((b1 * (s1 >> 4)) >> 16);
    ((v + 2) >> 2).clamp(0, 255) as u8
}

/// `VResizeCubicVec_32s8u`: f32 arithmetic, `S0*b0 + (S1*b1 + (S2*b2 + S3*b3))` with every
/// product and sum rounded (no FMA), then round half to even and saturate.
fn cubic_px_f32(s: [i32; 4], beta: &[i32]) -> u8 {
    let b = |j: usize| beta[j] as f32 * (1.0 / (COEF_SCALE * COEF_SCALE));
    let mut acc = s[3] as f32 * b(3);
    for j in (0..3).rev() {
        acc += s[j] as f32 * b(j);
    }
    acc.round_ties_even().clamp(0.0, 255.0) as u8
}

/// `FixedPtCast<int, uchar, 22>`: `(sum + 2^21) >> 22`, saturated.
fn cubic_px_int(s: [i32; 4], beta: &[i32]) -> u8 {
    let sum: i64 = s
        .iter()
        .zip(beta)
        .map(|(&v, &b)| i64::from(v) * i64::from(b))
        .sum();
    ((sum + (1 << 21)) >> 22).clamp(0, 255) as u8
}

/// The exact a = -0.75 cubic kernel.
fn cubic_kernel(t: f64) -> f64 {
    const A: f64 = -0.75;
    let t = t.abs();
    if t < 1.0 {
        ((A + 2.0) * t - (A + 3.0)) * t * t + 1.0
    } else if t < 2.0 {
        ((A * t - 5.0 * A) * t + 8.0 * A) * t - 4.0 * A
    } else {
        0.0
    }
}

impl Taps<f64> {
    /// Unquantised cubic taps for [`Cv2Filter::CubicIpp`], same centres and borders as OpenCV.
    fn exact_cubic(src: usize, dst: usize) -> Self {
        let scale = src as f64 / dst as f64;
        let mut taps = Taps {
            k: 4,
            index: Vec::with_capacity(dst * 4),
            weight: Vec::with_capacity(dst * 4),
        };
        for d in 0..dst {
            let fx = (d as f64 + 0.5) * scale - 0.5;
            let sx = fx.floor();
            for j in 0..4 {
                let x = sx + j as f64 - 1.0;
                taps.index.push(x.clamp(0.0, src as f64 - 1.0) as usize);
                taps.weight.push(cubic_kernel(fx - x));
            }
        }
        taps
    }
}

/// [`Cv2Filter::CubicIpp`]: separable f64 convolution, rounded once at the end.
fn cubic_f64(img: &RgbImage, dw: usize, dh: usize) -> Vec<u8> {
    let (sw, sh) = (img.width() as usize, img.height() as usize);
    let xs = Taps::exact_cubic(sw, dw);
    let ys = Taps::exact_cubic(sh, dh);
    let rows: Vec<Vec<f64>> = img
        .as_raw()
        .chunks_exact(sw * 3)
        .map(|row| {
            (0..dw * 3)
                .map(|i| {
                    let (d, c) = (i / 3, i % 3);
                    (0..4)
                        .map(|j| f64::from(row[xs.index[d * 4 + j] * 3 + c]) * xs.weight[d * 4 + j])
                        .sum()
                })
                .collect()
        })
        .collect();
    let mut out = Vec::with_capacity(dh * dw * 3);
    for d in 0..dh {
        out.extend((0..dw * 3).map(|i| {
            let v: f64 = (0..4)
                .map(|j| rows[ys.index[d * 4 + j]][i] * ys.weight[d * 4 + j])
                .sum();
            v.round_ties_even().clamp(0.0, 255.0) as u8
        }));
    }
    out
}
