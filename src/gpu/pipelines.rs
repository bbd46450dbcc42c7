//! Kernel modules assembled from the shared WGSL, one shared bind group layout, and a cache
//! of pipelines keyed by kernel and override constants, so a whole model needs only a
//! handful of pipelines.

pub use super::formats::{Arithmetic, Precision, Storage, Target};
pub use crate::kernels::{Constants, Kernel};
use std::collections::HashMap;

pub const PRELUDE: &str = include_str!("../../shaders/prelude.wgsl");
const TAPS: &str = include_str!("../../shaders/taps.wgsl");
const STORAGE: &str = include_str!("../../shaders/storage.wgsl");
const STORAGE_PACKED: &str = include_str!("../../shaders/storage_packed.wgsl");
const STORE_SPLIT: &str = include_str!("../../shaders/store_split.wgsl");
const STORE_SPLIT_PACKED: &str = include_str!("../../shaders/store_split_packed.wgsl");
/// The CPU family's value-at-a-time stores (the GPU family stores whole words only).
const STORE4: &str = include_str!("../../shaders/store4.wgsl");
const PACKED_READS: &str = include_str!("../../shaders/storage_packed_reads.wgsl");
const DW_ROWS: &str = include_str!("../../shaders/dw_rows.wgsl");
/// The GPU family's packed-f16 bindings: plain words, whole-word stores only.
const GPU_STORAGE_PACKED: &str = include_str!("../../shaders/gpu_family/storage_packed.wgsl");
const GPU_STORE_SPLIT_PACKED: &str =
    include_str!("../../shaders/gpu_family/store_split_packed.wgsl");
const LANES_PLAIN: &str = include_str!("../../shaders/lanes_plain.wgsl");
const LANES_SUBGROUP: &str = include_str!("../../shaders/lanes_subgroup.wgsl");
const GPU_ROWS: &str = include_str!("../../shaders/gpu_family/rows.wgsl");

impl Kernel {
    /// The complete WGSL module for this build's [`Target`]: storage bindings, prelude, the
    /// kernel's parameter block (`kernels::*Params::WGSL`), helpers, kernel. `subgroups`
    /// (wgpu's SUBGROUP feature) chooses each family's subgroup variant: CPU-family kernels
    /// share weights by subgroup broadcast (subgroups of at least 8 lanes,
    /// `Tuning::subgroups`), GPU-family ones reduce across lanes with subgroup operations
    /// (`gpu_family::subgroup_reductions`). `arithmetic` is what the GPU family multiplies in
    /// ([`Arithmetic`]; the CPU family's is f32).
    pub fn source(self, storage: Storage, subgroups: bool, arithmetic: Arithmetic) -> String {
        self.source_in(storage, subgroups, arithmetic, Target::CURRENT)
    }

    /// Like `source`, for `target`. A browser gets stores split for it ([`SPLIT_STORES`])
    /// and, in front, the directives its compiler requires: `enable subgroups;` where the
    /// source uses subgroup operations (naga 30 rejects that directive, taking the SUBGROUP
    /// capability instead, so native sources go without), `enable f16;` with native f16
    /// storage (which both accept), and for the CPU family's subgroup kernels
    /// `diagnostic(off, subgroup_uniformity);`: their lanes leave only with their whole
    /// subgroup (`all_done`), which Chrome's uniformity analysis cannot see, so it rejects
    /// every broadcast after such an exit.
    pub fn source_in(
        self,
        storage: Storage,
        subgroups: bool,
        arithmetic: Arithmetic,
        target: Target,
    ) -> String {
        let split_stores = target == Target::Browser;
        let source = self.source_for(storage, subgroups, arithmetic, split_stores);
        if target == Target::Native || !self.uses_subgroups(subgroups) {
            return source;
        }
        let uniformity = match self.family() {
            crate::kernels::Family::Cpu => "diagnostic(off, subgroup_uniformity);\n",
            _ => "",
        };
        format!("enable subgroups;\n{uniformity}{source}")
    }

    /// Whether its source with `subgroups` uses subgroup operations: every CPU-family
    /// kernel's (shaders/lanes_subgroup.wgsl), the GPU family's that reduce across lanes
    /// (shaders/gpu_family/reduce_subgroup.wgsl).
    pub fn uses_subgroups(self, subgroups: bool) -> bool {
        subgroups && (self.family() == crate::kernels::Family::Cpu || self.reduces())
    }

