// dθ[k, f] = Σ_b dlogits[b, k] · x_b[f], with x_b[width] = 1 for the bias: one lane per
// parameter, the batch summed in order (no atomics, so the sum is reproducible).

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = lane_index(wid, nwg, li);
    let F = P.width;
    let F1 = F + 1u;
    if (i >= P.classes * F1) { return; }
    let k = i / F1;
    let f = i % F1;
    var acc = 0.0;
    for (var b = 0u; b < P.rows; b++) {
        var x = 1.0;
        if (f < F) { x = features[order[P.first + b] * F + f]; }
        acc += logits[b * P.classes + k] * x;
    }
    grad[i] = acc;
}
