//! Turns a row of `variants.rs` into an `Arch`: the shape of those rows, the scaling rules
//! (channel rounding, depth ceiling) and the state-dict key names of each library. The row
//! types live here, not beside the tables, so that the tables depend on the rules and not
//! the other way round.

use super::arch::{
    Activation, Arch, Block, BlockKind, ConvKeys, ConvLayer, Linear, Padding, SeLayer, Source,
    Stage,
};
use super::pretrained::Pretrained;
use BlockKind::{
    ConvBnAct as Cn, DepthwiseSeparable as Ds, EdgeResidual as Er, InvertedResidual as Ir,
};
use Source::Timm;

/// One stage of a base (unscaled) network, as in timm's block strings
/// (`ir_r2_k3_s2_e6_c24_se0.25` = Ir, 2 repeats, k3, stride 2, expand 6, 24 out, SE).
#[derive(Clone, Copy, Debug)]
pub(super) struct StageDef {
    pub(super) kind: BlockKind,
    pub(super) repeats: usize,
    pub(super) k: usize,
    pub(super) stride: usize,
    pub(super) expand: usize,
    pub(super) out_c: usize,
    pub(super) se: bool,
}

/// A base network and the rules that scale it.
#[derive(Debug)]
pub(super) struct Family {
    pub(super) stages: &'static [StageDef],
    pub(super) stem: usize,
    pub(super) head: usize,
    pub(super) act: Activation,
    /// Lite keeps stem and head at 32 / 1280 (timm `fix_stem`, unscaled `num_features`).
    pub(super) fixed_ends: bool,
    /// Lite does not deepen its first and last stage (timm `fix_first_last`).
    pub(super) fix_first_last: bool,
    /// timm `round_channels` limit: 0.9 everywhere except the V2 base (B0–B3) models, 0.
    pub(super) round_limit: f64,
}

/// A scaled member of a family: width and depth multipliers.
#[derive(Debug)]
pub(super) struct Variant {
    pub(super) key: &'static str,
    pub(super) family: &'static Family,
    pub(super) width: f64,
    pub(super) depth: f64,
}

/// Padding and BN epsilon of a checkpoint family.
#[derive(Clone, Copy, Debug)]
pub(super) struct Conv(pub(super) Padding, pub(super) f64);

/// A name users know, the variant it is and the conventions of its checkpoints. Its
/// preprocessing and default resolution come from `preprocess.tsv` (`pretrained.rs`).
#[derive(Debug)]
pub(super) struct Entry {
    pub(super) name: &'static str,
    pub(super) source: Source,
    pub(super) variant: &'static str,
    pub(super) conv: Conv,
}

/// The network of `variant` with the conventions of `entry`.
pub(super) fn build(entry: &Entry, variant: &Variant, pretrained: &Pretrained) -> Arch {
    let fam = variant.family;
    let width = |c: usize| make_divisible(c as f64 * variant.width, 8, fam.round_limit);
    let ends = |c: usize| if fam.fixed_ends { c } else { width(c) };
    let (stem_c, head_c) = (ends(fam.stem), ends(fam.head));
    let keys = Keys(entry.source);
    let stem = plain_conv(3, stem_c, 3, 2, fam.act, keys.stem());
    let mut in_c = stem_c;
    let last = fam.stages.len() - 1;
    let mut stages = Vec::with_capacity(fam.stages.len());
    for (s, def) in fam.stages.iter().enumerate() {
        let fixed = fam.fix_first_last && (s == 0 || s == last);
        let depth = if fixed { 1.0 } else { variant.depth };
        // timm `_scale_stage_depth(depth_trunc='ceil')` = torchvision `adjust_depth`.
        let repeats = (def.repeats as f64 * depth).ceil() as usize;
        let out_c = width(def.out_c);
        let mut blocks = Vec::with_capacity(repeats);
        for i in 0..repeats {
            let stride = if i == 0 { def.stride } else { 1 };
            let plan = Plan {
                def,
                in_c,
                out_c,
                stride,
                act: fam.act,
            };
            let at = BlockKeys {
                keys,
                kind: def.kind,
                s,
                i,
                slot: 0,
            };
            blocks.push(make_block(&plan, at));
            in_c = out_c;
        }
        stages.push(Stage {
            name: keys.stage_name(s),
            blocks,
        });
    }
    let (weight, bias) = keys.classifier();
    Arch {
        name: entry.name.to_string(),
        source: entry.source,
        padding: entry.conv.0,
        bn_eps: entry.conv.1,
        resolution: pretrained.resolution,
        stem,
        stem_name: keys.stem_name(),
        head: plain_conv(in_c, head_c, 1, 1, fam.act, keys.head(stages.len())),
        head_name: keys.head_name(stages.len()),
        stages,
        classifier: Some(Linear {
            in_features: head_c,
            out_features: 1000,
            weight,
            bias,
        }),
        preprocess: pretrained.spec,
    }
}

