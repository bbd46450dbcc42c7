//! What Python hands in: images (paths, encoded bytes, `uint8[H,W,3]` arrays) and NCHW
//! float32 tensors, copied out of Python objects while the GIL is held so that decoding,
//! preprocessing and the GPU run can go on without it.

use effnet::image::RgbImage;
use effnet::preprocess::{Exif, ImageLimits, Transform, decode_named, load_image_with};
use numpy::{PyArrayDyn, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString};
use std::path::PathBuf;

/// One image as Python gave it, owned (no reference into Python memory).
pub enum ImageInput {
    /// A file to read and decode.
    Path(PathBuf),
    /// An encoded JPEG or PNG.
    Bytes(Vec<u8>),
    /// Decoded RGB pixels.
    Pixels(RgbImage),
}

/// Reads a list (or any sequence) of images. PIL images arrive here already as arrays: the
/// Python layer converts them, so this side knows nothing of PIL.
pub fn images(items: &Bound<'_, PyAny>) -> PyResult<Vec<ImageInput>> {
    if items.is_instance_of::<PyString>() || items.is_instance_of::<PyBytes>() {
        return Err(PyTypeError::new_err(
            "expected a list of images; wrap a single image in a list: [image]",
        ));
    }
    let mut out = Vec::new();
    for (i, item) in items.try_iter()?.enumerate() {
        out.push(image(&item?).map_err(|e| prefix(e, i, items.py()))?)
    }
    Ok(out)
}

/// The error with "image N: " in front, so a bad item in a long list is easy to find.
fn prefix(e: PyErr, i: usize, py: Python<'_>) -> PyErr {
    let message = format!("image {i}: {}", e.value(py));
    if e.is_instance_of::<PyTypeError>(py) {
        PyTypeError::new_err(message)
    } else {
        PyValueError::new_err(message)
    }
}

fn image(item: &Bound<'_, PyAny>) -> PyResult<ImageInput> {
    if let Ok(b) = item.cast::<PyBytes>() {
        return Ok(ImageInput::Bytes(b.as_bytes().to_vec()));
    }
    if let Ok(b) = item.cast::<PyByteArray>() {
        return Ok(ImageInput::Bytes(b.to_vec()));
    }
    if let Ok(a) = item.cast::<numpy::PyUntypedArray>() {
        return pixels(a).map(ImageInput::Pixels);
    }
    item.extract::<PathBuf>()
        .map(ImageInput::Path)
        .map_err(|_| {
            PyTypeError::new_err(format!(
                "cannot use a {} as an image; give a file path, the file's bytes, a uint8 numpy \
             array of shape [height, width, 3] or a PIL image",
                type_name(item)
            ))
        })
}

/// The name of an object's type, for messages.
pub fn type_name(item: &Bound<'_, PyAny>) -> String {
    (item.get_type().name()).map_or_else(|_| "?".to_string(), |n| n.to_string())
}

/// A `uint8[H, W, 3]` array (any strides) as an image.
fn pixels(a: &Bound<'_, numpy::PyUntypedArray>) -> PyResult<RgbImage> {
    let shape = a.shape().to_vec();
    let Ok(a) = a.cast::<PyArrayDyn<u8>>() else {
        return Err(PyTypeError::new_err(format!(
            "an image array must be uint8 (0-255 RGB), got {}; for a float tensor that is \
             already preprocessed use session.run",
            a.dtype()
        )));
    };
    if shape.len() != 3 || shape[2] != 3 || shape[0] == 0 || shape[1] == 0 {
        return Err(PyValueError::new_err(format!(
            "an image array must have shape [height, width, 3] (RGB), got {shape:?}"
        )));
    }
    let (h, w) = (shape[0], shape[1]);
    let (Ok(h32), Ok(w32)) = (u32::try_from(h), u32::try_from(w)) else {
        return Err(PyValueError::new_err("the image array is too large"));
    };
    let data: Vec<u8> = a.readonly().as_array().iter().copied().collect();
    RgbImage::from_raw(w32, h32, data)
        .ok_or_else(|| PyValueError::new_err("the image array's size does not match its shape"))
}

/// An NCHW float32 tensor, copied out as `(data, [n, c, h, w])`. CPU torch tensors arrive as
/// numpy arrays (the Python layer converts them through DLPack).
pub fn tensor(input: &Bound<'_, PyAny>) -> PyResult<(Vec<f32>, [usize; 4])> {
    let Ok(a) = input.cast::<numpy::PyUntypedArray>() else {
        return Err(PyTypeError::new_err(format!(
            "session.run takes a float32 numpy array of shape [N, 3, H, W], got a {}",
            type_name(input)
        )));
    };
    let shape = a.shape().to_vec();
    let Ok(a) = a.cast::<PyArrayDyn<f32>>() else {
        return Err(PyTypeError::new_err(format!(
            "session.run takes float32, got {}; convert with x.astype(numpy.float32)",
            a.dtype()
        )));
    };
    let [n, c, h, w] = shape[..] else {
        return Err(PyValueError::new_err(format!(
            "session.run takes shape [N, 3, H, W], got {shape:?}"
        )));
    };
    let data: Vec<f32> = a.readonly().as_array().iter().copied().collect();
    Ok((data, [n, c, h, w]))
}

/// Decodes (where needed) one image with the model's EXIF rule.
fn decode(input: &ImageInput, index: usize, exif: Exif) -> effnet::Result<RgbImage> {
    match input {
        ImageInput::Path(p) => load_image_with(p, exif),
        ImageInput::Bytes(b) => {
            let name = format!("image {index} (bytes)");
            decode_named(b, &name, &ImageLimits::default(), exif)
        }
        ImageInput::Pixels(img) => Ok(img.clone()),
    }
}

/// Decodes and transforms every image on a few threads (at most one per core, at most 8, as
/// the command line does); results in input order. Call without the GIL.
pub fn preprocess(
    inputs: &[ImageInput],
    t: &Transform,
    exif: Exif,
) -> Vec<effnet::Result<Vec<f32>>> {
    effnet::preprocess::map_in_parallel(inputs.len(), |i| {
        decode(&inputs[i], i, exif).map(|img| t.apply(&img))
    })
}
