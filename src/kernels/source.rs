//! A kernel's complete WGSL module: its family's prelude (storage bindings in the build's
//! format, shared helpers, the cross-lane sums or lane-shared loads of its family), its op's
//! parameter block (`params!`) and its own shader. Also the binding numbers every shader
//! shares, and which source variant (subgroups, arithmetic) each family takes on an adapter.

use super::formats::{Arithmetic, Storage, Target};
use super::{Family, Kernel, OpKind, Tuning};

pub(crate) const PRELUDE: &str = include_str!("../../shaders/common/prelude.wgsl");
const TAPS: &str = include_str!("../../shaders/cpu/taps.wgsl");
const STORAGE: &str = include_str!("../../shaders/common/storage.wgsl");
const STORAGE_PACKED: &str = include_str!("../../shaders/common/storage_packed.wgsl");
/// The second, vec4 view of the output and its 4-value stores (native builds).
const STORAGE_DST4: &str = include_str!("../../shaders/common/storage_dst4.wgsl");
const STORAGE_PACKED_DST4: &str = include_str!("../../shaders/common/storage_packed_dst4.wgsl");
const GPU_STORAGE_PACKED_DST4: &str = include_str!("../../shaders/gpu/storage_packed_dst4.wgsl");
/// The 4-value stores through the output itself (a browser's builds).
const STORE_SPLIT: &str = include_str!("../../shaders/common/store_split.wgsl");
const STORE_SPLIT_PACKED: &str = include_str!("../../shaders/common/store_split_packed.wgsl");
/// The CPU family's value-at-a-time stores (the GPU family stores whole words only).
const STORE4: &str = include_str!("../../shaders/cpu/store4.wgsl");
const PACKED_READS: &str = include_str!("../../shaders/common/storage_packed_reads.wgsl");
const DW_ROWS: &str = include_str!("../../shaders/common/dw_rows.wgsl");
/// The GPU family's packed-f16 bindings: plain words, whole-word stores only.
const GPU_STORAGE_PACKED: &str = include_str!("../../shaders/gpu/storage_packed.wgsl");
const GPU_STORE_SPLIT_PACKED: &str = include_str!("../../shaders/gpu/store_split_packed.wgsl");
const LANES_PLAIN: &str = include_str!("../../shaders/cpu/lanes_plain.wgsl");
const LANES_SUBGROUP: &str = include_str!("../../shaders/cpu/lanes_subgroup.wgsl");
const GPU_ROWS: &str = include_str!("../../shaders/gpu/rows.wgsl");

