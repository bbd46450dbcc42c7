// What both families' depthwise kernels (shaders/cpu/depthwise.wgsl, gpu/depthwise.wgsl)
// share: a channel's weight rows as named values and the dot product of one row's taps with
// them. Named values rather than arrays because lavapipe does not unroll loops, so an array
// indexed in one would live in memory (BENCHMARKS.md); `r` is a literal at every call, so the
// row choice folds away. Each kernel declares K, its own `Taps`, the type of a weight row,
// `WRow` (two vec4s, lo and hi, of the type its taps have: f32 in the CPU family, H in the
// GPU family's), and `load_row`. Outputs sum in H (f32 but in the GPU family's f16 arithmetic, where a
// window's k·k terms are one f16 run).

// Weight rows 0 .. K - 1 of a channel (kernel column i in component i of lo, then hi).
struct DwWeights { r0: WRow, r1: WRow, r2: WRow, r3: WRow, r4: WRow }

// The ROWS output row quads a lane computes.
struct Outs { o0: vec4<H>, o1: vec4<H>, o2: vec4<H>, o3: vec4<H> }

// The K weight rows of the channel whose block starts at `base` (rows 8 apart: k ≤ 5), the
// bias in the last slot of row 0; each kernel loads a row with its own `load_row`.
fn dw_weights(base: u32) -> DwWeights {
    var w: DwWeights;
    w.r0 = load_row(base);
    w.r1 = load_row(base + 8u);
    w.r2 = load_row(base + 16u);
    if (K == 5u) {
        w.r3 = load_row(base + 24u);
        w.r4 = load_row(base + 32u);
    }
    return w;
}

fn weight_row(w: DwWeights, r: u32) -> WRow {
    switch r {
        case 0u: { return w.r0; }
        case 1u: { return w.r1; }
        case 2u: { return w.r2; }
        case 3u: { return w.r3; }
        default: { return w.r4; }
    }
}

// Σ over kernel columns of taps × the weights of one row.
fn taps_dot(t: Taps, w: WRow) -> vec4<H> {
    var acc = t.t0 * w.lo.x + t.t1 * w.lo.y + t.t2 * w.lo.z;
    if (K == 5u) { acc += t.t3 * w.lo.w + t.t4 * w.hi.x; }
    return acc;
}
