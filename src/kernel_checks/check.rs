//! The test every kernel module runs on its cases: the GPU against `reference.rs` (f64
//! accumulation), under every tuning that changes the kernel's code. And, with no GPU, that
//! each kernel's Rust side and WGSL agree on its parameter block and override constants.

use crate::gpu::pipelines::{Arithmetic, Storage};
use crate::gpu::{Gpu, GpuWeights, Precision, Tuning};
use crate::graph::Op;
use crate::kernels::candidates::{self, Choice};
use crate::kernels::ops::{
    classifier, conv, conv_project, depthwise, expand_depthwise, pointwise, se,
};
use crate::kernels::{Case, DispatchDesc, Family, Kernel, OpKind};
use crate::model::rule::rule_input;
use crate::reference;
use crate::runtime::Executor;

/// How far an output may be from the reference's: `rms` × the reference output's RMS plus
/// `value` × the reference value's magnitude.
#[derive(Clone, Copy)]
pub(crate) struct Tol {
    pub rms: f64,
    pub value: f64,
}

/// As tests/kernels.rs: f32 arithmetic against f64 over a few hundred terms stays near 1e-6
/// of the output's RMS; 1e-4 leaves room for exp() differing by a few ULP between drivers.
pub(crate) const TOL_F32: Tol = Tol {
    rms: 1e-4,
    value: 0.0,
};
/// f16 storage (`cases_packed_f16`) keeps 11 significant bits: each rounding errs by up to
/// 2^-11 of the value. Per output, 2^-10 of it (the output rounded, and a residual added to
/// it rounded before), plus 5e-3 of the output's RMS for the sums behind it: their rounded
/// inputs, weights and the tensors between a case's ops (gate, SE sums) err by 2^-11 of each
/// term, about 2^-11 of the terms' RMS over a sum, several times the output's where terms
/// cancel. Measured worst over the GPU family's packed cases: 2.7e-3 of the RMS beyond 2^-10
/// of the value.
pub(crate) const TOL_F16: Tol = Tol {
    rms: 5e-3,
    value: 1.0 / 1024.0,
};

/// Whether a missing adapter or feature fails a test instead of skipping it: with `CI=true`,
/// as CI must exercise the real kernels.
pub(crate) fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The GPU, or `None` (the test skipped with a message) when there is no adapter outside CI;
/// with `CI=true` a missing adapter fails: CI must exercise the real kernels.
pub(crate) fn gpu() -> Option<Gpu> {
    match Gpu::new() {
        Ok(g) => Some(g),
        Err(e) if ci() => panic!("CI=true but no GPU adapter: {e}"),
        Err(e) => {
            eprintln!("skipping GPU test: {e}");
            None
        }
    }
}

/// The tunings that give `op`'s kernel different code: the channel block only matters to
/// the pointwise kernel, subgroups to all.
fn tunings(op: &Op, subgroup_lanes: u32) -> Vec<Tuning> {
    let mut all = Tuning::default().candidates(subgroup_lanes);
    if !matches!(op, Op::Pointwise(_)) {
        let mut seen = vec![];
        all.retain(|t| {
            let first = !seen.contains(&t.subgroups);
            seen.push(t.subgroups);
            first
        });
    }
    all
}

/// Runs every case's op on the GPU in the CPU family and compares its output with the
/// reference's.
pub fn cases(cases: &[Case]) {
    cases_in(Family::Cpu, cases)
}

