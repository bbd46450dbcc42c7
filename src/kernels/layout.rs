//! How a session stores its activation tensors, a choice of the whole session (every op
//! reads what the op before it wrote): channel planes (NCHW, every family's default) or
//! channels last (NHWC, the GPU family's `Tuning::gpu_layout`), where each pixel holds its
//! channels padded with zeros to a multiple of 4 so that a lane reads or stores 4 channels
//! as one vec4 (and, in packed f16, as two whole words). In NHWC a 1×1 convolution is a
//! plain GEMM with contiguous K and a depthwise conv reads vec4s of channels.
//!
//! Not every tensor is an activation: the SE partial sums (`[n, c, 1, partials]`) and the
//! SE gates (`[n, c]`) are per-channel vectors, stored alike in both layouts, so the SE
//! kernels serve both. The classifier's output is an activation of 1×1 planes (in NHWC,
//! `[n, classes rounded up to 4]`). A model's input stays NCHW: its stem reads it so and
//! writes NHWC (`input_stays_nchw`). The host converts the rest at the edges: an input that
//! other ops read (a one-op test graph's) is uploaded NHWC, and everything read back
//! (logits, stage outputs) comes back NCHW (`to_nhwc`, `from_nhwc`).

use crate::graph::{Graph, Op, Shape, TensorId};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// The order of an activation tensor's values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Layout {
    /// `[n, c, h, w]`: channel planes.
    #[default]
    Nchw,
    /// `[n, h, w, c4]`: channels last, `c4` = c rounded up to 4 (zeros past c).
    Nhwc,
}

/// Every layout.
pub(crate) const BOTH: &[Layout] = &[Layout::Nchw, Layout::Nhwc];
/// Channel planes only.
pub(crate) const NCHW: &[Layout] = &[Layout::Nchw];
/// Channels last only.
pub(crate) const NHWC: &[Layout] = &[Layout::Nhwc];

impl Layout {
    /// Its name in reports and tuning caches.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Nchw => "nchw",
            Layout::Nhwc => "nhwc",
        }
    }
}

/// Channels an NHWC pixel holds for `c` channels.
pub(crate) fn padded_channels(c: usize) -> usize {
    c.next_multiple_of(4)
}

/// Whether `g`'s input stays NCHW in an NHWC session: where only dense convs read it (a
/// model's stem), which then read it NCHW and write NHWC, so the input goes up as the
/// caller holds it (from the host or from the caller's GPU buffer) and the stem converts.
pub(crate) fn input_stays_nchw(g: &Graph) -> bool {
    let reads_input = |op: &&Op| crate::graph::plan::uses(op).0.contains(&g.input);
    g.ops
        .iter()
        .filter(reads_input)
        .all(|op| matches!(op, Op::Conv(_)))
}

/// Whether each tensor of `g` is an activation (stored in the session's layout) rather than
/// a per-channel vector (SE sums and SE gates), or the input a stem reads NCHW
/// (`input_stays_nchw`).
fn activations(g: &Graph) -> Vec<bool> {
    let mut is_activation = vec![true; g.shapes.len()];
    is_activation[g.input] = !input_stays_nchw(g);
    for op in &g.ops {
        let vectors = match op {
            Op::Depthwise(d) => d.se_sums.into_iter().collect(),
            Op::ExpandDepthwise(f) => f.depthwise.se_sums.into_iter().collect(),
            Op::SeExcite(e) => vec![e.sums, e.gate],
            Op::Conv(_) | Op::Pointwise(_) | Op::PoolClassify(_) | Op::ConvProject(_) => vec![],
        };
        vectors.into_iter().for_each(|t| is_activation[t] = false);
    }
    is_activation
}

/// How each tensor of a session is stored, for the host's conversions at its edges: the
/// input it uploads and the tensors it reads back.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Stored {
    pub layout: Layout,
    /// Whether each tensor is an activation (`activations`).
    activation: Vec<bool>,
}

impl Stored {
    pub(crate) fn new(g: &Graph, layout: Layout) -> Stored {
        let activation = activations(g);
        Stored { layout, activation }
    }

    /// Whether tensor `t` is stored NHWC.
    pub(crate) fn nhwc(&self, t: TensorId) -> bool {
        self.layout == Layout::Nhwc && self.activation[t]
    }

