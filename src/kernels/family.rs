//! The two kernel families. The CPU family (`kernels::{conv, depthwise, ...}`) is shaped for
//! CPU Vulkan drivers such as lavapipe: small workgroups, no workgroup memory, every lane
//! loading its own values, because there idle lanes still cost and shared memory is plain
//! memory. The GPU family (`kernels::gpu_family`) is shaped for real GPUs: 64–256-lane
//! workgroups, tiles staged in `var<workgroup>`, workgroup reductions, whole-word stores.
//! Both read the same weight layouts and tensors, so a session may mix them op by op.

use crate::{Error, Result};
use std::sync::OnceLock;

/// The family chosen for the whole process (`effnet --kernels`), ahead of `EFFNET_KERNELS`.
static CHOSEN: OnceLock<Family> = OnceLock::new();

/// The environment variable that forces a family (`gpu` or `cpu`) for every session that
/// does not choose one itself (`SessionOptions::kernels`).
pub const KERNELS_ENV: &str = "EFFNET_KERNELS";

/// Which family of kernels a session runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// Shaped for CPU drivers (lavapipe, SwiftShader): the default on `DeviceType::Cpu`.
    Cpu,
    /// Shaped for GPUs.
    Gpu,
    /// Per op, the family measured faster on a GPU (`gpu_family::preferred`): the default on
    /// every adapter that is not a CPU.
    #[default]
    Auto,
}

impl Family {
    /// The family for an adapter nobody chose one for.
    pub fn default_for(device_type: wgpu::DeviceType) -> Family {
        match device_type {
            wgpu::DeviceType::Cpu => Family::Cpu,
            _ => Family::Auto,
        }
    }

    /// Parses `gpu`, `cpu` or `auto` (as `EFFNET_KERNELS` and `--kernels` take them).
    pub fn parse(s: &str) -> Result<Family> {
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

    /// Makes `family` the choice of every session of this process that does not choose
    /// itself, ahead of `EFFNET_KERNELS` (the command line's `--kernels`). The first call wins.
    pub fn choose_for_process(family: Family) {
        let _ = CHOSEN.set(family);
    }

    /// The family a session runs: its own choice, else the process's
    /// (`choose_for_process`), else `EFFNET_KERNELS`, else the adapter's default.
    pub fn resolve(chosen: Option<Family>, adapter_default: Family) -> Result<Family> {
        if let Some(&f) = chosen.as_ref().or(CHOSEN.get()) {
            return Ok(f);
        }
        match std::env::var(KERNELS_ENV) {
            Ok(v) if !v.trim().is_empty() => Family::parse(&v),
            _ => Ok(adapter_default),
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
        assert_eq!(
            Family::resolve(Some(Family::Cpu), Family::Gpu).unwrap(),
            Family::Cpu
        );
    }
}
