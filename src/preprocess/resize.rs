//! PIL's `Image.resize((w, h), Image.BICUBIC)` and `Image.BILINEAR` for 8-bit RGB, reproduced
//! operation by operation from Pillow's `libImaging/Resample.c` so that our tensors equal the ones
//! the checkpoints were evaluated with: a separable convolution whose support widens by the
//! downscale factor (so downscaling is antialiased), the a = -0.5 cubic kernel (or the triangle
//! of bilinear), weights normalised in f64 and then
//! quantised to 22-bit fixed point, and a first pass whose result is rounded and clamped to u8
//! before the second pass runs (Pillow 13's pass order, see `resize_window`).

use crate::model::Interpolation;
use image::RgbImage;
use std::ops::Range;

/// Fixed-point fraction bits of PIL's 8-bit resampler (`32 - 8 - 2`): two bits of headroom keep
/// `255 * sum(|w|) * 2^22` inside i32 since the bicubic weights' absolute sum stays below 1.3.
const PRECISION_BITS: u32 = 32 - 8 - 2;
/// Added to every accumulator so that the final shift rounds half up instead of truncating.
const HALF: i32 = 1 << (PRECISION_BITS - 1);

/// PIL's filter support (in source pixels, before widening for downscales).
fn support(f: Interpolation) -> f64 {
    match f {
        Interpolation::Bicubic => 2.0,
        Interpolation::Bilinear => 1.0,
    }
}

fn filter(f: Interpolation, x: f64) -> f64 {
    match f {
        Interpolation::Bicubic => bicubic(x),
        Interpolation::Bilinear => bilinear(x),
    }
}

/// PIL's `bilinear_filter`: the triangle 1 - |x| on (-1, 1).
fn bilinear(x: f64) -> f64 {
    let x = x.abs();
    if x < 1.0 { 1.0 - x } else { 0.0 }
}

/// Keys' cubic convolution kernel with a = -0.5, written in PIL's exact operation order so the
/// f64 weights (and hence their fixed-point rounding) match bit for bit.
fn bicubic(x: f64) -> f64 {
    const A: f64 = -0.5;
    let x = x.abs();
    if x < 1.0 {
        ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        (((x - 5.0) * x + 8.0) * x - 4.0) * A
    } else {
        0.0
    }
}

/// For the output indices `first..`: the first source index and the fixed-point weights.
struct Coeffs {
    first: usize,
    taps: Vec<(usize, Range<usize>)>,
    weights: Vec<i32>,
}

impl Coeffs {
    /// PIL's `precompute_coeffs` + `normalize_coeffs_8bpc` for the box `[0, in_size)`, for the
    /// output indices `outs` only (each index's weights are independent of the others, and a
    /// window keeps memory bounded even when the full resized side would be huge).
    fn new(f: Interpolation, in_size: usize, out_size: usize, outs: Range<usize>) -> Self {
        let scale = in_size as f64 / out_size as f64;
        let filterscale = scale.max(1.0);
        let support = support(f) * filterscale;
        let ss = 1.0 / filterscale;
        let mut taps = Vec::with_capacity(outs.len());
        let mut weights = Vec::new();
        let mut w = Vec::new();
        for xx in outs.clone() {
            let center = (xx as f64 + 0.5) * scale;
            // C's `(int)` truncates toward zero; negative starts are clamped to 0 anyway.
            let xmin = ((center - support + 0.5) as i64).max(0) as usize;
            let xmax = ((center + support + 0.5) as i64).min(in_size as i64) as usize - xmin;
            w.clear();
            w.extend((0..xmax).map(|x| filter(f, ((x + xmin) as f64 - center + 0.5) * ss)));
            let ww = w.iter().fold(0.0, |acc, wx| acc + wx); // PIL's summation order
            let at = weights.len();
            weights.extend(
                w.iter()
                    .map(|&wx| to_fixed(if ww != 0.0 { wx / ww } else { wx })),
            );
            taps.push((xmin, at..weights.len()));
        }
        Coeffs {
            first: outs.start,
            taps,
            weights,
        }
    }

    fn taps(&self, i: usize) -> (usize, &[i32]) {
        let (start, range) = &self.taps[i - self.first];
        (*start, &self.weights[range.clone()])
    }
}

/// `normalize_coeffs_8bpc`: round half away from zero, then C's truncating cast.
fn to_fixed(w: f64) -> i32 {
    let scaled = w * f64::from(1u32 << PRECISION_BITS);
    if w < 0.0 {
        (scaled - 0.5) as i32
    } else {
        (scaled + 0.5) as i32
    }
}

fn clip8(acc: i32) -> u8 {
    (acc >> PRECISION_BITS).clamp(0, 255) as u8
}

/// Resize an RGB image exactly as Pillow's `img.resize((width, height), Image.BICUBIC)` does
/// (bit-exact by construction; the tests allow ±1 LSB). A zero target size gives an empty image.
pub fn resize_bicubic_pil(img: &RgbImage, width: u32, height: u32) -> RgbImage {
    resize_window(
        img,
        Interpolation::Bicubic,
        (width, height),
        0..width,
        0..height,
    )
}

/// Like [`resize_bicubic_pil`] with any of PIL's filters we support (`Image.BILINEAR` too).
pub fn resize_pil(img: &RgbImage, f: Interpolation, width: u32, height: u32) -> RgbImage {
    resize_window(img, f, (width, height), 0..width, 0..height)
}

