// Input rows for the k×k kernels (conv.wgsl, depthwise.wgsl), which compute 4 consecutive
// outputs of a row per invocation. Each input value of the row segment is loaded once and
// shared by every tap and output that uses it.
//
// Why straight-line code: CPU drivers (lavapipe) do not unroll loops, so a small array
// indexed by a loop variable lives in memory and every access becomes a per-lane gather;
// named values stay in SIMD registers. The K/STRIDE branches are on override constants and
// fold away when the pipeline is made. Kernel sizes other than 3 and 5 or strides above 2
// take the generic loop path.

override K: u32 = 3u;
override STRIDE: u32 = 1u;
// Stride 1, input rows of 4k values and left padding k / 2: the 4 middle taps of a row
// segment are one aligned vec4 load (`src4`) instead of 4 scalar loads, each of which is a
// loop over the lanes on CPU drivers.
override VEC_TAPS: u32 = 0u;

// The inputs of the 4 outputs for kernel column i: t_i = (x[x0 + i], x[x0 + S + i],
// x[x0 + 2S + i], x[x0 + 3S + i]); t3 and t4 only for k = 5.
struct Taps { t0: vec4<f32>, t1: vec4<f32>, t2: vec4<f32>, t3: vec4<f32>, t4: vec4<f32> }

// Input column `ix` of a row, zero outside the image. The address is clamped so the load is
// always in bounds, and `select` keeps the lanes of a SIMD group on one path.
fn tap(row: u32, row_ok: bool, ix: i32) -> f32 {
    let ok = row_ok && ix >= 0 && ix < i32(P.w_in);
    return select(0.0, ld_src(row + u32(clamp(ix, 0, i32(P.w_in) - 1))), ok);
}

fn fast_taps() -> bool {
    return (K == 3u || K == 5u) && (STRIDE == 1u || STRIDE == 2u);
}

// Row `iy` of the plane whose first row is `plane`, from input column `x0`.
fn row_taps(plane: u32, iy: i32, x0: i32) -> Taps {
    let ok = iy >= 0 && iy < i32(P.h_in);
    let r = (plane + u32(clamp(iy, 0, i32(P.h_in) - 1))) * P.w_in;
    var t: Taps;
    if (STRIDE == 1u && VEC_TAPS != 0u) {
        // x0 + K / 2 is the first output's column, a multiple of 4 inside the row.
        let m = select(vec4<f32>(0.0), ld_src4((r + u32(x0 + i32(K / 2u))) / 4u), ok);
        if (K == 3u) {
            let s0 = tap(r, ok, x0); let s5 = tap(r, ok, x0 + 5);
            t.t0 = vec4<f32>(s0, m.xyz);
            t.t1 = m;
            t.t2 = vec4<f32>(m.yzw, s5);
        } else {
            let s0 = tap(r, ok, x0); let s1 = tap(r, ok, x0 + 1);
            let s6 = tap(r, ok, x0 + 6); let s7 = tap(r, ok, x0 + 7);
            t.t0 = vec4<f32>(s0, s1, m.xy);
            t.t1 = vec4<f32>(s1, m.xyz);
            t.t2 = m;
            t.t3 = vec4<f32>(m.yzw, s6);
            t.t4 = vec4<f32>(m.zw, s6, s7);
        }
    } else if (STRIDE == 1u) {
        let s0 = tap(r, ok, x0); let s1 = tap(r, ok, x0 + 1); let s2 = tap(r, ok, x0 + 2);
        let s3 = tap(r, ok, x0 + 3); let s4 = tap(r, ok, x0 + 4); let s5 = tap(r, ok, x0 + 5);
        t.t0 = vec4<f32>(s0, s1, s2, s3);
        t.t1 = vec4<f32>(s1, s2, s3, s4);
        t.t2 = vec4<f32>(s2, s3, s4, s5);
        if (K == 5u) {
            let s6 = tap(r, ok, x0 + 6); let s7 = tap(r, ok, x0 + 7);
            t.t3 = vec4<f32>(s3, s4, s5, s6);
            t.t4 = vec4<f32>(s4, s5, s6, s7);
        }
    } else {
        let s0 = tap(r, ok, x0); let s1 = tap(r, ok, x0 + 1); let s2 = tap(r, ok, x0 + 2);
        let s3 = tap(r, ok, x0 + 3); let s4 = tap(r, ok, x0 + 4); let s5 = tap(r, ok, x0 + 5);
        let s6 = tap(r, ok, x0 + 6); let s7 = tap(r, ok, x0 + 7); let s8 = tap(r, ok, x0 + 8);
        t.t0 = vec4<f32>(s0, s2, s4, s6);
        t.t1 = vec4<f32>(s1, s3, s5, s7);
        t.t2 = vec4<f32>(s2, s4, s6, s8);
        if (K == 5u) {
            let s9 = tap(r, ok, x0 + 9); let s10 = tap(r, ok, x0 + 10);
            t.t3 = vec4<f32>(s3, s5, s7, s9);
            t.t4 = vec4<f32>(s4, s6, s8, s10);
        }
    }
    return t;
}

// The generic path for other kernel sizes and strides: one row, one weight row.
fn row_dot_generic(plane: u32, iy: i32, x0: i32, w: u32) -> vec4<f32> {
    let ok = iy >= 0 && iy < i32(P.h_in);
    let r = (plane + u32(clamp(iy, 0, i32(P.h_in) - 1))) * P.w_in;
    var acc = vec4<f32>(0.0);
    for (var kx = 0u; kx < K; kx++) {
        let s = i32(STRIDE);
        let v = vec4<f32>(tap(r, ok, x0 + i32(kx)), tap(r, ok, x0 + s + i32(kx)),
                          tap(r, ok, x0 + 2 * s + i32(kx)), tap(r, ok, x0 + 3 * s + i32(kx)));
        acc += v * ld_wts(w + kx);
    }
    return acc;
}
