// GPU family: 1×1 convolution as a tiled GEMM with everything around it fused:
//   out[n, co, p] = act(bias[co] + sum_ci W[ci][co] * gate[n, ci] * x[n, ci, p]) + res[n, co, p]
// The pixels of all images are one GEMM dimension of N = batch × hw "columns" (column q is
// pixel q % hw of image q / hw), so a 7×7 head at batch 64 is one 1280 × 3136 GEMM and small
// planes still fill whole tiles.
// A workgroup computes a TM × TN tile (output channels × columns) in slices of KS input
// channels. Each slice of weights (KS × TM) and gated inputs (KS × TN) is staged in
// workgroup memory, double-buffered: the lanes load slice s + 1 into registers before the
// multiply-adds of slice s, so global latency hides behind arithmetic, and one barrier per
// slice suffices. Each lane owns an RM × 4 block of outputs (RM channels × 4 columns), read
// per input channel as RM / 4 vec4s of weights (broadcast: a row of lanes shares them) and
// one vec4 of inputs (consecutive lanes, consecutive vec4s).
// Staging loads are coalesced vec4s: weights are stored [ci][rows] with rows = c_out
// rounded up to 32, so a slice row of TM channels is TM / 4 consecutive vec4s; inputs are
// vec4s of 4 pixels when hw % 4 == 0 (ALIGNED), else 4 scalar loads. The SE gate scales the
// inputs as they are staged: one gate load per staged vec4.
// Stores: ALIGNED, a lane's 4 columns are 4 pixels of one plane at a multiple of 4, so every
// output is a whole-vec4 store from registers. Otherwise (odd planes) the tile goes through
// workgroup memory and lanes store whole words (st_dst2: two values from an even index),
// each by the lane owning its first (even-index) value, which reads the second from the
// tile too. A word whose second pixel lies in the next tile is stored by this tile, so tiles
// overlap by 4 columns (each owns its first TN - 4). A word straddling two channel planes
// (odd planes) pairs a plane's last pixel with the next plane's first: channel co + 1 at
// the image's first column, which the tile holds when the image starts in it, and
// otherwise in its last column (unused by the overlap, so it computes that column instead);
// or the next image's channel 0 at the next column. Only where that channel is another
// tile's (odd channel counts) is the value computed alone from global memory (`direct`).
// Small GEMMs (batch 1, 7×7 planes: a few thousand outputs, hundreds of input channels)
// would leave most of a GPU idle and each lane walking every input channel; there a
// 16 × 16 tile splits each slice among SK = 4 groups of lanes (KS = 64, 16 channels each),
// which add their partial sums through workgroup memory at the end: 4 × the workgroups of
// a 64-lane 4 × 4 tile, and a quarter of the serial steps.
// Arithmetic: the tiles and the multiply-adds are in H (f32, or f16 where the tuning asks
// and storage is native f16: kernels::formats::Arithmetic). Each slice's multiply-adds sum in a
// `Run` of H, which then adds into the lane's f32 `Acc`, so f16 sums stay KS / SK terms long.
// Grid: x = channel tiles (fastest, so the workgroups reading the same inputs run together
// and share them in cache), y (+ z beyond 65535) = column tiles.
// The input comes from `input4` and `input_at`, after this file: gpu/pw_load.wgsl loads it;
// gpu/pw_conv.wgsl computes it from a k×k conv's input (the fused conv + projection).
// P: PointwiseParams (src/kernels/ops/pointwise.rs), or ConvProjectParams, which begins with
// the same fields; tile constants from src/kernels/gpu/pointwise.rs, which checks the sizes
// this file assumes.

override HAS_GATE: u32;
override HAS_RESIDUAL: u32;
// hw % 4 == 0: vec4 input loads and vec4 stores straight from registers.
override ALIGNED: u32;
// Output channels per tile: 16, 32 or 64.
override TM: u32;
// Columns (pixels) per tile: 16, 32 or 64.
override TN: u32;
// Output channels per lane: 4 or 8.
override RM: u32;
// Input channels per slice.
override KS: u32;
// Groups of lanes that split each slice's input channels (1 or 4).
override SK: u32;
// Lanes: SK × (TM / RM) × (TN / 4), a multiple of TN (the odd-plane epilogue's columns).
override WG: u32;

