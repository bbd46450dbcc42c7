//! Model weights on the GPU: one storage buffer per layer, uploaded once per model and
//! shared by every session made from it.

use super::{Gpu, Precision};
use crate::graph::dispatch::CONV_CHANNELS;
use crate::model::ModelWeights;
use crate::model::weights::{ConvKind, ConvWeights, SeWeights};

/// Per-layer weight buffers. Each conv buffer holds `weight ++ bias`; each SE buffer
/// `w1 ++ b1 ++ w2 ++ b2`; the classifier `W ++ b`.
pub struct GpuWeights {
    pub precision: Precision,
    pub convs: Vec<wgpu::Buffer>,
    pub ses: Vec<wgpu::Buffer>,
    pub classifier: wgpu::Buffer,
}

fn upload(gpu: &Gpu, precision: Precision, label: &str, parts: &[&[f32]]) -> wgpu::Buffer {
    let data: Vec<f32> = parts.concat();
    // Whole 16-byte elements for the vec4 view of weights (`wts4`), and at least one: a
    // headless model's classifier has no weights, but a binding may not be empty.
    let mut contents = encode(&data, precision);
    contents.resize(contents.len().max(16).next_multiple_of(16), 0);
    super::create_buffer_init(
        &gpu.device,
        &wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: &contents,
            usage: wgpu::BufferUsages::STORAGE,
        },
    )
}

/// Output channels of a GEMM weight matrix rounded up to 32, the largest channel block one
/// pointwise invocation reads (`CO`), so its vec4 weight loads stay inside the row.
pub fn gemm_rows(out: usize) -> usize {
    out.next_multiple_of(32)
}

/// `[out, in]` → `[in, gemm_rows(out)]` with zero padding, so the pointwise kernel reads
/// four output channels of one input channel as one vec4 (`wts4` in shaders/storage.wgsl).
fn gemm_layout(weight: &[f32], out: usize) -> Vec<f32> {
    let inputs = weight.len() / out.max(1);
    let rows = gemm_rows(out);
    let mut t = vec![0.0; inputs * rows];
    for (co, row) in weight.chunks(inputs.max(1)).enumerate() {
        for (ci, &w) in row.iter().enumerate() {
            t[ci * rows + co] = w;
        }
    }
    t
}

/// Slots per kernel row of a depthwise weight block: the row padded to 8 (whole `shared8`
/// blocks, see shaders/depthwise.wgsl) with at least one slot left for the bias.
pub fn depthwise_row_stride(k: usize) -> usize {
    (k + 1).next_multiple_of(4).max(8)
}

/// `[c, k, k]` + bias → `[c, k, row stride]` with zero padding and channel c's bias in the
/// last slot of its row 0, so one block holds everything an invocation needs.
fn depthwise_layout(weight: &[f32], bias: &[f32], k: usize) -> Vec<f32> {
    let rs = depthwise_row_stride(k);
    let mut t = vec![0.0; bias.len() * k * rs];
    for (c, (taps, &b)) in weight.chunks(k * k).zip(bias).enumerate() {
        let block = &mut t[c * k * rs..(c + 1) * k * rs];
        for (row, src) in block.chunks_mut(rs).zip(taps.chunks(k)) {
            row[..k].copy_from_slice(src);
        }
        block[rs - 1] = b;
    }
    t
}

/// Slots per weight block of the dense conv kernel: the k weights of each of its
/// `CONV_CHANNELS` output channels for one (input channel, kernel row), padded to whole
/// `shared8` blocks (shaders/conv.wgsl).
pub fn conv_block_stride(k: usize) -> usize {
    CONV_CHANNELS * k.next_multiple_of(4)
}

/// `[out, in, k, k]` → `[out / CONV_CHANNELS][in][k][conv_block_stride(k)]`, channel j of a
/// block at j·kp + kx (kp = k rounded up to 4), zero-padded (channels past `out` included);
/// the bias after it.
fn dense_layout(weight: &[f32], bias: &[f32], k: usize) -> Vec<f32> {
    let (out, rs) = (bias.len(), conv_block_stride(k));
    let inputs = weight.len() / (out * k * k).max(1);
    let mut t = vec![0.0; out.div_ceil(CONV_CHANNELS) * inputs * k * rs];
    for (i, &w) in weight.iter().enumerate() {
        let (co, ci, ky, kx) = (i / (inputs * k * k), i / (k * k) % inputs, i / k % k, i % k);
        let block = ((co / CONV_CHANNELS * inputs + ci) * k + ky) * rs;
        t[block + co % CONV_CHANNELS * k.next_multiple_of(4) + kx] = w;
    }
    t.extend_from_slice(bias);
    t
}

