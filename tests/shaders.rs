//! Every WGSL kernel parses and validates with naga in every storage format, native and as a
//! browser gets it (`SPLIT_STORES`), no GPU needed.

use effnet::Family;
use effnet::gpu::Kernel;
use effnet::gpu::pipelines::Storage;

#[test]
fn every_kernel_validates_with_naga() {
    for (k, storage, subgroups, split) in Kernel::ALL
        .iter()
        .flat_map(|&k| Storage::ALL.map(|s| (k, s)))
        .flat_map(|(k, s)| [(k, s, false), (k, s, true)])
        .flat_map(|(k, s, g)| [(k, s, g, false), (k, s, g, true)])
    {
        let src = k.source_for(storage, subgroups, split);
        let module = naga::front::wgsl::parse_str(&src).unwrap_or_else(|e| {
            panic!(
                "{k:?} {storage:?} {subgroups} {split}: {}",
                e.emit_to_string(&src)
            )
        });
        let mut v = naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            // Native f16 storage needs SHADER_F16; the packed fallback only the
            // pack2x16float/unpack2x16float builtins (wgpu's SHADER_F16_IN_F32 downlevel flag);
            // the subgroup GEMM wgpu's SUBGROUP feature.
            naga::valid::Capabilities::SHADER_FLOAT16
                | naga::valid::Capabilities::SHADER_FLOAT16_IN_FLOAT32
                | naga::valid::Capabilities::SUBGROUP,
        );
        v.validate(&module)
            .unwrap_or_else(|e| panic!("{k:?} {storage:?} {subgroups} {split}: {e:?}"));
        assert!(
            module.entry_points.iter().any(|e| e.name == "main"),
            "{k:?} has an entry point `main`"
        );
    }
}

/// No GPU-family kernel uses atomics, in any storage (packed f16 included), native or as a
/// browser gets it: each stores only whole words it owns (and each validates, above).
#[test]
fn gpu_family_kernels_use_no_atomics() {
    let gpu_family = Kernel::ALL.iter().filter(|k| k.family() == Family::Gpu);
    let mut checked = 0;
    for &k in gpu_family {
        for storage in Storage::ALL {
            for (subgroups, split) in [(false, false), (false, true), (true, false), (true, true)] {
                let src = k.source_for(storage, subgroups, split);
                let at = src.find("atomic");
                assert!(
                    at.is_none(),
                    "{k:?} {storage:?} subgroups {subgroups} split {split}: {:?}",
                    at.map(|i| &src[i.saturating_sub(200)..(i + 100).min(src.len())])
                );
                checked += 1;
            }
        }
    }
    assert_eq!(
        checked,
        5 * 3 * 4,
        "every GPU-family kernel in every variant"
    );
}

/// The head-training kernels (shaders/train_*.wgsl) validate too.
#[test]
fn training_kernels_validate_with_naga() {
    for src in effnet::train::shader_sources() {
        let module = naga::front::wgsl::parse_str(&src)
            .unwrap_or_else(|e| panic!("{}", e.emit_to_string(&src)));
        let mut v = naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::empty(),
        );
        v.validate(&module).unwrap_or_else(|e| panic!("{e:?}"));
    }
}

#[test]
fn every_wgsl_file_is_compiled() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/shaders");
    let sources: Vec<String> = Kernel::ALL
        .iter()
        .flat_map(|&k| Storage::ALL.map(|s| [k.source(s, false), k.source_for(s, true, true)]))
        .flatten()
        .chain(effnet::train::shader_sources())
        .collect();
    // shaders/ and its family folders (shaders/gpu_family/).
    let mut paths = vec![];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            paths.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else {
            paths.push(path);
        }
    }
    assert!(paths.len() > 20, "found the shaders: {paths:?}");
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        assert!(
            sources.iter().any(|s| s.contains(text.trim())),
            "{name} is not part of any kernel's source"
        );
    }
}
