//! Every WGSL kernel parses and validates with naga, no GPU needed.

use effnet::gpu::{Kernel, Precision};

#[test]
fn every_kernel_validates_with_naga() {
    for (k, precision) in Kernel::ALL
        .iter()
        .flat_map(|&k| [(k, Precision::F32), (k, Precision::F16)])
    {
        let src = k.source(precision);
        let module = naga::front::wgsl::parse_str(&src)
            .unwrap_or_else(|e| panic!("{k:?} {precision:?}: {}", e.emit_to_string(&src)));
        let mut v = naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::SHADER_FLOAT16,
        );
        v.validate(&module)
            .unwrap_or_else(|e| panic!("{k:?}: {e:?}"));
        assert!(
            module.entry_points.iter().any(|e| e.name == "main"),
            "{k:?} has an entry point `main`"
        );
    }
}

#[test]
fn every_wgsl_file_is_a_known_kernel() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/shaders");
    let known: Vec<String> = Kernel::ALL.iter().map(|k| k.body().to_string()).collect();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        assert!(
            name == "prelude.wgsl" || known.contains(&text),
            "{name} is not compiled by any Kernel"
        );
    }
}
