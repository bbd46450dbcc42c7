//! Images to an NCHW tensor for `Session::run_images`, with the model's own evaluation
//! transform (`crate::preprocess::Transform`: PIL-exact bicubic resize of the shorter side,
//! centre crop, normalize). The transform resizes only the crop window, so work and memory
//! are bounded by the output size whatever the image's aspect ratio.

use crate::model::PreprocessSpec;
use crate::preprocess::Transform;
use crate::{Error, Result};

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
    if images
        .iter()
        .any(|img| img.width() == 0 || img.height() == 0)
    {
        return Err(Error::Input(
            "an image has no pixels (0 width or height)".into(),
        ));
    }
    let transform = Transform::from_spec(spec, height, width);
    let mut out = Vec::with_capacity(batch * 3 * height * width);
    for img in images {
        out.extend(transform.apply(img));
    }
    Ok(out)
}