// Two slices, each KS rows of TM weights then KS rows of TN inputs, as vec4s. The
// epilogues reuse it for partial sums (SK > 1) and for the TM × TN outputs (odd planes).
// (A named override: naga 30 mishandles an array size's anonymous one when overrides of a
// file after this one follow it.)
override TILES_LEN: u32 = 2u * KS * (TM + TN) / 4u;
var<workgroup> tiles: array<vec4<H>, TILES_LEN>;

// Where a lane's 4 columns read their inputs: per column, the offset of channel 0 of its
// pixel (clamped to the last column, so every load stays inside the tensor) and of its
// image's gate.
struct Cols {
    x: vec4<u32>,
    gate: vec4<u32>,
}

// A lane's outputs: channel i of its block at its 4 columns is a<i> (a4 .. a7 only with
// RM = 8). Named, not an array, so that drivers keep them in registers.
struct Acc {
    a0: vec4<f32>, a1: vec4<f32>, a2: vec4<f32>, a3: vec4<f32>,
    a4: vec4<f32>, a5: vec4<f32>, a6: vec4<f32>, a7: vec4<f32>,
}

// The same block summed over the slices since the last `flush`, in H.
struct Run {
    a0: vec4<H>, a1: vec4<H>, a2: vec4<H>, a3: vec4<H>,
    a4: vec4<H>, a5: vec4<H>, a6: vec4<H>, a7: vec4<H>,
}

@compute @workgroup_size(WG)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let columns = P.batch * P.hw;
    let q0 = (wid.y + wid.z * groups.y) * tile_step();
    // The whole workgroup leaves together (the grid's last z row may overshoot).
    if (q0 >= columns) { return; }
    let co0 = wid.x * TM;
    // The lane's block: channels co0 + RM * r .., columns q0 + 4 * c .., in slice channels
    // of group g.
    let g = li / (WG / SK);
    let r = li % (WG / SK) / (TN / 4u);
    let c = li % (TN / 4u);
    let cols = lane_columns(q0, c, columns);
    var acc: Acc;
    var run: Run;
    let half_len = KS * (TM + TN) / 4u;
    let slices = (P.c_in + KS - 1u) / KS;
    var wr: array<vec4<f32>, 4>;
    var xr: array<vec4<f32>, 4>;
    fetch(0u, li, co0, cols, &wr, &xr);
    put(0u, li, &wr, &xr);
    workgroupBarrier();
    for (var s = 0u; s < slices; s++) {
        let cur = (s & 1u) * half_len;
        let more = s + 1u < slices;
        if (more) { fetch((s + 1u) * KS, li, co0, cols, &wr, &xr); }
        multiply(cur, g, r, c, &run);
        // f16 sums last one slice; f32 ones run to the end.
        if (F16_MATH) {
            acc = flush(acc, run);
            run = Run();
        }
        if (more) { put(half_len - cur, li, &wr, &xr); }
        // Slice s + 1 is staged, and every lane is done reading slice s's half, which the
        // next iteration overwrites.
        workgroupBarrier();
    }
    acc = flush(acc, run);
    if (SK > 1u) { acc = reduce(g, r, c, acc); }
    if (ALIGNED != 0u) {
        if (g == 0u) { store_aligned(co0 + RM * r, q0 + 4u * c, columns, acc); }
    } else {
        // The outputs overwrite the partial sums `reduce` read.
        if (SK > 1u) { workgroupBarrier(); }
        if (g == 0u) { stage_block(0u, r, c, acc); }
        workgroupBarrier();
        store_words(li, co0, q0, columns);
    }
}

// `acc` plus `run`, in f32.
fn flush(acc: Acc, run: Run) -> Acc {
    return Acc(
        acc.a0 + vec4<f32>(run.a0), acc.a1 + vec4<f32>(run.a1),
        acc.a2 + vec4<f32>(run.a2), acc.a3 + vec4<f32>(run.a3),
        acc.a4 + vec4<f32>(run.a4), acc.a5 + vec4<f32>(run.a5),
        acc.a6 + vec4<f32>(run.a6), acc.a7 + vec4<f32>(run.a7),
    );
}

