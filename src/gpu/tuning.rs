//! The tuning cache: `effnet tune` times the candidates (`kernels::tuning`) on shapes
//! EfficientNet really uses and caches the winner on disk, keyed by adapter, driver and
//! backend; later engines on the same adapter load it. Without a cached entry the defaults
//! apply, so results never depend on whether tuning ran (every candidate is tested for
//! correctness in tests/kernels.rs).

pub(crate) use crate::kernels::tuning::{GPU_UNIT_CANDIDATES, Tuning};
use crate::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The cache file: `$EFFNET_CACHE_DIR/tuning.json`, else `$XDG_CACHE_HOME/effnet/…`, else
/// `$HOME/.cache/effnet/…`; `None` where [`cache_dir`] turns the caches off.
pub(crate) fn cache_path() -> Option<PathBuf> {
    cache_dir().ok().map(|d| d.join("tuning.json"))
}

/// The folder of the tuning and pipeline caches, or why there is none (a note for the user).
/// effnet creates that folder and at most its parent, never a folder above: a missing `$HOME`
/// or `$XDG_CACHE_HOME` (or a missing parent of `$EFFNET_CACHE_DIR`) turns the caches off,
/// since a tool that made a user's home folder would be doing what no one asked.
pub(crate) fn cache_dir() -> std::result::Result<PathBuf, String> {
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
pub(crate) fn adapter_key(info: &wgpu::AdapterInfo) -> String {
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
pub(crate) fn cached(
    info: &wgpu::AdapterInfo,
    subgroup_lanes: u32,
) -> (Option<Tuning>, Option<String>) {
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
}
