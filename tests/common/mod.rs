//! Shared test helpers: the GPU (or a clear skip outside CI), and small hand-made networks
//! with odd shapes.
#![allow(dead_code)]

use effnet::gpu::Gpu;
use effnet::model::*;

/// Whether a missing adapter or feature fails a test instead of skipping it (`CI=true`).
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The GPU, or `None` (test skipped with a message) when no adapter exists outside CI.
/// With `CI=true` a missing adapter fails the test: CI must exercise the real kernels.
pub fn gpu() -> Option<Gpu> {
    match Gpu::new() {
        Ok(g) => Some(g),
        Err(e) if ci() => {
            panic!("CI=true but no GPU adapter: {e}")
        }
        Err(e) => {
            eprintln!("skipping GPU test: {e}");
            None
        }
    }
}

pub fn conv(
    name: &str,
    in_c: usize,
    out_c: usize,
    k: usize,
    stride: usize,
    dw: bool,
    act: Activation,
) -> ConvLayer {
    ConvLayer {
        in_c,
        out_c,
        k,
        stride,
        depthwise: dw,
        act,
        keys: ConvKeys {
            weight: format!("{name}.weight"),
            bn: format!("{name}.bn"),
        },
    }
}

pub fn se(name: &str, channels: usize, reduced: usize, act: Activation) -> SeLayer {
    SeLayer {
        channels,
        reduced,
        act,
        reduce_weight: format!("{name}.r.weight"),
        reduce_bias: format!("{name}.r.bias"),
        expand_weight: format!("{name}.e.weight"),
        expand_bias: format!("{name}.e.bias"),
    }
}

/// A small network that uses every block kind and every kernel path on awkward shapes:
/// channel counts that are not multiples of 4, stride 2 on odd sizes, k = 5, residuals,
/// SE with a reduction of 1, ReLU6 and SiLU.
pub fn tiny_arch(padding: Padding, act: Activation) -> Arch {
    use Activation::Identity as Id;
    let ir = Block {
        kind: BlockKind::InvertedResidual,
        expand: Some(conv("b0.exp", 5, 13, 1, 1, false, act)),
        depthwise: Some(conv("b0.dw", 13, 13, 5, 2, true, act)),
        se: Some(se("b0.se", 13, 1, act)),
        project: Some(conv("b0.proj", 13, 7, 1, 1, false, Id)),
        residual: false,
    };
    let ds = Block {
        kind: BlockKind::DepthwiseSeparable,
        expand: None,
        depthwise: Some(conv("b1.dw", 7, 7, 3, 1, true, act)),
        se: Some(se("b1.se", 7, 3, act)),
        project: Some(conv("b1.proj", 7, 7, 1, 1, false, Id)),
        residual: true,
    };
    let er = Block {
        kind: BlockKind::EdgeResidual,
        expand: Some(conv("b2.exp", 7, 18, 3, 1, false, act)),
        depthwise: None,
        se: None,
        project: Some(conv("b2.proj", 18, 7, 1, 1, false, Id)),
        residual: true,
    };
    let cn = Block {
        kind: BlockKind::ConvBnAct,
        expand: Some(conv("b3.conv", 7, 9, 3, 2, false, act)),
        depthwise: None,
        se: None,
        project: None,
        residual: false,
    };
    let stage = |name: &str, blocks: Vec<Block>| Stage {
        name: name.into(),
        blocks,
    };
    Arch {
        name: "tiny".into(),
        source: Source::Timm,
        padding,
        bn_eps: 1e-3,
        resolution: 17,
        stem: conv("stem", 3, 5, 3, 2, false, act),
        stem_name: "stem".into(),
        stages: vec![
            stage("s0", vec![ir]),
            stage("s1", vec![ds, er]),
            stage("s2", vec![cn]),
        ],
        head: conv("head", 9, 11, 1, 1, false, act),
        head_name: "head".into(),
        classifier: Some(Linear {
            in_features: 11,
            out_features: 6,
            weight: "fc.weight".into(),
            bias: "fc.bias".into(),
        }),
        preprocess: PreprocessSpec {
            mean: [0.5; 3],
            std: [0.5; 3],
            crop_pct: 1.0,
            interpolation: Interpolation::Bicubic,
            pipeline: Pipeline::Pil,
        },
    }
}

/// A fresh, empty folder of one test's own under the system's temporary folder.
pub fn fresh_folder(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("effnet-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The `effnet` command with `args`, run from the repository root.
pub fn effnet_command(args: &[&dyn AsRef<std::ffi::OsStr>]) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_effnet"));
    c.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// Runs `effnet` with `args` to the end; a panic in it fails the test.
pub fn effnet_run(args: &[&dyn AsRef<std::ffi::OsStr>]) -> std::process::Output {
    let out = effnet_command(args).output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!said.contains("panicked"), "effnet panicked: {said}");
    out
}

/// A run's standard error as text.
pub fn stderr_of(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
