// One AdamW step in place, as torch.optim.AdamW does it: decoupled weight decay first
// (weights only, not the bias column), then the moments, then the bias-corrected update
// θ −= (lr / bc1) · m / (sqrt(v) / sqrt(bc2) + eps). One lane per parameter.

const BETA1: f32 = 0.9;
const BETA2: f32 = 0.999;
// Written out rather than 1.0 − BETA: 1 − f32(0.999) is 1.3e-5 away from 0.001 relatively,
// which would show against the f64 reference.
const ONE_MINUS_BETA1: f32 = 0.1;
const ONE_MINUS_BETA2: f32 = 0.001;
const EPS: f32 = 1e-8;

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = lane_index(wid, nwg, li);
    let F1 = P.width + 1u;
    let count = P.classes * F1;
    if (i >= count) { return; }
    let g = grad[i];
    let m = BETA1 * moments[i] + ONE_MINUS_BETA1 * g;
    let v = BETA2 * moments[count + i] + ONE_MINUS_BETA2 * g * g;
    moments[i] = m;
    moments[count + i] = v;
    var w = theta[i];
    if (i % F1 != P.width) { w -= w * P.lr_wd; }
    theta[i] = w - P.step_size * m / (sqrt(v) / P.sqrt_bc2 + EPS);
}
