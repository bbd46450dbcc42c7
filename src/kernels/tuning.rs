//! Kernel shape choices per adapter: the fields `effnet tune` measures (the CPU family's
//! pointwise block and subgroup-shared weights; the GPU family's grid sizing, cross-lane sums
//! and f16 arithmetic; the kernel variant picked per op, `variants`), the defaults for
//! adapters nobody tuned, and the candidates the tuner times and the tests check. The cache
//! on disk is `gpu::tuning`'s.

use super::Family;
use super::cpu::pointwise::CO_CANDIDATES as POINTWISE_CO_CANDIDATES;
use super::gpu::DEFAULT_UNITS;
use super::layout::Layout;
use super::variants::Variants;
use serde::{Deserialize, Serialize};

/// A cache entry written before a field existed takes the adapter's default for it
/// (`cached`); the serde defaults below only let `store` read such entries of other
/// adapters back (0 units is no tuning to run: `fits`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tuning {
    /// Output channels one pointwise invocation computes.
    pub pointwise_co: u32,
    /// Share weights across a subgroup (shaders/cpu/lanes_subgroup.wgsl: one lane loads, a
    /// broadcast hands the value to all) instead of every lane loading them. Needs subgroups
    /// of at least 8 lanes.
    #[serde(default)]
    pub subgroups: bool,
    /// Compute units the GPU family sizes its grids for (`kernels::gpu`): it takes
    /// smaller tiles until a layer makes about two workgroups per unit. wgpu does not say
    /// how many SMs or CUs an adapter has, so `effnet tune` measures the best value.
    #[serde(default)]
    pub gpu_units: u32,
    /// Whether the GPU family sums across lanes with subgroup operations where the adapter
    /// has them (`gpu::subgroup_reductions`), rather than through workgroup memory:
    /// `effnet tune` times both.
    #[serde(default = "yes")]
    pub gpu_subgroup_sums: bool,
    /// Whether the GPU family stages and multiplies in f16 when storage is native f16
    /// (`kernels::formats::Arithmetic`): twice the values per workgroup-memory byte and per
    /// register, and double-rate arithmetic on most GPUs, but emulated on CPU drivers
    /// (lavapipe: 28% slower); `effnet tune` times both.
    #[serde(default)]
    pub gpu_f16_math: bool,
    /// Whether GPU-family sessions fuse each MBConv block's expansion into its depthwise
    /// conv (`kernels::fuse`): the expanded tensor never goes to memory, but bands of large
    /// planes compute their halo twice; `effnet tune` times both.
    #[serde(default = "yes")]
    pub gpu_fused_blocks: bool,
    /// Whether GPU-family sessions fuse each fused-MBConv block's k×k conv into its 1×1
    /// projection (`kernels::fuse`, EfficientNetV2): the expanded tensor never goes to
    /// memory, but the conv is computed value by value as the GEMM stages it, without the
    /// conv kernel's tiling; `effnet tune` times both.
    #[serde(default = "yes")]
    pub gpu_fused_convs: bool,
    /// How GPU-family sessions store activations (`kernels::layout`): channel planes, or
    /// channels last, where a 1×1 conv is a GEMM with contiguous K and a depthwise conv
    /// reads vec4s of channels. NHWC sessions run only kernels written for it and fuse no
    /// ops.
    #[serde(default)]
    pub gpu_layout: Layout,
    /// The kernel variant of each op `effnet tune` found faster than its family's main
    /// kernel on this adapter (none picked: the main kernels).
    #[serde(default)]
    pub variants: Variants,
    /// Not a choice but what a session can run: whether its device enabled 16×16 f16
    /// cooperative matrices (`Gpu::coop_f16`) and its storage is native f16, so the GPU
    /// family's tensor-core kernels (`kernels::gpu::pointwise_coop`) may be described. The
    /// executor sets it per session (`Gpu::session_tuning`); never cached or tuned.
    #[serde(skip)]
    pub(crate) gpu_coop_f16: bool,
}

fn yes() -> bool {
    true
}

fn default_units() -> u32 {
    DEFAULT_UNITS as u32
}

/// The compute-unit counts `effnet tune` tries for the GPU family: a one-core CPU driver up
/// to twice an H200's 132 SMs, doubling (each step changes some layer's tiles).
pub(crate) const GPU_UNIT_CANDIDATES: [u32; 10] = [1, 2, 4, 8, 16, 32, 64, 132, 264, 528];

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            pointwise_co: 16,
            subgroups: false,
            gpu_units: default_units(),
            gpu_subgroup_sums: true,
            gpu_f16_math: true,
            gpu_fused_blocks: true,
            gpu_fused_convs: true,
            gpu_layout: Layout::Nchw,
            variants: Variants::default(),
            gpu_coop_f16: false,
        }
    }
}

