//! Decoding image files to the 8-bit RGB that PIL's `Image.open(f).convert('RGB')` gives,
//! with guards against decompression bombs.

use crate::{Error, Result};
use image::{DynamicImage, ImageDecoder, ImageError, ImageReader, RgbImage};
use std::io::Cursor;
use std::path::Path;

/// Bounds checked from the file header before any pixel is decoded, so a small file that claims
/// a huge image is rejected instead of exhausting memory.
/// Start from `ImageLimits::default()` or [`ImageLimits::new`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImageLimits {
    /// Largest accepted width × height.
    pub max_pixels: u64,
    /// Largest accepted decoder allocation in bytes (decoded buffer plus the RGB8 copy).
    pub max_alloc: u64,
}

impl ImageLimits {
    /// At most `max_pixels` pixels and `max_alloc` bytes of decoder allocations.
    pub fn new(max_pixels: u64, max_alloc: u64) -> Self {
        ImageLimits {
            max_pixels,
            max_alloc,
        }
    }
}

impl Default for ImageLimits {
    /// 100 Mpx (a little above PIL's own 89 Mpx bomb warning) and 1 GiB, enough for any
    /// 100 Mpx 16-bit RGBA PNG.
    fn default() -> Self {
        ImageLimits {
            max_pixels: 100_000_000,
            max_alloc: 1 << 30,
        }
    }
}

/// Whether a JPEG's EXIF orientation tag turns the picture upright before preprocessing.
///
/// The reference pipelines differ: timm and torchvision read images with PIL's
/// `Image.open(f).convert('RGB')`, which ignores the tag, so a phone photo taken sideways
/// reaches the model sideways; OpenCV-based pipelines (`cv2.imread`, as mmpretrain uses)
/// apply it. Matching the model's reference means following its source: see
/// [`Exif::of_source`]. Files without the tag (ImageNet's, for one) decode the same either way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Exif {
    /// Pixels as stored, as PIL gives them (timm, torchvision).
    #[default]
    Ignore,
    /// Turned upright by the orientation tag, as OpenCV gives them.
    Apply,
}

impl Exif {
    /// What the reference pipeline of a model from `source` does: timm and torchvision read
    /// images with PIL, which ignores the tag, as does MindSpore's libjpeg-based `Decode`;
    /// mmpretrain decodes with OpenCV, whose `imdecode` applies it.
    pub fn of_source(source: crate::model::Source) -> Self {
        match source {
            crate::model::Source::Mmpretrain => Exif::Apply,
            _ => Exif::Ignore,
        }
    }

    /// `on`/`apply` or `off`/`ignore`, as the command line spells them.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "on" | "apply" => Ok(Exif::Apply),
            "off" | "ignore" => Ok(Exif::Ignore),
            _ => Err(Error::Input(format!(
                "EXIF orientation `{s}`: use on (turn photos upright) or off (pixels as stored)"
            ))),
        }
    }
}

/// Decode a JPEG or PNG held in memory to RGB8 as PIL's `Image.open(f).convert('RGB')` does:
/// EXIF orientation ignored, grey replicated, alpha dropped (without compositing), 16-bit
/// colour cut to its high byte and 16-bit grey saturated at 255. Truncated JPEGs are refused
/// as PIL refuses them. [`decode_named`] names the image in errors and can apply the EXIF
/// orientation.
pub fn decode_image(bytes: &[u8], limits: &ImageLimits) -> Result<RgbImage> {
    decode_named(bytes, "<memory>", limits, Exif::Ignore)
}

/// Read and decode an image file with the default [`ImageLimits`] (see [`decode_image`]).
pub fn load_image(path: impl AsRef<Path>) -> Result<RgbImage> {
    load_image_with(path, Exif::Ignore)
}

/// Like [`load_image`], with the EXIF orientation applied or not.
pub fn load_image_with(path: impl AsRef<Path>, exif: Exif) -> Result<RgbImage> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    decode_named(
        &bytes,
        &path.display().to_string(),
        &ImageLimits::default(),
        exif,
    )
}

/// Like [`decode_image`], naming the image `name` in errors (`-` for standard input) and with
/// the EXIF orientation applied or not.
pub fn decode_named(
    bytes: &[u8],
    name: &str,
    limits: &ImageLimits,
    exif: Exif,
) -> Result<RgbImage> {
    let mut img = decode_from(bytes, limits, name)?;
    if let (Exif::Apply, Some(orientation)) = (exif, img.1) {
        img.0.apply_orientation(orientation);
    }
    Ok(to_rgb8_like_pil(img.0))
}

