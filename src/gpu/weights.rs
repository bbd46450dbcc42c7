//! Model weights on the GPU: one storage buffer per layer, uploaded once per model and
//! shared by every session made from it.

use super::Gpu;
use crate::model::ModelWeights;

/// Per-layer weight buffers. Each conv buffer holds `weight ++ bias`; each SE buffer
/// `w1 ++ b1 ++ w2 ++ b2`; the classifier `W ++ b`.
pub struct GpuWeights {
    pub convs: Vec<wgpu::Buffer>,
    pub ses: Vec<wgpu::Buffer>,
    pub classifier: wgpu::Buffer,
}

fn upload(gpu: &Gpu, label: &str, parts: &[&[f32]]) -> wgpu::Buffer {
    let data: Vec<f32> = parts.concat();
    super::create_buffer_init(
        &gpu.device,
        &wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::cast_slice(&data),
            usage: wgpu::BufferUsages::STORAGE,
        },
    )
}

impl GpuWeights {
    pub fn new(gpu: &Gpu, w: &ModelWeights) -> Self {
        let convs = w
            .convs
            .iter()
            .enumerate()
            .map(|(i, c)| upload(gpu, &format!("conv {i}"), &[&c.weight, &c.bias]))
            .collect();
        let ses = w
            .ses
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let parts = [&s.reduce_w[..], &s.reduce_b, &s.expand_w, &s.expand_b];
                upload(gpu, &format!("se {i}"), &parts)
            })
            .collect();
        let classifier = upload(gpu, "classifier", &[&w.classifier_w, &w.classifier_b]);
        GpuWeights {
            convs,
            ses,
            classifier,
        }
    }
}