/// One conv layer's weights as its kernel reads them.
fn conv_layout(c: &ConvWeights) -> Vec<f32> {
    match c.kind {
        ConvKind::Gemm => [gemm_layout(&c.weight, c.bias.len()), c.bias.clone()].concat(),
        ConvKind::Depthwise { k } => depthwise_layout(&c.weight, &c.bias, k),
        ConvKind::Dense { k } => dense_layout(&c.weight, &c.bias, k),
    }
}

/// Features per classifier weight row on the GPU: rounded up to 8, whole `shared_sums8`
/// blocks (shaders/classifier.wgsl).
pub fn classifier_row_len(features: usize) -> usize {
    features.next_multiple_of(8)
}

/// `[classes, features]` → `[classes, classifier_row_len(features)]`, zero-padded.
fn classifier_rows(weight: &[f32], classes: usize) -> Vec<f32> {
    let features = weight.len() / classes.max(1);
    let len = classifier_row_len(features);
    let mut t = vec![0.0; classes * len];
    // (No classifier at all, as in the kernel benchmarks' models: nothing to copy.)
    for (dst, src) in t.chunks_mut(len.max(1)).zip(weight.chunks(features.max(1))) {
        dst[..features].copy_from_slice(src);
    }
    t
}

/// Where the parts of an SE layer's weights start for `c` channels reduced to `r`:
/// `[w1 (r × c8), b1, w2 (c × r8), b2]` with c8, r8 rounded up to 8 and w2 at a multiple
/// of 8, so each row is whole vec4s (shaders/se.wgsl). Returns (b1, w2, b2) offsets.
pub fn se_offsets(c: usize, r: usize) -> (usize, usize, usize) {
    let (c8, r8) = (c.next_multiple_of(8), r.next_multiple_of(8));
    let b1 = r * c8;
    let w2 = (b1 + r).next_multiple_of(8);
    (b1, w2, w2 + c * r8)
}

/// An SE layer's weights in the `se_offsets` layout, zero-padded.
fn se_layout(s: &SeWeights) -> Vec<f32> {
    let (c, r) = (s.expand_b.len(), s.reduce_b.len());
    let (b1, w2, b2) = se_offsets(c, r);
    let (c8, r8) = (c.next_multiple_of(8), r.next_multiple_of(8));
    let mut t = vec![0.0; b2 + c];
    for (row, src) in s.reduce_w.chunks(c.max(1)).enumerate().take(r) {
        t[row * c8..row * c8 + src.len()].copy_from_slice(src);
    }
    t[b1..b1 + r].copy_from_slice(&s.reduce_b);
    for (row, src) in s.expand_w.chunks(r.max(1)).enumerate().take(c) {
        t[w2 + row * r8..w2 + row * r8 + src.len()].copy_from_slice(src);
    }
    t[b2..b2 + c].copy_from_slice(&s.expand_b);
    t
}

/// Values in the storage format, padded to a multiple of 4 bytes (a WebGPU copy unit).
pub fn encode(data: &[f32], precision: Precision) -> Vec<u8> {
    let mut bytes = match precision {
        Precision::F32 => bytemuck::cast_slice(data).to_vec(),
        Precision::F16 => {
            let h: Vec<half::f16> = data.iter().map(|&v| half::f16::from_f32(v)).collect();
            bytemuck::cast_slice(&h).to_vec()
        }
    };
    bytes.resize(bytes.len().next_multiple_of(4), 0);
    bytes
}

/// The inverse of `encode` for `len` values.
pub fn decode(bytes: &[u8], len: usize, precision: Precision) -> Vec<f32> {
    match precision {
        Precision::F32 => bytemuck::pod_collect_to_vec(&bytes[..4 * len]),
        Precision::F16 => {
            let h: Vec<half::f16> = bytemuck::pod_collect_to_vec(&bytes[..2 * len]);
            h.iter().map(|v| v.to_f32()).collect()
        }
    }
}

impl GpuWeights {
    pub fn new(gpu: &Gpu, w: &ModelWeights, precision: Precision) -> Self {
        let upload = |label: &str, parts: &[&[f32]]| upload(gpu, precision, label, parts);
        let convs = w
            .convs
            .iter()
            .enumerate()
            .map(|(i, c)| upload(&format!("conv {i}"), &[&conv_layout(c)]))
            .collect();
        let ses = w
            .ses
            .iter()
            .enumerate()
            .map(|(i, s)| upload(&format!("se {i}"), &[&se_layout(s)]))
            .collect();
        let classes = w.classifier_b.len();
        let rows = classifier_rows(&w.classifier_w, classes);
        let classifier = upload("classifier", &[&rows, &w.classifier_b]);
        GpuWeights {
            precision,
            convs,
            ses,
            classifier,
        }
    }
}
