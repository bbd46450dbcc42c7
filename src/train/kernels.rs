//! The four head-training kernels (shaders/train_*.wgsl), their shared bind group layout and
//! parameter block, and the dispatch grids.

use crate::gpu::Gpu;
use crate::{Error, Result};

const COMMON: &str = include_str!("../../shaders/train_common.wgsl");

/// Lanes per workgroup in every training kernel (`WG` in train_common.wgsl).
const WG: usize = 64;

crate::kernels::params! {
    /// The parameter block of one dispatch batch, shared by the four kernels; its WGSL
    /// struct is generated from this one and put in front of train_common.wgsl.
    Params {
        /// Samples in this mini-batch (or validation chunk).
        rows: u32,
        /// Position of its first sample in `order` and in `stats`.
        first: u32,
        /// Classes of the head.
        classes: u32,
        /// Length of a feature vector.
        width: u32,
        /// AdamW's decay factor lr · weight_decay of this step, computed on the host in f64
        /// like the two below (schedule.rs `AdamStep`).
        lr_wd: f32,
        /// lr / (1 − β1^t).
        step_size: f32,
        /// sqrt(1 − β2^t).
        sqrt_bc2: f32,
        /// Label smoothing S.
        smoothing: f32,
        /// 1 / rows: the gradient is of the batch-mean loss.
        inv_rows: f32,
        /// 1: the softmax kernel also writes the logits' gradient; 0: evaluation only.
        train: u32,
        /// Samples in the split: `stats` holds the losses (`n_stats` of them) then the hits (`n_stats`).
        n_stats: u32,
        /// Uniform buffers are bound in multiples of 16 bytes.
        _pad: u32,
    }
}

// `params!` declares its uniform `P` at binding 0, and a uniform binding's size must be a
// multiple of 16 bytes: checked here so that a new field cannot break either silently.
const _: () = assert!(binding::PARAMS == 0);
const _: () = assert!(size_of::<Params>().is_multiple_of(16));

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
        let make = |(name, body): (&str, &str)| {
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
        let [forward, softmax, grad, adamw] = BODIES.map(make);
        Kernels {
            layout,
            forward,
            softmax,
            grad,
            adamw,
        }
    }
}

/// The kernels' names and own code: forward, softmax gradient, weight gradient, AdamW.
const BODIES: [(&str, &str); 4] = [
    (
        "train forward",
        include_str!("../../shaders/train_forward.wgsl"),
    ),
    (
        "train softmax",
        include_str!("../../shaders/train_softmax.wgsl"),
    ),
    ("train grad", include_str!("../../shaders/train_grad.wgsl")),
    (
        "train adamw",
        include_str!("../../shaders/train_adamw.wgsl"),
    ),
];

/// A kernel's whole WGSL: the parameter block generated from [`Params`], the shared
/// bindings and helpers, then its body.
fn source(body: &str) -> String {
    format!("{}\n{COMMON}\n{body}", Params::WGSL)
}

/// The WGSL of every training kernel, as compiled (for the shader tests).
pub fn sources() -> Vec<String> {
    BODIES.iter().map(|(_, body)| source(body)).collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use wgpu::BufferBindingType;

    /// Each kernel's name and its whole WGSL as naga parses and validates it (no GPU needed).
    fn modules() -> Vec<(&'static str, naga::Module)> {
        let validate = |(name, src): (&'static str, String)| {
            let m = naga::front::wgsl::parse_str(&src)
                .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(&src)));
            let mut v = naga::valid::Validator::new(
                naga::valid::ValidationFlags::all(),
                naga::valid::Capabilities::empty(),
            );
            v.validate(&m).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            (name, m)
        };
        let names = BODIES.map(|(name, _)| name);
        names.into_iter().zip(sources()).map(validate).collect()
    }

    /// `Kernels::new` makes each pipeline from the entry point `main`.
    #[test]
    fn every_kernel_validates_with_entry_point_main() {
        for (name, m) in modules() {
            let main = m.entry_points.iter().find(|e| e.name == "main");
            assert!(main.is_some(), "{name} has no entry point main");
        }
    }

    /// The inference kernels' check (src/kernel_checks/check.rs) for the training block: naga's
    /// layout of the WGSL struct behind `P` puts the fields where `#[repr(C)]` does.
    #[test]
    fn params_match_their_wgsl_layout_in_every_kernel() {
        for (name, m) in modules() {
            let (_, p) = (m.global_variables.iter())
                .find(|(_, v)| v.name.as_deref() == Some("P"))
                .unwrap_or_else(|| panic!("{name} has no P"));
            assert_eq!(p.space, naga::AddressSpace::Uniform, "{name}: P");
            let naga::TypeInner::Struct { members, span } = &m.types[p.ty].inner else {
                panic!("{name}: P is not a struct")
            };
            let wgsl: Vec<(&str, usize)> = (members.iter())
                .map(|f| (f.name.as_deref().unwrap_or(""), f.offset as usize))
                .collect();
            assert_eq!(wgsl, Params::FIELDS, "{name}: fields and offsets");
            assert_eq!(*span as usize, size_of::<Params>(), "{name}: size");
        }
    }

    /// Every kernel declares exactly the bind group layout's bindings, each as the kind of
    /// buffer the layout says: a binding added to one body, or a shared one changed in the
    /// WGSL but not in `layout_entries` (or the reverse), fails here rather than when wgpu
    /// makes the pipeline.
    #[test]
    fn every_kernel_declares_the_layouts_bindings() {
        let mut expected: Vec<(u32, BufferBindingType)> = (layout_entries().iter())
            .map(|e| match e.ty {
                wgpu::BindingType::Buffer { ty, .. } => (e.binding, ty),
                ty => panic!("binding {}: {ty:?}", e.binding),
            })
            .collect();
        expected.sort_by_key(|&(b, _)| b);
        for (name, m) in modules() {
            let kind = |space| match space {
                naga::AddressSpace::Uniform => BufferBindingType::Uniform,
                naga::AddressSpace::Storage { access } => BufferBindingType::Storage {
                    read_only: !access.contains(naga::StorageAccess::STORE),
                },
                s => panic!("{name}: a binding in {s:?}"),
            };
            let mut declared: Vec<(u32, BufferBindingType)> = (m.global_variables.iter())
                .filter_map(|(_, v)| Some((v.binding.as_ref()?, v.space)))
                .map(|(b, space)| {
                    assert_eq!(b.group, 0, "{name}: binding {}", b.binding);
                    (b.binding, kind(space))
                })
                .collect();
            declared.sort_by_key(|&(b, _)| b);
            assert_eq!(declared, expected, "{name}: bindings");
        }
    }
}
