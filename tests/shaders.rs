//! Every WGSL kernel parses and validates with naga in every storage format, native and as a
//! browser gets it (`SPLIT_STORES`), with and without subgroups, in f32 and f16 arithmetic,
//! no GPU needed; and a browser's source starts with the `enable` directives its WGSL
//! compiler requires.

use effnet::Family;
use effnet::gpu::Kernel;
use effnet::gpu::pipelines::{Arithmetic, Storage, Target};

/// Every kernel, storage format, subgroup choice and arithmetic asked for (the tensor-core
/// kernels in native f16 storage, the only one they are defined over).
fn variants() -> impl Iterator<Item = (Kernel, Storage, bool, Arithmetic)> {
    Kernel::all()
        .into_iter()
        .flat_map(|k| Storage::ALL.map(|s| (k, s)))
        .filter(|(k, s)| !k.cooperative_matrix() || *s == Storage::F16)
        .flat_map(|(k, s)| [(k, s, false), (k, s, true)])
        .flat_map(|(k, s, g)| [Arithmetic::F32, Arithmetic::F16].map(|a| (k, s, g, a)))
}

/// The capabilities the adapter features give `k`: native f16 storage needs SHADER_F16; the
/// packed fallback only the pack2x16float/unpack2x16float builtins (wgpu's
/// SHADER_F16_IN_F32 downlevel flag); the subgroup variants wgpu's SUBGROUP feature; the
/// tensor-core kernels wgpu's EXPERIMENTAL_COOPERATIVE_MATRIX (which no other kernel gets).
fn capabilities(k: Kernel) -> naga::valid::Capabilities {
    use naga::valid::Capabilities as C;
    let base = C::SHADER_FLOAT16 | C::SHADER_FLOAT16_IN_FLOAT32 | C::SUBGROUP;
    match k.cooperative_matrix() {
        true => base | C::COOPERATIVE_MATRIX,
        false => base,
    }
}

/// `src` (kernel `k`'s) as naga parses and validates it, with `k`'s capabilities.
fn validate(k: Kernel, src: &str, what: &str) -> (naga::Module, naga::valid::ModuleInfo) {
    let options = naga::front::wgsl::Options {
        capabilities: capabilities(k),
        ..naga::front::wgsl::Options::new()
    };
    let module = naga::front::wgsl::Frontend::new_with_options(options)
        .parse(src)
        .unwrap_or_else(|e| panic!("{what}: {}", e.emit_to_string(src)));
    let mut v = naga::valid::Validator::new(naga::valid::ValidationFlags::all(), capabilities(k));
    let info = (v.validate(&module)).unwrap_or_else(|e| panic!("{what}: {e:?}"));
    (module, info)
}

#[test]
fn every_kernel_validates_with_naga() {
    for (k, storage, subgroups, arithmetic) in variants() {
        for split in [false, true] {
            let src = k.source_for(storage, subgroups, arithmetic, split);
            let what = format!("{k:?} {storage:?} {subgroups} {arithmetic:?} {split}");
            let (module, _) = validate(k, &src, &what);
            assert!(
                module.entry_points.iter().any(|e| e.name == "main"),
                "{k:?} has an entry point `main`"
            );
        }
    }
}

/// Whether `src` calls a subgroup builtin or takes a subgroup builtin value (comments
/// aside; `subgroup_width` is effnet's own function).
fn calls_subgroup_builtins(src: &str) -> bool {
    let code = src.lines().map(|l| l.split("//").next().unwrap_or(""));
    code.into_iter().any(|l| {
        let builtin = |(i, _): (usize, &str)| {
            let next = l[i + "subgroup".len()..].chars().next();
            next.is_some_and(|c| c.is_ascii_uppercase())
        };
        l.contains("@builtin(subgroup_") || l.match_indices("subgroup").any(builtin)
    })
}