/// Runs every case's op with `family`'s kernel (`Cpu` or `Gpu`) and compares its output with
/// the reference's. A GPU-family case whose op falls back to the CPU family fails: it would
/// test nothing new.
pub fn cases_in(family: Family, cases: &[Case]) {
    assert_ne!(family, Family::Auto, "a family, not the per-op choice");
    let Some(mut gpu) = gpu() else { return };
    for case in cases {
        let tunings = match family {
            Family::Gpu => gpu_family_runs(&gpu),
            _ => tunings(&case.graph.ops[0], gpu.subgroup_lanes)
                .into_iter()
                .map(|t| (t, gpu.subgroup_lanes, ""))
                .collect(),
        };
        let adapter_lanes = gpu.subgroup_lanes;
        for (tuning, lanes, variant) in tunings {
            gpu.tuning = tuning;
            gpu.subgroup_lanes = lanes;
            let (runs, expected) = run(&gpu, case, family, Precision::F32);
            for (kernel, ours) in runs {
                let what = format!("{} {kernel} {tuning:?} {variant}", case.name);
                compare(&ours, &expected, &what, TOL_F32);
            }
        }
        gpu.subgroup_lanes = adapter_lanes;
    }
}

/// As `cases_in`, in f16 storage packed in u32 words (`Storage::F16Packed`, what adapters
/// without SHADER_F16 get), against the same f64 reference on the f32 data (`TOL_F16`).
pub fn cases_packed_f16(family: Family, cases: &[Case]) {
    assert_ne!(family, Family::Auto, "a family, not the per-op choice");
    let Some(mut gpu) = gpu() else { return };
    gpu.native_f16 = false;
    // The GPU family's words straddle planes and tiles where its tiles end: both ends of
    // the grids the tuner may pick.
    let tunings = match family {
        Family::Gpu => gpu.tuning.gpu_family_checks(),
        _ => vec![gpu.tuning],
    };
    for case in cases {
        for &tuning in &tunings {
            gpu.tuning = tuning;
            let (runs, expected) = run(&gpu, case, family, Precision::F16);
            for (kernel, ours) in runs {
                let what = format!("{} {kernel} packed f16 {tuning:?}", case.name);
                compare(&ours, &expected, &what, TOL_F16);
            }
        }
    }
}

/// f16 arithmetic (`Arithmetic::F16`) on top of f16 storage: each product and each partial
/// sum of a run (a K-slice, a k×k window) rounds to 11 bits, half an ulp of the partial sum,
/// so a run of n terms errs by about 2^-12 · √n of its largest partial sums, and the tails
/// of a million outputs reach 4–5 times that. Measured worst beyond 2^-10 of the value:
/// 1.06e-2 of the RMS (B0's first expansion, 16 terms per output, values to 5× the RMS;
/// dense conv 7.4e-3, depthwise 3.4e-3). 2e-2 of the RMS, still under the goldens' 5e-2
/// per stage.
pub(crate) const TOL_F16_MATH: Tol = Tol {
    rms: 2e-2,
    value: 1.0 / 1024.0,
};

/// Runs every case's op with the GPU family's kernel in native f16 storage and f16
/// arithmetic (`Tuning::gpu_f16_math`), at both grid ends the tuner may pick, against the
/// f64 reference on the f32 data (`TOL_F16_MATH`). Without SHADER_F16 it skips, or fails
/// with `CI=true`.
pub fn cases_f16_math(cases: &[Case]) {
    let Some(mut gpu) = gpu() else { return };
    if !gpu.native_f16 {
        assert!(!ci(), "CI=true but the adapter has no SHADER_F16");
        return eprintln!("skipping f16 arithmetic: the adapter has no SHADER_F16");
    }
    let tunings = Tuning {
        gpu_f16_math: true,
        ..gpu.tuning
    }
    .gpu_family_checks();
    for case in cases {
        for &tuning in &tunings {
            gpu.tuning = tuning;
            let (runs, expected) = run(&gpu, case, Family::Gpu, Precision::F16);
            for (kernel, ours) in runs {
                let what = format!("{} {kernel} f16 arithmetic {tuning:?}", case.name);
                compare(&ours, &expected, &what, TOL_F16_MATH);
            }
        }
    }
}