/// The decoded image and its EXIF orientation, if it has a readable one.
fn decode_from(
    bytes: &[u8],
    limits: &ImageLimits,
    origin: &str,
) -> Result<(DynamicImage, Option<image::metadata::Orientation>)> {
    let fail = |message: String| Error::ImageDecode {
        origin: origin.to_string(),
        message,
    };
    if bytes.is_empty() {
        return Err(fail("the file is empty".into()));
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| fail(one_line(&e.to_string())))?;
    match reader.format() {
        None => return Err(fail("unrecognised format (no image signature)".into())),
        Some(image::ImageFormat::Jpeg) if !jpeg_is_complete(bytes) => {
            return Err(fail(
                "the JPEG ends before its end-of-image marker (truncated)".into(),
            ));
        }
        Some(_) => {}
    }
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_alloc = Some(limits.max_alloc);
    reader.limits(decoder_limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| map_image_error(e, origin, limits))?;
    check_limits(&decoder, limits, origin)?;
    // A malformed EXIF block should not reject an otherwise good picture: treat it as upright.
    let orientation = decoder.orientation().ok();
    let img =
        DynamicImage::from_decoder(decoder).map_err(|e| map_image_error(e, origin, limits))?;
    Ok((img, orientation))
}

/// Whether an end-of-image marker follows the first scan. zune-jpeg fills a truncated scan with
/// grey and succeeds, but libjpeg (PIL) reports "image file is truncated" and timm never sees
/// such a picture, so we refuse it too. Entropy-coded data cannot contain FF D9 (0xFF is
/// stuffed), whereas an EXIF thumbnail's EOI sits in APP1 before the first SOS.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let Some(sos) = first_scan(bytes) else {
        return true; // a broken header: the decoder gives the precise error
    };
    bytes[sos..].windows(2).any(|w| w == [0xff, 0xd9])
}

/// Offset of the first start-of-scan marker, walking the length-prefixed header segments;
/// `None` if the header is malformed.
fn first_scan(bytes: &[u8]) -> Option<usize> {
    let mut i = 2; // after SOI
    loop {
        if *bytes.get(i)? != 0xff {
            return None;
        }
        while *bytes.get(i + 1)? == 0xff {
            i += 1; // fill bytes before a marker
        }
        match *bytes.get(i + 1)? {
            0xda => return Some(i),
            0x01 | 0xd0..=0xd8 => i += 2,
            _ => {
                let len = u16::from_be_bytes([*bytes.get(i + 2)?, *bytes.get(i + 3)?]);
                i += 2 + usize::from(len);
            }
        }
    }
}

/// Reject from the header alone: pixel count, then decoded bytes plus our RGB8 copy.
fn check_limits(decoder: &impl ImageDecoder, limits: &ImageLimits, origin: &str) -> Result<()> {
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    let too_large = |needed, limit, limit_name| Error::ImageTooLarge {
        origin: origin.to_string(),
        width,
        height,
        needed,
        limit,
        limit_name,
    };
    if pixels > limits.max_pixels {
        return Err(too_large(pixels, limits.max_pixels, "max_pixels"));
    }
    let bytes = decoder.total_bytes().saturating_add(pixels * 3);
    if bytes > limits.max_alloc {
        return Err(too_large(bytes, limits.max_alloc, "max_alloc"));
    }
    Ok(())
}

fn map_image_error(e: ImageError, origin: &str, limits: &ImageLimits) -> Error {
    let message = match e {
        ImageError::Limits(l) => format!(
            "{l}; the decoder's allocations exceed ImageLimits::max_alloc = {} bytes",
            limits.max_alloc
        ),
        other => one_line(&other.to_string()),
    };
    Error::ImageDecode {
        origin: origin.to_string(),
        message,
    }
}

/// A decoder's message on one line: some end theirs with a line break, which would split the
/// one line per file that a batch of errors prints.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// PIL opens 16-bit RGB(A) and grey-with-alpha PNGs by keeping the high byte of each sample,
/// so we do the same. A 16-bit greyscale PNG opens as mode `I;16`, whose `convert('RGB')`
/// saturates: values up to 255 stay, every larger one becomes 255 (most such pictures turn
/// almost white). We reproduce that too, since the model's reference answer is PIL's.
fn to_rgb8_like_pil(img: DynamicImage) -> RgbImage {
    match img {
        DynamicImage::ImageRgb8(rgb) => rgb,
        DynamicImage::ImageLuma16(grey) => {
            let (w, h) = grey.dimensions();
            let rgb = (grey.into_raw().into_iter())
                .flat_map(|v| [v.min(255) as u8; 3])
                .collect();
            RgbImage::from_raw(w, h, rgb).expect("same dimensions")
        }
        DynamicImage::ImageLumaA16(_)
        | DynamicImage::ImageRgb16(_)
        | DynamicImage::ImageRgba16(_) => {
            let wide = img.to_rgb16();
            let (w, h) = wide.dimensions();
            let narrow = wide
                .into_raw()
                .into_iter()
                .map(|v| (v >> 8) as u8)
                .collect();
            RgbImage::from_raw(w, h, narrow).expect("same dimensions")
        }
        other => other.to_rgb8(),
    }
}
