//! A checkpoint's key names: which library's they are, renaming them into the model's, and
//! comparing shapes across the libraries' layouts. Both identifying a file (`identify.rs`)
//! and loading it (`loader.rs`) need these, so they live apart from either.

use super::arch::{Arch, Source};
use crate::Result;
use crate::checkpoint::{self, KeyScheme, StateDict, detect_scheme};

/// Equal shapes, or a 1×1 conv stored as a linear weight (or the reverse): same elements.
pub(super) fn same_shape(got: &[usize], want: &[usize]) -> bool {
    got == want
        || (got.iter().filter(|&&d| d != 1)).eq(want.iter().filter(|&&d| d != 1))
            && got.iter().product::<usize>() == want.iter().product::<usize>()
}

/// The key names checkpoints of `source` come with.
pub fn scheme_of(source: Source) -> KeyScheme {
    match source {
        Source::Timm => KeyScheme::Timm,
        Source::Torchvision => KeyScheme::Torchvision,
        Source::Mmpretrain => KeyScheme::Mmpretrain,
        Source::MindVision => KeyScheme::MindVision,
        Source::MindCv => KeyScheme::MindCv,
    }
}

/// Renames keys into the names of `arch`'s layers (its source's, or for mmpretrain and
/// MindSpore the library whose network theirs is: `Source::key_names`).
pub fn remap(sd: StateDict, arch: &Arch) -> Result<StateDict> {
    let repeats: Vec<usize> = arch.stages.iter().map(|s| s.blocks.len()).collect();
    match (detect_scheme(&sd), arch.source.key_names()) {
        (Some(KeyScheme::EfficientNetPytorch), Source::Timm) => {
            checkpoint::efficientnet_pytorch_to_timm(sd, &repeats)
        }
        (Some(KeyScheme::Mmpretrain), Source::Timm) => checkpoint::mmpretrain_to_timm(sd, &repeats),
        (Some(KeyScheme::MindVision), Source::Torchvision) => {
            checkpoint::mindvision_to_torchvision(sd)
        }
        (Some(KeyScheme::MindCv), Source::Torchvision) => checkpoint::mindcv_to_torchvision(sd),
        _ => Ok(sd),
    }
}

/// Words for an error message about a file's key scheme.
pub fn describe_scheme(scheme: Option<KeyScheme>) -> &'static str {
    match scheme {
        Some(KeyScheme::Timm) => "its keys are timm's",
        Some(KeyScheme::Torchvision) => "its keys are torchvision's",
        Some(KeyScheme::EfficientNetPytorch) => "its keys are efficientnet_pytorch's",
        Some(KeyScheme::Mmpretrain) => "its keys are mmpretrain's",
        Some(KeyScheme::MindVision) => "its keys are MindSpore Vision's",
        Some(KeyScheme::MindCv) => "its keys are mindcv's",
        None => {
            "its keys follow none of timm, torchvision, efficientnet_pytorch, mmpretrain, \
             MindSpore Vision or mindcv"
        }
    }
}