impl Tuning {
    /// The shapes to use on an adapter nobody has tuned. CPU drivers get what `effnet tune`
    /// picks on lavapipe (there every load in a loop is a loop over the SIMD lanes, so large
    /// blocks and subgroup-shared weights pay: BENCHMARKS.md), and GPU-family grids sized
    /// for its threads (lavapipe runs one workgroup per thread at a time: it ran B0 twice
    /// as fast as with grids sized for an H200); GPUs the portable middle.
    pub(crate) fn default_for(info: &wgpu::AdapterInfo, subgroup_lanes: u32) -> Self {
        if info.device_type != wgpu::DeviceType::Cpu {
            return Tuning::default();
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let cpu = Tuning {
            pointwise_co: 32,
            subgroups: true,
            gpu_units: threads as u32,
            gpu_subgroup_sums: true,
            gpu_f16_math: false,
            gpu_fused_blocks: true,
            gpu_fused_convs: true,
            gpu_layout: Layout::Nchw,
            variants: Variants::default(),
            gpu_coop_f16: false,
        };
        if cpu.fits(subgroup_lanes) {
            cpu
        } else {
            Tuning {
                subgroups: false,
                ..cpu
            }
        }
    }

    /// The layout a session of `family` runs (`kernels::layout`): the GPU family's choice
    /// (`gpu_layout`); NCHW for the CPU family and for `Auto`, whose ops may run either
    /// family's kernel and so must share the one layout both have.
    pub(crate) fn layout(&self, family: Family) -> Layout {
        match family {
            Family::Gpu => self.gpu_layout,
            Family::Cpu | Family::Auto => Layout::Nchw,
        }
    }

    /// Whether an adapter whose subgroups have at least `subgroup_lanes` lanes (0: no
    /// subgroups) can run this: the subgroup kernels broadcast from lanes 0 .. 8.
    pub(crate) fn fits(&self, subgroup_lanes: u32) -> bool {
        POINTWISE_CO_CANDIDATES.contains(&self.pointwise_co)
            && (!self.subgroups || subgroup_lanes >= 8)
            && self.gpu_units > 0
    }

    /// The GPU-family tunings the tests run (`gpu_units` 1, whose grids take the largest
    /// tiles, and `DEFAULT_UNITS`, whose batch-1 grids take the smallest, split-K
    /// included), so whichever a cache holds has been checked against the CPU reference.
    pub fn gpu_family_checks(&self) -> Vec<Tuning> {
        [1, default_units()]
            .map(|gpu_units| Tuning { gpu_units, ..*self })
            .to_vec()
    }

    /// Every CPU-family tuning an adapter with `subgroup_lanes`-lane subgroups can run
    /// (`gpu_units` as in `self`): the candidates `effnet tune` times and the tests check
    /// against the CPU reference.
    pub fn candidates(&self, subgroup_lanes: u32) -> Vec<Tuning> {
        [false, true]
            .iter()
            .flat_map(|&subgroups| {
                POINTWISE_CO_CANDIDATES.map(|pointwise_co| Tuning {
                    pointwise_co,
                    subgroups,
                    ..*self
                })
            })
            .filter(|t| t.fits(subgroup_lanes))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Tuning;

    /// A cache entry written before `gpu_units` existed still loads, marked absent (0) so
    /// `cached` gives it the adapter's default instead of grids for a GPU it may not be.
    #[test]
    fn old_cache_entries_load_without_gpu_units() {
        let old: Tuning = serde_json::from_str(r#"{"pointwise_co":32,"subgroups":true}"#).unwrap();
        assert_eq!(
            (old.pointwise_co, old.subgroups, old.gpu_units),
            (32, true, 0)
        );
        assert!(
            old.gpu_subgroup_sums,
            "the GPU family's sums as before the field"
        );
        assert!(!old.fits(8), "0 units is not a tuning to run");
    }

    /// A CPU driver's default grids are sized for its threads, a GPU's for the default.
    #[test]
    fn defaults_size_grids_for_the_adapter() {
        let mut info = wgpu::AdapterInfo::new(wgpu::DeviceType::Cpu, wgpu::Backend::Vulkan);
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(Tuning::default_for(&info, 8).gpu_units, threads as u32);
        info.device_type = wgpu::DeviceType::DiscreteGpu;
        assert_eq!(Tuning::default_for(&info, 32), Tuning::default());
    }
}
