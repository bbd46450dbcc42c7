//! The two kernel families. The CPU family (`kernels::{conv, depthwise, ...}`) is shaped for
//! CPU Vulkan drivers such as lavapipe: small workgroups, no workgroup memory, every lane
//! loading its own values, because there idle lanes still cost and shared memory is plain
//! memory. The GPU family (`kernels::gpu`) is shaped for real GPUs: 64–256-lane
//! workgroups, tiles staged in `var<workgroup>`, workgroup reductions, whole-word stores.
//! Both read the same weight layouts and tensors, so a session may mix them op by op.

use crate::{Error, Result};

/// The environment variable that sets the family (`gpu`, `cpu` or `auto`) of an engine's
/// sessions in place of the adapter's default; it is read once, when the engine opens its
/// device, and a session's own choice (`SessionOptions::with_kernels`) still wins.
pub const KERNELS_ENV: &str = "EFFNET_KERNELS";

/// Which family of kernels a session runs. A value: the command line parses it (`--kernels`,
/// an unknown name is an error listing these), `SessionOptions` carries it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// Shaped for CPU drivers (lavapipe, SwiftShader): the default on `DeviceType::Cpu`.
    Cpu,
    /// Shaped for GPUs.
    Gpu,
    /// Per op, the family measured faster on a GPU (`gpu::preferred`): the default on
    /// every adapter that is not a CPU.
    #[default]
    Auto,
}

impl Family {
    /// The family for an adapter nobody chose one for.
    pub(crate) fn default_for(device_type: wgpu::DeviceType) -> Family {
        match device_type {
            wgpu::DeviceType::Cpu => Family::Cpu,
            _ => Family::Auto,
        }
    }

    /// Parses `gpu`, `cpu` or `auto` (as `EFFNET_KERNELS` and `--kernels` take them).
    pub(crate) fn parse(s: &str) -> Result<Family> {
        match s.trim().to_ascii_lowercase().as_str() {
            "gpu" => Ok(Family::Gpu),
            "cpu" => Ok(Family::Cpu),
            "auto" => Ok(Family::Auto),
            other => Err(Error::Input(format!(
                "unknown kernel family {other:?} (from {KERNELS_ENV} or --kernels); use gpu \
                 (kernels shaped for GPUs), cpu (for CPU drivers such as lavapipe) or auto \
                 (per op, the faster on GPUs)"
            ))),
        }
    }

    /// The family `EFFNET_KERNELS` names, if it is set (an unknown name is an error).
    pub(crate) fn from_env() -> Result<Option<Family>> {
        match std::env::var(KERNELS_ENV) {
            Ok(v) if !v.trim().is_empty() => Family::parse(&v).map(Some),
            _ => Ok(None),
        }
    }

    /// `gpu` or `cpu`.
    pub fn name(self) -> &'static str {
        match self {
            Family::Cpu => "cpu",
            Family::Gpu => "gpu",
            Family::Auto => "auto",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_names_and_refuses_others_with_the_choices() {
        assert_eq!(Family::parse("GPU").unwrap(), Family::Gpu);
        assert_eq!(Family::parse(" cpu").unwrap(), Family::Cpu);
        let e = Family::parse("fast").unwrap_err().to_string();
        assert!(e.contains("use gpu") && e.contains("cpu"), "{e}");
    }

    #[test]
    fn cpu_adapters_default_to_the_cpu_family() {
        assert_eq!(Family::default_for(wgpu::DeviceType::Cpu), Family::Cpu);
        assert_eq!(
            Family::default_for(wgpu::DeviceType::DiscreteGpu),
            Family::Auto
        );
        assert_eq!(Family::parse("auto").unwrap(), Family::Auto);
    }
}
