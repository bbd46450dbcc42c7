//! The EfficientNets of OpenMMLab mmpretrain, MindSpore Vision and mindcv. Each is a network
//! effnet already has (mmpretrain's are timm's TensorFlow ports, MindSpore's torchvision's),
//! under the framework's own name, checkpoint key names and test-time preprocessing, which
//! `frameworks.tsv` lists per name as the frameworks' configs give it.

use super::arch::{Arch, Interpolation, Padding, Pipeline, PreprocessSpec, Source};
use crate::{Error, Result};

static TABLE: &str = include_str!("frameworks.tsv");

/// One framework model name and what makes its answers.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameworkModel {
    /// The name as the framework spells it (`efficientnet-b0_3rdparty_8xb32_in1k`).
    pub name: String,
    /// The framework.
    pub source: Source,
    /// The network: a timm or torchvision name (`tf_efficientnet_b0`, `efficientnet_b0`).
    pub network: String,
    /// The library of `network`: timm for mmpretrain, torchvision for MindSpore.
    pub network_source: Source,
    /// Padding where it differs from the network's (mindcv pads like TensorFlow).
    pub padding: Option<Padding>,
    /// BN epsilon where it differs from the network's.
    pub bn_eps: Option<f64>,
    /// The test resolution of its config.
    pub resolution: usize,
    /// Classes of its classifier (21,843 for mmpretrain's ImageNet-21k heads).
    pub classes: usize,
    /// Its test-time preprocessing.
    pub spec: PreprocessSpec,
}

/// Every row of `frameworks.tsv`, in table order.
pub fn framework_models() -> impl Iterator<Item = FrameworkModel> {
    TABLE
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("name\t") && !l.trim().is_empty())
        .map(|l| parse_row(l).unwrap_or_else(|| panic!("bad row in frameworks.tsv: {l}")))
}

/// `name` normalised as `resolve` compares names: lower case, `-` as `_`.
fn normal(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace('-', "_")
}

/// The framework model called `bare` (any spelling), from `source` where given.
pub(super) fn find(bare: &str, source: Option<Source>) -> Option<FrameworkModel> {
    let bare = normal(bare);
    framework_models().find(|m| normal(&m.name) == bare && source.is_none_or(|s| s == m.source))
}

/// The `Arch` of a framework model: its network (`arch`, resolved by the caller from
/// `m.network`) with the framework's name, source, padding, BN epsilon, resolution, classes
/// and preprocessing.
pub(super) fn arch_of(m: &FrameworkModel, mut arch: Arch) -> Result<Arch> {
    if arch.source != m.network_source {
        return Err(Error::Input(format!(
            "frameworks.tsv: {} is built on {} from {:?}, which does not exist",
            m.name, m.network, m.network_source
        )));
    }
    arch.name = m.name.clone();
    arch.source = m.source;
    arch.padding = m.padding.unwrap_or(arch.padding);
    arch.bn_eps = m.bn_eps.unwrap_or(arch.bn_eps);
    arch.resolution = m.resolution;
    arch.preprocess = m.spec;
    Ok(arch.with_classes(m.classes))
}

fn parse_row(line: &str) -> Option<FrameworkModel> {
    let c: Vec<&str> = line.split('\t').map(str::trim).collect();
    let [
        name,
        source,
        network,
        padding,
        bn_eps,
        res,
        classes,
        pipeline,
        interp,
        mean,
        std,
    ] = c[..]
    else {
        return None;
    };
    let source = match source {
        "mmpretrain" => Source::Mmpretrain,
        "mindvision" => Source::MindVision,
        "mindcv" => Source::MindCv,
        _ => return None,
    };
    let network_source = source.key_names();
    let triple = |s: &str| -> Option<[f32; 3]> {
        let v: Vec<f32> = (s.split(','))
            .filter_map(|x| x.parse::<f32>().ok())
            .collect();
        // The frameworks give mean and std on the 0-255 scale; the crate keeps them on 0-1.
        Some(<[f32; 3]>::try_from(v).ok()?.map(|x| x / 255.0))
    };
    let pipeline = parse_pipeline(pipeline)?;
    Some(FrameworkModel {
        name: name.to_string(),
        source,
        network: network.to_string(),
        network_source,
        padding: match padding {
            "same" => Some(Padding::Same),
            "symmetric" => Some(Padding::Symmetric),
            "-" => None,
            _ => return None,
        },
        bn_eps: (bn_eps != "-").then(|| bn_eps.parse().ok()).flatten(),
        resolution: res.parse().ok()?,
        classes: classes.parse().ok()?,
        spec: PreprocessSpec {
            mean: triple(mean)?,
            std: triple(std)?,
            crop_pct: 1.0,
            interpolation: Interpolation::parse(interp)?,
            pipeline,
        },
    })
}

/// `mm_crop:32`, `mindspore_plus:32`, `mindspore_pct:0.875`.
fn parse_pipeline(text: &str) -> Option<Pipeline> {
    let (kind, value) = text.split_once(':')?;
    Some(match kind {
        "mm_crop" => Pipeline::MmCenterCrop {
            crop_padding: value.parse().ok()?,
        },
        "mindspore_plus" => Pipeline::MindSpore {
            plus: value.parse().ok()?,
            crop_pct: 1.0,
        },
        "mindspore_pct" => Pipeline::MindSpore {
            plus: 0,
            crop_pct: value.parse().ok()?,
        },
        _ => return None,
    })
}