impl Kernel {
    /// Its own WGSL (shaders/cpu/NAME.wgsl, shaders/gpu/NAME.wgsl): its candidate entry's.
    pub(crate) fn body(self) -> &'static str {
        super::candidates::find(self).wgsl
    }

    /// The complete WGSL module for this build's [`Target`]: storage bindings, prelude, the
    /// kernel's parameter block (`kernels::*Params::WGSL`), helpers, kernel. `subgroups`
    /// (wgpu's SUBGROUP feature) chooses each family's subgroup variant: CPU-family kernels
    /// share weights by subgroup broadcast (subgroups of at least 8 lanes,
    /// `Tuning::subgroups`), GPU-family ones reduce across lanes with subgroup operations
    /// (`gpu::subgroup_reductions`). `arithmetic` is what the GPU family multiplies in
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
            Family::Cpu => "diagnostic(off, subgroup_uniformity);\n",
            _ => "",
        };
        format!("enable subgroups;\n{uniformity}{source}")
    }

    /// Whether its source with `subgroups` uses subgroup operations: every CPU-family
    /// kernel's (shaders/cpu/lanes_subgroup.wgsl), the GPU family's that reduce across lanes
    /// (shaders/gpu/reduce_subgroup.wgsl).
    pub fn uses_subgroups(self, subgroups: bool) -> bool {
        subgroups && (self.family() == Family::Cpu || self.reduces())
    }

    /// The type its `H` is for `arithmetic` asked over `storage`: the GPU family's choice
    /// where native f16 allows it, f32 in the CPU family.
    pub(crate) fn arithmetic(self, arithmetic: Arithmetic, storage: Storage) -> Arithmetic {
        match self.family() {
            Family::Gpu => arithmetic.with(storage),
            _ => Arithmetic::F32,
        }
    }

    /// Whether it is a GPU-family kernel that sums across lanes, taking its entry point and
    /// sums from shaders/gpu/reduce_*.wgsl.
    fn reduces(self) -> bool {
        self.family == Family::Gpu
            && matches!(
                self.op,
                OpKind::Depthwise | OpKind::ExpandDepthwise | OpKind::SeExcite | OpKind::Classifier
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
        let gpu_family = self.family() == Family::Gpu;
        let arithmetic = self.arithmetic(arithmetic, storage).wgsl();
        let bindings = bindings(storage, gpu_family, split_stores);
        let params = self.params_wgsl();
        // The GPU family's kernels bring their own entry points, workgroup-memory staging and
        // whole-word stores.
        if gpu_family {
            // The kernels that sum across lanes get their entry point and sums from a reduce
            // file; the GEMVs (SE, classifier) also share their row-group sums and stores.
            let reduce = match (self.reduces(), subgroups) {
                (false, _) => "",
                (true, false) => super::gpu::reduce::PLAIN,
                (true, true) => super::gpu::reduce::SUBGROUP,
            };
            // (The NHWC kernels share no rows with the NCHW ones.)
            let channels_last = super::candidates::find(self).layouts == super::layout::NHWC;
            let rows = match self.op {
                _ if channels_last => "",
                OpKind::SeExcite | OpKind::Classifier => GPU_ROWS,
                OpKind::Depthwise | OpKind::ExpandDepthwise => DW_ROWS,
                _ => "",
            };
            return format!(
                "{}{bindings}\n{arithmetic}{PRELUDE}\n{params}\n{reduce}\n{rows}\n{}",
                coop_directives(self),
                self.body()
            );
        }
        // The k×k kernels share the row-tap helpers, the depthwise ones its weight rows.
        // (Only the CPU family's dense and depthwise convs read them.)
        let taps = match self.op {
            OpKind::Conv | OpKind::Depthwise => TAPS,
            _ => "",
        };
        let taps = match self.op {
            OpKind::Depthwise => format!("{taps}\n{DW_ROWS}"),
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

/// The directive in front of a kernel that multiplies on cooperative matrices
/// (`Kernel::cooperative_matrix`): wgpu's extension. Such kernels are defined over native
/// f16 storage only, whose bindings enable f16, and natively only: a browser's WebGPU has
/// no cooperative matrices.
fn coop_directives(kernel: Kernel) -> &'static str {
    match kernel.cooperative_matrix() {
        true => "enable wgpu_cooperative_matrix;\n",
        false => "",
    }
}

/// The storage bindings of a kernel of the GPU family (`gpu_family`) or the CPU family in
/// `storage`, then how 4 consecutive outputs are stored: through a second, vec4 view of the
/// output (native), or through the output itself (`split_stores`: a browser).
fn bindings(storage: Storage, gpu_family: bool, split_stores: bool) -> String {
    let (bindings, dst4, split) = match storage {
        Storage::F32 => (
            format!("alias S = f32;\n{STORAGE}"),
            STORAGE_DST4,
            STORE_SPLIT,
        ),
        Storage::F16 => (
            format!("enable f16;\nalias S = f16;\n{STORAGE}"),
            STORAGE_DST4,
            STORE_SPLIT,
        ),
        Storage::F16Packed if gpu_family => (
            format!("{PACKED_READS}\n{GPU_STORAGE_PACKED}"),
            GPU_STORAGE_PACKED_DST4,
            GPU_STORE_SPLIT_PACKED,
        ),
        Storage::F16Packed => (
            format!("{PACKED_READS}\n{STORAGE_PACKED}"),
            STORAGE_PACKED_DST4,
            STORE_SPLIT_PACKED,
        ),
    };
    let stores = if split_stores { split } else { dst4 };
    format!("{bindings}\n{stores}")
}

/// Whether kernels store 4 consecutive outputs through the output binding itself rather than
/// a second, vec4 view of it (`binding::DST4`, then bound to a placeholder): in a browser,
/// whose WebGPU rejects a dispatch that binds one buffer twice as writable storage.
pub(crate) const SPLIT_STORES: bool = matches!(Target::CURRENT, Target::Browser);

/// Binding numbers of the shared layout (see `shaders/common/storage.wgsl`): eight storage buffers,
/// WebGPU's default per-stage limit.
pub(crate) mod binding {
    pub(crate) const PARAMS: u32 = 0;
    pub(crate) const SRC: u32 = 1;
    pub(crate) const WEIGHTS: u32 = 2;
    /// The SE gate a GEMM reads, or the SE partial sums (depthwise writes, SE reads) and
    /// the classifier's scratch: no kernel needs both.
    pub(crate) const AUX: u32 = 3;
    /// The residual, viewed as vec4s.
    pub(crate) const RESIDUAL4: u32 = 4;
    pub(crate) const DST: u32 = 5;
    /// The output again, viewed as vec4s (4 consecutive outputs stored at once).
    pub(crate) const DST4: u32 = 6;
    /// The weights buffer again, viewed as vec4s (GEMM weights are read four at a time).
    pub(crate) const WEIGHTS4: u32 = 7;
    /// The input again, viewed as vec4s (the pointwise kernel reads 4 pixels at once).
    pub(crate) const SRC4: u32 = 8;
}

/// Which source variant each kernel takes (`Kernel::source`'s `subgroups` and
/// `arithmetic`), per family.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Variants {
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
    /// subgroups allow (`gpu::subgroup_reductions`), and f16 arithmetic where its
    /// tuning asks for it (`Tuning::gpu_f16_math`).
    pub(crate) fn of(tuning: &Tuning, subgroup_lanes: u32) -> Self {
        let lanes_allow = super::gpu::subgroup_reductions(subgroup_lanes);
        let gpu_arithmetic = match tuning.gpu_f16_math {
            true => Arithmetic::F16,
            false => Arithmetic::F32,
        };
        Variants {
            cpu_subgroups: tuning.subgroups,
            gpu_subgroups: tuning.gpu_subgroup_sums && lanes_allow,
            gpu_arithmetic,
        }
    }

    /// The complete source of `kernel` over `storage` with the variants chosen here.
    pub(crate) fn source(self, kernel: Kernel, storage: Storage) -> String {
        kernel.source(storage, self.subgroups(kernel), self.gpu_arithmetic)
    }

    /// `kernel`'s family's subgroup choice.
    pub(crate) fn subgroups(self, kernel: Kernel) -> bool {
        match kernel.family() {
            Family::Gpu => self.gpu_subgroups,
            _ => self.cpu_subgroups,
        }
    }
}
