//! wgpu's pipeline cache (a driver pipeline cache, `VkPipelineCache` on Vulkan) kept on disk
//! beside the tuning cache, so that a later process on the same adapter and driver skips most
//! of the driver's shader compilation: the bulk of a session's start-up.
//!
//! The file is `wgpu::util::pipeline_cache_key(adapter)` in the cache folder: an 8-byte
//! FNV-1a checksum of the data, then wgpu's data. wgpu itself checks the data's header
//! (adapter, driver version) and starts empty when it does not match; the checksum guards the
//! rest against a damaged file, which is the one thing a driver may not be handed.

use crate::model::rule::fnv1a64;
use std::path::PathBuf;
use std::sync::Mutex;

/// A pipeline cache and the file it persists to.
pub(crate) struct DiskCache {
    pub(crate) cache: wgpu::PipelineCache,
    path: PathBuf,
    /// Checksum of what the file holds, so an unchanged cache is not written again.
    saved: Mutex<u64>,
}

/// The device's cache, seeded from disk, where the device has `PIPELINE_CACHE`, the backend
/// has a cache key, there is a cache folder, and `EFFNET_PIPELINE_CACHE` is not `0`; and a
/// note when the file on disk was damaged (the cache then starts empty).
pub(crate) fn open(
    device: &wgpu::Device,
    info: &wgpu::AdapterInfo,
) -> (Option<DiskCache>, Option<String>) {
    let wanted = std::env::var("EFFNET_PIPELINE_CACHE").map_or(true, |v| v != "0");
    if !wanted || !device.features().contains(wgpu::Features::PIPELINE_CACHE) {
        return (None, None);
    }
    let (Some(key), Some(tuning)) = (
        wgpu::util::pipeline_cache_key(info),
        super::tuning::cache_path(),
    ) else {
        return (None, None);
    };
    let path = tuning.with_file_name(key);
    let bytes = std::fs::read(&path).ok();
    let data = bytes.as_deref().and_then(verified);
    let note = (bytes.is_some() && data.is_none()).then(|| {
        format!(
            "the pipeline cache {} is damaged; starting it afresh (this run compiles its \
             pipelines again)",
            path.display()
        )
    });
    let saved = data.map_or(0, fnv1a64);
    // SAFETY: wgpu requires `data` to come from `PipelineCache::get_data` on this adapter.
    // It does: we write only that, checksummed, to a file named by the adapter's cache key,
    // and pass it on only when the checksum matches; wgpu then validates the header itself
    // (adapter, driver version) and, with `fallback`, starts empty on any mismatch.
    let cache = unsafe {
        device.create_pipeline_cache(&wgpu::PipelineCacheDescriptor {
            label: Some("effnet pipeline cache"),
            data,
            fallback: true,
        })
    };
    let disk = DiskCache {
        cache,
        path,
        saved: Mutex::new(saved),
    };
    (Some(disk), note)
}

/// The data of a cache file whose checksum matches, else `None`.
fn verified(bytes: &[u8]) -> Option<&[u8]> {
    let (sum, data) = bytes.split_at_checked(8)?;
    (u64::from_le_bytes(sum.try_into().ok()?) == fnv1a64(data)).then_some(data)
}

impl DiskCache {
    /// Writes the cache when it has grown since it was read or last written. Best effort: a
    /// cache that cannot be written costs start-up time later, never a failure now.
    pub(crate) fn save(&self) {
        let Some(data) = self.cache.get_data() else {
            return;
        };
        let sum = fnv1a64(&data);
        let mut saved = self.saved.lock().unwrap_or_else(|p| p.into_inner());
        if *saved == sum {
            return;
        }
        let mut bytes = sum.to_le_bytes().to_vec();
        bytes.extend_from_slice(&data);
        // Written beside and renamed into place, so no reader ever sees half a file.
        let partial = self
            .path
            .with_extension(format!("{}.partial", std::process::id()));
        let written = (self.path.parent())
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&partial, &bytes))
            .and_then(|()| std::fs::rename(&partial, &self.path));
        match written {
            Ok(()) => *saved = sum,
            Err(_) => drop(std::fs::remove_file(&partial)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_files_with_a_matching_checksum_reach_the_driver() {
        let data = b"pipeline bytes".to_vec();
        let mut file = fnv1a64(&data).to_le_bytes().to_vec();
        file.extend_from_slice(&data);
        assert_eq!(verified(&file), Some(&data[..]));
        file[10] ^= 1;
        assert_eq!(verified(&file), None, "a damaged byte");
        assert_eq!(verified(&file[..5]), None, "shorter than the checksum");
    }
}
