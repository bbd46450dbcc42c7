//! Decoding edge cases of `src/preprocess`: colour types PIL's `convert('RGB')` flattens,
//! EXIF orientation, and hostile or broken files (which must fail cleanly, never panic).

use effnet::Error;
use effnet::preprocess::{Exif, ImageLimits, decode_image, decode_named, load_image};
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{DynamicImage, ImageBuffer, ImageEncoder, Luma, LumaA, Rgb, RgbImage, Rgba};

fn png_bytes(img: &DynamicImage, exif: Option<Vec<u8>>) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut encoder = PngEncoder::new(&mut buf);
    if let Some(exif) = exif {
        encoder.set_exif_metadata(exif).unwrap();
    }
    img.write_with_encoder(encoder).unwrap();
    buf
}

fn jpeg_bytes(img: &RgbImage, exif: Option<Vec<u8>>) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut encoder = JpegEncoder::new_with_quality(&mut buf, 95);
    if let Some(exif) = exif {
        encoder.set_exif_metadata(exif).unwrap();
    }
    encoder
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    buf
}

/// A big-endian TIFF block holding one tag: Orientation (0x0112, SHORT) = `value`.
fn exif_orientation(value: u16) -> Vec<u8> {
    let mut v = b"MM\0\x2a\0\0\0\x08".to_vec();
    v.extend(1u16.to_be_bytes());
    v.extend(0x0112u16.to_be_bytes());
    v.extend(3u16.to_be_bytes());
    v.extend(1u32.to_be_bytes());
    v.extend(value.to_be_bytes());
    v.extend([0, 0]);
    v.extend(0u32.to_be_bytes());
    v
}

fn decode(bytes: &[u8]) -> effnet::Result<RgbImage> {
    decode_image(bytes, &ImageLimits::default())
}

/// Decoded with the EXIF orientation applied, as OpenCV-based pipelines and `--exif on` do.
fn decode_upright(bytes: &[u8]) -> effnet::Result<RgbImage> {
    decode_named(bytes, "test", &ImageLimits::default(), Exif::Apply)
}

/// A 5×3 image with a distinct colour in every pixel.
fn distinct() -> RgbImage {
    RgbImage::from_fn(5, 3, |x, y| {
        Rgb([x as u8 * 50, y as u8 * 100, 7 + x as u8 + y as u8])
    })
}

#[test]
fn grey_and_alpha_become_rgb_like_pil_convert() {
    let grey = ImageBuffer::from_fn(4, 3, |x, y| Luma([(x * 60 + y) as u8]));
    let out = decode(&png_bytes(&DynamicImage::ImageLuma8(grey.clone()), None)).unwrap();
    for (p, g) in out.pixels().zip(grey.pixels()) {
        assert_eq!(p.0, [g.0[0]; 3]);
    }
    let grey_alpha = ImageBuffer::from_fn(4, 3, |x, _| LumaA([x as u8 * 9, 0]));
    let out = decode(&png_bytes(&DynamicImage::ImageLumaA8(grey_alpha), None)).unwrap();
    assert_eq!(out.get_pixel(3, 1).0, [27; 3]);
    // PIL's convert('RGB') drops alpha without compositing: a fully transparent pixel keeps
    // its colour rather than turning black or white.
    let rgba = ImageBuffer::from_fn(4, 3, |x, y| Rgba([x as u8, y as u8, 200, (x * 80) as u8]));
    let out = decode(&png_bytes(&DynamicImage::ImageRgba8(rgba.clone()), None)).unwrap();
    for (p, q) in out.pixels().zip(rgba.pixels()) {
        assert_eq!(p.0, [q.0[0], q.0[1], q.0[2]]);
    }
}