// Group 0's blocks plus the other groups' (through `tiles`); theirs are not used after.
fn reduce(g: u32, r: u32, c: u32, acc: Acc) -> Acc {
    let block = TM * TN / 4u;
    if (g > 0u) { stage_block((g - 1u) * block, r, c, acc); }
    workgroupBarrier();
    var sum = acc;
    if (g == 0u) {
        for (var h = 0u; h + 1u < SK; h++) {
            let at = h * block + RM * r * (TN / 4u) + c;
            let row = TN / 4u;
            sum.a0 += vec4<f32>(tiles[at]);
            sum.a1 += vec4<f32>(tiles[at + row]);
            sum.a2 += vec4<f32>(tiles[at + 2u * row]);
            sum.a3 += vec4<f32>(tiles[at + 3u * row]);
            if (RM == 8u) {
                sum.a4 += vec4<f32>(tiles[at + 4u * row]);
                sum.a5 += vec4<f32>(tiles[at + 5u * row]);
                sum.a6 += vec4<f32>(tiles[at + 6u * row]);
                sum.a7 += vec4<f32>(tiles[at + 7u * row]);
            }
        }
    }
    return sum;
}

// Columns a tile starts apart: odd planes overlap one vec4 of columns (see the header).
fn tile_step() -> u32 {
    return select(TN - 4u, TN, ALIGNED != 0u);
}

// Column group c of the tile from q0. Odd planes: the tile's last column (past the one
// overlap column its words need) is the first column of the image under way at q0 instead,
// for the words straddling that image's channel planes (`next_plane_first`).
fn lane_columns(q0: u32, c: u32, columns: u32) -> Cols {
    let hw = P.hw;
    let q = q0 + 4u * c;
    var qs = min(vec4<u32>(q, q + 1u, q + 2u, q + 3u), vec4<u32>(columns - 1u));
    if (ALIGNED == 0u && c == TN / 4u - 1u) { qs.w = q0 / hw * hw; }
    let n = qs / hw;
    return Cols((n * P.c_in) * hw + (qs - n * hw), n * P.c_in);
}

// The multiply-adds of group g's channels of the slice half at `cur`: per input channel,
// the lane's RM weights (vec4s its row of lanes shares, a broadcast) times its 4 inputs
// (consecutive lanes read consecutive vec4s).
fn multiply(cur: u32, g: u32, r: u32, c: u32, acc: ptr<function, Run>) {
    let w = cur + r * (RM / 4u);
    let x = cur + KS * TM / 4u + c;
    for (var i = 0u; i < KS / SK; i++) {
        let k = g * (KS / SK) + i;
        let a = tiles[w + k * (TM / 4u)];
        let b = tiles[x + k * (TN / 4u)];
        (*acc).a0 += a.x * b;
        (*acc).a1 += a.y * b;
        (*acc).a2 += a.z * b;
        (*acc).a3 += a.w * b;
        if (RM == 8u) {
            let e = tiles[w + k * (TM / 4u) + 1u];
            (*acc).a4 += e.x * b;
            (*acc).a5 += e.y * b;
            (*acc).a6 += e.z * b;
            (*acc).a7 += e.w * b;
        }
    }
}

