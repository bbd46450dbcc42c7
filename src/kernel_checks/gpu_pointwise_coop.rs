//! The GPU family's tensor-core pointwise kernel (`kernels::gpu::pointwise_coop`) on the
//! GPU, where the adapter has 16×16 f16 cooperative matrices: the real shapes and the odd
//! ones of the main kernel (channels and columns far from multiples of 16, batches whose
//! columns span images), alone in native f16 storage, against the f64 reference. Elsewhere
//! (lavapipe: no cooperative matrices) it skips and says why; the shader checks
//! (tests/shaders.rs) still validate and translate it.

use super::check::{TOL_F16_MATH, compare, gpu};
use super::gpu_pointwise::odd_cases;
use crate::gpu::{GpuWeights, Precision};
use crate::kernels::candidates::Choice;
use crate::kernels::gpu::pointwise_coop::KERNEL;
use crate::kernels::ops::pointwise;
use crate::model::rule::rule_input;
use crate::reference;
use crate::runtime::Executor;

/// Every case, its GEMMs all run by the tensor-core kernel. Tolerance: `TOL_F16_MATH`. Its
/// sums are f32, as in f16 storage with f32 arithmetic (`TOL_F16`), but each gated input
/// is rounded to f16 once more as it is staged (the matrices' inputs are f16): a second
/// 2^-11 per term, which can take the worst case past `TOL_F16`'s 5e-3 of the RMS; f16
/// arithmetic's bound (a rounding per partial sum) covers it with room to spare.
#[test]
fn tensor_core_kernel_matches_the_reference() {
    let Some(gpu) = gpu() else { return };
    if let Err(why) = &gpu.coop_f16 {
        return eprintln!("skipping the tensor-core pointwise kernel: {why}");
    }
    let session = gpu.session_tuning(Precision::F16);
    assert!(
        session.gpu_coop_f16,
        "f16 sessions describe it (no fallback)"
    );
    for case in pointwise::cases().iter().chain(&odd_cases()) {
        let g = &case.graph;
        let input = rule_input(&g.shapes[g.input].dims());
        let expected = reference::run(g, &case.weights, &input).swap_remove(g.logits);
        let weights = GpuWeights::new(&gpu, &case.weights, Precision::F16);
        let session = Executor::new(&gpu, &weights, g.clone(), false, Choice::Kernel(KERNEL));
        let ours = session.unwrap().run(&input).unwrap().logits;
        compare(
            &ours,
            &expected,
            &format!("{} {KERNEL}", case.name),
            TOL_F16_MATH,
        );
    }
}