/// A browser's source (`Target::Browser`) starts with exactly the directives its compiler
/// requires: `enable subgroups;` where the source calls subgroup builtins (with, for the
/// CPU family's lanes, whose subgroups leave together, the subgroup uniformity diagnostic
/// off), `enable f16;` with native f16 storage; past those it is the split-store source
/// naga validates. The native source has no `enable subgroups;` (naga 30 rejects it) and
/// validates as it is. (Chromium 156's compiler accepted every browser source, pipelines
/// included, when this was written: no test here can run it.)
#[test]
fn browser_sources_enable_what_they_use() {
    // A browser's WebGPU has no cooperative matrices: those kernels are native only.
    let browser_kernels = variants().filter(|v| !v.0.cooperative_matrix());
    for (k, storage, subgroups, arithmetic) in browser_kernels {
        let what = format!("{k:?} {storage:?} {subgroups} {arithmetic:?}");
        let browser = k.source_in(storage, subgroups, arithmetic, Target::Browser);
        let uses = calls_subgroup_builtins(&browser);
        assert_eq!(uses, k.uses_subgroups(subgroups), "{what}: uses subgroups");
        let mut expected = vec![];
        if uses {
            expected.push("enable subgroups;");
        }
        if uses && k.family() == Family::Cpu {
            expected.push("diagnostic(off, subgroup_uniformity);");
        }
        let browser_only = expected.len();
        if storage == Storage::F16 {
            expected.push("enable f16;");
        }
        let lines: Vec<&str> = browser.lines().collect();
        let (head, rest) = lines.split_at(expected.len());
        assert_eq!(head, expected, "{what}: the leading directives");
        let directive = |l: &&&str| ["enable ", "diagnostic("].iter().any(|d| l.starts_with(d));
        let late = rest.iter().find(directive);
        assert!(
            late.is_none(),
            "{what}: {late:?} after the first declaration"
        );
        let body = lines[browser_only..].join("\n") + "\n";
        let split = k.source_for(storage, subgroups, arithmetic, true);
        assert_eq!(body, split, "{what}");
        let native = k.source_in(storage, subgroups, arithmetic, Target::Native);
        assert!(!native.contains("enable subgroups"), "{what}: native");
        validate(k, &native, &format!("{what} native"));
    }
}