// Slice rows ci0 .. ci0 + KS into registers: the lane's weight and input vec4s. The lane
// stages the same weight vec4 column and the same input columns (its own) in every row it
// loads, since WG is a multiple of both TM / 4 and TN / 4.
fn fetch(
    ci0: u32,
    li: u32,
    co0: u32,
    cols: Cols,
    wr: ptr<function, array<vec4<f32>, 4>>,
    xr: ptr<function, array<vec4<f32>, 4>>,
) {
    let rows4 = P.rows / 4u;
    let w4 = co0 / 4u + li % (TM / 4u);
    for (var j = 0u; j < KS * TM / 4u / WG; j++) {
        let ci = ci0 + li / (TM / 4u) + j * (WG / (TM / 4u));
        // Past c_in (the last slice) and past the padded rows (tiles wider than c_out)
        // there are no weights: zeros, rather than the biases or what lies beyond.
        let ok = ci < P.c_in && w4 < rows4;
        (*wr)[j] = select(vec4<f32>(0.0), ld_wts4(min(ci, P.c_in - 1u) * rows4 + min(w4, rows4 - 1u)), ok);
    }
    for (var j = 0u; j < KS * TN / 4u / WG; j++) {
        let ci = ci0 + li / (TN / 4u) + j * (WG / (TN / 4u));
        (*xr)[j] = fetch_x(cols, ci);
    }
}

// The lane's 4 columns of input channel `ci` (`input4`: gpu/pw_load.wgsl loads them,
// gpu/pw_conv.wgsl computes them), gated; zero past c_in, where the other tensors' data
// (or NaN) may follow in a shared buffer, so it is selected away, not multiplied by a zero
// weight.
fn fetch_x(cols: Cols, ci: u32) -> vec4<f32> {
    let c = min(ci, P.c_in - 1u);
    var x = input4(cols, c);
    if (HAS_GATE != 0u) {
        if (ALIGNED != 0u) {
            // The 4 columns are 4 pixels of one image.
            x *= ld_gate(cols.gate.x + c);
        } else {
            let g = cols.gate + c;
            x *= vec4<f32>(ld_gate(g.x), ld_gate(g.y), ld_gate(g.z), ld_gate(g.w));
        }
    }
    return select(vec4<f32>(0.0), x, ci < P.c_in);
}

// Registers into the slice half starting at `at`, in the rows `fetch` loaded.
fn put(at: u32, li: u32, wr: ptr<function, array<vec4<f32>, 4>>, xr: ptr<function, array<vec4<f32>, 4>>) {
    for (var j = 0u; j < KS * TM / 4u / WG; j++) {
        let k = li / (TM / 4u) + j * (WG / (TM / 4u));
        tiles[at + k * (TM / 4u) + li % (TM / 4u)] = vec4<H>((*wr)[j]);
    }
    for (var j = 0u; j < KS * TN / 4u / WG; j++) {
        let k = li / (TN / 4u) + j * (WG / (TN / 4u));
        tiles[at + KS * TM / 4u + k * (TN / 4u) + li % (TN / 4u)] = vec4<H>((*xr)[j]);
    }
}

// Channels co .. co + RM - 1 at columns q .. q + 3, 4 pixels of one plane at a multiple of
// 4: one vec4 store per channel.
fn store_aligned(co: u32, q: u32, columns: u32, acc: Acc) {
    if (q >= columns) { return; }
    let n = q / P.hw;
    let o = (n * P.c_out + co) * P.hw + (q - n * P.hw);
    store_channel(co, o, acc.a0);
    store_channel(co + 1u, o + P.hw, acc.a1);
    store_channel(co + 2u, o + 2u * P.hw, acc.a2);
    store_channel(co + 3u, o + 3u * P.hw, acc.a3);
    if (RM == 8u) {
        store_channel(co + 4u, o + 4u * P.hw, acc.a4);
        store_channel(co + 5u, o + 5u * P.hw, acc.a5);
        store_channel(co + 6u, o + 6u * P.hw, acc.a6);
        store_channel(co + 7u, o + 7u * P.hw, acc.a7);
    }
}

// act(a + bias) (+ the residual) of channel co as one vec4 at output o, a multiple of 4.
fn store_channel(co: u32, o: u32, a: vec4<f32>) {
    if (co >= P.c_out) { return; }
    let v = a + ld_wts(P.bias_off + co);
    var y = vec4<f32>(activate(v.x), activate(v.y), activate(v.z), activate(v.w));
    if (HAS_RESIDUAL != 0u) { y += ld_res4(o / 4u); }
    st_dst4(o / 4u, y);
}

