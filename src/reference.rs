//! The CPU oracle: a plain, readable implementation of the lowered graph. f32 tensors,
//! f64 accumulation. It is what the GPU kernels are tested against; it is not fast.

use crate::graph::ops::{ConvGeom, Graph, Op, PointwiseOp, Shape};
use crate::model::weights::ConvWeights;
use crate::model::{Activation, ModelWeights};

pub(crate) fn activate(act: Activation, x: f64) -> f64 {
    match act {
        Activation::Identity => x,
        Activation::Silu => x / (1.0 + (-x).exp()),
        Activation::Relu6 => x.clamp(0.0, 6.0),
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Runs `graph` on `input` (NCHW) and returns every tensor it produced.
pub fn run(graph: &Graph, weights: &ModelWeights, input: &[f32]) -> Vec<Vec<f32>> {
    let mut t: Vec<Vec<f32>> = graph.shapes.iter().map(|s| vec![0.0; s.len()]).collect();
    t[graph.input].copy_from_slice(input);
    for op in &graph.ops {
        run_op(op, graph, weights, &mut t);
    }
    t
}

/// Runs one op, reading and writing the tensors in `t`.
pub(crate) fn run_op(op: &Op, graph: &Graph, w: &ModelWeights, t: &mut [Vec<f32>]) {
    let sh = &graph.shapes;
    match op {
        Op::Conv(c) => {
            let mut out = conv(&t[c.input], sh[c.input], sh[c.output], &c.geom, false, w);
            if let Some(r) = c.residual {
                out.iter_mut().zip(&t[r]).for_each(|(o, r)| *o += r);
            }
            t[c.output] = out;
        }
        Op::Depthwise(d) => {
            let out = conv(&t[d.input], sh[d.input], sh[d.output], &d.geom, true, w);
            if let Some(s) = d.se_sums {
                t[s] = partial_sums(&out, sh[d.output].h * sh[d.output].w, sh[s].w);
            }
            t[d.output] = out;
        }
        Op::SeExcite(e) => {
            let totals: Vec<f64> = (t[e.sums].chunks(sh[e.sums].w))
                .map(|p| p.iter().map(|&v| v as f64).sum())
                .collect();
            t[e.gate] = (totals.chunks(sh[e.sums].c))
                .flat_map(|s| se_excite(s, e.hw, e.act, &w.ses[e.se]))
                .collect();
        }
        Op::Pointwise(p) => t[p.output] = pointwise(t, sh, p, &w.convs[p.layer]),
        Op::PoolClassify(p) => t[p.output] = pool_classify(&t[p.input], sh[p.input], w),
        Op::ExpandDepthwise(f) => {
            run_op(&f.expand.op(), graph, w, t);
            run_op(&Op::Depthwise(f.depthwise), graph, w, t);
        }
        Op::ConvProject(f) => {
            run_op(&Op::Conv(f.conv), graph, w, t);
            run_op(&Op::Pointwise(f.project), graph, w, t);
        }
    }
}

/// Direct k×k convolution (dense or depthwise) + bias + activation.
fn conv(
    x: &[f32],
    si: Shape,
    so: Shape,
    g: &ConvGeom,
    depthwise: bool,
    w: &ModelWeights,
) -> Vec<f32> {
    let cw = &w.convs[g.layer];
    let cin = if depthwise { 1 } else { si.c };
    let mut out = vec![0.0f32; so.len()];
    for n in 0..so.n {
        for co in 0..so.c {
            let ci_range = if depthwise { co..co + 1 } else { 0..si.c };
            for oy in 0..so.h {
                for ox in 0..so.w {
                    let mut acc = cw.bias[co] as f64;
                    for ci in ci_range.clone() {
                        let wci = if depthwise { 0 } else { ci };
                        for ky in 0..g.k {
                            let iy = (oy * g.stride + ky) as isize - g.pad_top as isize;
                            if iy < 0 || iy >= si.h as isize {
                                continue;
                            }
                            for kx in 0..g.k {
                                let ix = (ox * g.stride + kx) as isize - g.pad_left as isize;
                                if ix < 0 || ix >= si.w as isize {
                                    continue;
                                }
                                let xv =
                                    x[((n * si.c + ci) * si.h + iy as usize) * si.w + ix as usize];
                                let wv = cw.weight[((co * cin + wci) * g.k + ky) * g.k + kx];
                                acc += xv as f64 * wv as f64;
                            }
                        }
                    }
                    out[((n * so.c + co) * so.h + oy) * so.w + ox] = activate(g.act, acc) as f32;
                }
            }
        }
    }
    out
}

/// SE sums of the planes of `out` (`hw` values each) as `partials` partial sums per
/// channel: each channel's total in its first, zeros in the others.
fn partial_sums(out: &[f32], hw: usize, partials: usize) -> Vec<f32> {
    let mut sums = vec![0.0; out.len() / hw * partials];
    for (c, p) in out.chunks(hw).enumerate() {
        sums[c * partials] = p.iter().map(|&v| v as f64).sum::<f64>() as f32;
    }
    sums
}

/// The gate of one image from its per-channel sums.
fn se_excite(
    sums: &[f64],
    hw: usize,
    act: Activation,
    se: &crate::model::weights::SeWeights,
) -> Vec<f32> {
    let c = sums.len();
    let r = se.reduce_b.len();
    let hidden: Vec<f64> = (0..r)
        .map(|j| {
            let dot: f64 = (0..c)
                .map(|i| se.reduce_w[j * c + i] as f64 * sums[i] / hw as f64)
                .sum();
            activate(act, dot + se.reduce_b[j] as f64)
        })
        .collect();
    (0..c)
        .map(|i| {
            let dot: f64 = (0..r)
                .map(|j| se.expand_w[i * r + j] as f64 * hidden[j])
                .sum();
            sigmoid(dot + se.expand_b[i] as f64) as f32
        })
        .collect()
}

/// 1×1 conv `op` on the tensors `t` of shapes `sh`: input channels scaled by the gate, then
/// the activation, then the residual.
fn pointwise(t: &[Vec<f32>], sh: &[Shape], op: &PointwiseOp, cw: &ConvWeights) -> Vec<f32> {
    let (x, si, so, act) = (&t[op.input], sh[op.input], sh[op.output], op.act);
    let gate = op.gate.map(|g| t[g].as_slice());
    let res = op.residual.map(|r| t[r].as_slice());
    let hw = si.h * si.w;
    let mut out = vec![0.0f32; so.len()];
    let mut acc = vec![0.0f64; hw];
    for n in 0..si.n {
        for co in 0..so.c {
            acc.fill(cw.bias[co] as f64);
            for ci in 0..si.c {
                let g = gate.map_or(1.0, |g| g[n * si.c + ci] as f64);
                let wv = cw.weight[co * si.c + ci] as f64 * g;
                let plane = &x[(n * si.c + ci) * hw..][..hw];
                acc.iter_mut()
                    .zip(plane)
                    .for_each(|(a, &v)| *a += wv * v as f64);
            }
            let base = (n * so.c + co) * hw;
            for (p, &a) in acc.iter().enumerate() {
                let r = res.map_or(0.0, |r| r[base + p] as f64);
                out[base + p] = (activate(act, a) + r) as f32;
            }
        }
    }
    out
}

/// Pooled features through the classifier; without one (no classes), the pooled features.
fn pool_classify(x: &[f32], si: Shape, w: &ModelWeights) -> Vec<f32> {
    let hw = si.h * si.w;
    let classes = w.classifier_b.len();
    let mut out = Vec::with_capacity(si.n * classes);
    for n in 0..si.n {
        let pooled: Vec<f64> = (0..si.c)
            .map(|c| {
                x[(n * si.c + c) * hw..][..hw]
                    .iter()
                    .map(|&v| v as f64)
                    .sum::<f64>()
                    / hw as f64
            })
            .collect();
        if classes == 0 {
            out.extend(pooled.iter().map(|&p| p as f32));
        }
        for k in 0..classes {
            let row = &w.classifier_w[k * si.c..][..si.c];
            let dot: f64 = row.iter().zip(&pooled).map(|(&a, &b)| a as f64 * b).sum();
            out.push((dot + w.classifier_b[k] as f64) as f32);
        }
    }
    out
}
