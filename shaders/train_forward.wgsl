// logits[b, k] = features[order[first + b]] · W[k] + b[k]: one lane per (sample, class), the
// F products summed in order.

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = lane_index(wid, nwg, li);
    let K = P.classes;
    if (i >= P.rows * K) { return; }
    let F = P.width;
    let x = order[P.first + i / K] * F;
    let w = (i % K) * (F + 1u);
    var acc = 0.0;
    for (var f = 0u; f < F; f++) {
        acc += features[x + f] * theta[w + f];
    }
    logits[i] = acc + theta[w + F];
}
