//! Key schemes: which library's names a state dict uses, and the renaming of
//! efficientnet_pytorch's names (`_blocks.N._expand_conv`) to timm's (`blocks.S.I.conv_pw`).

use std::collections::{BTreeMap, BTreeSet};

use super::StateDict;
use crate::{Error, Result};

/// The library whose module names a state dict's keys follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyScheme {
    /// timm: `conv_stem`, `bn1`, `blocks.S.I.*`, `conv_head`, `bn2`, `classifier`.
    Timm,
    /// torchvision: `features.N.*`, `classifier.1`.
    Torchvision,
    /// lukemelas' efficientnet_pytorch: `_conv_stem`, `_bn0`, `_blocks.N.*`, `_fc`.
    EfficientNetPytorch,
    /// OpenMMLab mmpretrain: `backbone.layers.L.*`, `head.fc`.
    Mmpretrain,
    /// MindSpore Vision: `backbone.features.N.*`, `head.dense`, BN `gamma`/`beta`/`moving_*`.
    MindVision,
    /// mindcv: `features.N.*`, `mlp_head`, BN `gamma`/`beta`/`moving_*`.
    MindCv,
}

/// Tells the schemes apart by their distinctive top-level module names; `None` when the keys
/// follow none of them (e.g. a checkpoint of another architecture).
pub fn detect_scheme(sd: &StateDict) -> Option<KeyScheme> {
    let has = |prefix: &str| sd.tensors.keys().any(|k| k.starts_with(prefix));
    // MindSpore names BN parameters its own way, which tells a headless mindcv backbone from
    // a headless torchvision one.
    let mindspore_bn = sd.tensors.keys().any(|k| k.ends_with(".moving_mean"));
    if has("_conv_stem.") || has("_blocks.") {
        Some(KeyScheme::EfficientNetPytorch)
    } else if has("backbone.layers.") {
        Some(KeyScheme::Mmpretrain)
    } else if has("backbone.features.") {
        Some(KeyScheme::MindVision)
    } else if has("features.") && (has("mlp_head.") || mindspore_bn) {
        Some(KeyScheme::MindCv)
    } else if has("features.0.") && has("classifier.") {
        Some(KeyScheme::Torchvision)
    } else if has("conv_stem.") && has("blocks.") {
        Some(KeyScheme::Timm)
    } else {
        None
    }
}

/// Renames efficientnet_pytorch keys to timm's. `stage_repeats` gives the blocks per stage
/// (Lite0: 1, 2, 2, 3, 3, 4, 1), since efficientnet_pytorch numbers blocks flat and timm by
/// stage. Whether a block has an expansion conv (timm's InvertedResidual) or not (timm's
/// DepthwiseSeparable, whose layers are numbered differently) is read from the keys. Shapes are
/// the same in both libraries, so tensors move over untouched.
pub fn efficientnet_pytorch_to_timm(sd: StateDict, stage_repeats: &[usize]) -> Result<StateDict> {
    let positions = stage_positions(stage_repeats);
    let blocks: BTreeSet<usize> = sd.tensors.keys().filter_map(|k| block_index(k)).collect();
    let found = blocks.last().map_or(0, |&b| b + 1);
    if found != positions.len() {
        return Err(Error::Weights {
            report: format!(
                "the checkpoint has {found} blocks (`_blocks.0` to `_blocks.{}`) but the stage repeats \
                 {stage_repeats:?} add up to {}; pick the model variant the checkpoint was trained for",
                found.saturating_sub(1),
                positions.len()
            ),
        });
    }
    let expanded: BTreeSet<usize> = sd
        .tensors
        .keys()
        .filter(|k| k.contains("._expand_conv."))
        .filter_map(|k| block_index(k))
        .collect();
    rename_all(sd, "efficientnet_pytorch", |key| {
        rename(key, &positions, &expanded)
    })
}

/// `(stage, index in stage)` of every block, in network order, for stages of `stage_repeats`
/// blocks: where a library that numbers blocks flat puts block N in timm's stages.
pub(super) fn stage_positions(stage_repeats: &[usize]) -> Vec<(usize, usize)> {
    (stage_repeats.iter().enumerate())
        .flat_map(|(stage, &n)| (0..n).map(move |i| (stage, i)))
        .collect()
}