    /// The type its `H` is for `arithmetic` asked over `storage`: the GPU family's choice
    /// where native f16 allows it, f32 in the CPU family.
    pub fn arithmetic(self, arithmetic: Arithmetic, storage: Storage) -> Arithmetic {
        match self.family() {
            crate::kernels::Family::Gpu => arithmetic.with(storage),
            _ => Arithmetic::F32,
        }
    }

    /// Whether it is a GPU-family kernel that sums across lanes, taking its entry point and
    /// sums from shaders/gpu_family/reduce_*.wgsl.
    fn reduces(self) -> bool {
        matches!(
            self,
            Kernel::GpuDepthwise | Kernel::GpuSeExcite | Kernel::GpuClassifier
        )
    }

    /// The source naga validates (directives it accepts only), with `split_stores` choosing
    /// how 4 consecutive outputs are stored: through a second, vec4 view of the output
    /// (`false`, native) or through the output itself (`true`, what a browser needs:
    /// [`SPLIT_STORES`]).
    ///
    /// In packed f16 storage the CPU family's kernels store single halves with atomics (two
    /// invocations may share a word); the GPU family's store only whole words they own, so
    /// their bindings have no atomics at all.
    pub fn source_for(
        self,
        storage: Storage,
        subgroups: bool,
        arithmetic: Arithmetic,
        split_stores: bool,
    ) -> String {
        let gpu_family = self.family() == crate::kernels::Family::Gpu;
        let arithmetic = self.arithmetic(arithmetic, storage).wgsl();
        let (bindings, split) = match storage {
            Storage::F32 => (format!("alias S = f32;\n{STORAGE}"), STORE_SPLIT),
            Storage::F16 => (
                format!("enable f16;\nalias S = f16;\n{STORAGE}"),
                STORE_SPLIT,
            ),
            Storage::F16Packed if gpu_family => (
                format!("{PACKED_READS}\n{GPU_STORAGE_PACKED}"),
                GPU_STORE_SPLIT_PACKED,
            ),
            Storage::F16Packed => (
                format!("{PACKED_READS}\n{STORAGE_PACKED}"),
                STORE_SPLIT_PACKED,
            ),
        };
        let bindings = if split_stores {
            replace_dst4_block(&bindings, split)
        } else {
            bindings
        };
        let params = self.params_wgsl();
        // The GPU family's kernels bring their own entry points, workgroup-memory staging and
        // whole-word stores.
        if gpu_family {
            // The kernels that sum across lanes get their entry point and sums from a reduce
            // file; the GEMVs (SE, classifier) also share their row-group sums and stores.
            let reduce = match (self.reduces(), subgroups) {
                (false, _) => "",
                (true, false) => crate::kernels::gpu_family::reduce::PLAIN,
                (true, true) => crate::kernels::gpu_family::reduce::SUBGROUP,
            };
            let rows = match self {
                Kernel::GpuSeExcite | Kernel::GpuClassifier => GPU_ROWS,
                Kernel::GpuDepthwise => DW_ROWS,
                _ => "",
            };
            return format!(
                "{bindings}\n{arithmetic}{PRELUDE}\n{params}\n{reduce}\n{rows}\n{}",
                self.body()
            );
        }
        // The k×k kernels share the row-tap helpers, the depthwise ones its weight rows.
        let taps = if self.uses_taps() { TAPS } else { "" };
        let taps = match self {
            Kernel::Depthwise => format!("{taps}\n{DW_ROWS}"),
            _ => taps.to_string(),
        };
        // Every kernel gets its entry point and shared-weight loads from a lanes file.
        let lanes = if subgroups {
            LANES_SUBGROUP
        } else {
            LANES_PLAIN
        };
        format!(
            "{bindings}\n{arithmetic}{PRELUDE}\n{STORE4}\n{params}\n{lanes}\n{taps}\n{}",
            self.body()
        )
    }
}

/// Whether kernels store 4 consecutive outputs through the output binding itself rather than
/// a second, vec4 view of it (`binding::DST4`, then bound to a placeholder): in a browser,
/// whose WebGPU rejects a dispatch that binds one buffer twice as writable storage.
pub const SPLIT_STORES: bool = matches!(Target::CURRENT, Target::Browser);

/// Storage WGSL with its `// <dst4>` … `// </dst4>` block replaced by `with`.
fn replace_dst4_block(text: &str, with: &str) -> String {
    const START: &str = "// <dst4>";
    const END: &str = "// </dst4>";
    let start = text.find(START).expect("storage WGSL marks its dst4 block");
    let end = text.find(END).expect("storage WGSL ends its dst4 block") + END.len();
    format!("{}{with}{}", &text[..start], &text[end..])
}