/// No GPU-family kernel uses atomics, in any storage (packed f16 included), native or as a
/// browser gets it: each stores only whole words it owns (and each validates, above).
#[test]
fn gpu_family_kernels_use_no_atomics() {
    let gpu_family = Kernel::all()
        .into_iter()
        .filter(|k| k.family() == Family::Gpu);
    let mut checked = 0;
    for k in gpu_family {
        let storages =
            (Storage::ALL.into_iter()).filter(|&s| !k.cooperative_matrix() || s == Storage::F16);
        for storage in storages {
            for (subgroups, split) in [(false, false), (false, true), (true, false), (true, true)] {
                let src = k.source_for(storage, subgroups, Arithmetic::F16, split);
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
    // Seven kernels (conv, depthwise, SE, pointwise, classifier, the fused expansion +
    // depthwise and the fused conv + projection) and four channels-last ones (conv,
    // depthwise, pointwise, classifier), three storages, four variants each; the
    // tensor-core pointwise variant in native f16 only.
    assert_eq!(
        checked,
        11 * 3 * 4 + 4,
        "every GPU-family kernel in every variant"
    );
}

/// The GPU family multiplies in f16 exactly where it is asked to and storage is native f16;
/// everywhere else, the CPU family always, in f32.
#[test]
fn f16_arithmetic_only_over_native_f16_in_the_gpu_family() {
    for (k, storage, subgroups, arithmetic) in variants() {
        let src = k.source_for(storage, subgroups, arithmetic, false);
        let f16 =
            k.family() == Family::Gpu && storage == Storage::F16 && arithmetic == Arithmetic::F16;
        let what = format!("{k:?} {storage:?} {subgroups} {arithmetic:?}");
        let alias = if f16 {
            "alias H = f16;"
        } else {
            "alias H = f32;"
        };
        let declared: Vec<&str> = src.lines().filter(|l| l.starts_with("alias H ")).collect();
        assert_eq!(declared, [alias], "{what}");
    }
}

/// The tensor-core kernels, which no adapter here can compile (lavapipe has no cooperative
/// matrices), translate to SPIR-V as wgpu's Vulkan backend does on a device with
/// EXPERIMENTAL_COOPERATIVE_MATRIX: its capabilities (CooperativeMatrixKHR, and the Vulkan
/// memory model wgpu-hal turns on with it), SPIR-V 1.6 and clamped indices; and the SPIR-V
/// declares CooperativeMatrixKHR, so the matrices reached it.
#[test]
fn cooperative_matrix_kernels_translate_to_spirv() {
    use naga::back::spv;
    let coop = Kernel::all().into_iter().filter(|k| k.cooperative_matrix());
    let mut translated = 0;
    for k in coop {
        let src = k.source(Storage::F16, false, Arithmetic::F16);
        let (module, info) = validate(k, &src, &format!("{k:?}"));
        let overrides = [("HAS_GATE", 1.0), ("HAS_RESIDUAL", 1.0), ("ACT", 1.0)];
        let constants = overrides.map(|(n, v)| (n.to_string(), v)).into();
        let entry = Some((naga::ShaderStage::Compute, "main"));
        let (module, info) =
            naga::back::pipeline_constants::process_overrides(&module, &info, entry, &constants)
                .unwrap_or_else(|e| panic!("{k:?}: {e:?}"));
        let words = spv::write_vec(&module, &info, &spirv_options(), None)
            .unwrap_or_else(|e| panic!("{k:?}: {e:?}"));
        // OpCapability (opcode 17, 2 words) CooperativeMatrixKHR (6022).
        let declares = words.windows(2).any(|w| w == [(2 << 16) | 17, 6022]);
        assert!(declares, "{k:?}: no CooperativeMatrixKHR capability");
        translated += 1;
    }
    assert!(
        translated > 0,
        "a kernel multiplies on cooperative matrices"
    );
}

/// The options wgpu-hal 30's Vulkan backend gives naga on a Vulkan 1.3 device with SHADER_F16
/// and EXPERIMENTAL_COOPERATIVE_MATRIX (wgpu-hal's `vulkan/adapter.rs`).
fn spirv_options() -> naga::back::spv::Options<'static> {
    use naga::back::spv::{self, Capability as Cap};
    use naga::proc::{BoundsCheckPolicies, BoundsCheckPolicy};
    let capabilities = [
        Cap::Shader,
        Cap::Float16,
        Cap::StorageBuffer16BitAccess,
        Cap::UniformAndStorageBuffer16BitAccess,
        Cap::CooperativeMatrixKHR,
        Cap::VulkanMemoryModel,
    ];
    spv::Options {
        lang_version: (1, 6),
        capabilities: Some(capabilities.into_iter().collect()),
        bounds_check_policies: BoundsCheckPolicies {
            index: BoundsCheckPolicy::Restrict,
            buffer: BoundsCheckPolicy::Restrict,
            ..Default::default()
        },
        ..Default::default()
    }
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
    let sources: Vec<String> = Kernel::all()
        .into_iter()
        .flat_map(|k| {
            Storage::ALL.map(|s| {
                let f16 = Arithmetic::F16;
                [k.source(s, false, f16), k.source_for(s, true, f16, true)]
            })
        })
        .flatten()
        .chain(effnet::train::shader_sources())
        .collect();
    // shaders/ and its family folders (shaders/cpu/, shaders/gpu/, shaders/common/) and
    // theirs (shaders/gpu/nhwc/).
    let mut paths = vec![];
    let mut dirs = vec![std::path::PathBuf::from(dir)];
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                paths.push(path);
            }
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
