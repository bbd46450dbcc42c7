// Shared by the head-training kernels (src/train/kernels.rs puts it in front of each, after
// the parameter block `P` at binding 0, whose WGSL it generates from the Rust `Params`): one
// bind group layout, one parameter block per dispatch batch. All arithmetic is f32, and every
// sum runs in a fixed order inside one lane (no atomics, no cross-lane reductions), so two
// runs on the same device give bit-identical heads.
//
// The head is stored as one matrix theta [classes, width + 1]: row k holds W[k, 0..width]
// followed by the bias b[k], so the gradient and AdamW kernels treat weights and bias alike
// (the bias is the weight of a constant feature 1), except that weight decay skips it.

// Feature vectors of the split, [samples, width], uploaded once per run.
@group(0) @binding(1) var<storage, read> features: array<f32>;
// The sample visited at each position of the epoch (the seeded shuffle).
@group(0) @binding(2) var<storage, read> order: array<u32>;
@group(0) @binding(3) var<storage, read> labels: array<u32>;
@group(0) @binding(4) var<storage, read_write> theta: array<f32>;
// The mini-batch's logits [rows, classes]; the softmax kernel overwrites them with their
// gradient in place (each lane owns one row).
@group(0) @binding(5) var<storage, read_write> logits: array<f32>;
@group(0) @binding(6) var<storage, read_write> grad: array<f32>;
// AdamW's first moments [classes, width + 1], then the second moments.
@group(0) @binding(7) var<storage, read_write> moments: array<f32>;
@group(0) @binding(8) var<storage, read_write> stats: array<f32>;

const WG: u32 = 64u;

// Grids are 2-D only so that large counts fit the per-dimension workgroup limit; lanes are
// numbered row by row.
fn lane_index(wid: vec3<u32>, nwg: vec3<u32>, li: u32) -> u32 {
    return (wid.y * nwg.x + wid.x) * WG + li;
}