/// The case's output with `family`'s kernel for its first op, and the reference's.
fn run(gpu: &Gpu, case: &Case, family: Family, precision: Precision) -> (Runs, Vec<f32>) {
    let g = &case.graph;
    let input = rule_input(&g.shapes[g.input].dims());
    let expected = reference::run(g, &case.weights, &input).swap_remove(g.logits);
    let op = &g.ops[0];
    // Every candidate of the family that takes the op, each alone (the candidate list), as
    // a session in `precision` describes it (tensor-core kernels only where they can run).
    let tuning = gpu.session_tuning(precision);
    let takers: Vec<Kernel> = (candidates::of(OpKind::of(op), family))
        .filter(|c| candidates::describe_with(c, g, op, &tuning).is_some())
        .map(|c| c.kernel)
        .collect();
    assert!(
        !takers.is_empty(),
        "{}: no {family:?} kernel takes it",
        case.name
    );
    let weights = GpuWeights::new(gpu, &case.weights, precision);
    let runs = (takers.into_iter())
        .map(|kernel| {
            let executor = Executor::new(gpu, &weights, g.clone(), false, Choice::Kernel(kernel));
            (kernel, executor.unwrap().run(&input).unwrap().logits)
        })
        .collect();
    (runs, expected)
}

/// Each kernel that ran a case, with its output.
type Runs = Vec<(Kernel, Vec<f32>)>;

/// The GPU family's runs of a case: the tuner's two grid ends (`Tuning::gpu_family_checks`)
/// with the adapter's subgroup sums, and the default grids with workgroup sums too (what
/// adapters without subgroups run). Each: tuning, `Gpu::subgroup_lanes`, variant name.
fn gpu_family_runs(gpu: &Gpu) -> Vec<(Tuning, u32, &'static str)> {
    let mut runs = vec![];
    for (lanes, variant) in subgroup_variants(gpu) {
        let grids = gpu.tuning.gpu_family_checks();
        let grids = if lanes == gpu.subgroup_lanes {
            &grids[..]
        } else {
            &grids[1..]
        };
        runs.extend(grids.iter().map(|&t| (t, lanes, variant)));
    }
    runs
}

/// The `Gpu::subgroup_lanes` to run GPU-family kernels with, each named: the adapter's (their
/// subgroup variant) and 0 (the plain one, what adapters without subgroups run). Without
/// subgroups (or too few lanes for `gpu::subgroup_reductions`) only the plain one,
/// or a failure with `CI=true`.
pub(crate) fn subgroup_variants(gpu: &Gpu) -> Vec<(u32, &'static str)> {
    let lanes = gpu.subgroup_lanes;
    if crate::kernels::gpu::subgroup_reductions(lanes) {
        return vec![(lanes, "subgroup sums"), (0, "workgroup sums")];
    }
    assert!(
        !ci(),
        "CI=true but no subgroups for the GPU family ({lanes} lanes)"
    );
    eprintln!("GPU family: subgroups of {lanes} lanes (0: none); only workgroup sums tested");
    vec![(0, "workgroup sums")]
}

/// Asserts that the lanes per row (or plane) of a kernel's cases take every path of its
/// sums on any subgroup size from 4 to 32: a lane alone (1), groups smaller than every
/// subgroup (2, 4) and larger than 8 or 32 lanes (16, 64: sums across subgroups).
pub(crate) fn lanes_cover(lanes: &[u32]) {
    for l in [1, 2, 4, 16, 64] {
        assert!(lanes.contains(&l), "no case sums over {l} lanes: {lanes:?}");
    }
}

/// Every output within `tol` of the reference's.
pub(crate) fn compare(ours: &[f32], expected: &[f32], what: &str, tol: Tol) {
    assert_eq!(ours.len(), expected.len(), "{what}: length");
    let rms = (expected.iter().map(|&v| (v as f64).powi(2)).sum::<f64>()
        / expected.len().max(1) as f64)
        .sqrt();
    for (i, (&a, &b)) in ours.iter().zip(expected).enumerate() {
        let tol = tol.rms * rms.max(1e-3) + tol.value * (b as f64).abs();
        assert!(
            ((a - b) as f64).abs() <= tol,
            "{what} [{i}]: ours {a}, reference {b}, tolerance {tol}"
        );
    }
}

