// Shared by every kernel: one bind group layout, one parameter block, the activations.
// The host puts `alias S = f32;` (or `enable f16; alias S = f16;`) in front: S is the storage
// type of weights and activations, and kernels go through ld_*/st_* so arithmetic is f32
// whatever the storage.
// Shapes travel in `P`; structural choices (kernel, stride, activation, flags) are override
// constants, so each (kernel, constants) pair is one pipeline made once per session.

struct Params {
    n: u32, c_in: u32, h_in: u32, w_in: u32,
    c_out: u32, h_out: u32, w_out: u32, pad_top: u32,
    pad_left: u32, bias_off: u32, tiles: u32, hw: u32,
    off1: u32, off2: u32, off3: u32, inv_hw: f32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> src: array<S>;
@group(0) @binding(2) var<storage, read> wts: array<S>;
@group(0) @binding(3) var<storage, read> gate: array<S>;
@group(0) @binding(4) var<storage, read> res: array<S>;
@group(0) @binding(5) var<storage, read_write> dst: array<S>;
@group(0) @binding(6) var<storage, read_write> sums: array<S>;

fn ld_src(i: u32) -> f32 { return f32(src[i]); }
fn ld_wts(i: u32) -> f32 { return f32(wts[i]); }
fn ld_gate(i: u32) -> f32 { return f32(gate[i]); }
fn ld_res(i: u32) -> f32 { return f32(res[i]); }
fn ld_dst(i: u32) -> f32 { return f32(dst[i]); }
fn ld_sums(i: u32) -> f32 { return f32(sums[i]); }
fn st_dst(i: u32, v: f32) { dst[i] = S(v); }
fn st_sums(i: u32, v: f32) { sums[i] = S(v); }

// 0: identity, 1: SiLU, 2: ReLU6.
override ACT: u32 = 0u;

fn activate(x: f32) -> f32 {
    switch ACT {
        case 1u: { return x / (1.0 + exp(-x)); }
        case 2u: { return clamp(x, 0.0, 6.0); }
        default: { return x; }
    }
}

fn sigmoid(x: f32) -> f32 {
    return 1.0 / (1.0 + exp(-x));
}

// Longest input row segment a conv invocation reads: 4 outputs at stride 2 with k = 5.
const SEG: u32 = 12u;

// `len` values of input row `iy` of the plane whose first row is `plane`, from column `x0`;
// positions outside the image read a clamped address and are zeroed by `select`, which keeps
// the lanes of a SIMD group on one path (the padding of the convolution).
fn row_segment(plane: u32, iy: i32, x0: i32, len: u32) -> array<f32, SEG> {
    let row_ok = iy >= 0 && iy < i32(P.h_in);
    let row = (plane + u32(clamp(iy, 0, i32(P.h_in) - 1))) * P.w_in;
    var seg: array<f32, SEG>;
    for (var s = 0u; s < len; s++) {
        let ix = x0 + i32(s);
        let ok = row_ok && ix >= 0 && ix < i32(P.w_in);
        seg[s] = select(0.0, ld_src(row + u32(clamp(ix, 0, i32(P.w_in) - 1))), ok);
    }
    return seg;
}
