// Softmax cross-entropy with label smoothing S over K classes, one lane per sample: the
// target is q_k = S/K + (1 - S)·[k = label]. Writes the sample's loss and hit (argmax, first
// maximum on ties, equals the label) to `stats`, and when training replaces its logits by
// dlogits = (softmax − q) / rows, the gradient of the batch-mean loss.

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let b = lane_index(wid, nwg, li);
    if (b >= P.rows) { return; }
    let K = P.classes;
    let row = b * K;
    let y = labels[order[P.first + b]];
    var top = logits[row];
    var arg = 0u;
    for (var k = 1u; k < K; k++) {
        let z = logits[row + k];
        if (z > top) { top = z; arg = k; }
    }
    // loss = Σ q_k (lse − z_k) = log Σ exp(z − top) + Σ q_k (top − z_k): every term is
    // non-negative, so nothing cancels even when the loss is tiny and the logits large.
    var total = 0.0;
    var gap = 0.0;
    for (var k = 0u; k < K; k++) {
        let z = logits[row + k];
        total += exp(z - top);
        gap += top - z;
    }
    let uniform = P.smoothing / f32(K);
    let keep = 1.0 - P.smoothing;
    let loss = log(total) + uniform * gap + keep * (top - logits[row + y]);
    stats[P.first + b] = loss;
    stats[P.n_stats + P.first + b] = select(0.0, 1.0, arg == y);
    if (P.train == 0u) { return; }
    for (var k = 0u; k < K; k++) {
        // (p − S/K) − (1 − S) rather than p − q: with one class both terms are exactly
        // 1 − S, so the gradient is exactly 0 as it should be.
        var d = exp(logits[row + k] - top) / total - uniform;
        if (k == y) { d -= keep; }
        logits[row + k] = d * P.inv_rows;
    }
}