/// PIL opens 16-bit RGB PNGs keeping each sample's high byte (0x12ff -> 0x12, not 0x13), and
/// saturates 16-bit grey (mode `I;16`) at 255 in `convert('RGB')`: values measured with
/// Pillow 13.0.0 on a hand-written PNG were 0, 100, 255 -> 0, 100, 255 and 256, 300, 1000,
/// 65535 -> 255; 16-bit grey with alpha opens as RGBA and keeps the high byte (1000 -> 3).
#[test]
fn sixteen_bit_png_keeps_the_high_byte() {
    let rgb16 = ImageBuffer::from_fn(3, 2, |x, _| Rgb([0x12ff, 0x1280 + x as u16, 0xfe01]));
    let out = decode(&png_bytes(&DynamicImage::ImageRgb16(rgb16), None)).unwrap();
    assert!(out.pixels().all(|p| p.0 == [0x12, 0x12, 0xfe]));
    let rgba16 = ImageBuffer::from_fn(3, 2, |_, _| Rgba([0x00ff, 0xff00, 0x8080, 0]));
    let out = decode(&png_bytes(&DynamicImage::ImageRgba16(rgba16), None)).unwrap();
    assert!(out.pixels().all(|p| p.0 == [0x00, 0xff, 0x80]));
    let levels = [0u16, 100, 255, 256, 300, 1000, 65535];
    let pil = [0u8, 100, 255, 255, 255, 255, 255];
    let grey16 = ImageBuffer::from_fn(7, 1, |x, _| Luma([levels[x as usize]]));
    let out = decode(&png_bytes(&DynamicImage::ImageLuma16(grey16), None)).unwrap();
    for (x, want) in pil.into_iter().enumerate() {
        let got = out.get_pixel(x as u32, 0).0;
        assert_eq!(got, [want; 3], "16-bit grey {} at x={x}", levels[x]);
    }
    let grey_alpha16 = ImageBuffer::from_fn(7, 1, |x, _| LumaA([levels[x as usize], 65535]));
    let out = decode(&png_bytes(&DynamicImage::ImageLumaA16(grey_alpha16), None)).unwrap();
    let high: Vec<u8> = out.pixels().map(|p| p.0[0]).collect();
    assert_eq!(
        high,
        [0, 0, 0, 1, 1, 3, 255],
        "16-bit grey+alpha keeps the high byte"
    );
}

/// Orientation tags are applied on request (PNG: lossless, so the result must equal a manual
/// rotation), and ignored by default, as PIL (timm, torchvision) ignores them.
#[test]
fn exif_orientation_is_applied_png() {
    let img = distinct();
    let cases: [(u16, RgbImage); 4] = [
        (1, img.clone()),
        (3, image::imageops::rotate180(&img)),
        (6, image::imageops::rotate90(&img)),
        (8, image::imageops::rotate270(&img)),
    ];
    for (tag, expected) in cases {
        let bytes = png_bytes(
            &DynamicImage::ImageRgb8(img.clone()),
            Some(exif_orientation(tag)),
        );
        assert_eq!(
            decode_upright(&bytes).unwrap(),
            expected,
            "orientation {tag}"
        );
        assert_eq!(decode(&bytes).unwrap(), img, "orientation {tag} ignored");
    }
    // A broken EXIF block does not reject the picture; it is shown as stored.
    let bytes = png_bytes(
        &DynamicImage::ImageRgb8(img.clone()),
        Some(b"MM\0\x2a\xff".to_vec()),
    );
    assert_eq!(decode_upright(&bytes).unwrap(), img);
}

#[test]
fn exif_orientation_is_applied_jpeg() {
    // 32×16: left half red, right half blue, in whole 8×8 blocks so JPEG keeps them flat.
    let img = RgbImage::from_fn(32, 16, |x, _| {
        if x < 16 {
            Rgb([255, 0, 0])
        } else {
            Rgb([0, 0, 255])
        }
    });
    let tagged = jpeg_bytes(&img, Some(exif_orientation(6)));
    assert_eq!(
        decode(&tagged).unwrap().dimensions(),
        (32, 16),
        "ignored by default"
    );
    let out = decode_upright(&tagged).unwrap();
    // Orientation 6 = rotate 90° clockwise to display: the left half ends up on top.
    assert_eq!(out.dimensions(), (16, 32));
    let (top, bottom) = (out.get_pixel(8, 4).0, out.get_pixel(8, 28).0);
    // JPEG is lossy (and chroma is subsampled); flat blocks stay within a few levels.
    assert!(top[0] > 240 && top[2] < 15, "top {top:?}");
    assert!(bottom[0] < 15 && bottom[2] > 240, "bottom {bottom:?}");
}

#[test]
fn empty_and_unknown_bytes_are_errors() {
    let err = decode(b"").unwrap_err();
    assert!(
        matches!(&err, Error::ImageDecode { message, .. } if message.contains("empty")),
        "{err}"
    );
    let err = decode(b"this is not an image at all").unwrap_err();
    assert!(matches!(err, Error::ImageDecode { .. }), "{err}");
    // Right signature, garbage after it.
    for junk in [
        &b"\x89PNG\r\n\x1a\nnonsense"[..],
        b"\xff\xd8\xff\xe0garbage",
    ] {
        assert!(matches!(decode(junk), Err(Error::ImageDecode { .. })));
    }
}

