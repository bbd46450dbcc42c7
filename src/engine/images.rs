//! Images to an NCHW tensor for `Session::run_images`, `classify` and `embed`, with the
//! model's own evaluation transform (`crate::preprocess::Transform`: PIL-exact bicubic resize
//! of the shorter side, centre crop, normalize). The transform resizes only the crop window,
//! so work and memory are bounded by the output size whatever the image's aspect ratio.

use crate::model::PreprocessSpec;
use crate::preprocess::Transform;
use crate::{Error, Result};

/// Exactly `batch` images as one tensor.
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
             `SessionOptions::with_batch({})` or pass exactly {batch}",
            images.len(),
            images.len()
        )));
    }
    to_tensor_padded(images, spec, batch, height, width)
}

/// At most `batch` images as one tensor of `batch` images, zeros after the last: a short
/// batch runs in a session made for a larger one.
pub fn to_tensor_padded(
    images: &[image::RgbImage],
    spec: &PreprocessSpec,
    batch: usize,
    height: usize,
    width: usize,
) -> Result<Vec<f32>> {
    if images.len() > batch {
        return Err(Error::Input(format!(
            "{} images for a session made for a batch of {batch}; pass at most {batch} at a \
             time, or make a session with `SessionOptions::with_batch({})`",
            images.len(),
            images.len()
        )));
    }
    if images
        .iter()
        .any(|img| img.width() == 0 || img.height() == 0)
    {
        return Err(Error::Input(
            "an image has no pixels (0 width or height)".into(),
        ));
    }
    if height != width && spec.pipeline != crate::model::Pipeline::Pil {
        return Err(Error::Input(format!(
            "{height}x{width}: mmpretrain's and MindSpore's preprocessing make square inputs; \
             use a square resolution with this model"
        )));
    }
    let transform = Transform::from_spec(spec, height, width);
    let mut out = Vec::with_capacity(batch * 3 * height * width);
    for img in images {
        out.extend(transform.apply(img));
    }
    out.resize(batch * 3 * height * width, 0.0);
    Ok(out)
}
