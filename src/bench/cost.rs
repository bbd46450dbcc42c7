//! What each op is for (its role in the block) and what it costs: floating point operations
//! and bytes moved, so the profiler can report GFLOP/s and GB/s per kernel kind.

use crate::graph::{Graph, Op};
use serde::Serialize;

/// The part of the network a dispatch belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Stem,
    Expand,
    Depthwise,
    Se,
    Project,
    Head,
    Classifier,
}

/// Role of every op: the first conv is the stem, the op producing the head output is the
/// head, k×k dense convs and activated 1×1 convs inside blocks expand, un-activated 1×1
/// convs project.
pub fn roles(g: &Graph) -> Vec<Role> {
    let head = g.stages.last().map(|s| s.tensor);
    g.ops
        .iter()
        .enumerate()
        .map(|(i, op)| match *op {
            _ if i == 0 => Role::Stem,
            Op::PoolClassify { .. } => Role::Classifier,
            Op::Pointwise { output, .. } | Op::Conv { output, .. } if Some(output) == head => {
                Role::Head
            }
            Op::Depthwise { .. } => Role::Depthwise,
            Op::SeExcite { .. } => Role::Se,
            Op::Pointwise {
                act: crate::model::Activation::Identity,
                ..
            } => Role::Project,
            Op::Pointwise { .. } | Op::Conv { .. } => Role::Expand,
        })
        .collect()
}

/// Stage index of every op (the stage whose output it contributes to).
pub fn stages(g: &Graph) -> Vec<usize> {
    let mut stage = 0;
    let mut out = Vec::with_capacity(g.ops.len());
    for op in &g.ops {
        out.push(stage.min(g.stages.len().saturating_sub(1)));
        let (_, writes) = crate::graph::plan::uses(op);
        if g.stages
            .get(stage)
            .is_some_and(|s| writes.contains(&s.tensor))
        {
            stage += 1;
        }
    }
    out
}

/// Floating point operations (2 per multiply-add) and bytes read + written, in f32.
/// `se_sizes[i] = (channels, reduced)` of SE layer i.
pub fn cost(g: &Graph, op: &Op, se_sizes: &[(usize, usize)]) -> (u64, u64) {
    let sh = &g.shapes;
    let len = |t: usize| sh[t].len() as u64;
    let f = 4u64;
    match *op {
        Op::Conv {
            input,
            output,
            geom,
            residual,
        } => {
            let (i, o) = (sh[input], sh[output]);
            let weights = (o.c * i.c * geom.k * geom.k) as u64;
            let macs = len(output) * (i.c * geom.k * geom.k) as u64;
            (
                2 * macs,
                f * (len(input) + len(output) + weights + residual.map_or(0, len)),
            )
        }
        Op::Depthwise {
            input,
            output,
            geom,
            ..
        } => {
            let macs = len(output) * (geom.k * geom.k) as u64;
            (
                2 * macs,
                f * (len(input) + len(output) + (sh[output].c * geom.k * geom.k) as u64),
            )
        }
        Op::SeExcite { sums, gate, se, .. } => {
            // Two c×r matrix-vector products per image; the weights dominate the traffic.
            let (c, r) = (se_sizes[se].0 as u64, se_sizes[se].1 as u64);
            let n = sh[sums].n as u64;
            (4 * c * r * n, f * (2 * c * r + len(sums) + len(gate)))
        }
        Op::Pointwise {
            input,
            output,
            gate,
            residual,
            ..
        } => {
            let (i, o) = (sh[input], sh[output]);
            let macs = len(output) * i.c as u64;
            let extra = gate.map_or(0, len) + residual.map_or(0, len);
            (
                2 * macs,
                f * (len(input) + len(output) + (o.c * i.c) as u64 + extra),
            )
        }
        Op::PoolClassify {
            input,
            output,
            classify,
        } => {
            let c = sh[input].c as u64;
            let classes = if classify { sh[output].c as u64 } else { 0 };
            (
                len(input) + 2 * c * classes * sh[input].n as u64,
                f * (len(input) + c * classes + len(output)),
            )
        }
    }
}
