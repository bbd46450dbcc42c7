//! The key names of mmpretrain and MindSpore checkpoints renamed to those of the library whose
//! network they are: mmpretrain's EfficientNets are timm's TensorFlow ports, MindSpore
//! Vision's and mindcv's are torchvision's. Shapes are the same, so tensors move untouched.

use std::collections::{BTreeMap, BTreeSet};

use super::StateDict;
use super::keys::{rename_all, stage_positions};
use crate::{Error, Result};

/// Renames mmpretrain keys (`backbone.layers.L[.I].…`, `head.fc.…`) to timm's. mmpretrain groups
/// blocks by `layers.L` differently from timm's stages (B0's `layers.4` holds the 80- and
/// 112-channel blocks), so blocks are taken in order and placed by `stage_repeats`, the blocks
/// per timm stage. `layers.0` is the stem, the last layer the head conv.
pub(crate) fn mmpretrain_to_timm(sd: StateDict, stage_repeats: &[usize]) -> Result<StateDict> {
    let positions = stage_positions(stage_repeats);
    let mut blocks = BTreeSet::new();
    let mut last_layer = 0;
    for key in sd.tensors.keys() {
        if let Some((layer, block, _)) = mm_parts(key) {
            last_layer = last_layer.max(layer);
            blocks.extend(block.map(|b| (layer, b)));
        }
    }
    if blocks.len() != positions.len() {
        return Err(Error::Weights {
            report: format!(
                "the mmpretrain checkpoint has {} blocks but the model's stages {stage_repeats:?} \
                 hold {}; pick the model the checkpoint was trained for with --arch NAME \
                 (`effnet models` lists the mmpretrain names)",
                blocks.len(),
                positions.len()
            ),
        });
    }
    let place: BTreeMap<(usize, usize), (usize, usize)> = blocks
        .iter()
        .copied()
        .zip(positions.iter().copied())
        .collect();
    let expanded: BTreeSet<(usize, usize)> = (sd.tensors.keys())
        .filter(|k| k.contains(".expand_conv."))
        .filter_map(|k| mm_parts(k).and_then(|(l, b, _)| Some((l, b?))))
        .collect();
    rename_all(sd, "mmpretrain", |key| {
        if let Some(param) = key.strip_prefix("head.fc.") {
            return Some(format!("classifier.{param}"));
        }
        let (layer, block, rest) = mm_parts(key)?;
        match block {
            None if layer == 0 => end_layer(rest, "conv_stem", "bn1"),
            None if layer == last_layer => end_layer(rest, "conv_head", "bn2"),
            None => None,
            Some(b) => {
                let (stage, i) = place[&(layer, b)];
                let inner = mm_block(rest, expanded.contains(&(layer, b)))?;
                Some(format!("blocks.{stage}.{i}.{inner}"))
            }
        }
    })
}

/// `backbone.layers.L.I.REST` → (L, Some(I), REST); `backbone.layers.L.REST` → (L, None, REST).
fn mm_parts(key: &str) -> Option<(usize, Option<usize>, &str)> {
    let rest = key.strip_prefix("backbone.layers.")?;
    let (layer, rest) = rest.split_once('.')?;
    let layer = layer.parse().ok()?;
    match rest.split_once('.') {
        Some((i, inner)) if i.bytes().all(|b| b.is_ascii_digit()) => {
            Some((layer, Some(i.parse().ok()?), inner))
        }
        _ => Some((layer, None, rest)),
    }
}

/// The stem or head conv of mmpretrain (`conv.weight`, `bn.*`) under timm's names.
fn end_layer(rest: &str, conv: &str, bn: &str) -> Option<String> {
    match rest.split_once('.')? {
        ("conv", p) => Some(format!("{conv}.{p}")),
        ("bn", p) => Some(format!("{bn}.{p}")),
        _ => None,
    }
}

/// One block's key after `layers.L.I.` under timm's names. Inverted residuals (those with an
/// `expand_conv`) number their BNs 1-3, depthwise-separable blocks 1-2; EdgeResidual (V2's
/// fused blocks) has `conv1`/`conv2`, a plain conv block `conv`/`bn`.
fn mm_block(rest: &str, expanded: bool) -> Option<String> {
    let (module, tail) = rest.split_once('.')?;
    let (part, param) = tail.split_once('.').unwrap_or(("", tail));
    let timm = match (module, part, expanded) {
        ("expand_conv", "conv", _) => "conv_pw",
        ("expand_conv", "bn", _) => "bn1",
        ("depthwise_conv", "conv", _) => "conv_dw",
        ("depthwise_conv", "bn", true) => "bn2",
        ("depthwise_conv", "bn", false) => "bn1",
        ("linear_conv", "conv", true) => "conv_pwl",
        ("linear_conv", "bn", true) => "bn3",
        ("linear_conv", "conv", false) => "conv_pw",
        ("linear_conv", "bn", false) => "bn2",
        ("se", "conv1", _) | ("se", "conv2", _) => {
            let which = if part == "conv1" {
                "conv_reduce"
            } else {
                "conv_expand"
            };
            // `se.conv1.conv.weight`: the SE's own ConvModule wraps a `conv`.
            let param = param.strip_prefix("conv.")?;
            return Some(format!("se.{which}.{param}"));
        }
        ("conv1", "conv", _) => "conv_exp",
        ("conv1", "bn", _) => "bn1",
        ("conv2", "conv", _) => "conv_pwl",
        ("conv2", "bn", _) => "bn2",
        ("conv", _, _) => return Some(format!("conv.{tail}")),
        ("bn", _, _) => return Some(format!("bn1.{tail}")),
        _ => return None,
    };
    Some(format!("{timm}.{param}"))
}

