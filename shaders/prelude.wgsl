// Shared by every kernel: one bind group layout, one parameter block, the activations.
// The host puts the storage bindings in front (storage.wgsl with `alias S = f32` or `f16`, or
// storage_packed.wgsl): kernels go through ld_*/st_*, so arithmetic is f32 whatever the storage.
// Shapes travel in `P`; structural choices (kernel, stride, activation, flags) are override
// constants, so each (kernel, constants) pair is one pipeline made once per session.

struct Params {
    n: u32, c_in: u32, h_in: u32, w_in: u32,
    c_out: u32, h_out: u32, w_out: u32, pad_top: u32,
    pad_left: u32, bias_off: u32, tiles: u32, hw: u32,
    off1: u32, off2: u32, off3: u32, inv_hw: f32,
}

@group(0) @binding(0) var<uniform> P: Params;
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
