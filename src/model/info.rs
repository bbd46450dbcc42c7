//! Size and cost of an `Arch` at a given input size: parameters, multiply-adds, activation
//! memory and a per-stage summary, for `effnet info` (table or JSON).
//!
//! Conventions, chosen to match what timm / torchvision report:
//! - `params`: conv weights, BN gamma and beta, SE weights and biases, classifier weight and
//!   bias. BN running statistics are buffers, not parameters, and are not counted.
//! - `macs`: multiply-adds of convolutions (`out_h * out_w * out_c * in_c / groups * k * k`) and
//!   linear layers (SE FCs, classifier) for ONE image. Pooling, activations, the SE scale
//!   and residual adds are elementwise and left out.
//! - Memory is for the whole batch in f32: `stage_output_bytes` sums the tensors reported per
//!   stage (stem, every stage, head). `peak_activation_bytes` is the largest set of tensors
//!   live at once when each layer reads one buffer and writes a fresh one: its input, its
//!   output and, inside a residual block, the block input kept for the add.

use super::arch::{Arch, Block, ConvLayer, Padding, PreprocessSpec, Source};

/// One row of the summary: the stem, a stage of blocks or the head.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct StageInfo {
    /// Name of the stage output in the source library (`blocks.3`, `features.4`).
    pub name: String,
    /// `Conv` for stem and head, else the block kind (`InvertedResidual`, ...).
    pub kind: String,
    /// Kernel of the spatial conv (depthwise, or the dense k×k conv).
    pub kernel: usize,
    /// Stride of the first block; the others have stride 1.
    pub stride: usize,
    /// Expanded / input channels of the first block (1 without expansion).
    pub expansion: f32,
    /// Whether its blocks have squeeze-and-excitation.
    pub se: bool,
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Blocks in the stage (1 for stem and head).
    pub repeats: usize,
    /// `[N, C, H, W]` of the stage output.
    pub output_shape: [usize; 4],
    /// Parameters.
    pub params: u64,
    /// Per image.
    pub macs: u64,
}

/// Size and cost of a model at one input size (`effnet info`); see the module docs for what
/// is counted.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ModelInfo {
    /// Canonical name.
    pub name: String,
    /// The library it follows.
    pub source: Source,
    /// How its convolutions pad.
    pub padding: Padding,
    /// Batch-norm epsilon.
    pub bn_eps: f64,
    /// Default evaluation resolution of the checkpoints.
    pub resolution: usize,
    /// Its evaluation transform.
    pub preprocess: PreprocessSpec,
    /// `[N, 3, H, W]`.
    pub input_shape: [usize; 4],
    /// Parameters (BN running statistics excluded).
    pub params: u64,
    /// Multiply-adds for one image.
    pub macs: u64,
    /// f32 bytes of the parameters.
    pub weight_bytes: u64,
    /// f32 bytes of every stage output, for the whole batch.
    pub stage_output_bytes: u64,
    /// f32 bytes live at once at the peak, for the whole batch.
    pub peak_activation_bytes: u64,
    /// Classes (0 without a classifier).
    pub classes: usize,
    /// One row per stem, stage and head.
    pub stages: Vec<StageInfo>,
}

/// A feature map of one image.
#[derive(Clone, Copy, Debug)]
struct Map {
    c: usize,
    h: usize,
    w: usize,
}

/// Walks the network in execution order, accumulating costs.
struct Walk {
    padding: Padding,
    batch: usize,
    cur: Map,
    peak: u64,
}

impl Walk {
    fn bytes(&self, m: Map) -> u64 {
        (self.batch * m.c * m.h * m.w * 4) as u64
    }

    /// Runs one conv on `self.cur`; `held` is extra live memory (a residual input).
    fn conv(&mut self, l: &ConvLayer, held: u64) -> (u64, u64) {
        let (h, _) = self.padding.resolve(self.cur.h, l.k, l.stride);
        let (w, _) = self.padding.resolve(self.cur.w, l.k, l.stride);
        let out = Map { c: l.out_c, h, w };
        self.peak = self.peak.max(self.bytes(self.cur) + self.bytes(out) + held);
        self.cur = out;
        let per_out = (l.k * l.k * if l.depthwise { 1 } else { l.in_c }) as u64;
        let params = per_out * l.out_c as u64 + 2 * l.out_c as u64;
        (params, per_out * (l.out_c * h * w) as u64)
    }

    fn block(&mut self, b: &Block) -> (u64, u64) {
        let input = self.bytes(self.cur);
        let (mut params, mut macs) = (0, 0);
        for (idx, l) in b.layers().enumerate() {
            // The first layer reads the block input itself; later ones run while it is kept.
            let held = if b.residual && idx > 0 { input } else { 0 };
            let (p, m) = self.conv(l, held);
            params += p;
            macs += m;
        }
        if let Some(se) = &b.se {
            let fc = (se.channels * se.reduced) as u64;
            params += 2 * fc + (se.channels + se.reduced) as u64;
            macs += 2 * fc;
        }
        (params, macs)
    }

    fn shape(&self) -> [usize; 4] {
        [self.batch, self.cur.c, self.cur.h, self.cur.w]
    }
}