/// Renames MindSpore Vision keys to torchvision's: `backbone.` dropped, the cells inside a
/// `ConvNormActivation` (`….features.0.weight`) numbered as torchvision's `Sequential`
/// (`….0.weight`), SE `conv_reduce`/`conv_expand` as `fc1`/`fc2`, `head.dense` as
/// `classifier.1`, and MindSpore's BN names as PyTorch's.
pub(crate) fn mindvision_to_torchvision(sd: StateDict) -> Result<StateDict> {
    rename_all(sd, "MindSpore Vision", |key| {
        let key = match key.strip_prefix("head.dense.") {
            Some(param) => return Some(format!("classifier.1.{param}")),
            None => key.strip_prefix("backbone.")?,
        };
        let mut parts: Vec<&str> = Vec::new();
        for (n, part) in key.split('.').enumerate() {
            match part {
                // The first `features` is torchvision's too; later ones are MindSpore's cells.
                "features" if n > 0 => {}
                "conv_reduce" => parts.push("fc1"),
                "conv_expand" => parts.push("fc2"),
                other => parts.push(other),
            }
        }
        let last = parts.pop()?;
        parts.push(pytorch_bn_name(last));
        Some(parts.join("."))
    })
}

/// Renames mindcv keys to torchvision's. mindcv numbers every cell of a flat `SequentialCell`,
/// activations included (`features.0` stem conv, `features.1` its BN, `features.2` its
/// activation, stages from `features.3`; in a block `block.0` conv, `block.1` BN, `block.2`
/// activation, `block.3` SE, …), where torchvision groups a conv with its BN
/// (`features.0.0`, `features.0.1`; `block.0.0`, `block.0.1`, `block.1.fc1`). So cells are
/// renumbered by walking them in order: a conv starts a group, a BN joins it, an SE is one.
pub(crate) fn mindcv_to_torchvision(sd: StateDict) -> Result<StateDict> {
    let mut top = BTreeSet::new(); // `features.K.param`: stem and head cells
    let mut stages = BTreeSet::new(); // `features.K.I.block…`: stage K
    let mut cells: BTreeMap<(usize, usize), BTreeMap<usize, &str>> = BTreeMap::new();
    for key in sd.tensors.keys() {
        let p: Vec<&str> = key.split('.').collect();
        match p[..] {
            ["features", k, _] => drop(k.parse().map(|k: usize| top.insert(k))),
            ["features", k, i, "block", c, cell, ..] => {
                let (Ok(k), Ok(i), Ok(c)) = (k.parse(), i.parse(), c.parse()) else {
                    continue;
                };
                stages.insert(k);
                cells.entry((k, i)).or_default().insert(c, cell);
            }
            _ => {}
        }
    }
    let top: Vec<usize> = top.into_iter().collect();
    let stages: Vec<usize> = stages.into_iter().collect();
    let groups = cell_groups(&cells);
    let head = stages.len() + 1;
    rename_all(sd, "mindcv", |key| {
        if let Some(param) = key.strip_prefix("mlp_head.") {
            return Some(format!("classifier.1.{param}"));
        }
        let p: Vec<&str> = key.split('.').collect();
        match p[..] {
            ["features", k, param] => {
                let at = top.iter().position(|t| Some(*t) == k.parse().ok())?;
                let (layer, part) = if at < 2 { (0, at) } else { (head, at - 2) };
                (part < 2).then(|| format!("features.{layer}.{part}.{}", pytorch_bn_name(param)))
            }
            ["features", k, i, "block", c, ref rest @ ..] => {
                let (k, i, c): (usize, usize, usize) =
                    (k.parse().ok()?, i.parse().ok()?, c.parse().ok()?);
                let stage = stages.iter().position(|s| *s == k)? + 1;
                let block = format!("features.{stage}.{i}.block");
                match (*groups.get(&(k, i, c))?, rest) {
                    ((j, Some(sub)), [param]) => {
                        Some(format!("{block}.{j}.{sub}.{}", pytorch_bn_name(param)))
                    }
                    ((j, None), [cell, param]) => {
                        Some(format!("{block}.{j}.{}.{param}", se_name(cell)?))
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    })
}

/// For each block cell (`(stage K, block I, cell C)`), torchvision's group `J` within the block
/// and its place in the group: `Some(0)` a conv, `Some(1)` a BN, `None` an SE.
fn cell_groups(
    cells: &BTreeMap<(usize, usize), BTreeMap<usize, &str>>,
) -> BTreeMap<(usize, usize, usize), (usize, Option<usize>)> {
    let mut out = BTreeMap::new();
    for (&(k, i), block) in cells {
        let mut group: Option<usize> = None;
        for (&c, &cell) in block {
            let place = match cell {
                "gamma" | "beta" | "moving_mean" | "moving_variance" => Some(1),
                "conv_reduce" | "conv_expand" => None,
                _ => Some(0),
            };
            if place != Some(1) {
                group = Some(group.map_or(0, |g| g + 1));
            }
            out.insert((k, i, c), (group.unwrap_or(0), place));
        }
    }
    out
}

fn se_name(cell: &str) -> Option<&'static str> {
    match cell {
        "conv_reduce" => Some("fc1"),
        "conv_expand" => Some("fc2"),
        _ => None,
    }
}

/// MindSpore's BN parameter names as PyTorch's; other names unchanged.
pub(crate) fn pytorch_bn_name(name: &str) -> &str {
    match name {
        "gamma" => "weight",
        "beta" => "bias",
        "moving_mean" => "running_mean",
        "moving_variance" => "running_var",
        other => other,
    }
}