fn plain_conv(
    in_c: usize,
    out_c: usize,
    k: usize,
    stride: usize,
    act: Activation,
    keys: ConvKeys,
) -> ConvLayer {
    ConvLayer {
        in_c,
        out_c,
        k,
        stride,
        depthwise: false,
        act,
        keys,
    }
}

/// One block to build: its stage row and where it sits.
struct Plan<'a> {
    def: &'a StageDef,
    in_c: usize,
    out_c: usize,
    stride: usize,
    act: Activation,
}

/// Layers are created in execution order because torchvision numbers them in that order.
fn make_block(p: &Plan, mut at: BlockKeys) -> Block {
    let (kind, k, act, in_c, out_c) = (p.def.kind, p.def.k, p.act, p.in_c, p.out_c);
    // Both libraries: mid = make_divisible(in * expand); SE reduces to in / 4 (timm rounds
    // `mid * 0.25 / expand`, torchvision floors `in // 4`: equal for these channel counts).
    let mid = make_divisible((in_c * p.def.expand) as f64, 8, 0.9);
    let (expand, depthwise, se_c) = match kind {
        Cn => (
            Some(at.layer(Role::Expand, in_c, out_c, k, p.stride, act)),
            None,
            0,
        ),
        Ds => (
            None,
            Some(at.layer(Role::Depthwise, in_c, in_c, k, p.stride, act)),
            in_c,
        ),
        Ir => {
            let ex = at.layer(Role::Expand, in_c, mid, 1, 1, act);
            (
                Some(ex),
                Some(at.layer(Role::Depthwise, mid, mid, k, p.stride, act)),
                mid,
            )
        }
        Er => (
            Some(at.layer(Role::Expand, in_c, mid, k, p.stride, act)),
            None,
            mid,
        ),
    };
    let se = p.def.se.then(|| {
        let [reduce_weight, reduce_bias, expand_weight, expand_bias] = at.se();
        let reduced = (in_c / 4).max(1);
        SeLayer {
            channels: se_c,
            reduced,
            act,
            reduce_weight,
            reduce_bias,
            expand_weight,
            expand_bias,
        }
    });
    let project =
        (kind != Cn).then(|| at.layer(Role::Project, se_c, out_c, 1, 1, Activation::Identity));
    let residual = p.stride == 1 && in_c == out_c;
    Block {
        kind,
        expand,
        depthwise,
        se,
        project,
        residual,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Expand,
    Depthwise,
    Project,
}

/// State-dict naming of one library: timm's, or torchvision's for every other source (a
/// framework's checkpoints are renamed to their network's names: `Source::key_names`).
#[derive(Clone, Copy, Debug)]
struct Keys(Source);

impl Keys {
    fn stem(self) -> ConvKeys {
        match self.0 {
            Timm => ck("conv_stem.weight".into(), "bn1".into()),
            _ => ck("features.0.0.weight".into(), "features.0.1".into()),
        }
    }
    fn stem_name(self) -> String {
        match self.0 {
            Timm => "stem".into(),
            _ => "features.0".into(),
        }
    }
    fn stage_name(self, s: usize) -> String {
        match self.0 {
            Timm => format!("blocks.{s}"),
            _ => format!("features.{}", s + 1),
        }
    }
    /// torchvision's head is the `Conv2dNormActivation` after the last stage.
    fn head(self, stages: usize) -> ConvKeys {
        match self.0 {
            Timm => ck("conv_head.weight".into(), "bn2".into()),
            _ => ck(
                format!("features.{}.0.weight", stages + 1),
                format!("features.{}.1", stages + 1),
            ),
        }
    }
    fn head_name(self, stages: usize) -> String {
        match self.0 {
            Timm => "head".into(),
            _ => format!("features.{}", stages + 1),
        }
    }
    fn classifier(self) -> (String, String) {
        // torchvision's classifier is Sequential(Dropout, Linear).
        let p = match self.0 {
            Timm => "classifier",
            _ => "classifier.1",
        };
        (format!("{p}.weight"), format!("{p}.bias"))
    }
}

fn ck(weight: String, bn: String) -> ConvKeys {
    ConvKeys { weight, bn }
}

/// Key names inside block `i` of stage `s`. torchvision numbers the sub-modules of
/// `block` (each conv a `Conv2dNormActivation`: `.0` conv, `.1` BN; SE has `fc1`/`fc2`);
/// `slot` counts them. timm names them by role (`_efficientnet_blocks.py`).
#[derive(Clone, Copy, Debug)]
struct BlockKeys {
    keys: Keys,
    kind: BlockKind,
    s: usize,
    i: usize,
    slot: usize,
}

impl BlockKeys {
    /// Prefix of the next sub-module; advances torchvision's counter.
    fn next_prefix(&mut self) -> String {
        self.slot += 1;
        match self.keys.0 {
            Timm => format!("blocks.{}.{}.", self.s, self.i),
            _ => format!(
                "features.{}.{}.block.{}.",
                self.s + 1,
                self.i,
                self.slot - 1
            ),
        }
    }

    /// The next conv of the block, with BN and activation `act`.
    fn layer(
        &mut self,
        role: Role,
        in_c: usize,
        out_c: usize,
        k: usize,
        stride: usize,
        act: Activation,
    ) -> ConvLayer {
        let p = self.next_prefix();
        let (conv, bn) = match self.keys.0 {
            Timm => timm_layer(self.kind, role),
            _ => ("0", "1"),
        };
        let keys = ck(format!("{p}{conv}.weight"), format!("{p}{bn}"));
        let depthwise = role == Role::Depthwise;
        ConvLayer {
            in_c,
            out_c,
            k,
            stride,
            depthwise,
            act,
            keys,
        }
    }

    /// Reduce weight and bias, expand weight and bias of the block's SE.
    fn se(&mut self) -> [String; 4] {
        let p = self.next_prefix();
        let (r, e) = match self.keys.0 {
            Timm => ("se.conv_reduce", "se.conv_expand"),
            _ => ("fc1", "fc2"),
        };
        [
            format!("{p}{r}.weight"),
            format!("{p}{r}.bias"),
            format!("{p}{e}.weight"),
            format!("{p}{e}.bias"),
        ]
    }
}

/// timm module names (conv, bn) of a layer by block kind and role.
fn timm_layer(kind: BlockKind, role: Role) -> (&'static str, &'static str) {
    match (kind, role) {
        (Cn, _) => ("conv", "bn1"),
        (Ds, Role::Depthwise) => ("conv_dw", "bn1"),
        (Ds, _) => ("conv_pw", "bn2"),
        (Ir, Role::Expand) => ("conv_pw", "bn1"),
        (Ir, Role::Depthwise) => ("conv_dw", "bn2"),
        (Ir, Role::Project) => ("conv_pwl", "bn3"),
        (Er, Role::Expand) => ("conv_exp", "bn1"),
        (Er, _) => ("conv_pwl", "bn2"),
    }
}

/// timm `round_channels` / `make_divisible`: nearest multiple of `divisor`, at least
/// `divisor`, bumped up one step if rounding lost more than `1 - round_limit`.
pub fn make_divisible(v: f64, divisor: usize, round_limit: f64) -> usize {
    let mut out = (((v + divisor as f64 / 2.0) as usize) / divisor * divisor).max(divisor);
    if (out as f64) < round_limit * v {
        out += divisor;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn make_divisible_matches_timm() {
        assert_eq!(make_divisible(32.0 * 1.1, 8, 0.9), 32);
        assert_eq!(
            make_divisible(16.0 * 1.2, 8, 0.9),
            24,
            "0.9 limit bumps 19.2 -> 24"
        );
        assert_eq!(make_divisible(16.0 * 1.2, 8, 0.0), 16, "V2 base keeps 16");
        assert_eq!(make_divisible(1280.0 * 4.3, 8, 0.9), 5504);
    }
}