    /// Values tensor `t` of `shape` holds on the GPU: NHWC activations pad their channels
    /// (`padded_channels`).
    pub(crate) fn len(&self, t: TensorId, s: Shape) -> usize {
        match self.nhwc(t) {
            true => s.n * s.h * s.w * padded_channels(s.c),
            false => s.len(),
        }
    }

    /// NCHW `values` of tensor `t` as the GPU stores them.
    pub(crate) fn to_gpu<'a>(&self, t: TensorId, s: Shape, values: &'a [f32]) -> Cow<'a, [f32]> {
        match self.nhwc(t) {
            true => Cow::Owned(to_nhwc(values, s)),
            false => Cow::Borrowed(values),
        }
    }

    /// Tensor `t`'s `values` as the GPU stores them, back as NCHW.
    pub(crate) fn to_host(&self, t: TensorId, s: Shape, values: Vec<f32>) -> Vec<f32> {
        match self.nhwc(t) {
            true => from_nhwc(&values, s),
            false => values,
        }
    }
}

/// NCHW values of `shape` as NHWC with channels padded to 4 (zeros).
pub(crate) fn to_nhwc(nchw: &[f32], shape: Shape) -> Vec<f32> {
    let Shape { n, c, h, w } = shape;
    let (hw, c4) = (h * w, padded_channels(c));
    let mut out = vec![0.0; n * hw * c4];
    for (plane, values) in nchw.chunks(hw.max(1)).enumerate().take(n * c) {
        let (image, ch) = (plane / c, plane % c);
        for (q, &v) in values.iter().enumerate() {
            out[(image * hw + q) * c4 + ch] = v;
        }
    }
    out
}

/// NHWC values of `shape` (channels padded to 4) back as NCHW, the padding dropped.
pub(crate) fn from_nhwc(nhwc: &[f32], shape: Shape) -> Vec<f32> {
    let Shape { n, c, h, w } = shape;
    let (hw, c4) = (h * w, padded_channels(c));
    let mut out = vec![0.0; shape.len()];
    for (plane, values) in out.chunks_mut(hw.max(1)).enumerate().take(n * c) {
        let (image, ch) = (plane / c, plane % c);
        for (q, v) in values.iter_mut().enumerate() {
            *v = nhwc[(image * hw + q) * c4 + ch];
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In B0 at batch 2, 224×224: the input stays NCHW (the stem alone reads it), SE sums
    /// and gates are vectors, every other tensor pads its channels to 4 in NHWC (the
    /// logits, 1000 classes, need none); in NCHW nothing changes.
    #[test]
    fn b0_stores_activations_nhwc_and_vectors_as_they_are() {
        let arch = crate::model::variants::resolve("efficientnet_b0", None).unwrap();
        let g = crate::kernels::lower(&arch, 2, 224, 224).unwrap();
        assert!(input_stays_nchw(&g));
        let (nchw, nhwc) = (Stored::new(&g, Layout::Nchw), Stored::new(&g, Layout::Nhwc));
        let mut vectors = vec![g.input];
        for op in &g.ops {
            if let Op::SeExcite(e) = op {
                vectors.extend([e.sums, e.gate]);
            }
        }
        for (t, &s) in g.shapes.iter().enumerate() {
            assert_eq!(nchw.len(t, s), s.len());
            let padded = s.n * s.h * s.w * padded_channels(s.c);
            let expected = if vectors.contains(&t) {
                s.len()
            } else {
                padded
            };
            assert_eq!(nhwc.len(t, s), expected, "tensor {t} {s:?}");
        }
        assert_eq!(nhwc.len(g.logits, g.shapes[g.logits]), 2 * 1000);
    }

    /// A tensor of channels not a multiple of 4 goes to NHWC with zero padding and comes
    /// back unchanged.
    #[test]
    fn nhwc_round_trip_pads_with_zeros() {
        let shape = Shape {
            n: 2,
            c: 3,
            h: 1,
            w: 2,
        };
        let nchw: Vec<f32> = (1..=12).map(|v| v as f32).collect();
        let nhwc = to_nhwc(&nchw, shape);
        let first_pixels = [1.0, 3.0, 5.0, 0.0, 2.0, 4.0, 6.0, 0.0];
        assert_eq!(&nhwc[..8], &first_pixels);
        assert_eq!(nhwc.len(), 16);
        assert_eq!(from_nhwc(&nhwc, shape), nchw);
    }
}