/// Summary of `arch` for a `batch × 3 × height × width` input.
pub fn info(arch: &Arch, height: usize, width: usize, batch: usize) -> ModelInfo {
    let input = Map {
        c: 3,
        h: height,
        w: width,
    };
    let mut walk = Walk {
        padding: arch.padding,
        batch,
        cur: input,
        peak: 0,
    };
    let mut rows = vec![conv_row(&mut walk, &arch.stem_name, &arch.stem)];
    for stage in &arch.stages {
        let in_c = walk.cur.c;
        let (mut params, mut macs) = (0, 0);
        for b in &stage.blocks {
            let (p, m) = walk.block(b);
            params += p;
            macs += m;
        }
        let first = &stage.blocks[0];
        let spatial = first
            .depthwise
            .as_ref()
            .or(first.expand.as_ref())
            .expect("a block has a spatial conv");
        let expansion = match (&first.expand, &first.depthwise) {
            (Some(ex), _) if first.project.is_some() => ex.out_c as f32 / ex.in_c as f32,
            _ => 1.0,
        };
        rows.push(StageInfo {
            name: stage.name.clone(),
            kind: first.kind.name().into(),
            kernel: spatial.k,
            stride: first.stride(),
            expansion,
            se: first.se.is_some(),
            in_channels: in_c,
            out_channels: walk.cur.c,
            repeats: stage.blocks.len(),
            output_shape: walk.shape(),
            params,
            macs,
        });
    }
    rows.push(conv_row(&mut walk, &arch.head_name, &arch.head));
    let classes = arch.num_classes();
    let fc_macs = (arch.head.out_c * classes) as u64;
    let params = rows.iter().map(|r| r.params).sum::<u64>() + fc_macs + classes as u64;
    let stage_output_bytes = rows
        .iter()
        .map(|r| 4 * r.output_shape.iter().product::<usize>() as u64)
        .sum();
    ModelInfo {
        name: arch.name.clone(),
        source: arch.source,
        padding: arch.padding,
        bn_eps: arch.bn_eps,
        resolution: arch.resolution,
        preprocess: arch.preprocess,
        input_shape: [batch, 3, height, width],
        params,
        macs: rows.iter().map(|r| r.macs).sum::<u64>() + fc_macs,
        weight_bytes: 4 * params,
        stage_output_bytes,
        peak_activation_bytes: walk.peak,
        classes,
        stages: rows,
    }
}

fn conv_row(walk: &mut Walk, name: &str, l: &ConvLayer) -> StageInfo {
    let in_c = walk.cur.c;
    let (params, macs) = walk.conv(l, 0);
    StageInfo {
        name: name.to_string(),
        kind: "conv".into(),
        kernel: l.k,
        stride: l.stride,
        expansion: 1.0,
        se: false,
        in_channels: in_c,
        out_channels: l.out_c,
        repeats: 1,
        output_shape: walk.shape(),
        params,
        macs,
    }
}

/// Human-readable summary: a header and one line per stage.
pub fn format_table(info: &ModelInfo) -> String {
    let [n, c, h, w] = info.input_shape;
    let mut out = format!(
        "{} ({:?}, padding {:?}, BN eps {:e}), input {n}x{c}x{h}x{w}, default resolution {}\n\
         params {} ({:.1} MiB f32)   MACs {:.3} G per image   stage outputs {:.1} MiB   peak activations {:.1} MiB\n\
         preprocess: {} resize to resolution / crop_pct {}, mean {:?} std {:?}\n\n",
        info.name,
        info.source,
        info.padding,
        info.bn_eps,
        info.resolution,
        thousands(info.params),
        mib(info.weight_bytes),
        info.macs as f64 / 1e9,
        mib(info.stage_output_bytes),
        mib(info.peak_activation_bytes),
        info.preprocess.interpolation.name(),
        info.preprocess.crop_pct,
        info.preprocess.mean,
        info.preprocess.std,
    );
    out += &format!(
        "{:<12} {:<19} {:>2} {:>2} {:>4} {:>3} {:>5} {:>5} {:>4} {:>20} {:>12} {:>9}\n",
        "stage", "block", "k", "s", "exp", "se", "in", "out", "rep", "output", "params", "MMACs"
    );
    for r in &info.stages {
        let [n, c, h, w] = r.output_shape;
        out += &format!(
            "{:<12} {:<19} {:>2} {:>2} {:>4} {:>3} {:>5} {:>5} {:>4} {:>20} {:>12} {:>9.1}\n",
            r.name,
            r.kind,
            r.kernel,
            r.stride,
            format!("{}", r.expansion),
            if r.se { "yes" } else { "no" },
            r.in_channels,
            r.out_channels,
            r.repeats,
            format!("{n}x{c}x{h}x{w}"),
            thousands(r.params),
            r.macs as f64 / 1e6,
        );
    }
    out += &format!(
        "classifier: linear {} -> {}\n",
        info.stages.last().map_or(0, |r| r.out_channels),
        info.classes
    );
    out
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// `5288548` -> `5,288,548`.
fn thousands(v: u64) -> String {
    let digits = v.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
