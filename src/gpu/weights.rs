//! Model weights on the GPU: one storage buffer per layer, uploaded once per model and
//! shared by every session made from it.

use super::{Gpu, Precision};
use crate::kernels::{
    self,
    ops::{classifier, se},
};
use crate::model::ModelWeights;

/// Per-layer weight buffers, each in the layout of the kernel that reads it (`layout` in
/// each of `kernels::*`): conv buffers hold weights and biases; SE buffers
/// `w1 ++ b1 ++ w2 ++ b2`; the classifier `W ++ b`.
pub struct GpuWeights {
    pub precision: Precision,
    pub convs: Vec<wgpu::Buffer>,
    pub ses: Vec<wgpu::Buffer>,
    pub classifier: wgpu::Buffer,
}

fn upload(gpu: &Gpu, precision: Precision, label: &str, data: &[f32]) -> wgpu::Buffer {
    // Whole 16-byte elements for the vec4 view of weights (`wts4`), and at least one: a
    // headless model's classifier has no weights, but a binding may not be empty.
    let mut contents = encode(data, precision);
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

/// Values in the storage format, padded to a multiple of 4 bytes (a WebGPU copy unit).
pub(crate) fn encode(data: &[f32], precision: Precision) -> Vec<u8> {
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
pub(crate) fn decode(bytes: &[u8], len: usize, precision: Precision) -> Vec<f32> {
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
        let upload = |label: &str, data: &[f32]| upload(gpu, precision, label, data);
        let convs = w
            .convs
            .iter()
            .enumerate()
            .map(|(i, c)| upload(&format!("conv {i}"), &kernels::conv_layout(c)))
            .collect();
        let ses = w
            .ses
            .iter()
            .enumerate()
            .map(|(i, s)| upload(&format!("se {i}"), &se::layout(s)))
            .collect();
        let classifier = classifier::layout(&w.classifier_w, &w.classifier_b);
        let classifier = upload("classifier", &classifier);
        GpuWeights {
            precision,
            convs,
            ses,
            classifier,
        }
    }
}
