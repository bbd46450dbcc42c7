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

use super::arch::{Arch, Block, ConvLayer, Padding, PreprocessSpec, Source, Stage};
use crate::{Error, Result};

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

/// Walks the network in execution order, accumulating costs. The counts grow with the input
/// size that a caller chooses, so every product saturates and sets `overflowed` instead of
/// wrapping: a wrapped count would print as a small, plausible and false number.
struct Walk {
    padding: Padding,
    batch: usize,
    cur: Map,
    peak: u64,
    overflowed: bool,
}

/// Spatial sizes above this surely overflow the byte counts (at least `4 * MAX_SIDE` bytes);
/// capping them keeps `Padding::resolve`'s additions from overflowing.
const MAX_SIDE: usize = usize::MAX / 8;

impl Walk {
    fn mul(&mut self, a: u64, b: u64) -> u64 {
        a.checked_mul(b).unwrap_or_else(|| {
            self.overflowed = true;
            u64::MAX
        })
    }

    fn add(&mut self, a: u64, b: u64) -> u64 {
        a.checked_add(b).unwrap_or_else(|| {
            self.overflowed = true;
            u64::MAX
        })
    }

    /// The product of `dims`, saturating.
    fn product(&mut self, dims: &[usize]) -> u64 {
        dims.iter().fold(1, |acc, &d| self.mul(acc, d as u64))
    }

    fn bytes(&mut self, m: Map) -> u64 {
        self.product(&[self.batch, m.c, m.h, m.w, 4])
    }

    /// Runs one conv on `self.cur`; `held` is extra live memory (a residual input).
    fn conv(&mut self, l: &ConvLayer, held: u64) -> (u64, u64) {
        let side = |n: usize, walk: &mut Walk| match n {
            0 => 0, // an empty input stays empty (and `resolve` would step below 0)
            n => {
                walk.overflowed |= n > MAX_SIDE;
                walk.padding.resolve(n.min(MAX_SIDE), l.k, l.stride).0
            }
        };
        let (h, w) = (side(self.cur.h, self), side(self.cur.w, self));
        let out = Map { c: l.out_c, h, w };
        let (input, output) = (self.bytes(self.cur), self.bytes(out));
        let live = self.add(input, output);
        let live = self.add(live, held);
        self.peak = self.peak.max(live);
        self.cur = out;
        let per_out = (l.k * l.k * if l.depthwise { 1 } else { l.in_c }) as u64;
        let params = per_out * l.out_c as u64 + 2 * l.out_c as u64;
        let outputs = self.product(&[l.out_c, h, w]);
        (params, self.mul(per_out, outputs))
    }

    fn block(&mut self, b: &Block) -> (u64, u64) {
        let input = self.bytes(self.cur);
        let (mut params, mut macs) = (0, 0);
        for (idx, l) in b.layers().enumerate() {
            // The first layer reads the block input itself; later ones run while it is kept.
            let held = if b.residual && idx > 0 { input } else { 0 };
            let (p, m) = self.conv(l, held);
            params += p;
            macs = self.add(macs, m);
        }
        if let Some(se) = &b.se {
            let fc = (se.channels * se.reduced) as u64;
            params += 2 * fc + (se.channels + se.reduced) as u64;
            macs = self.add(macs, 2 * fc);
        }
        (params, macs)
    }

    fn shape(&self) -> [usize; 4] {
        [self.batch, self.cur.c, self.cur.h, self.cur.w]
    }
}

/// Like [`info`], but an input so large that a count (bytes, multiply-adds) overflows 64 bits
/// is an error naming the largest square resolution that can be counted, instead of a
/// summary with saturated counts.
pub fn try_info(arch: &Arch, height: usize, width: usize, batch: usize) -> Result<ModelInfo> {
    if height == 0 || width == 0 {
        return Err(Error::Input(format!(
            "a {height}x{width} input has no pixels; use a resolution of at least 1"
        )));
    }
    let (summary, overflowed) = walk_all(arch, height, width, batch);
    if !overflowed {
        return Ok(summary);
    }
    // Counts grow with the input size, so the largest countable one is found by bisection.
    let fits = |r: usize| !walk_all(arch, r, r, batch).1;
    if !fits(1) {
        return Err(Error::Input(format!(
            "a batch of {batch} needs more bytes than a 64-bit count holds even at 1x1; use a \
             smaller batch"
        )));
    }
    let (mut lo, mut hi) = (1usize, MAX_SIDE);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Err(Error::Input(format!(
        "{} at {height}x{width} with batch {batch} needs more bytes or multiply-adds than a \
         64-bit count holds; the largest square resolution that can be counted at this batch is \
         {lo}: use that or less (and far less to run it)",
        arch.name
    )))
}

/// Summary of `arch` for a `batch × 3 × height × width` input. A count too large for 64 bits
/// (an input far beyond any device) saturates at `u64::MAX`; [`try_info`] refuses it instead.
pub fn info(arch: &Arch, height: usize, width: usize, batch: usize) -> ModelInfo {
    walk_all(arch, height, width, batch).0
}

/// The summary, and whether any count saturated.
fn walk_all(arch: &Arch, height: usize, width: usize, batch: usize) -> (ModelInfo, bool) {
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
        overflowed: false,
    };
    let mut rows = vec![conv_row(&mut walk, &arch.stem_name, &arch.stem)];
    rows.extend(arch.stages.iter().map(|stage| stage_row(&mut walk, stage)));
    rows.push(conv_row(&mut walk, &arch.head_name, &arch.head));
    let classes = arch.num_classes();
    let fc_macs = (arch.head.out_c * classes) as u64;
    let params = rows.iter().map(|r| r.params).sum::<u64>() + fc_macs + classes as u64;
    let mut stage_output_bytes = 0;
    let mut macs = fc_macs;
    for r in &rows {
        let bytes = walk.product(&r.output_shape);
        let bytes = walk.mul(4, bytes);
        stage_output_bytes = walk.add(stage_output_bytes, bytes);
        macs = walk.add(macs, r.macs);
    }
    let summary = ModelInfo {
        name: arch.name.clone(),
        source: arch.source,
        padding: arch.padding,
        bn_eps: arch.bn_eps,
        resolution: arch.resolution,
        preprocess: arch.preprocess,
        input_shape: [batch, 3, height, width],
        params,
        macs,
        weight_bytes: 4 * params,
        stage_output_bytes,
        peak_activation_bytes: walk.peak,
        classes,
        stages: rows,
    };
    (summary, walk.overflowed)
}

/// The row of one stage, walked block by block from `walk`'s current map.
fn stage_row(walk: &mut Walk, stage: &Stage) -> StageInfo {
    let in_c = walk.cur.c;
    let (mut params, mut macs) = (0, 0);
    for b in &stage.blocks {
        let (p, m) = walk.block(b);
        params += p;
        macs = walk.add(macs, m);
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
    StageInfo {
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
         preprocess: {}, mean {:?} std {:?}\n\n",
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
        info.preprocess.describe(),
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
