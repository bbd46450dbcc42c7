//! Compiling: one shared bind group layout, and a cache of pipelines keyed by kernel and
//! override constants, so a whole model needs only a handful of pipelines. What a kernel's
//! source is (`kernels::source`) is the caller's business: this compiles what it is given.

pub use crate::kernels::formats::{Arithmetic, Precision, Storage, Target};
pub(crate) use crate::kernels::source::{SPLIT_STORES, binding};
use crate::kernels::{Constants, Kernel};
use std::collections::HashMap;

pub struct Pipelines {
    pub layout: wgpu::BindGroupLayout,
    pipeline_layout: wgpu::PipelineLayout,
    modules: HashMap<Kernel, wgpu::ShaderModule>,
    cache: HashMap<(Kernel, Constants), wgpu::ComputePipeline>,
    /// The driver's pipeline cache, persisted across processes (`pipeline_cache.rs`).
    driver_cache: Option<wgpu::PipelineCache>,
}

impl Pipelines {
    pub(crate) fn new(device: &wgpu::Device, driver_cache: Option<wgpu::PipelineCache>) -> Self {
        let buffer = |b: u32, read_only: bool| wgpu::BindGroupLayoutEntry {
            binding: b,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Storage { read_only },
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        };
        let params = wgpu::BindGroupLayoutEntry {
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            ..buffer(binding::PARAMS, true)
        };
        use binding::*;
        let entries = [
            params,
            buffer(SRC, true),
            buffer(WEIGHTS, true),
            buffer(WEIGHTS4, true),
            buffer(SRC4, true),
            buffer(AUX, false),
            buffer(RESIDUAL4, true),
            buffer(DST, false),
            buffer(DST4, false),
        ];
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("effnet shared layout"),
            entries: &entries,
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("effnet"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        Pipelines {
            layout,
            pipeline_layout,
            modules: HashMap::new(),
            cache: HashMap::new(),
            driver_cache,
        }
    }

    /// The pipeline of `kernel` specialized by `constants`, created on first use; `source`
    /// gives the kernel's WGSL the first time the kernel is seen (one module per kernel).
    pub(crate) fn get(
        &mut self,
        device: &wgpu::Device,
        (kernel, constants): (Kernel, Constants),
        source: impl FnOnce() -> String,
    ) -> &wgpu::ComputePipeline {
        let driver_cache = self.driver_cache.as_ref();
        let module = self.modules.entry(kernel).or_insert_with(|| {
            device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(&kernel.to_string()),
                source: wgpu::ShaderSource::Wgsl(source().into()),
            })
        });
        let layout = &self.pipeline_layout;
        self.cache
            .entry((kernel, constants.clone()))
            .or_insert_with(|| {
                let values: Vec<(&str, f64)> =
                    constants.iter().map(|&(k, v)| (k, v as f64)).collect();
                device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(&format!("{kernel} {constants:?}")),
                    layout: Some(layout),
                    module,
                    entry_point: Some("main"),
                    compilation_options: wgpu::PipelineCompilationOptions {
                        constants: &values,
                        zero_initialize_workgroup_memory: false,
                    },
                    cache: driver_cache,
                })
            })
    }

    /// How many distinct pipelines exist.
    pub(crate) fn count(&self) -> usize {
        self.cache.len()
    }
}