/// Truncation and bit flips anywhere must give an error or an image, never a panic; a PNG cut
/// short of its pixel data is always an error (its chunks declare their lengths).
#[test]
fn damaged_files_never_panic() {
    let img = RgbImage::from_fn(40, 24, |x, y| {
        Rgb([(x * 6) as u8, (y * 10) as u8, (x ^ y) as u8])
    });
    let png = png_bytes(&DynamicImage::ImageRgb8(img.clone()), None);
    let jpeg = jpeg_bytes(&img, None);
    // Cuts inside the final 12-byte IEND chunk leave every pixel intact (PIL accepts them too).
    for cut in (1..png.len() - 12).step_by(7) {
        assert!(decode(&png[..cut]).is_err(), "PNG cut at {cut} decoded");
    }
    // PIL (libjpeg) refuses JPEGs cut anywhere before the end-of-image marker; so do we, although
    // zune-jpeg alone would fill the missing part with grey.
    for cut in (1..jpeg.len() - 1).step_by(5) {
        assert!(decode(&jpeg[..cut]).is_err(), "JPEG cut at {cut} decoded");
    }
    assert!(decode(&jpeg[..jpeg.len() - 2]).is_err());
    // An EXIF thumbnail brings its own end-of-image marker, ahead of the main scan.
    let mut thumbnail = exif_orientation(1);
    thumbnail.extend([0xff, 0xd8, 0xff, 0xd9]);
    let with_thumbnail = jpeg_bytes(&img, Some(thumbnail));
    assert!(decode(&with_thumbnail).is_ok());
    assert!(decode(&with_thumbnail[..with_thumbnail.len() - 40]).is_err());
    let mut trailing = jpeg.clone();
    trailing.extend(b"trailing bytes after EOI are ignored, as by libjpeg");
    assert_eq!(decode(&trailing).unwrap(), decode(&jpeg).unwrap());
    let mut state = 0x2545_f491_u32;
    for _ in 0..300 {
        for data in [&png, &jpeg] {
            let mut bad = data.clone();
            for _ in 0..3 {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let at = state as usize % bad.len();
                bad[at] ^= (state >> 24) as u8 | 1;
            }
            let _ = decode(&bad);
        }
    }
}

/// Set the big-endian u32 fields of a PNG's IHDR and fix its CRC.
fn png_with_size(width: u32, height: u32) -> Vec<u8> {
    let mut png = png_bytes(&DynamicImage::ImageRgb8(distinct()), None);
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32fast::hash(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

#[test]
fn decompression_bombs_are_refused_from_the_header() {
    let err = decode(&png_with_size(100_000, 100_000)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ImageTooLarge {
                width: 100_000,
                height: 100_000,
                limit_name: "max_pixels",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("max_pixels"), "{err}");
    // A JPEG whose frame header claims 60000×60000 (the data is a 5×3 image's).
    let mut jpeg = jpeg_bytes(&distinct(), None);
    let sof = jpeg
        .windows(2)
        .position(|w| w == [0xff, 0xc0])
        .expect("baseline SOF0");
    jpeg[sof + 5..sof + 9].copy_from_slice(&[0xea, 0x60, 0xea, 0x60]);
    let err = decode(&jpeg).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ImageTooLarge {
                limit_name: "max_pixels",
                ..
            }
        ),
        "{err}"
    );
    // The allocation limit is checked too, and named.
    let tight = ImageLimits::new(u64::MAX, 1000);
    let bytes = png_bytes(&DynamicImage::ImageRgb8(RgbImage::new(20, 20)), None);
    let err = decode_image(&bytes, &tight).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ImageTooLarge {
                limit_name: "max_alloc",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("max_alloc"), "{err}");
    // Within the limits the same image decodes.
    assert!(decode_image(&bytes, &ImageLimits::new(400, 2400)).is_ok());
}

#[test]
fn load_image_reports_the_path() {
    let missing = std::path::Path::new("/nonexistent/effnet/cat.jpg");
    let err = load_image(missing).unwrap_err();
    assert!(
        matches!(err, Error::Io { .. }) && err.to_string().contains("cat.jpg"),
        "{err}"
    );
    let dir = std::env::temp_dir().join(format!("effnet-decode-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let empty = dir.join("empty.png");
    std::fs::write(&empty, b"").unwrap();
    let err = load_image(&empty).unwrap_err();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(err.to_string().contains("empty.png"), "{err}");
}
