//! Bind groups for each dispatch, and the checks that a session fits the device.

use super::dispatch::{DispatchDesc, Params, WeightRef};
use super::ops::{Graph, Op, TensorId};
use crate::gpu::pipelines::binding;
use crate::gpu::{Gpu, GpuWeights};
use crate::{Error, Result};

/// Uniform parameter blocks are laid out at this stride (the largest alignment WebGPU allows).
const PARAMS_STRIDE: u64 = 256;

/// Everything a bind group refers to.
pub struct BindContext<'a> {
    params: wgpu::Buffer,
    dummy_ro: wgpu::Buffer,
    dummy_rw: wgpu::Buffer,
    scratch: wgpu::Buffer,
    slots: &'a [wgpu::Buffer],
    slot_of: &'a [Option<usize>],
    weights: &'a GpuWeights,
}

impl<'a> BindContext<'a> {
    /// Uploads every dispatch's parameters into one uniform buffer.
    pub fn new(
        gpu: &Gpu,
        g: &Graph,
        descs: &[DispatchDesc],
        slots: &'a [wgpu::Buffer],
        slot_of: &'a [Option<usize>],
        weights: &'a GpuWeights,
    ) -> Self {
        let dev = &gpu.device;
        let mut bytes = vec![0u8; descs.len().max(1) * PARAMS_STRIDE as usize];
        for (i, d) in descs.iter().enumerate() {
            let at = i * PARAMS_STRIDE as usize;
            bytes[at..at + size_of::<Params>()].copy_from_slice(bytemuck::bytes_of(&d.params));
        }
        let params = crate::gpu::create_buffer_init(
            dev,
            &wgpu::util::BufferInitDescriptor {
                label: Some("params"),
                contents: &bytes,
                usage: wgpu::BufferUsages::UNIFORM,
            },
        );
        let small = |label: &str, size: u64| {
            crate::gpu::create_buffer(
                dev,
                &wgpu::BufferDescriptor {
                    label: Some(label),
                    size: size.max(16),
                    usage: wgpu::BufferUsages::STORAGE,
                    mapped_at_creation: false,
                },
            )
        };
        let pooled: usize = (g.ops.iter())
            .filter_map(|op| match *op {
                Op::PoolClassify { input, .. } => {
                    let s = g.shapes[input];
                    let row = crate::gpu::weights::classifier_row_len(s.c);
                    Some(s.n * super::dispatch::CLASSIFIER_GROUPS * row)
                }
                _ => None,
            })
            .sum();
        BindContext {
            params,
            dummy_ro: small("unused (read)", 16),
            dummy_rw: small("unused (write)", 16),
            scratch: small("pooled features", 4 * pooled as u64),
            slots,
            slot_of,
            weights,
        }
    }

    fn slot(&self, t: TensorId) -> &wgpu::Buffer {
        &self.slots[self.slot_of[t].expect("every used tensor has a slot")]
    }

    pub fn bind_group(
        &self,
        dev: &wgpu::Device,
        layout: &wgpu::BindGroupLayout,
        index: usize,
        d: &DispatchDesc,
    ) -> wgpu::BindGroup {
        let weights = match d.weights {
            WeightRef::Conv(i) => &self.weights.convs[i],
            WeightRef::Se(i) => &self.weights.ses[i],
            WeightRef::Classifier => &self.weights.classifier,
        };
        let read = |t: Option<TensorId>| t.map_or(&self.dummy_ro, |t| self.slot(t));
        debug_assert!(d.gate.is_none() || (d.sums.is_none() && !d.scratch));
        let aux = match (d.gate.or(d.sums), d.scratch) {
            (Some(t), _) => self.slot(t),
            (None, true) => &self.scratch,
            (None, false) => &self.dummy_rw,
        };
        let params = wgpu::BufferBinding {
            buffer: &self.params,
            offset: index as u64 * PARAMS_STRIDE,
            size: wgpu::BufferSize::new(size_of::<Params>() as u64),
        };
        let entries = [
            wgpu::BindGroupEntry {
                binding: binding::PARAMS,
                resource: wgpu::BindingResource::Buffer(params),
            },
            whole(binding::SRC, read(d.src)),
            whole(binding::WEIGHTS, weights),
            whole(binding::AUX, aux),
            whole(binding::RESIDUAL4, read(d.residual)),
            whole(binding::DST, self.slot(d.dst)),
            whole(binding::DST4, self.slot(d.dst)),
            whole(binding::WEIGHTS4, weights),
            whole(binding::SRC4, read(d.src)),
        ];
        dev.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(&format!("op {index} {:?}", d.kernel)),
            layout,
            entries: &entries,
        })
    }
}

fn whole(binding: u32, buf: &wgpu::Buffer) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry {
        binding,
        resource: buf.as_entire_binding(),
    }
}

/// Every activation buffer must fit one storage binding of the device.
pub fn check_limits(gpu: &Gpu, g: &Graph, slot_sizes: &[u64]) -> Result<()> {
    let limit = gpu
        .limits
        .max_storage_buffer_binding_size
        .min(gpu.limits.max_buffer_size);
    let largest = slot_sizes.iter().copied().max().unwrap_or(0);
    if largest <= limit {
        return Ok(());
    }
    let batch = g.shapes[g.input].n as u64;
    let per_image = largest.div_ceil(batch);
    Err(Error::DeviceLimit {
        what: format!("the largest activation tensor at batch {batch}"),
        needed: largest,
        limit,
        unit: "bytes",
        hint: format!(
            "use a batch of at most {} at this resolution, or a smaller resolution",
            limit / per_image
        ),
    })
}

/// Grids must respect the per-dimension workgroup limit; SE reductions the kernel's buffer.
pub fn check_grid(gpu: &Gpu, descs: &[DispatchDesc], se_sizes: &[(usize, usize)]) -> Result<()> {
    let max = gpu.limits.max_compute_workgroups_per_dimension;
    for d in descs {
        if let Some(&dim) = d.workgroups.iter().find(|&&w| w > max) {
            return Err(Error::DeviceLimit {
                what: format!("a {:?} dispatch", d.kernel),
                needed: dim as u64,
                limit: max as u64,
                unit: "workgroups",
                hint: "use a smaller batch or resolution".into(),
            });
        }
    }
    // The SE kernel keeps its hidden layer in the partial sums it has consumed, at least
    // `SE_MIN_PARTIALS` per channel (every EfficientNet reduces: hidden ≤ channels).
    let min = super::dispatch::SE_MIN_PARTIALS;
    if let Some(&(c, r)) = se_sizes.iter().find(|&&(c, r)| r > c * min) {
        return Err(Error::DeviceLimit {
            what: "the SE reduction".into(),
            needed: r as u64,
            limit: (c * min) as u64,
            unit: "channels",
            hint: "this model's SE blocks are wider than the SE kernel supports".into(),
        });
    }
    Ok(())
}
