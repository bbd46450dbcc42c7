// CPU family: the writable storage bindings for float16 on adapters without SHADER_F16, after
// storage_packed_reads.wgsl (the read-only ones and the packing). A store may share its word
// with a store from another invocation, so it clears and sets only its own half with atomics,
// which is correct in any interleaving.

// The SE gate a GEMM reads, or the SE partial sums / classifier scratch: no kernel needs both.
@group(0) @binding(3) var<storage, read_write> aux: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read_write> dst: array<atomic<u32>>;

fn ld_gate(i: u32) -> f32 { return half_of(atomicLoad(&aux[i >> 1u]), i); }
fn ld_dst(i: u32) -> f32 { return half_of(atomicLoad(&dst[i >> 1u]), i); }
fn ld_sums(i: u32) -> f32 { return half_of(atomicLoad(&aux[i >> 1u]), i); }

// The 16 bits of `v` as f16, shifted into the half of its word that element `i` owns.
fn half_bits(i: u32, v: f32) -> u32 {
    return (pack2x16float(vec2<f32>(v, 0.0)) & 0xFFFFu) << ((i & 1u) * 16u);
}
fn other_half(i: u32) -> u32 { return 0xFFFF0000u >> ((i & 1u) * 16u); }

fn st_dst(i: u32, v: f32) {
    atomicAnd(&dst[i >> 1u], other_half(i));
    atomicOr(&dst[i >> 1u], half_bits(i, v));
}
fn st_sums(i: u32, v: f32) {
    atomicAnd(&aux[i >> 1u], other_half(i));
    atomicOr(&aux[i >> 1u], half_bits(i, v));
}