/// Binding numbers of the shared layout (see `shaders/storage.wgsl`): eight storage buffers,
/// WebGPU's default per-stage limit.
pub mod binding {
    pub const PARAMS: u32 = 0;
    pub const SRC: u32 = 1;
    pub const WEIGHTS: u32 = 2;
    /// The SE gate a GEMM reads, or the SE partial sums (depthwise writes, SE reads) and
    /// the classifier's scratch: no kernel needs both.
    pub const AUX: u32 = 3;
    /// The residual, viewed as vec4s.
    pub const RESIDUAL4: u32 = 4;
    pub const DST: u32 = 5;
    /// The output again, viewed as vec4s (4 consecutive outputs stored at once).
    pub const DST4: u32 = 6;
    /// The weights buffer again, viewed as vec4s (GEMM weights are read four at a time).
    pub const WEIGHTS4: u32 = 7;
    /// The input again, viewed as vec4s (the pointwise kernel reads 4 pixels at once).
    pub const SRC4: u32 = 8;
}

/// Which source variant each kernel takes (`Kernel::source`'s `subgroups` and
/// `arithmetic`), per family.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Variants {
    /// CPU family: weights shared by subgroup broadcast.
    pub cpu_subgroups: bool,
    /// GPU family: sums across lanes by subgroup operations.
    pub gpu_subgroups: bool,
    /// GPU family: what it stages and multiplies in (f16 only over native f16 storage).
    pub gpu_arithmetic: Arithmetic,
}

impl Variants {
    /// What `gpu` runs: its tuning's choice for the CPU family (`Tuning::subgroups`), and
    /// for the GPU family its tuning's (`Tuning::gpu_subgroup_sums`) where the adapter's
    /// subgroups allow (`gpu_family::subgroup_reductions`), and f16 arithmetic where its
    /// tuning asks for it (`Tuning::gpu_f16_math`).
    pub fn of(gpu: &super::Gpu) -> Self {
        let lanes_allow = crate::kernels::gpu_family::subgroup_reductions(gpu.subgroup_lanes);
        let gpu_arithmetic = match gpu.tuning.gpu_f16_math {
            true => Arithmetic::F16,
            false => Arithmetic::F32,
        };
        Variants {
            cpu_subgroups: gpu.tuning.subgroups,
            gpu_subgroups: gpu.tuning.gpu_subgroup_sums && lanes_allow,
            gpu_arithmetic,
        }
    }

    /// `kernel`'s family's subgroup choice.
    pub fn subgroups(self, kernel: Kernel) -> bool {
        match kernel.family() {
            crate::kernels::Family::Gpu => self.gpu_subgroups,
            _ => self.cpu_subgroups,
        }
    }
}

pub struct Pipelines {
    pub layout: wgpu::BindGroupLayout,
    storage: Storage,
    variants: Variants,
    pipeline_layout: wgpu::PipelineLayout,
    modules: HashMap<Kernel, wgpu::ShaderModule>,
    cache: HashMap<(Kernel, Constants), wgpu::ComputePipeline>,
    /// The driver's pipeline cache, persisted across processes (`pipeline_cache.rs`).
    driver_cache: Option<wgpu::PipelineCache>,
}

impl Pipelines {
    pub fn new(
        device: &wgpu::Device,
        storage: Storage,
        variants: Variants,
        driver_cache: Option<wgpu::PipelineCache>,
    ) -> Self {
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
            storage,
            variants,
            pipeline_layout,
            modules: HashMap::new(),
            cache: HashMap::new(),
            driver_cache,
        }
    }

    /// The pipeline of `kernel` specialized by `constants`, created on first use.
    pub fn get(
        &mut self,
        device: &wgpu::Device,
        kernel: Kernel,
        constants: Constants,
    ) -> &wgpu::ComputePipeline {
        let (storage, subgroups) = (self.storage, self.variants.subgroups(kernel));
        let arithmetic = self.variants.gpu_arithmetic;
        let driver_cache = self.driver_cache.as_ref();
        let module = self.modules.entry(kernel).or_insert_with(|| {
            device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(&format!("{kernel:?}")),
                source: wgpu::ShaderSource::Wgsl(
                    kernel.source(storage, subgroups, arithmetic).into(),
                ),
            })
        });
        let layout = &self.pipeline_layout;
        self.cache
            .entry((kernel, constants.clone()))
            .or_insert_with(|| {
                let values: Vec<(&str, f64)> =
                    constants.iter().map(|&(k, v)| (k, v as f64)).collect();
                device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(&format!("{kernel:?} {constants:?}")),
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
    pub fn count(&self) -> usize {
        self.cache.len()
    }
}
