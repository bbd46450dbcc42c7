// GPU family: the writable storage bindings for float16 on adapters without SHADER_F16,
// after storage_packed_reads.wgsl (the read-only ones and the packing). Stores write whole
// words only: each kernel gives every word of its output one owner, the invocation holding
// the word's low half, which also knows (or computes) its high half. So `dst` and `aux` are
// plain words, and no store reads back or merges a word another invocation may be writing.

// The SE gate a GEMM reads, or the SE partial sums the depthwise kernel writes: no kernel
// needs both.
@group(0) @binding(3) var<storage, read_write> aux: array<u32>;
@group(0) @binding(5) var<storage, read_write> dst: array<u32>;

fn ld_gate(i: u32) -> f32 { return half_of(aux[i >> 1u], i); }
fn ld_sums(i: u32) -> f32 { return half_of(aux[i >> 1u], i); }

// Two consecutive values from even index 2 * `pair`: one whole word.
fn st_dst2(pair: u32, v: vec2<f32>) { dst[pair] = pack2x16float(v); }
// The last value of a tensor of odd length, at even index `i`: its word, whose high half
// lies past the tensor, gets 0 there.
fn st_dst_end(i: u32, v: f32) { dst[i >> 1u] = pack2x16float(vec2<f32>(v, 0.0)); }
// SE partial-sum slots 2 * `pair` and 2 * `pair` + 1: one whole word.
fn st_sums2(pair: u32, v: vec2<f32>) { aux[pair] = pack2x16float(v); }
