// The read-only half of both families' packed float16 bindings (storage_packed.wgsl and
// gpu/storage_packed.wgsl follow it with their writable ones): two halves per u32
// word, the element with the even index in the low 16 bits (little-endian f16 pairs, the
// bytes the host uploads and reads back). Loads unpack.

@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read> wts: array<u32>;
// The residual as pairs of words (four halves; tensor buffers hold whole pairs).
@group(0) @binding(4) var<storage, read> res4: array<vec2<u32>>;

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
fn ld_res(i: u32) -> f32 {
    let w = res4[i >> 2u];
    return half_of(select(w.x, w.y, (i & 2u) != 0u), i);
}
fn ld_res4(i: u32) -> vec4<f32> {
    let w = res4[i];
    return vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y));
}
