//! The EfficientNet family as tables: one row per stage of each base network, one row per
//! scaled variant, one row per name a user knows. `resolve` turns a name into an `Arch`
//! with the padding, BN epsilon, state-dict keys and preprocessing of the library it comes
//! from. Stage tables and scaling rules follow timm (`timm/models/efficientnet.py`,
//! `_efficientnet_builder.py`) and torchvision (`torchvision/models/efficientnet.py`); the
//! two agree on every network both have, so one table serves both.

use super::arch::{Activation, Arch, BlockKind, Padding, Source};
use super::build::{Conv, Entry, Family, StageDef, Variant, build};
use crate::{Error, Result};

/// Kept at its old path; the rule belongs with the others in `build.rs`.
pub use super::build::make_divisible;

use BlockKind::{
    ConvBnAct as Cn, DepthwiseSeparable as Ds, EdgeResidual as Er, InvertedResidual as Ir,
};
use Source::{Timm, Torchvision as Tv};

const fn st(
    kind: BlockKind,
    repeats: usize,
    k: usize,
    stride: usize,
    expand: usize,
    out_c: usize,
    se: bool,
) -> StageDef {
    StageDef {
        kind,
        repeats,
        k,
        stride,
        expand,
        out_c,
        se,
    }
}

#[rustfmt::skip]
const B_STAGES: [StageDef; 7] = [
    st(Ds, 1, 3, 1, 1, 16, true), st(Ir, 2, 3, 2, 6, 24, true), st(Ir, 2, 5, 2, 6, 40, true),
    st(Ir, 3, 3, 2, 6, 80, true), st(Ir, 3, 5, 1, 6, 112, true), st(Ir, 4, 5, 2, 6, 192, true),
    st(Ir, 1, 3, 1, 6, 320, true),
];
#[rustfmt::skip]
const LITE_STAGES: [StageDef; 7] = [
    st(Ds, 1, 3, 1, 1, 16, false), st(Ir, 2, 3, 2, 6, 24, false), st(Ir, 2, 5, 2, 6, 40, false),
    st(Ir, 3, 3, 2, 6, 80, false), st(Ir, 3, 5, 1, 6, 112, false), st(Ir, 4, 5, 2, 6, 192, false),
    st(Ir, 1, 3, 1, 6, 320, false),
];
#[rustfmt::skip]
const V2_BASE_STAGES: [StageDef; 6] = [
    st(Cn, 1, 3, 1, 1, 16, false), st(Er, 2, 3, 2, 4, 32, false), st(Er, 2, 3, 2, 4, 48, false),
    st(Ir, 3, 3, 2, 4, 96, true), st(Ir, 5, 3, 1, 6, 112, true), st(Ir, 8, 3, 2, 6, 192, true),
];
#[rustfmt::skip]
const V2_S_STAGES: [StageDef; 6] = [
    st(Cn, 2, 3, 1, 1, 24, false), st(Er, 4, 3, 2, 4, 48, false), st(Er, 4, 3, 2, 4, 64, false),
    st(Ir, 6, 3, 2, 4, 128, true), st(Ir, 9, 3, 1, 6, 160, true), st(Ir, 15, 3, 2, 6, 256, true),
];
#[rustfmt::skip]
const V2_M_STAGES: [StageDef; 7] = [
    st(Cn, 3, 3, 1, 1, 24, false), st(Er, 5, 3, 2, 4, 48, false), st(Er, 5, 3, 2, 4, 80, false),
    st(Ir, 7, 3, 2, 4, 160, true), st(Ir, 14, 3, 1, 6, 176, true), st(Ir, 18, 3, 2, 6, 304, true),
    st(Ir, 5, 3, 1, 6, 512, true),
];
#[rustfmt::skip]
const V2_L_STAGES: [StageDef; 7] = [
    st(Cn, 4, 3, 1, 1, 32, false), st(Er, 7, 3, 2, 4, 64, false), st(Er, 7, 3, 2, 4, 96, false),
    st(Ir, 10, 3, 2, 4, 192, true), st(Ir, 19, 3, 1, 6, 224, true), st(Ir, 25, 3, 2, 6, 384, true),
    st(Ir, 7, 3, 1, 6, 640, true),
];
#[rustfmt::skip]
const V2_XL_STAGES: [StageDef; 7] = [
    st(Cn, 4, 3, 1, 1, 32, false), st(Er, 8, 3, 2, 4, 64, false), st(Er, 8, 3, 2, 4, 96, false),
    st(Ir, 16, 3, 2, 4, 192, true), st(Ir, 24, 3, 1, 6, 256, true), st(Ir, 32, 3, 2, 6, 512, true),
    st(Ir, 8, 3, 1, 6, 640, true),
];

