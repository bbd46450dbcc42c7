//! Kernel shape choices per adapter. `effnet tune` times the candidates on shapes
//! EfficientNet really uses and caches the winner on disk, keyed by adapter, driver and
//! backend; later engines on the same adapter load it. Without a cached entry the defaults
//! apply, so results never depend on whether tuning ran (every candidate is tested for
//! correctness in tests/kernels.rs).

use crate::kernels::gpu_family::DEFAULT_UNITS;
use crate::kernels::pointwise::CO_CANDIDATES as POINTWISE_CO_CANDIDATES;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A cache entry written before a field existed takes the adapter's default for it
/// (`cached`); the serde defaults below only let `store` read such entries of other
/// adapters back (0 units is no tuning to run: `fits`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tuning {
    /// Output channels one pointwise invocation computes.
    pub pointwise_co: u32,
    /// Share weights across a subgroup (shaders/lanes_subgroup.wgsl: one lane loads, a
    /// broadcast hands the value to all) instead of every lane loading them. Needs subgroups
    /// of at least 8 lanes.
    #[serde(default)]
    pub subgroups: bool,
    /// Compute units the GPU family sizes its grids for (`kernels::gpu_family`): it takes
    /// smaller tiles until a layer makes about two workgroups per unit. wgpu does not say
    /// how many SMs or CUs an adapter has, so `effnet tune` measures the best value.
    #[serde(default)]
    pub gpu_units: u32,
    /// Whether the GPU family sums across lanes with subgroup operations where the adapter
    /// has them (`gpu_family::subgroup_reductions`), rather than through workgroup memory:
    /// `effnet tune` times both.
    #[serde(default = "yes")]
    pub gpu_subgroup_sums: bool,
    /// Whether the GPU family stages and multiplies in f16 when storage is native f16
    /// (`gpu::formats::Arithmetic`): twice the values per workgroup-memory byte and per
    /// register, and double-rate arithmetic on most GPUs, but emulated on CPU drivers
    /// (lavapipe: 28% slower); `effnet tune` times both.
    #[serde(default)]
    pub gpu_f16_math: bool,
}

fn yes() -> bool {
    true
}

fn default_units() -> u32 {
    DEFAULT_UNITS as u32
}

/// The compute-unit counts `effnet tune` tries for the GPU family: a one-core CPU driver up
/// to twice an H200's 132 SMs, doubling (each step changes some layer's tiles).
pub const GPU_UNIT_CANDIDATES: [u32; 10] = [1, 2, 4, 8, 16, 32, 64, 132, 264, 528];

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            pointwise_co: 16,
            subgroups: false,
            gpu_units: default_units(),
            gpu_subgroup_sums: true,
            gpu_f16_math: true,
        }
    }
}

