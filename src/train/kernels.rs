//! The four head-training kernels (shaders/train_*.wgsl), their shared bind group layout and
//! parameter block, and the dispatch grids.

use crate::gpu::Gpu;
use crate::{Error, Result};

const COMMON: &str = include_str!("../../shaders/train_common.wgsl");

/// Lanes per workgroup in every training kernel (`WG` in train_common.wgsl).
const WG: usize = 64;

/// `Params` of train_common.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Params {
    pub rows: u32,
    pub first: u32,
    pub classes: u32,
    pub width: u32,
    pub lr_wd: f32,
    pub step_size: f32,
    pub sqrt_bc2: f32,
    pub smoothing: f32,
    pub inv_rows: f32,
    pub train: u32,
    pub n_stats: u32,
    pub _pad: u32,
}

/// Binding numbers of train_common.wgsl, in order.
pub mod binding {
    pub const PARAMS: u32 = 0;
    pub const FEATURES: u32 = 1;
    pub const ORDER: u32 = 2;
    pub const LABELS: u32 = 3;
    pub const THETA: u32 = 4;
    pub const LOGITS: u32 = 5;
    pub const GRAD: u32 = 6;
    pub const MOMENTS: u32 = 7;
    pub const STATS: u32 = 8;
}

pub struct Kernels {
    pub layout: wgpu::BindGroupLayout,
    pub forward: wgpu::ComputePipeline,
    pub softmax: wgpu::ComputePipeline,
    pub grad: wgpu::ComputePipeline,
    pub adamw: wgpu::ComputePipeline,
}

impl Kernels {
    /// Compiles the kernels; call inside `Gpu::scoped` so that a rejected shader is an error.
    pub fn new(device: &wgpu::Device) -> Self {
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("effnet train layout"),
            entries: &layout_entries(),
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("effnet train"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let make = |name: &str, body: &str| {
            let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(name),
                source: wgpu::ShaderSource::Wgsl(source(body).into()),
            });
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(name),
                layout: Some(&pipeline_layout),
                module: &module,
                entry_point: Some("main"),
                compilation_options: Default::default(),
                cache: None,
            })
        };
        let [forward, softmax, grad, adamw] = BODIES;
        Kernels {
            forward: make("train forward", forward),
            softmax: make("train softmax", softmax),
            grad: make("train grad", grad),
            adamw: make("train adamw", adamw),
            layout,
        }
    }
}

/// The kernels' own code: forward, softmax gradient, weight gradient, AdamW.
const BODIES: [&str; 4] = [
    include_str!("../../shaders/train_forward.wgsl"),
    include_str!("../../shaders/train_softmax.wgsl"),
    include_str!("../../shaders/train_grad.wgsl"),
    include_str!("../../shaders/train_adamw.wgsl"),
];

/// A kernel's whole WGSL: the shared declarations, then its body.
fn source(body: &str) -> String {
    format!("{COMMON}\n{body}")
}

/// The WGSL of every training kernel, as compiled (for the shader tests).
pub fn sources() -> Vec<String> {
    BODIES.iter().map(|b| source(b)).collect()
}

fn layout_entries() -> Vec<wgpu::BindGroupLayoutEntry> {
    let entry = |b: u32, ty| wgpu::BindGroupLayoutEntry {
        binding: b,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty,
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    };
    let storage = |read_only| wgpu::BufferBindingType::Storage { read_only };
    use binding::*;
    let mut entries = vec![entry(PARAMS, wgpu::BufferBindingType::Uniform)];
    for b in [FEATURES, ORDER, LABELS] {
        entries.push(entry(b, storage(true)));
    }
    for b in [THETA, LOGITS, GRAD, MOMENTS, STATS] {
        entries.push(entry(b, storage(false)));
    }
    entries
}

/// The buffers of one bind group, by binding number.
pub struct Bindings<'a> {
    pub params: &'a wgpu::Buffer,
    pub features: &'a wgpu::Buffer,
    pub order: &'a wgpu::Buffer,
    pub labels: &'a wgpu::Buffer,
    pub theta: &'a wgpu::Buffer,
    pub logits: &'a wgpu::Buffer,
    pub grad: &'a wgpu::Buffer,
    pub moments: &'a wgpu::Buffer,
    pub stats: &'a wgpu::Buffer,
}

impl Bindings<'_> {
    pub fn bind_group(
        &self,
        device: &wgpu::Device,
        layout: &wgpu::BindGroupLayout,
    ) -> wgpu::BindGroup {
        use binding::*;
        let buffers = [
            (PARAMS, self.params),
            (FEATURES, self.features),
            (ORDER, self.order),
            (LABELS, self.labels),
            (THETA, self.theta),
            (LOGITS, self.logits),
            (GRAD, self.grad),
            (MOMENTS, self.moments),
            (STATS, self.stats),
        ];
        let entries: Vec<_> = (buffers.iter())
            .map(|&(binding, buffer)| wgpu::BindGroupEntry {
                binding,
                resource: buffer.as_entire_binding(),
            })
            .collect();
        device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("effnet train"),
            layout,
            entries: &entries,
        })
    }
}

/// The workgroup grid that gives every one of `lanes` lanes an index (lane_index in
/// train_common.wgsl): as wide as the device allows, then as many rows as needed.
pub fn grid(gpu: &Gpu, lanes: usize, what: &str) -> Result<[u32; 3]> {
    let groups = lanes.div_ceil(WG).max(1) as u64;
    let max = gpu.limits.max_compute_workgroups_per_dimension as u64;
    let x = groups.min(max);
    let y = groups.div_ceil(x);
    if y > max {
        return Err(Error::DeviceLimit {
            what: what.into(),
            needed: groups,
            limit: max * max,
            unit: "workgroups",
            hint: "use fewer classes or a narrower feature vector".into(),
        });
    }
    Ok([x as u32, y as u32, 1])
}

/// Refuses a buffer the device cannot bind, before anything is allocated.
pub fn check_size(gpu: &Gpu, what: &str, bytes: u64, hint: &str) -> Result<()> {
    let limit = (gpu.limits.max_storage_buffer_binding_size).min(gpu.limits.max_buffer_size);
    if bytes > limit {
        return Err(Error::DeviceLimit {
            what: what.into(),
            needed: bytes,
            limit,
            unit: "bytes",
            hint: hint.into(),
        });
    }
    Ok(())
}
