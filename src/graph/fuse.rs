//! Fusing ops whose kernels can run them as one dispatch: a conv (an MBConv block's 1×1
//! expansion, or the stem before a block without one) into the depthwise conv that reads it
//! (`Op::ExpandDepthwise`), so the tensor between them, the widest of an MBConv block, is
//! never written or read back. The graph stays device-agnostic: the caller says which pairs
//! its kernels take.

use super::ops::{ExpandDepthwiseOp, Expansion, Graph, Op};
use super::plan::uses;

/// `g` with each conv (a 1×1 or a dense k×k conv, without gate or residual) whose output
/// only the depthwise op right after it reads fused into that op, where `takes` accepts the
/// pair. With `keep_stages`, a stage output (the stem's) is kept: it is read back.
pub(crate) fn expand_depthwise(
    mut g: Graph,
    keep_stages: bool,
    takes: impl Fn(&Graph, &ExpandDepthwiseOp) -> bool,
) -> Graph {
    let mut ops = Vec::with_capacity(g.ops.len());
    let mut i = 0;
    while i < g.ops.len() {
        let expand = match &g.ops[i] {
            Op::Pointwise(p) if p.gate.is_none() && p.residual.is_none() => {
                Some(Expansion::Pointwise(*p))
            }
            Op::Conv(c) if c.residual.is_none() => Some(Expansion::Conv(*c)),
            _ => None,
        };
        let pair = match (expand, g.ops.get(i + 1)) {
            (Some(expand), Some(Op::Depthwise(d))) => Some(ExpandDepthwiseOp {
                expand,
                depthwise: *d,
            }),
            _ => None,
        };
        if let Some(f) = pair.filter(|f| fusable(&g, f, keep_stages) && takes(&g, f)) {
            ops.push(Op::ExpandDepthwise(f));
            i += 2;
        } else {
            ops.push(g.ops[i].clone());
            i += 1;
        }
    }
    g.ops = ops;
    g
}

/// `g` with every fused op split back into the ops it fuses, for kernels that run them apart.
pub(crate) fn split(mut g: Graph) -> Graph {
    g.ops = (g.ops.into_iter())
        .flat_map(|op| match op {
            Op::ExpandDepthwise(f) => vec![f.expand.op(), Op::Depthwise(f.depthwise)],
            op => vec![op],
        })
        .collect();
    g
}

/// Whether the conv's output is the depthwise op's input and read by nothing else (no other
/// op, no stage output kept, not the graph's output).
fn fusable(g: &Graph, f: &ExpandDepthwiseOp, keep_stages: bool) -> bool {
    let (mid, d) = (f.expand.output(), f.depthwise);
    let read_elsewhere = (g.ops.iter())
        .filter(|op| !matches!(op, Op::Depthwise(o) if *o == d))
        .any(|op| uses(op).0.contains(&mid));
    let kept = (keep_stages && g.stages.iter().any(|s| s.tensor == mid)) || g.logits == mid;
    d.input == mid && !read_elsewhere && !kept
}

#[cfg(test)]
mod tests {
    use super::expand_depthwise;
    use crate::graph::{Graph, Op, lower_with};
    use crate::model::variants;

    /// B0 at 224: every block but the first expands, so 15 expansions fuse, and the stem
    /// into the first block's depthwise conv unless stage outputs are kept; the graph keeps
    /// the same outputs; refusing every pair changes nothing, and splitting the fused
    /// ops gives the graph back.
    #[test]
    fn b0_fuses_every_expansion_into_its_depthwise() {
        let arch = variants::resolve("efficientnet_b0", None).unwrap();
        let g = lower_with(&arch, (1, 224, 224), |_, _, _| 8).unwrap();
        let fused = expand_depthwise(g.clone(), false, |_, _| true);
        let kept = expand_depthwise(g.clone(), true, |_, _| true);
        assert_eq!(kept.ops.len(), 51, "the stem's output kept");
        assert_eq!(fused.ops.len(), 50, "B0's dispatches fused");
        let count = |g: &Graph| {
            (g.ops.iter())
                .filter(|o| matches!(o, Op::ExpandDepthwise(_)))
                .count()
        };
        assert_eq!((count(&fused), g.ops.len() - fused.ops.len()), (16, 16));
        assert_eq!((fused.logits, &fused.stages), (g.logits, &g.stages));
        assert_eq!(expand_depthwise(g.clone(), false, |_, _| false), g);
        assert_eq!(super::split(fused), g);
    }
}
