// Storage bindings for native element types: the host puts `alias S = f32;` or
// `enable f16; alias S = f16;` (adapters with SHADER_F16) in front. Eight storage buffers,
// WebGPU's default limit per shader stage.

@group(0) @binding(1) var<storage, read> src: array<S>;
@group(0) @binding(2) var<storage, read> wts: array<S>;
// The SE gate a GEMM reads, or the SE partial sums / classifier scratch: no kernel needs both.
@group(0) @binding(3) var<storage, read_write> aux: array<S>;
// The residual as vec4s (tensor buffers hold whole vec4s).
@group(0) @binding(4) var<storage, read> res4: array<vec4<S>>;
@group(0) @binding(5) var<storage, read_write> dst: array<S>;

// The input again as vec4s, for planes whose size is a multiple of 4.
@group(0) @binding(8) var<storage, read> src4: array<vec4<S>>;
fn ld_src4(i: u32) -> vec4<f32> { return vec4<f32>(src4[i]); }

// The weights again as vec4s, for GEMM weights stored [in][out rounded up to 4].
@group(0) @binding(7) var<storage, read> wts4: array<vec4<S>>;
fn ld_wts4(i: u32) -> vec4<f32> { return vec4<f32>(wts4[i]); }

fn ld_src(i: u32) -> f32 { return f32(src[i]); }
fn ld_wts(i: u32) -> f32 { return f32(wts[i]); }
fn ld_gate(i: u32) -> f32 { return f32(aux[i]); }
fn ld_res(i: u32) -> f32 { return f32(res4[i / 4u][i % 4u]); }
fn ld_res4(i: u32) -> vec4<f32> { return vec4<f32>(res4[i]); }
fn ld_dst(i: u32) -> f32 { return f32(dst[i]); }
fn ld_sums(i: u32) -> f32 { return f32(aux[i]); }
fn st_dst(i: u32, v: f32) { dst[i] = S(v); }
fn st_sums(i: u32, v: f32) { aux[i] = S(v); }
// Two consecutive values from even index 2 * `pair` (a whole word in packed storage).
fn st_dst2(pair: u32, v: vec2<f32>) { dst[2u * pair] = S(v.x); dst[2u * pair + 1u] = S(v.y); }
// The last value of a tensor of odd length, at even index `i` (in packed storage, a word whose
// high half lies past the tensor). The GPU family's kernels store whole words this way.
fn st_dst_end(i: u32, v: f32) { dst[i] = S(v); }
// SE partial-sum slots 2 * `pair` and 2 * `pair` + 1 (a whole word in packed storage).
fn st_sums2(pair: u32, v: vec2<f32>) { aux[2u * pair] = S(v.x); aux[2u * pair + 1u] = S(v.y); }
