//! One-op graphs on the shapes EfficientNet-B0 (224) and V2-S (384) really use, for
//! `cargo bench` and the tuner. Each kernel module owns its cases (`kernels::*::cases`), and
//! its test checks every one of them against the CPU reference.

use crate::kernels::{classifier, conv, depthwise, pointwise, se};

pub use crate::kernels::Case;

/// Every kernel on the shapes that dominate B0 and V2-S.
pub fn all() -> Vec<Case> {
    let kernels = [
        conv::cases(),
        pointwise::cases(),
        depthwise::cases(),
        se::cases(),
        classifier::cases(),
    ];
    kernels.into_iter().flatten().collect()
}

/// The shapes the tuner times: pointwise (an early wide-plane expansion, a gated projection,
/// a late narrow-plane expansion), since its channel block is tuned, and a depthwise and a
/// dense conv, since the subgroup choice applies to their weights too.
pub fn tuning_set() -> Vec<Case> {
    vec![
        pointwise::case("b0_expand_16to96_112", 16, 96, 112, false),
        pointwise::case("b0_project_gated_144to24_56", 144, 24, 56, true),
        pointwise::case("b0_expand_192to1152_7", 192, 1152, 7, false),
        depthwise::case("b0_dw3x3s1_c144_56", 144, 56, 3, 1),
        conv::case("b0_stem_3to32_224", 3, 32, 224, 3, 2),
    ]
}
