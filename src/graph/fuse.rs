//! Fusing ops whose kernels can run them as one dispatch: a 1×1 expansion into the depthwise
//! conv that reads it (`Op::ExpandDepthwise`), so the expanded tensor, the widest of an
//! MBConv block, is never written or read back. The graph stays device-agnostic: the caller
//! says which pairs its kernels take.

use super::ops::{ExpandDepthwiseOp, Graph, Op};
use super::plan::uses;

/// `g` with each expansion (a 1×1 conv without gate or residual) whose output only the
/// depthwise op right after it reads fused into that op, where `takes` accepts the pair.
pub(crate) fn expand_depthwise(
    mut g: Graph,
    takes: impl Fn(&Graph, &ExpandDepthwiseOp) -> bool,
) -> Graph {
    let mut ops = Vec::with_capacity(g.ops.len());
    let mut i = 0;
    while i < g.ops.len() {
        let pair = match (&g.ops[i], g.ops.get(i + 1)) {
            (Op::Pointwise(e), Some(Op::Depthwise(d))) => Some(ExpandDepthwiseOp {
                expand: *e,
                depthwise: *d,
            }),
            _ => None,
        };
        if let Some(f) = pair.filter(|f| fusable(&g, f) && takes(&g, f)) {
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
            Op::ExpandDepthwise(f) => vec![Op::Pointwise(f.expand), Op::Depthwise(f.depthwise)],
            op => vec![op],
        })
        .collect();
    g
}

/// Whether the expansion's output is the depthwise op's input and read by nothing else (no
/// other op, no stage output, not the graph's output), and the expansion is a plain one.
fn fusable(g: &Graph, f: &ExpandDepthwiseOp) -> bool {
    let (e, d) = (f.expand, f.depthwise);
    let mid = e.output;
    let read_elsewhere = (g.ops.iter())
        .filter(|op| !matches!(op, Op::Depthwise(o) if *o == d))
        .any(|op| uses(op).0.contains(&mid));
    let kept = g.stages.iter().any(|s| s.tensor == mid) || g.logits == mid;
    let shape_ok = g.shapes[e.input].h == g.shapes[mid].h && g.shapes[e.input].w == g.shapes[mid].w;
    d.input == mid
        && e.gate.is_none()
        && e.residual.is_none()
        && !read_elsewhere
        && !kept
        && shape_ok
}

#[cfg(test)]
mod tests {
    use super::expand_depthwise;
    use crate::graph::{Graph, Op, lower_with};
    use crate::model::variants;

    /// B0 at 224: every block but the first expands, so 15 expansions fuse and the graph
    /// keeps the same outputs; refusing every pair changes nothing, and splitting the fused
    /// ops gives the graph back.
    #[test]
    fn b0_fuses_every_expansion_into_its_depthwise() {
        let arch = variants::resolve("efficientnet_b0", None).unwrap();
        let g = lower_with(&arch, (1, 224, 224), |_, _, _| 8).unwrap();
        let fused = expand_depthwise(g.clone(), |_, _| true);
        assert_eq!(fused.ops.len(), 51, "B0's dispatches fused");
        let count = |g: &Graph| {
            (g.ops.iter())
                .filter(|o| matches!(o, Op::ExpandDepthwise(_)))
                .count()
        };
        assert_eq!((count(&fused), g.ops.len() - fused.ops.len()), (15, 15));
        assert_eq!((fused.logits, &fused.stages), (g.logits, &g.stages));
        assert_eq!(expand_depthwise(g.clone(), |_, _| false), g);
        assert_eq!(super::split(fused), g);
    }
}
