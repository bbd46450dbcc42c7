// GPU family, pointwise variant "coop": the GEMM of pointwise.wgsl with everything fused,
//   out[n, co, p] = act(bias[co] + sum_ci W[ci][co] * gate[n, ci] * x[n, ci, p]) + res[n, co, p],
// multiplied on 16 × 16 × 16 cooperative matrices (tensor cores): f16 inputs, f32
// accumulators (`coopMultiplyAdd`). The host puts `enable wgpu_cooperative_matrix;` in
// front (src/kernels/source.rs) and describes it only where the device enabled wgpu's
// EXPERIMENTAL_COOPERATIVE_MATRIX, the adapter lists 16×16×16 f16 × f16 → f32 and its
// subgroups are exactly 32 lanes, over native f16 storage (src/gpu/coop.rs).
// Cooperative operations belong to a subgroup, all of whose lanes must take part, in
// uniform control flow: a workgroup here is 32 lanes, one whole subgroup, and every
// branch around a cooperative operation or a barrier depends only on the workgroup's id
// and the parameters.
// A workgroup computes a 32 × 32 tile (output channels co0 .., columns q0 ..; columns as in
// pointwise.wgsl: q = n × hw + p) as 2 × 2 accumulator matrices, in slices of KS = 32 input
// channels. Every slice is staged in workgroup memory first, by all lanes, with bounds
// checks: zeros past c_in, past the padded weight rows and past the last column, the gate
// applied as inputs are staged. So any channel count and plane size is computed exactly,
// and the cooperative loads only ever read the staged tiles, never past a buffer.
// Layouts: weights stage as [k][co] (the weight buffer's own order), which is the A matrix
// (channels × slice channels) column-major with stride TILE (`coopLoad`); inputs as
// [k][column], the B matrix (slice channels × columns) row-major (`coopLoadT`). The
// accumulators go to workgroup memory row-major ([co][column], `coopStoreT`), from where
// each lane adds bias, activation and residual to one column and stores it.
// Grid: x = channel tiles, y (+ z beyond 65535) = column tiles, as pointwise.wgsl.
// P: PointwiseParams (src/kernels/ops/pointwise.rs); src/kernels/gpu/pointwise_coop.rs
// describes the dispatch.

override HAS_GATE: u32;
override HAS_RESIDUAL: u32;

// Output channels and columns per workgroup tile: 2 × 2 matrices of 16.
const TILE: u32 = 32u;
// Input channels per staged slice: 2 steps of 16 (the matrices' K) per barrier.
const KS: u32 = 32u;
// Lanes: one subgroup of 32 (src/gpu/coop.rs requires exactly that size); each stages one
// weight column and one input column of every slice row.
const LANES: u32 = 32u;

alias MatA = coop_mat16x16<f16, A>;
alias MatB = coop_mat16x16<f16, B>;
alias MatC = coop_mat16x16<f32, C>;

// The slice's weights [k][co] and gated inputs [k][column].
var<workgroup> w_tile: array<f16, KS * TILE>;
// The accumulators [co][column]: zeros first (their initial value), the sums at the end.
var<workgroup> out_tile: array<f32, TILE * TILE>;
var<workgroup> x_tile: array<f16, KS * TILE>;

// Where a lane's column reads: its input plane offset and gate row, or nothing past the
// last column.
struct Column {
    x: u32,
    gate: u32,
    inside: bool,
}

@compute @workgroup_size(LANES)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let columns = P.batch * P.hw;
    let q0 = (wid.y + wid.z * groups.y) * TILE;
    // The whole workgroup leaves together (the grid's last z row may overshoot).
    if (q0 >= columns) { return; }
    let co0 = wid.x * TILE;
    let col = lane_column(q0 + li, columns);
    for (var i = li; i < TILE * TILE; i += LANES) { out_tile[i] = 0.0; }
    workgroupBarrier();
    var c00 = coopLoadT<MatC>(&out_tile[0], TILE);
    var c01 = coopLoadT<MatC>(&out_tile[16u], TILE);
    var c10 = coopLoadT<MatC>(&out_tile[16u * TILE], TILE);
    var c11 = coopLoadT<MatC>(&out_tile[16u * TILE + 16u], TILE);
    for (var ci0 = 0u; ci0 < P.c_in; ci0 += KS) {
        stage(ci0, li, co0, col);
        workgroupBarrier();
        for (var k = 0u; k < KS; k += 16u) {
            let a0 = coopLoad<MatA>(&w_tile[k * TILE], TILE);
            let a1 = coopLoad<MatA>(&w_tile[k * TILE + 16u], TILE);
            let b0 = coopLoadT<MatB>(&x_tile[k * TILE], TILE);
            let b1 = coopLoadT<MatB>(&x_tile[k * TILE + 16u], TILE);
            c00 = coopMultiplyAdd(a0, b0, c00);
            c01 = coopMultiplyAdd(a0, b1, c01);
            c10 = coopMultiplyAdd(a1, b0, c10);
            c11 = coopMultiplyAdd(a1, b1, c11);
        }
        // Every lane is done reading the slice the next iteration overwrites.
        workgroupBarrier();
    }
    coopStoreT(c00, &out_tile[0], TILE);
    coopStoreT(c01, &out_tile[16u], TILE);
    coopStoreT(c10, &out_tile[16u * TILE], TILE);
    coopStoreT(c11, &out_tile[16u * TILE + 16u], TILE);
    workgroupBarrier();
    store_column(q0 + li, li, co0, col);
}

// Column q's input offset (channel 0 of its image's plane) and gate row; past the last
// column, the last column's, marked outside (its values are zeros, its outputs not stored).
fn lane_column(q: u32, columns: u32) -> Column {
    let qc = min(q, columns - 1u);
    let n = qc / P.hw;
    return Column(n * P.c_in * P.hw + (qc - n * P.hw), n * P.c_in, q < columns);
}

// Slice rows ci0 .. ci0 + KS: lane li stages weight column co0 + li and its own input
// column. Indices are clamped and the values selected away where they do not exist
// (past c_in other tensors' data, or NaN, may follow in a shared buffer).
fn stage(ci0: u32, li: u32, co0: u32, col: Column) {
    let co = min(co0 + li, P.rows - 1u);
    let co_inside = co0 + li < P.rows;
    for (var k = 0u; k < KS; k++) {
        let ci = min(ci0 + k, P.c_in - 1u);
        let ci_inside = ci0 + k < P.c_in;
        let w = ld_wts(ci * P.rows + co);
        w_tile[k * TILE + li] = f16(select(0.0, w, ci_inside && co_inside));
        var x = ld_src(col.x + ci * P.hw);
        if (HAS_GATE != 0u) { x *= ld_gate(col.gate + ci); }
        x_tile[k * TILE + li] = f16(select(0.0, x, ci_inside && col.inside));
    }
}

// Column q of the tile's channels: act(sum + bias) (+ the residual), stored where both
// the column and the channel exist.
fn store_column(q: u32, li: u32, co0: u32, col: Column) {
    if (!col.inside) { return; }
    let n = q / P.hw;
    let p = q - n * P.hw;
    let rows = min(TILE, P.c_out - co0);
    for (var r = 0u; r < rows; r++) {
        let co = co0 + r;
        let o = (n * P.c_out + co) * P.hw + p;
        var y = activate(out_tile[r * TILE + li] + ld_wts(P.bias_off + co));
        if (HAS_RESIDUAL != 0u) { y += ld_res(o); }
        st_dst(o, y);
    }
}