// The lane's block into `tiles` from `base` as rows of TN / 4 vec4s per channel (for
// `reduce` and `store_words`; in H, one rounding before the f16 output's own). The slice
// loop ended with a barrier, so no lane still reads the staged slices.
fn stage_block(base: u32, r: u32, c: u32, acc: Acc) {
    let at = base + RM * r * (TN / 4u) + c;
    let row = TN / 4u;
    tiles[at] = vec4<H>(acc.a0);
    tiles[at + row] = vec4<H>(acc.a1);
    tiles[at + 2u * row] = vec4<H>(acc.a2);
    tiles[at + 3u * row] = vec4<H>(acc.a3);
    if (RM == 8u) {
        tiles[at + 4u * row] = vec4<H>(acc.a4);
        tiles[at + 5u * row] = vec4<H>(acc.a5);
        tiles[at + 6u * row] = vec4<H>(acc.a6);
        tiles[at + 7u * row] = vec4<H>(acc.a7);
    }
}

// Odd planes: each word whose first value lies in the tile's own columns is stored whole
// by the lane holding that value. A lane keeps one column (WG is a multiple of TN), so it
// divides by hw once, and takes every (WG / TN)-th channel; consecutive lanes take
// consecutive columns.
fn store_words(li: u32, co0: u32, q0: u32, columns: u32) {
    let hw = P.hw;
    let col = li % TN;
    let q = q0 + col;
    if (col >= tile_step() || q >= columns) { return; }
    let n = q / hw;
    let p = q - n * hw;
    let base = n * P.c_out * hw + p;
    for (var row = li / TN; row < min(TM, P.c_out - co0); row += WG / TN) {
        let co = co0 + row;
        let o = base + co * hw;
        // An odd index is the second value of a word the lane with the first one stores.
        if ((o & 1u) == 1u) { continue; }
        let bias = ld_wts(P.bias_off + co);
        let v = output(row, col, o, bias);
        if (o + 1u == columns * P.c_out) {
            st_dst_end(o, v);
        } else if (p + 1u < hw) {
            // The next pixel, in this tile (maybe in the overlap with the next one).
            st_dst2(o / 2u, vec2<f32>(v, output(row, col + 1u, o + 1u, bias)));
        } else {
            st_dst2(o / 2u, vec2<f32>(v, next_plane_first(row, co0, q0, q, o + 1u)));
        }
    }
}

// Output o, the first pixel of the plane after channel co0 + row's plane of the image of
// column q, whose last pixel that is (see the header).
fn next_plane_first(row: u32, co0: u32, q0: u32, q: u32, o: u32) -> f32 {
    let co = co0 + row + 1u;
    if (co < P.c_out) {
        let first = q / P.hw * P.hw;
        if (row + 1u == TM) { return direct(co, first); }
        let col = select(TN - 1u, first - q0, first >= q0);
        return output(row + 1u, col, o, ld_wts(P.bias_off + co));
    }
    // Channel 0 of the next image.
    if (co0 > 0u) { return direct(0u, q + 1u); }
    return output(0u, q + 1u - q0, o, ld_wts(P.bias_off));
}

// The output of channel co at column q computed alone from global memory: the second value
// of a word whose first this tile stores, where that value's channel is another tile's.
fn direct(co: u32, q: u32) -> f32 {
    let n = q / P.hw;
    let p = q - n * P.hw;
    var acc = 0.0;
    for (var ci = 0u; ci < P.c_in; ci++) {
        var x = input_at(n, ci, p);
        if (HAS_GATE != 0u) { x *= ld_gate(n * P.c_in + ci); }
        acc += ld_wts(ci * P.rows + co) * x;
    }
    var y = activate(acc + ld_wts(P.bias_off + co));
    if (HAS_RESIDUAL != 0u) { y += ld_res((n * P.c_out + co) * P.hw + p); }
    return y;
}

// act(acc + bias) (+ the residual) of tile row `row`, column `col`, output index `o`.
fn output(row: u32, col: u32, o: u32, bias: f32) -> f32 {
    var y = activate(f32(tiles[row * (TN / 4u) + col / 4u][col % 4u]) + bias);
    if (HAS_RESIDUAL != 0u) { y += ld_res(o); }
    return y;
}
