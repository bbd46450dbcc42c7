//! Cooperative matrices (tensor cores; wgpu's experimental EXPERIMENTAL_COOPERATIVE_MATRIX,
//! on Vulkan `VK_KHR_cooperative_matrix`): whether an adapter can run the GPU family's
//! 16×16 f16 kernels (`kernels::gpu::pointwise_coop`), what the device then asks for, and
//! which sessions may describe those kernels.

use wgpu::{CooperativeMatrixProperties, CooperativeScalarType, Features};

/// The matrix shape the kernels multiply on: 16×16×16, f16 A and B, f32 accumulator C
/// (f32 sums keep the f16-storage tolerances of the other kernels).
const SIZE: u32 = 16;
/// Lanes of the kernels' workgroups, which must be exactly one subgroup: a cooperative
/// operation belongs to a whole subgroup (wgpu-hal takes only subgroup-scope shapes).
const LANES: u32 = 32;

/// `Ok` where an adapter with `features`, cooperative matrix shapes `shapes`
/// (`wgpu::Adapter::cooperative_matrix_properties`) and the subgroups of `info` can run
/// the kernels, else why not (`effnet tune` prints it).
pub(crate) fn f16_tiles(
    features: Features,
    shapes: &[CooperativeMatrixProperties],
    info: &wgpu::AdapterInfo,
) -> Result<(), String> {
    if !features.contains(Features::EXPERIMENTAL_COOPERATIVE_MATRIX) {
        return Err("the adapter has no cooperative matrices (wgpu's \
                    EXPERIMENTAL_COOPERATIVE_MATRIX: Vulkan's VK_KHR_cooperative_matrix with \
                    the Vulkan memory model, or Metal's simdgroup matrices)"
            .into());
    }
    if !features.contains(Features::SHADER_F16) {
        return Err("the adapter has cooperative matrices but no SHADER_F16".into());
    }
    let wanted = |s: &&CooperativeMatrixProperties| {
        (s.m_size, s.n_size, s.k_size) == (SIZE, SIZE, SIZE)
            && s.ab_type == CooperativeScalarType::F16
            && s.cr_type == CooperativeScalarType::F32
    };
    if !shapes.iter().any(|s| wanted(&s)) {
        let listed: Vec<String> = (shapes.iter())
            .map(|s| {
                let (m, n, k) = (s.m_size, s.n_size, s.k_size);
                format!("{m}×{n}×{k} {:?}→{:?}", s.ab_type, s.cr_type)
            })
            .collect();
        return Err(format!(
            "none of the adapter's cooperative matrix shapes is 16×16×16 F16→F32 (it lists {})",
            listed.join(", ")
        ));
    }
    let (min, max) = (info.subgroup_min_size, info.subgroup_max_size);
    if (min, max) != (LANES, LANES) {
        return Err(format!(
            "the adapter's subgroups have {min} to {max} lanes; the kernels' {LANES}-lane \
             workgroups must be exactly one subgroup"
        ));
    }
    Ok(())
}

/// The environment variable that turns the tensor-core kernels on where the adapter has them.
pub const OPT_IN: &str = "EFFNET_COOPERATIVE_MATRIX";

/// `Ok` where the user asked for the kernels (`EFFNET_COOPERATIVE_MATRIX=1`). Off by
/// default until a device has measured them: wgpu's feature is experimental, and with it
/// enabled wgpu-hal compiles every shader of the device (every kernel of every session, not
/// only these) with the Vulkan memory model.
pub(crate) fn opted_in() -> Result<(), String> {
    match std::env::var(OPT_IN) {
        Ok(v) if v == "1" => Ok(()),
        _ => Err(format!(
            "the adapter has them, but they are off: {OPT_IN}=1 turns them on (experimental: \
             the device then compiles every kernel with the Vulkan memory model)"
        )),
    }
}

/// What a device asks for so that the kernels run: the feature, where `coop` is `Ok`.
pub(crate) fn features(coop: &Result<(), String>) -> Features {
    match coop {
        Ok(()) => Features::EXPERIMENTAL_COOPERATIVE_MATRIX,
        Err(_) => Features::empty(),
    }
}

/// The token wgpu requires before it enables an experimental feature: granted only where
/// `coop` is `Ok`, the one experimental feature effnet asks for.
pub(crate) fn experimental(coop: &Result<(), String>) -> wgpu::ExperimentalFeatures {
    match coop {
        // SAFETY: wgpu warns that its experimental features may hide bugs with undefined
        // behaviour. effnet uses this one only in the kernels above, which no session runs
        // before `effnet tune` has checked them against the CPU reference on this device
        // and found them faster (`bench::tune`: a variant runs only once picked).
        Ok(()) => unsafe { wgpu::ExperimentalFeatures::enabled() },
        Err(_) => wgpu::ExperimentalFeatures::disabled(),
    }
}

#[cfg(test)]
mod tests {
    use super::f16_tiles;
    use wgpu::{CooperativeMatrixProperties, CooperativeScalarType as T, Features};

    fn shape(size: u32, ab: T, cr: T) -> CooperativeMatrixProperties {
        CooperativeMatrixProperties {
            m_size: size,
            n_size: size,
            k_size: size,
            ab_type: ab,
            cr_type: cr,
            saturating_accumulation: false,
        }
    }

    /// Only the feature, f16, a 16×16×16 f16 → f32 shape and 32-lane subgroups together
    /// take the kernels; each missing piece is named.
    #[test]
    fn only_adapters_with_every_piece_take_the_kernels() {
        let mut info = wgpu::AdapterInfo::new(wgpu::DeviceType::DiscreteGpu, wgpu::Backend::Vulkan);
        (info.subgroup_min_size, info.subgroup_max_size) = (32, 32);
        let all = Features::EXPERIMENTAL_COOPERATIVE_MATRIX | Features::SHADER_F16;
        let good = [shape(8, T::F32, T::F32), shape(16, T::F16, T::F32)];
        assert_eq!(f16_tiles(all, &good, &info), Ok(()));
        let why = |features, shapes: &[_], info: &_| f16_tiles(features, shapes, info).unwrap_err();
        assert!(why(Features::SHADER_F16, &good, &info).contains("no cooperative matrices"));
        let no_f16 = Features::EXPERIMENTAL_COOPERATIVE_MATRIX;
        assert!(why(no_f16, &good, &info).contains("SHADER_F16"));
        let f16_sums = [shape(16, T::F16, T::F16)];
        assert!(why(all, &f16_sums, &info).contains("16×16×16 F16→F16"));
        info.subgroup_max_size = 64;
        assert!(why(all, &good, &info).contains("32 to 64 lanes"));
    }
}