/// Applies `rename` to every key; keys it does not know (or that would land on one key twice)
/// fail the whole load with a report, since a silently dropped tensor is a wrong answer.
pub(super) fn rename_all(
    sd: StateDict,
    framework: &str,
    rename: impl Fn(&str) -> Option<String>,
) -> Result<StateDict> {
    let mut tensors: BTreeMap<String, super::Tensor> = BTreeMap::new();
    let mut unknown = Vec::new();
    for (key, t) in sd.tensors {
        match rename(&key) {
            Some(new) if !tensors.contains_key(&new) => drop(tensors.insert(new, t)),
            _ => unknown.push(key),
        }
    }
    if !unknown.is_empty() {
        let shown: Vec<&str> = unknown.iter().take(5).map(String::as_str).collect();
        return Err(Error::Weights {
            report: format!(
                "{} keys are not {framework} EfficientNet keys (or map onto one key twice): {}{}; \
                 check that the checkpoint is a {framework} EfficientNet",
                unknown.len(),
                shown.join(", "),
                if unknown.len() > 5 { ", …" } else { "" }
            ),
        });
    }
    Ok(StateDict {
        tensors,
        metadata: sd.metadata,
    })
}

fn block_index(key: &str) -> Option<usize> {
    key.strip_prefix("_blocks.")?
        .split_once('.')?
        .0
        .parse()
        .ok()
}

fn rename(key: &str, positions: &[(usize, usize)], expanded: &BTreeSet<usize>) -> Option<String> {
    let Some(rest) = key.strip_prefix("_blocks.") else {
        let (layer, param) = key.split_once('.')?;
        let layer = match layer {
            "_conv_stem" => "conv_stem",
            "_bn0" => "bn1",
            "_conv_head" => "conv_head",
            "_bn1" => "bn2",
            "_fc" => "classifier",
            _ => return None,
        };
        return Some(format!("{layer}.{param}"));
    };
    let (n, rest) = rest.split_once('.')?;
    let n: usize = n.parse().ok()?;
    let (stage, i) = *positions.get(n)?;
    let (layer, param) = rest.split_once('.')?;
    // Blocks without expansion have no `_bn0`, and their later layers take the lower numbers.
    let ir = expanded.contains(&n);
    let layer = match (layer, ir) {
        ("_expand_conv", true) => "conv_pw",
        ("_bn0", true) => "bn1",
        ("_depthwise_conv", _) => "conv_dw",
        ("_bn1", true) => "bn2",
        ("_bn1", false) => "bn1",
        ("_se_reduce", _) => "se.conv_reduce",
        ("_se_expand", _) => "se.conv_expand",
        ("_project_conv", true) => "conv_pwl",
        ("_project_conv", false) => "conv_pw",
        ("_bn2", true) => "bn3",
        ("_bn2", false) => "bn2",
        _ => return None,
    };
    Some(format!("blocks.{stage}.{i}.{layer}.{param}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_ds_and_ir_blocks() {
        let positions = [(0, 0), (1, 0)];
        let expanded = BTreeSet::from([1]);
        let r = |k| rename(k, &positions, &expanded);
        assert_eq!(
            r("_blocks.0._bn1.bias").as_deref(),
            Some("blocks.0.0.bn1.bias")
        );
        assert_eq!(
            r("_blocks.0._project_conv.weight").as_deref(),
            Some("blocks.0.0.conv_pw.weight")
        );
        assert_eq!(
            r("_blocks.1._bn2.running_var").as_deref(),
            Some("blocks.1.0.bn3.running_var")
        );
        assert_eq!(
            r("_blocks.1._se_reduce.bias").as_deref(),
            Some("blocks.1.0.se.conv_reduce.bias")
        );
        assert_eq!(r("_fc.weight").as_deref(), Some("classifier.weight"));
        assert_eq!(r("_blocks.2._bn0.weight"), None);
        assert_eq!(r("_blocks.0._bn0.weight"), None);
    }
}