fn module(kernel: Kernel) -> naga::Module {
    // The tensor-core kernels are defined over native f16 storage only.
    let storage = match kernel.cooperative_matrix() {
        true => Storage::F16,
        false => Storage::F32,
    };
    let src = kernel.source(storage, false, Arithmetic::F32);
    naga::front::wgsl::parse_str(&src).unwrap_or_else(|e| panic!("{kernel:?}: {e}"))
}

#[test]
fn params_structs_match_their_wgsl_layout() {
    for kernel in Kernel::all() {
        let (fields, size) = match kernel.op {
            OpKind::Conv => (conv::ConvParams::FIELDS, size_of::<conv::ConvParams>()),
            OpKind::Depthwise => (
                depthwise::DepthwiseParams::FIELDS,
                size_of::<depthwise::DepthwiseParams>(),
            ),
            OpKind::SeExcite => (se::SeParams::FIELDS, size_of::<se::SeParams>()),
            OpKind::Pointwise => (
                pointwise::PointwiseParams::FIELDS,
                size_of::<pointwise::PointwiseParams>(),
            ),
            OpKind::Classifier => (
                classifier::ClassifierParams::FIELDS,
                size_of::<classifier::ClassifierParams>(),
            ),
            OpKind::ExpandDepthwise => (
                expand_depthwise::ExpandDepthwiseParams::FIELDS,
                size_of::<expand_depthwise::ExpandDepthwiseParams>(),
            ),
            OpKind::ConvProject => (
                conv_project::ConvProjectParams::FIELDS,
                size_of::<conv_project::ConvProjectParams>(),
            ),
        };
        let m = module(kernel);
        let (_, p) = (m.global_variables.iter())
            .find(|(_, v)| v.name.as_deref() == Some("P"))
            .unwrap_or_else(|| panic!("{kernel:?} has no P"));
        let naga::TypeInner::Struct { members, span } = &m.types[p.ty].inner else {
            panic!("{kernel:?}: P is not a struct")
        };
        let wgsl: Vec<(&str, usize)> = (members.iter())
            .map(|f| (f.name.as_deref().unwrap_or(""), f.offset as usize))
            .collect();
        assert_eq!(wgsl, fields, "{kernel:?}: fields and offsets");
        assert_eq!(*span as usize, size, "{kernel:?}: size");
    }
}

/// Every override the host sets exists in the WGSL, and every override without a default
/// (the tile constants, whose only source is the kernel's Rust module) is set.
#[test]
fn every_case_sets_exactly_the_overrides_its_wgsl_declares() {
    let families = [Family::Cpu, Family::Gpu];
    // Each case in each family that has a kernel for its op (fused ops: the GPU family).
    let has_kernel = |c: &Case, f: Family| {
        candidates::of(OpKind::of(&c.graph.ops[0]), f)
            .next()
            .is_some()
    };
    for (case, family) in crate::bench::cases::all()
        .iter()
        .flat_map(|c| families.map(|f| (c, f)))
        .filter(|(c, f)| has_kernel(c, *f))
    {
        let d =
            crate::kernels::describe(&case.graph, &case.graph.ops[0], &Tuning::default(), family);
        let m = module(d.kernel());
        assert_overrides_match(&m, &d, case.name);
    }
}

/// Every override `d` sets exists in module `m`, and every override of `m` without a
/// default (the tile constants, whose only source is the kernel's Rust module) is set.
pub(crate) fn assert_overrides_match(m: &naga::Module, d: &DispatchDesc, case: &str) {
    let declared = |name: &str| (m.overrides.iter()).find(|(_, o)| o.name.as_deref() == Some(name));
    for (name, _) in &d.constants {
        assert!(
            declared(name).is_some(),
            "{case}: {name} is not an override"
        );
    }
    for (_, o) in m.overrides.iter().filter(|(_, o)| o.init.is_none()) {
        let name = o.name.as_deref().unwrap_or("");
        let set = d.constants.iter().any(|(k, _)| *k == name);
        assert!(set, "{case}: {name} has no default and is not set");
    }
}