const fn fam(
    stages: &'static [StageDef],
    stem: usize,
    act: Activation,
    lite: bool,
    round_limit: f64,
) -> Family {
    Family {
        stages,
        stem,
        head: 1280,
        act,
        fixed_ends: lite,
        fix_first_last: lite,
        round_limit,
    }
}

const EFFNET: Family = fam(&B_STAGES, 32, Activation::Silu, false, 0.9);
const LITE: Family = fam(&LITE_STAGES, 32, Activation::Relu6, true, 0.9);
const V2_BASE: Family = fam(&V2_BASE_STAGES, 32, Activation::Silu, false, 0.0);
const V2_S: Family = fam(&V2_S_STAGES, 24, Activation::Silu, false, 0.9);
const V2_M: Family = fam(&V2_M_STAGES, 24, Activation::Silu, false, 0.9);
const V2_L: Family = fam(&V2_L_STAGES, 32, Activation::Silu, false, 0.9);
const V2_XL: Family = fam(&V2_XL_STAGES, 32, Activation::Silu, false, 0.9);

const fn var(key: &'static str, family: &'static Family, width: f64, depth: f64) -> Variant {
    Variant {
        key,
        family,
        width,
        depth,
    }
}

#[rustfmt::skip]
const VARIANTS: &[Variant] = &[
    var("b0", &EFFNET, 1.0, 1.0), var("b1", &EFFNET, 1.0, 1.1),
    var("b2", &EFFNET, 1.1, 1.2), var("b3", &EFFNET, 1.2, 1.4),
    var("b4", &EFFNET, 1.4, 1.8), var("b5", &EFFNET, 1.6, 2.2),
    var("b6", &EFFNET, 1.8, 2.6), var("b7", &EFFNET, 2.0, 3.1),
    var("b8", &EFFNET, 2.2, 3.6), var("l2", &EFFNET, 4.3, 5.3),
    var("lite0", &LITE, 1.0, 1.0), var("lite1", &LITE, 1.0, 1.1),
    var("lite2", &LITE, 1.1, 1.2), var("lite3", &LITE, 1.2, 1.4),
    var("lite4", &LITE, 1.4, 1.8),
    var("v2_b0", &V2_BASE, 1.0, 1.0), var("v2_b1", &V2_BASE, 1.0, 1.1),
    var("v2_b2", &V2_BASE, 1.1, 1.2), var("v2_b3", &V2_BASE, 1.2, 1.4),
    var("v2_s", &V2_S, 1.0, 1.0), var("v2_m", &V2_M, 1.0, 1.0),
    var("v2_l", &V2_L, 1.0, 1.0), var("v2_xl", &V2_XL, 1.0, 1.0),
];

/// timm `tf_*`: TensorFlow SAME padding, BN eps 1e-3 (`BN_EPS_TF_DEFAULT`).
const TF: Conv = Conv(Padding::Same, 1e-3);
/// PyTorch defaults: symmetric padding, BN eps 1e-5.
const PT: Conv = Conv(Padding::Symmetric, 1e-5);
/// torchvision B5–B7 and all V2 pass `BatchNorm2d(eps=1e-3)`.
const PT3: Conv = Conv(Padding::Symmetric, 1e-3);

const fn e(name: &'static str, source: Source, variant: &'static str, conv: Conv) -> Entry {
    Entry {
        name,
        source,
        variant,
        conv,
    }
}