/// The `xs × ys` window of `resize_pil(img, f, width, height)`, computing only that window.
/// Every output pixel depends only on its own taps, so cropping after a full resize and resizing
/// only the crop give identical pixels; the centre crop uses this to skip the discarded border.
pub(crate) fn resize_window(
    img: &RgbImage,
    f: Interpolation,
    (width, height): (u32, u32),
    xs: Range<u32>,
    ys: Range<u32>,
) -> RgbImage {
    let (in_w, in_h) = (img.width() as usize, img.height() as usize);
    let (xs, ys) = (to_usize(xs), to_usize(ys));
    assert!(xs.end <= width as usize && ys.end <= height as usize);
    if xs.is_empty() || ys.is_empty() || in_w == 0 || in_h == 0 {
        return RgbImage::new(xs.len() as u32, ys.len() as u32);
    }
    // Like PIL, skip a pass whose axis keeps its size (that pass would be the identity).
    let hc = (width as usize != in_w).then(|| Coeffs::new(f, in_w, width as usize, xs.clone()));
    let vc = (height as usize != in_h).then(|| Coeffs::new(f, in_h, height as usize, ys.clone()));
    let src = Plane {
        data: img.as_raw(),
        x0: 0,
        y0: 0,
        w: in_w,
    };
    // Pillow >= 13 runs the vertical pass first when the height shrinks by more than twice as
    // many pixels as the width (Pillow <= 12 always went horizontal first; the order changes
    // the u8 rounding between the passes). An aspect-keeping resize only takes that branch
    // for portrait images more than about twice as tall as wide.
    let (dh, dw) = (
        in_h as i64 - i64::from(height),
        in_w as i64 - i64::from(width),
    );
    let out = if dh > 0 && dh > 2 * dw {
        let cols = span(hc.as_ref(), &xs);
        let tmp = vertical(&src, vc.as_ref(), ys.clone(), cols.clone());
        let tmp = Plane::new(&tmp, cols.start, ys.start, cols.len());
        horizontal(&tmp, hc.as_ref(), ys.clone(), xs.clone())
    } else {
        let rows = span(vc.as_ref(), &ys);
        let tmp = horizontal(&src, hc.as_ref(), rows.clone(), xs.clone());
        let tmp = Plane::new(&tmp, xs.start, rows.start, xs.len());
        vertical(&tmp, vc.as_ref(), ys.clone(), xs.clone())
    };
    RgbImage::from_raw(xs.len() as u32, ys.len() as u32, out).expect("buffer matches window")
}

fn to_usize(r: Range<u32>) -> Range<usize> {
    r.start as usize..r.end as usize
}

/// The source indices that outputs `out` read (all of them come from one pass's taps).
fn span(c: Option<&Coeffs>, out: &Range<usize>) -> Range<usize> {
    match c {
        Some(c) => {
            let (first, _) = c.taps(out.start);
            let (last, k) = c.taps(out.end - 1);
            first..last + k.len()
        }
        None => out.clone(),
    }
}

/// Packed RGB8 rows covering source columns `x0..x0 + w` from source row `y0` on.
struct Plane<'a> {
    data: &'a [u8],
    x0: usize,
    y0: usize,
    w: usize,
}

impl<'a> Plane<'a> {
    fn new(data: &'a [u8], x0: usize, y0: usize, w: usize) -> Self {
        Plane { data, x0, y0, w }
    }

    /// Source row `y`, columns `x0..x0 + w`.
    fn row(&self, y: usize) -> &'a [u8] {
        let r = y - self.y0;
        &self.data[r * self.w * 3..(r + 1) * self.w * 3]
    }
}

/// The horizontal pass over source `rows`, output columns `xs`; u8 results (PIL rounds and
/// clamps between the passes, which is where a float implementation would differ).
fn horizontal(src: &Plane, c: Option<&Coeffs>, rows: Range<usize>, xs: Range<usize>) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows.len() * xs.len() * 3);
    for y in rows {
        let row = src.row(y);
        let Some(c) = c else {
            out.extend_from_slice(&row[(xs.start - src.x0) * 3..(xs.end - src.x0) * 3]);
            continue;
        };
        for x in xs.clone() {
            let (start, k) = c.taps(x);
            let px = &row[(start - src.x0) * 3..(start - src.x0 + k.len()) * 3];
            let mut acc = [HALF; 3];
            for (&w, p) in k.iter().zip(px.chunks_exact(3)) {
                acc[0] += i32::from(p[0]) * w;
                acc[1] += i32::from(p[1]) * w;
                acc[2] += i32::from(p[2]) * w;
            }
            out.extend(acc.map(clip8));
        }
    }
    out
}

/// The vertical pass for output rows `ys` over source columns `cols`. Accumulates whole rows
/// at a time; integer sums are exact, so the order of the additions does not matter.
fn vertical(src: &Plane, c: Option<&Coeffs>, ys: Range<usize>, cols: Range<usize>) -> Vec<u8> {
    let (lo, hi) = ((cols.start - src.x0) * 3, (cols.end - src.x0) * 3);
    let mut out = Vec::with_capacity(ys.len() * (hi - lo));
    let mut acc = vec![0i32; hi - lo];
    for y in ys {
        let Some(c) = c else {
            out.extend_from_slice(&src.row(y)[lo..hi]);
            continue;
        };
        let (start, k) = c.taps(y);
        acc.fill(HALF);
        for (i, &wk) in k.iter().enumerate() {
            for (a, &p) in acc.iter_mut().zip(&src.row(start + i)[lo..hi]) {
                *a += i32::from(p) * wk;
            }
        }
        out.extend(acc.iter().map(|&a| clip8(a)));
    }
    out
}
