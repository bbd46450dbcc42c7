// GPU family: storage bindings for float16 on adapters without SHADER_F16, two halves per u32
// word, the element with the even index in the low 16 bits (little-endian f16 pairs, the
// bytes the host uploads and reads back). Loads unpack. Stores write whole words only: each
// kernel gives every word of its output one owner, the invocation holding the word's low
// half, which also knows (or computes) its high half. So `dst` and `aux` are plain words, and
// no store reads back or merges a word another invocation may be writing.

@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read> wts: array<u32>;
// The SE gate a GEMM reads, or the SE partial sums the depthwise kernel writes: no kernel
// needs both.
@group(0) @binding(3) var<storage, read_write> aux: array<u32>;
// The residual as pairs of words (four halves; tensor buffers hold whole pairs).
@group(0) @binding(4) var<storage, read> res4: array<vec2<u32>>;
@group(0) @binding(5) var<storage, read_write> dst: array<u32>;

// The input again as pairs of words (four halves), for planes whose size is a multiple of 4.
@group(0) @binding(8) var<storage, read> src4: array<vec2<u32>>;
fn ld_src4(i: u32) -> vec4<f32> {
    let w = src4[i];
    return vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y));
}

// The weights again as pairs of words: four halves, for GEMM weights read four at a time.
@group(0) @binding(7) var<storage, read> wts4: array<vec2<u32>>;
fn ld_wts4(i: u32) -> vec4<f32> {
    let w = wts4[i];
    return vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y));
}

fn half_of(word: u32, i: u32) -> f32 { return unpack2x16float(word)[i & 1u]; }
fn ld_src(i: u32) -> f32 { return half_of(src[i >> 1u], i); }
fn ld_wts(i: u32) -> f32 { return half_of(wts[i >> 1u], i); }
fn ld_gate(i: u32) -> f32 { return half_of(aux[i >> 1u], i); }
fn ld_res(i: u32) -> f32 {
    let w = res4[i >> 2u];
    return half_of(select(w.x, w.y, (i & 2u) != 0u), i);
}
fn ld_res4(i: u32) -> vec4<f32> {
    let w = res4[i];
    return vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y));
}
fn ld_sums(i: u32) -> f32 { return half_of(aux[i >> 1u], i); }

// Two consecutive values from even index 2 * `pair`: one whole word.
fn st_dst2(pair: u32, v: vec2<f32>) { dst[pair] = pack2x16float(v); }
// The last value of a tensor of odd length, at even index `i`: its word, whose high half
// lies past the tensor, gets 0 there.
fn st_dst_end(i: u32, v: f32) { dst[i >> 1u] = pack2x16float(vec2<f32>(v, 0.0)); }
// SE partial-sum slots 2 * `pair` and 2 * `pair` + 1: one whole word.
fn st_sums2(pair: u32, v: vec2<f32>) { aux[pair] = pack2x16float(v); }

// <dst4> The output again as pairs of words, for 4 values stored at a multiple of 4. (A
// browser forbids two writable views of one buffer: there gpu_family/store_split_packed.wgsl
// replaces this block, up to its end mark.)
@group(0) @binding(6) var<storage, read_write> dst4: array<vec2<u32>>;
fn st_dst4(i: u32, v: vec4<f32>) {
    dst4[i] = vec2<u32>(pack2x16float(v.xy), pack2x16float(v.zw));
}
// </dst4>