// timm rows come first so that a name both libraries use resolves to timm by default.
#[rustfmt::skip]
const ENTRIES: &[Entry] = &[
    e("tf_efficientnet_b0", Timm, "b0", TF), e("tf_efficientnet_b1", Timm, "b1", TF),
    e("tf_efficientnet_b2", Timm, "b2", TF), e("tf_efficientnet_b3", Timm, "b3", TF),
    e("tf_efficientnet_b4", Timm, "b4", TF), e("tf_efficientnet_b5", Timm, "b5", TF),
    e("tf_efficientnet_b6", Timm, "b6", TF), e("tf_efficientnet_b7", Timm, "b7", TF),
    e("tf_efficientnet_b8", Timm, "b8", TF), e("tf_efficientnet_l2", Timm, "l2", TF),
    e("efficientnet_b0", Timm, "b0", PT), e("efficientnet_b1", Timm, "b1", PT),
    e("efficientnet_b2", Timm, "b2", PT), e("efficientnet_b3", Timm, "b3", PT),
    e("efficientnet_b4", Timm, "b4", PT), e("efficientnet_b5", Timm, "b5", PT),
    e("efficientnet_b6", Timm, "b6", PT), e("efficientnet_b7", Timm, "b7", PT),
    e("efficientnet_b8", Timm, "b8", PT), e("efficientnet_l2", Timm, "l2", PT),
    e("tf_efficientnet_lite0", Timm, "lite0", TF), e("tf_efficientnet_lite1", Timm, "lite1", TF),
    e("tf_efficientnet_lite2", Timm, "lite2", TF), e("tf_efficientnet_lite3", Timm, "lite3", TF),
    e("tf_efficientnet_lite4", Timm, "lite4", TF),
    e("efficientnet_lite0", Timm, "lite0", PT), e("efficientnet_lite1", Timm, "lite1", PT),
    e("efficientnet_lite2", Timm, "lite2", PT), e("efficientnet_lite3", Timm, "lite3", PT),
    e("efficientnet_lite4", Timm, "lite4", PT),
    e("tf_efficientnetv2_b0", Timm, "v2_b0", TF), e("tf_efficientnetv2_b1", Timm, "v2_b1", TF),
    e("tf_efficientnetv2_b2", Timm, "v2_b2", TF), e("tf_efficientnetv2_b3", Timm, "v2_b3", TF),
    e("tf_efficientnetv2_s", Timm, "v2_s", TF), e("tf_efficientnetv2_m", Timm, "v2_m", TF),
    e("tf_efficientnetv2_l", Timm, "v2_l", TF), e("tf_efficientnetv2_xl", Timm, "v2_xl", TF),
    // timm has no non-tf V2 B0-B3.
    e("efficientnetv2_s", Timm, "v2_s", PT), e("efficientnetv2_m", Timm, "v2_m", PT),
    e("efficientnetv2_l", Timm, "v2_l", PT), e("efficientnetv2_xl", Timm, "v2_xl", PT),
    // torchvision B5-B7 and all V2 pass `BatchNorm2d(eps=1e-3)`.
    e("efficientnet_b0", Tv, "b0", PT), e("efficientnet_b1", Tv, "b1", PT),
    e("efficientnet_b2", Tv, "b2", PT), e("efficientnet_b3", Tv, "b3", PT),
    e("efficientnet_b4", Tv, "b4", PT), e("efficientnet_b5", Tv, "b5", PT3),
    e("efficientnet_b6", Tv, "b6", PT3), e("efficientnet_b7", Tv, "b7", PT3),
    e("efficientnet_v2_s", Tv, "v2_s", PT3), e("efficientnet_v2_m", Tv, "v2_m", PT3),
    e("efficientnet_v2_l", Tv, "v2_l", PT3),
];