impl Tuning {
    /// The shapes to use on an adapter nobody has tuned. CPU drivers get what `effnet tune`
    /// picks on lavapipe (there every load in a loop is a loop over the SIMD lanes, so large
    /// blocks and subgroup-shared weights pay: BENCHMARKS.md), and GPU-family grids sized
    /// for its threads (lavapipe runs one workgroup per thread at a time: it ran B0 twice
    /// as fast as with grids sized for an H200); GPUs the portable middle.
    pub fn default_for(info: &wgpu::AdapterInfo, subgroup_lanes: u32) -> Self {
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

/// The cache file: `$EFFNET_CACHE_DIR/tuning.json`, else `$XDG_CACHE_HOME/effnet/…`, else
/// `$HOME/.cache/effnet/…`; `None` where [`cache_dir`] turns the caches off.
pub fn cache_path() -> Option<PathBuf> {
    cache_dir().ok().map(|d| d.join("tuning.json"))
}

/// The folder of the tuning and pipeline caches, or why there is none (a note for the user).
/// effnet creates that folder and at most its parent, never a folder above: a missing `$HOME`
/// or `$XDG_CACHE_HOME` (or a missing parent of `$EFFNET_CACHE_DIR`) turns the caches off,
/// since a tool that made a user's home folder would be doing what no one asked.
pub fn cache_dir() -> std::result::Result<PathBuf, String> {
    // A browser page has no filesystem, so neither this cache nor the pipeline cache beside it.
    if cfg!(target_arch = "wasm32") {
        return Err("a browser has no cache folder".into());
    }
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    // (the cache folder, the folder that must already exist, the variable that named it)
    let (dir, root, name) = if let Some(d) = var("EFFNET_CACHE_DIR") {
        let parent = d.parent().map_or(PathBuf::from("."), Path::to_path_buf);
        (d, parent, "EFFNET_CACHE_DIR")
    } else if let Some(d) = var("XDG_CACHE_HOME") {
        (d.join("effnet"), d, "XDG_CACHE_HOME")
    } else if let Some(d) = var("HOME") {
        (d.join(".cache").join("effnet"), d, "HOME")
    } else {
        return Err(
            "no cache folder (HOME is not set): kernel tuning and compiled pipelines \
                    are not kept; set EFFNET_CACHE_DIR to keep them"
                .into(),
        );
    };
    let root_ok = root.as_os_str().is_empty() || root.is_dir();
    if !root_ok {
        return Err(format!(
            "caches off: {} (from {name}) is not a folder, and effnet does not create it; \
             kernel tuning and compiled pipelines are not kept: set EFFNET_CACHE_DIR to a \
             folder to keep them",
            root.display()
        ));
    }
    Ok(dir)
}

/// The key under which an adapter's tuning is stored.
pub fn adapter_key(info: &wgpu::AdapterInfo) -> String {
    format!(
        "{:?} | {} | {} {}",
        info.backend, info.name, info.driver, info.driver_info
    )
}

/// The cache's entries as written, for telling absent fields from stored ones, and a note
/// when a cache file exists but is damaged (it is then treated as empty).
fn read_cache_entries() -> (BTreeMap<String, serde_json::Value>, Option<String>) {
    let Some(path) = cache_path() else {
        return (BTreeMap::new(), None);
    };
    let Ok(text) = std::fs::read_to_string(&path) else {
        return (BTreeMap::new(), None); // none yet: nothing to say
    };
    match serde_json::from_str(&text) {
        Ok(entries) => (entries, None),
        Err(e) => (BTreeMap::new(), Some(damaged(&path, &e.to_string()))),
    }
}

fn damaged(path: &Path, why: &str) -> String {
    format!(
        "the tuning cache {} is damaged ({why}); using default kernel shapes: run `effnet tune` \
         to write it again",
        path.display()
    )
}

fn read_cache() -> BTreeMap<String, Tuning> {
    let entries = read_cache_entries().0.into_iter();
    entries
        .filter_map(|(k, v)| Some((k, serde_json::from_value(v).ok()?)))
        .collect()
}

/// The cached tuning for this adapter, if any and if it can run with `subgroup_lanes`-lane
/// subgroups, and a note when the cache or this adapter's entry is damaged. A missing cache
/// is not worth a note; a damaged one is recovered from, never an error.
pub fn cached(info: &wgpu::AdapterInfo, subgroup_lanes: u32) -> (Option<Tuning>, Option<String>) {
    let (mut entries, note) = read_cache_entries();
    let Some(entry) = entries.remove(&adapter_key(info)) else {
        return (None, note);
    };
    let Some(t) = from_entry(entry, Tuning::default_for(info, subgroup_lanes)) else {
        let path = cache_path().unwrap_or_default();
        return (
            None,
            Some(damaged(&path, "this adapter's entry does not parse")),
        );
    };
    (t.fits(subgroup_lanes).then_some(t), note)
}

/// A cache entry with the fields it lacks (written before they existed) from `defaults`,
/// the adapter's.
fn from_entry(entry: serde_json::Value, defaults: Tuning) -> Option<Tuning> {
    let mut merged = serde_json::to_value(defaults).ok()?;
    merged.as_object_mut()?.extend(entry.as_object()?.clone());
    serde_json::from_value(merged).ok()
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
    // Written beside and renamed into place, so a crash or a second `tune` never leaves half
    // a file (which a later run would have to start afresh).
    let partial = path.with_extension(format!("{}.partial", std::process::id()));
    let written = std::fs::write(&partial, text).and_then(|()| std::fs::rename(&partial, &path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(Error::io(&path, e));
    }
    Ok(path)
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

    /// Fields an old entry lacks come from the adapter's defaults; stored ones stay.
    #[test]
    fn old_cache_entries_get_the_adapters_defaults() {
        let cpu = Tuning {
            gpu_units: 2,
            gpu_f16_math: false,
            ..Tuning::default()
        };
        let old = serde_json::json!({"pointwise_co": 32, "subgroups": true});
        let t = super::from_entry(old, cpu).unwrap();
        assert_eq!(
            (t.pointwise_co, t.gpu_units, t.gpu_f16_math),
            (32, 2, false)
        );
        let gpu = Tuning::default();
        let stored = serde_json::json!({"pointwise_co": 8, "gpu_units": 64, "gpu_f16_math": false});
        let t = super::from_entry(stored, gpu).unwrap();
        assert_eq!(
            (t.pointwise_co, t.gpu_units, t.gpu_f16_math),
            (8, 64, false)
        );
        assert!(super::from_entry(serde_json::json!({"pointwise_co": "x"}), gpu).is_none());
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
