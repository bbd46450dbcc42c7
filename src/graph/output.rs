//! What a run of the graph returns, on any device.

use super::ops::Shape;

/// A stage output read back after a run, for a session made with
/// [`SessionOptions::with_capture_stages`](crate::SessionOptions::with_capture_stages).
#[derive(Clone, Debug)]
pub struct StageTensor {
    /// The stage: `stem`, `blocks.0`, ..., `head` (timm's names; torchvision's differ).
    pub name: String,
    /// `[batch, channels, height, width]`.
    pub shape: Shape,
    /// The values, NCHW row-major, as f32 whatever the storage precision.
    pub data: Vec<f32>,
}

/// What a run returns.
#[derive(Clone, Debug)]
pub struct Output {
    /// `[batch, classes]`, row-major: the logits; or, for a session made with
    /// [`OutputKind::Embeddings`](crate::OutputKind::Embeddings) or a model without a
    /// classifier, the pooled features `[batch, channels]`.
    pub logits: Vec<f32>,
    /// Every stage output (stem, each stage, head) when the session captures them.
    pub stages: Vec<StageTensor>,
}
