//! One-op graphs on the shapes EfficientNet-B0 (224) and V2-S (384) really use, for
//! `cargo bench` and the tuner. Each kernel module owns its cases (`kernels::*::cases`), and
//! its test checks every one of them against the CPU reference.

use crate::kernels::ops::{
    classifier, conv, conv_project, depthwise, expand_depthwise, pointwise, se,
};

pub(crate) use crate::kernels::Case;

/// Every kernel on the shapes that dominate B0 and V2-S.
pub fn all() -> Vec<Case> {
    let kernels = [
        conv::cases(),
        pointwise::cases(),
        depthwise::cases(),
        expand_depthwise::cases(),
        conv_project::cases(),
        se::cases(),
        classifier::cases(),
    ];
    kernels.into_iter().flatten().collect()
}

/// The shapes the CPU-family sweep of the tuner times: pointwise (an early wide-plane expansion, a gated projection,
/// a late narrow-plane expansion), since its channel block is tuned, and a depthwise and a
/// dense conv, since the subgroup choice applies to their weights too.
pub(crate) fn tuning_set() -> Vec<Case> {
    vec![
        pointwise::case("b0_expand_16to96_112", 16, 96, 112, false),
        pointwise::case("b0_project_gated_144to24_56", 144, 24, 56, true),
        pointwise::case("b0_expand_192to1152_7", 192, 1152, 7, false),
        depthwise::case("b0_dw3x3s1_c144_56", 144, 56, 3, 1),
        conv::case("b0_stem_3to32_224", 3, 32, 224, 3, 2),
    ]
}

/// The shapes the GPU-family sweep of the tuner times (how many compute units its grids
/// fill): B0's batch-1 layers of every kind, from the wide stem and first depthwise, where
/// any grid has workgroups to spare, to the 7×7 GEMMs, SE and classifier, whose tiles
/// shrink to make workgroups for a big GPU.
pub(crate) fn gpu_tuning_set() -> Vec<Case> {
    vec![
        conv::case("b0_stem_3to32_224", 3, 32, 224, 3, 2),
        depthwise::case("b0_dw3x3s1_c32_112", 32, 112, 3, 1),
        pointwise::case("b0_expand_16to96_112", 16, 96, 112, false),
        depthwise::case("b0_dw5x5s1_c672_14", 672, 14, 5, 1),
        pointwise::case("b0_expand_192to1152_7", 192, 1152, 7, false),
        se::case("b0_se_1152to48", 1152, 48, 7, 5),
        pointwise::case("b0_head_320to1280_7", 320, 1280, 7, false),
        classifier::case("b0_classifier_1280to1000_7", 1280, 7, 1000),
    ]
}

/// The shapes the tuner times the GPU family's fused MBConv kernel on, fused and apart
/// (`Tuning::gpu_fused_blocks`): B0's stem with its first depthwise conv, an early wide
/// plane at stride 2 and a late 14×14 one.
pub fn fused_tuning_set() -> Vec<Case> {
    vec![
        expand_depthwise::stem_case("b0_stem3to32_dw3x3s1_224", 32, 224, 3),
        expand_depthwise::case("b0_e24to144_dw5x5s2_56", 24, 144, 56, 5, 2),
        expand_depthwise::case("b0_e112to672_dw5x5s1_14", 112, 672, 14, 5, 1),
    ]
}

/// The shapes the tuner times the GPU family's fused conv + projection kernel on, fused and
/// apart (`Tuning::gpu_fused_convs`): V2-S's first fused-MBConv block that expands (stride
/// 2, the widest input) and a later one of stage 2 with its residual.
pub fn fused_conv_tuning_set() -> Vec<Case> {
    let mut cases = conv_project::cases();
    // In network order: the first and the last.
    let last = cases.pop().expect("V2-S has fused-MBConv blocks");
    vec![cases.swap_remove(0), last]
}
