// What both families' depthwise kernels (shaders/depthwise.wgsl, gpu_family/depthwise.wgsl)
// share: a channel's weight rows as named values and the dot product of one row's taps with
// them. Named values rather than arrays because lavapipe does not unroll loops, so an array
// indexed in one would live in memory (BENCHMARKS.md); `r` is a literal at every call, so the
// row choice folds away. Each kernel declares K and its own `Taps`.

// Weight rows 0 .. K - 1 of a channel (kernel column i in component i of lo, then hi).
struct DwWeights { r0: Pair, r1: Pair, r2: Pair, r3: Pair, r4: Pair }

// The ROWS output row quads a lane computes.
struct Outs { o0: vec4<f32>, o1: vec4<f32>, o2: vec4<f32>, o3: vec4<f32> }

fn weight_row(w: DwWeights, r: u32) -> Pair {
    switch r {
        case 0u: { return w.r0; }
        case 1u: { return w.r1; }
        case 2u: { return w.r2; }
        case 3u: { return w.r3; }
        default: { return w.r4; }
    }
}

// Σ over kernel columns of taps × the weights of one row.
fn taps_dot(t: Taps, w: Pair) -> vec4<f32> {
    var acc = t.t0 * w.lo.x + t.t1 * w.lo.y + t.t2 * w.lo.z;
    if (K == 5u) { acc += t.t3 * w.lo.w + t.t4 * w.hi.x; }
    return acc;
}
