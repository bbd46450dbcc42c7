//! Bind groups for each dispatch: its parameters, tensors, weights and scratch.

use crate::gpu::pipelines::{SPLIT_STORES, binding};
use crate::gpu::{Gpu, GpuWeights};
use crate::graph::TensorId;
use crate::kernels::{Aux, DispatchDesc, WeightRef};

/// Uniform parameter blocks are laid out at this stride (the largest alignment WebGPU allows).
const PARAMS_STRIDE: u64 = 256;

/// Everything a bind group refers to.
pub(crate) struct BindContext<'a> {
    params: wgpu::Buffer,
    dummy_ro: wgpu::Buffer,
    dummy_rw: wgpu::Buffer,
    /// What `binding::DST4` holds where kernels store through `DST` alone
    /// (`pipelines::SPLIT_STORES`): not `dummy_rw`, which `AUX` may hold writable too.
    unused_dst4: Option<wgpu::Buffer>,
    scratch: wgpu::Buffer,
    slots: &'a [wgpu::Buffer],
    slot_of: &'a [Option<usize>],
    weights: &'a GpuWeights,
}

impl<'a> BindContext<'a> {
    /// Uploads every dispatch's parameters into one uniform buffer.
    pub(crate) fn new(
        gpu: &Gpu,
        descs: &[DispatchDesc],
        slots: &'a [wgpu::Buffer],
        slot_of: &'a [Option<usize>],
        weights: &'a GpuWeights,
    ) -> Self {
        let dev = &gpu.device;
        let mut bytes = vec![0u8; descs.len().max(1) * PARAMS_STRIDE as usize];
        for (i, d) in descs.iter().enumerate() {
            let at = i * PARAMS_STRIDE as usize;
            let p = d.params.bytes();
            bytes[at..at + p.len()].copy_from_slice(p);
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
        // One scratch buffer serves every dispatch that needs one (the classifier).
        let scratch = (descs.iter())
            .filter_map(|d| match d.aux {
                Aux::Scratch(values) => Some(values),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        BindContext {
            params,
            dummy_ro: small("unused (read)", 16),
            dummy_rw: small("unused (write)", 16),
            unused_dst4: SPLIT_STORES.then(|| small("unused (vec4 output)", 16)),
            scratch: small("pooled features", 4 * scratch as u64),
            slots,
            slot_of,
            weights,
        }
    }

    fn weights_of(&self, w: WeightRef) -> &wgpu::Buffer {
        match w {
            WeightRef::Conv(i) => &self.weights.convs[i],
            WeightRef::Se(i) => &self.weights.ses[i],
            WeightRef::Classifier => &self.weights.classifier,
        }
    }

    fn slot(&self, t: TensorId) -> &wgpu::Buffer {
        &self.slots[self.slot_of[t].expect("every used tensor has a slot")]
    }

    pub(crate) fn bind_group(
        &self,
        dev: &wgpu::Device,
        layout: &wgpu::BindGroupLayout,
        index: usize,
        d: &DispatchDesc,
    ) -> wgpu::BindGroup {
        let weights = self.weights_of(d.weights);
        let read = |t: Option<TensorId>| t.map_or(&self.dummy_ro, |t| self.slot(t));
        let aux = match d.aux {
            Aux::Tensor(t) => self.slot(t),
            Aux::Scratch(_) => &self.scratch,
            Aux::Weights(w) => self.weights_of(w),
            Aux::None => &self.dummy_rw,
        };
        // Whole 16-byte units: the shader's struct may be shorter, never longer.
        let size = d.params.bytes().len().next_multiple_of(16) as u64;
        let params = wgpu::BufferBinding {
            buffer: &self.params,
            offset: index as u64 * PARAMS_STRIDE,
            size: wgpu::BufferSize::new(size),
        };
        let entries = [
            wgpu::BindGroupEntry {
                binding: binding::PARAMS,
                resource: wgpu::BindingResource::Buffer(params),
            },
            whole(binding::SRC, read(d.src)),
            whole(binding::WEIGHTS, weights),
            whole(binding::AUX, aux),
            // The residual, or a kernel's second weights (a fused op has no residual).
            match d.extra_weights {
                Some(w) => whole(binding::RESIDUAL4, self.weights_of(w)),
                None => whole(binding::RESIDUAL4, read(d.residual)),
            },
            whole(binding::DST, self.slot(d.dst)),
            whole(
                binding::DST4,
                self.unused_dst4.as_ref().unwrap_or(self.slot(d.dst)),
            ),
            whole(binding::WEIGHTS4, weights),
            whole(binding::SRC4, read(d.src)),
        ];
        dev.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(&format!("op {index} {:?}", d.kernel())),
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
