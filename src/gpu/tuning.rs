//! Kernel shape choices per adapter. `effnet tune` times the candidates on shapes
//! EfficientNet really uses and caches the winner on disk, keyed by adapter, driver and
//! backend; later engines on the same adapter load it. Without a cached entry the defaults
//! apply, so results never depend on whether tuning ran (every candidate is tested for
//! correctness in tests/kernels.rs).

use crate::kernels::pointwise::CO_CANDIDATES as POINTWISE_CO_CANDIDATES;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tuning {
    /// Output channels one pointwise invocation computes.
    pub pointwise_co: u32,
    /// Share weights across a subgroup (shaders/lanes_subgroup.wgsl: one lane loads, a
    /// broadcast hands the value to all) instead of every lane loading them. Needs subgroups
    /// of at least 8 lanes. Absent from caches written before it existed.
    #[serde(default)]
    pub subgroups: bool,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            pointwise_co: 16,
            subgroups: false,
        }
    }
}

impl Tuning {
    /// The shapes to use on an adapter nobody has tuned. CPU drivers get what `effnet tune`
    /// picks on lavapipe (there every load in a loop is a loop over the SIMD lanes, so large
    /// blocks and subgroup-shared weights pay: BENCHMARKS.md); GPUs the portable middle.
    pub fn default_for(info: &wgpu::AdapterInfo, subgroup_lanes: u32) -> Self {
        if info.device_type != wgpu::DeviceType::Cpu {
            return Tuning::default();
        }
        let cpu = Tuning {
            pointwise_co: 32,
            subgroups: true,
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

    /// Whether an adapter whose subgroups have at least `subgroup_lanes` lanes (0: no
    /// subgroups) can run this: the subgroup kernels broadcast from lanes 0 .. 8.
    pub fn fits(&self, subgroup_lanes: u32) -> bool {
        POINTWISE_CO_CANDIDATES.contains(&self.pointwise_co)
            && (!self.subgroups || subgroup_lanes >= 8)
    }

    /// Every tuning an adapter with `subgroup_lanes`-lane subgroups can run: the candidates
    /// `effnet tune` times and the tests check against the CPU reference.
    pub fn candidates(subgroup_lanes: u32) -> Vec<Tuning> {
        [false, true]
            .iter()
            .flat_map(|&subgroups| {
                POINTWISE_CO_CANDIDATES.map(|pointwise_co| Tuning {
                    pointwise_co,
                    subgroups,
                })
            })
            .filter(|t| t.fits(subgroup_lanes))
            .collect()
    }
}

/// The cache file: `$EFFNET_CACHE_DIR/tuning.json`, else `$XDG_CACHE_HOME/effnet/…`, else
/// `$HOME/.cache/effnet/…`.
pub fn cache_path() -> Option<PathBuf> {
    // A browser page has no filesystem, so neither this cache nor the pipeline cache beside it.
    if cfg!(target_arch = "wasm32") {
        return None;
    }
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let dir = var("EFFNET_CACHE_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("effnet")))
        .or_else(|| var("HOME").map(|d| d.join(".cache").join("effnet")))?;
    Some(dir.join("tuning.json"))
}

/// The key under which an adapter's tuning is stored.
pub fn adapter_key(info: &wgpu::AdapterInfo) -> String {
    format!(
        "{:?} | {} | {} {}",
        info.backend, info.name, info.driver, info.driver_info
    )
}

fn read_cache() -> BTreeMap<String, Tuning> {
    cache_path()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// The cached tuning for this adapter, if any and if it can run with `subgroup_lanes`-lane
/// subgroups. A missing or unreadable cache is not an error.
pub fn cached(info: &wgpu::AdapterInfo, subgroup_lanes: u32) -> Option<Tuning> {
    let t = read_cache().remove(&adapter_key(info))?;
    t.fits(subgroup_lanes).then_some(t)
}

/// Stores `tuning` for this adapter, keeping other adapters' entries.
pub fn store(info: &wgpu::AdapterInfo, tuning: Tuning) -> Result<PathBuf> {
    let path = cache_path()
        .ok_or_else(|| Error::Input("no cache directory: set EFFNET_CACHE_DIR or HOME".into()))?;
    let mut all = read_cache();
    all.insert(adapter_key(info), tuning);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let text = serde_json::to_string_pretty(&all).expect("tuning serializes");
    std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
    Ok(path)
}