/// Every name `resolve` accepts; a name both libraries use appears once bare (timm, the
/// default) and once as `torchvision:NAME`; mmpretrain's, MindSpore Vision's and mindcv's
/// with their prefix (`mmpretrain:efficientnet-b0_3rdparty_8xb32_in1k`).
pub fn known_names() -> Vec<String> {
    let frameworks =
        super::frameworks::framework_models().map(|m| format!("{}:{}", m.source.prefix(), m.name));
    ENTRIES
        .iter()
        .map(|en| {
            let shadowed = en.source == Tv
                && ENTRIES
                    .iter()
                    .any(|o| o.source == Timm && o.name == en.name);
            match shadowed {
                true => format!("torchvision:{}", en.name),
                false => en.name.to_string(),
            }
        })
        .chain(frameworks)
        .collect()
}

/// The name `resolve` maps back to exactly this model: `torchvision:NAME` where timm has a
/// model of the same name.
pub fn qualified_name(arch: &Arch) -> String {
    if arch.source.key_names() != arch.source {
        return format!("{}:{}", arch.source.prefix(), arch.name);
    }
    let shadowed = arch.source == Tv
        && ENTRIES
            .iter()
            .any(|o| o.source == Timm && o.name == arch.name);
    if shadowed {
        format!("torchvision:{}", arch.name)
    } else {
        arch.name.clone()
    }
}

/// The architecture behind a model name. A `timm:` or `torchvision:` prefix picks the
/// library (it wins over `source`); otherwise `source`, otherwise timm where both have it.
pub fn resolve(name: &str, source: Option<Source>) -> Result<Arch> {
    let unknown = || Error::UnknownModel {
        name: name.to_string(),
        suggestion: closest(name).map_or(String::new(), |n| format!(" (did you mean '{n}'?)")),
        known: known_names().join(", "),
    };
    let lowered = name.trim().to_ascii_lowercase().replace('-', "_");
    let (prefix, bare) = match lowered.split_once(':') {
        Some(("timm", rest)) => (Some(Timm), rest),
        Some(("torchvision" | "tv", rest)) => (Some(Tv), rest),
        Some(("mmpretrain", rest)) => (Some(Source::Mmpretrain), rest),
        Some(("mindvision", rest)) => (Some(Source::MindVision), rest),
        Some(("mindcv", rest)) => (Some(Source::MindCv), rest),
        Some(_) => return Err(unknown()),
        None => (None, lowered.as_str()),
    };
    let wanted = prefix.or(source);
    let entry = ENTRIES
        .iter()
        .find(|en| en.name == bare && wanted.is_none_or(|w| w == en.source));
    let Some(entry) = entry else {
        // A framework's own name; a bare one only where no timm or torchvision name is the same.
        let framework = wanted.filter(|w| w.key_names() != *w);
        return match super::frameworks::find(bare, framework) {
            Some(m) if framework.is_some() || prefix.is_none() => {
                let network = resolve(&m.network, Some(m.network_source))?;
                super::frameworks::arch_of(&m, network)
            }
            _ => Err(unknown()),
        };
    };
    let variant = VARIANTS
        .iter()
        .find(|v| v.key == entry.variant)
        .expect("every ENTRIES row names a row of VARIANTS");
    let pretrained = super::pretrained::pretrained(entry.name, entry.source)
        .expect("every ENTRIES row has a row in preprocess.tsv (tested)");
    Ok(build(entry, variant, &pretrained))
}

/// The known name nearest to `name` by edit distance, where it is near enough to be a typo
/// (at most a third of the name's characters differ).
fn closest(name: &str) -> Option<String> {
    let name = name.trim().to_ascii_lowercase().replace('-', "_");
    let distance = |b: &str| -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in name.chars().enumerate() {
            let mut prev = row[0];
            row[0] = i + 1;
            for (j, &cb) in b.iter().enumerate() {
                let here = (prev + usize::from(ca != cb))
                    .min(row[j] + 1)
                    .min(row[j + 1] + 1);
                prev = row[j + 1];
                row[j + 1] = here;
            }
        }
        row[b.len()]
    };
    known_names()
        .into_iter()
        .map(|n| (distance(&n), n))
        .min()
        .filter(|(d, _)| *d * 3 <= name.len())
        .map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_names_a_variant_and_every_name_resolves() {
        for name in known_names() {
            let arch = resolve(&name, None).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                name.ends_with(&arch.name),
                "{name} resolved to {}",
                arch.name
            );
        }
    }
}
