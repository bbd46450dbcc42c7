// Storage bindings for native element types: the host puts `alias S = f32;` or
// `enable f16; alias S = f16;` (adapters with SHADER_F16) in front.

@group(0) @binding(1) var<storage, read> src: array<S>;
@group(0) @binding(2) var<storage, read> wts: array<S>;
@group(0) @binding(3) var<storage, read> gate: array<S>;
@group(0) @binding(4) var<storage, read> res: array<S>;
@group(0) @binding(5) var<storage, read_write> dst: array<S>;
@group(0) @binding(6) var<storage, read_write> sums: array<S>;

// The input again as vec4s, for planes whose size is a multiple of 4.
@group(0) @binding(8) var<storage, read> src4: array<vec4<S>>;
fn ld_src4(i: u32) -> vec4<f32> { return vec4<f32>(src4[i]); }

// The weights again as vec4s, for GEMM weights stored [in][out rounded up to 4].
@group(0) @binding(7) var<storage, read> wts4: array<vec4<S>>;
fn ld_wts4(i: u32) -> vec4<f32> { return vec4<f32>(wts4[i]); }

fn ld_src(i: u32) -> f32 { return f32(src[i]); }
fn ld_wts(i: u32) -> f32 { return f32(wts[i]); }
fn ld_gate(i: u32) -> f32 { return f32(gate[i]); }
fn ld_res(i: u32) -> f32 { return f32(res[i]); }
fn ld_dst(i: u32) -> f32 { return f32(dst[i]); }
fn ld_sums(i: u32) -> f32 { return f32(sums[i]); }
fn st_dst(i: u32, v: f32) { dst[i] = S(v); }
fn st_sums(i: u32, v: f32) { sums[i] = S(v); }
