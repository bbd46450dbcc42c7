//! Fusing ops whose kernels can run them as one dispatch, so the tensor between them, the
//! widest of an MBConv block, is never written or read back: a conv (an MBConv block's 1×1
//! expansion, or the stem before a block without one) into the depthwise conv that reads it
//! (`Op::ExpandDepthwise`), and a fused-MBConv block's k×k conv into the 1×1 projection
//! that reads it (`Op::ConvProject`). The graph stays device-agnostic: the caller says which
//! pairs its kernels take.

use super::ops::{ConvProjectOp, ExpandDepthwiseOp, Expansion, Graph, Op, TensorId};
use super::plan::uses;

/// `g` with each conv (a 1×1 or a dense k×k conv, without gate or residual) whose output
/// only the depthwise op right after it reads fused into that op, where `takes` accepts the
/// pair. With `keep_stages`, a stage output (the stem's) is kept: it is read back.
pub(crate) fn expand_depthwise(
    g: Graph,
    keep_stages: bool,
    takes: impl Fn(&Graph, &ExpandDepthwiseOp) -> bool,
) -> Graph {
    let pair = |first: &Op, second: &Op| {
        let expand = match first {
            Op::Pointwise(p) if p.gate.is_none() && p.residual.is_none() => {
                Expansion::Pointwise(*p)
            }
            Op::Conv(c) if c.residual.is_none() => Expansion::Conv(*c),
            _ => return None,
        };
        match second {
            Op::Depthwise(d) => Some(ExpandDepthwiseOp {
                expand,
                depthwise: *d,
            }),
            _ => None,
        }
    };
    fuse_pairs(
        g,
        keep_stages,
        pair,
        |f| f.expand.output(),
        takes,
        Op::ExpandDepthwise,
    )
}

/// `g` with each dense conv (without residual) whose output only the 1×1 conv right after it
/// reads, without an SE gate, fused into it, where `takes` accepts the pair.
pub(crate) fn conv_project(
    g: Graph,
    keep_stages: bool,
    takes: impl Fn(&Graph, &ConvProjectOp) -> bool,
) -> Graph {
    let pair = |first: &Op, second: &Op| match (first, second) {
        (Op::Conv(conv), Op::Pointwise(project))
            if conv.residual.is_none() && project.gate.is_none() =>
        {
            Some(ConvProjectOp {
                conv: *conv,
                project: *project,
            })
        }
        _ => None,
    };
    fuse_pairs(
        g,
        keep_stages,
        pair,
        |f| f.conv.output,
        takes,
        Op::ConvProject,
    )
}

/// `g` with each pair of consecutive ops that `pair` makes a fused op `F` of (the tensor
/// between them `mid`) replaced by that op, where nothing else reads `mid` and `takes`
/// accepts it.
fn fuse_pairs<F: Copy>(
    mut g: Graph,
    keep_stages: bool,
    pair: impl Fn(&Op, &Op) -> Option<F>,
    mid: impl Fn(&F) -> TensorId,
    takes: impl Fn(&Graph, &F) -> bool,
    op: impl Fn(F) -> Op,
) -> Graph {
    let mut ops = Vec::with_capacity(g.ops.len());
    let mut i = 0;
    while i < g.ops.len() {
        let fused = (g.ops.get(i + 1)).and_then(|second| {
            let f = pair(&g.ops[i], second)?;
            let only_reader = fusable(&g, mid(&f), second, keep_stages);
            (only_reader && takes(&g, &f)).then(|| op(f))
        });
        if let Some(f) = fused {
            ops.push(f);
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
            Op::ConvProject(f) => vec![Op::Conv(f.conv), Op::Pointwise(f.project)],
            op => vec![op],
        })
        .collect();
    g
}

/// Whether `mid` is the input of `reader` and read by nothing else (no other op, no stage
/// output kept, not the graph's output).
fn fusable(g: &Graph, mid: TensorId, reader: &Op, keep_stages: bool) -> bool {
    let read_elsewhere = (g.ops.iter())
        .filter(|op| *op != reader)
        .any(|op| uses(op).0.contains(&mid));
    let kept = (keep_stages && g.stages.iter().any(|s| s.tensor == mid)) || g.logits == mid;
    let input = match reader {
        Op::Depthwise(d) => d.input,
        Op::Pointwise(p) => p.input,
        _ => return false,
    };
    input == mid && !read_elsewhere && !kept
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

    /// V2-S at 384: its 8 fused-MBConv blocks that expand (stages 1 and 2) fuse their 3×3
    /// conv into their projection; stage 0's convs (no projection) and the stem stay; the
    /// graph keeps its outputs, and splitting gives it back.
    #[test]
    fn v2s_fuses_each_expanding_conv_into_its_projection() {
        let arch = variants::resolve("tf_efficientnetv2_s", None).unwrap();
        let g = lower_with(&arch, (1, 384, 384), |_, _, _| 8).unwrap();
        let fused = super::conv_project(g.clone(), true, |_, _| true);
        let count = |g: &Graph| {
            (g.ops.iter())
                .filter(|o| matches!(o, Op::ConvProject(_)))
                .count()
        };
        assert_eq!((count(&fused), g.ops.len() - fused.ops.len()), (8, 8));
        assert_eq!((fused.logits, &fused.stages), (g.logits, &g.stages));
        assert_eq!(super::conv_project(g.clone(), true, |_, _| false), g);
        assert_eq!(super::split(fused), g);
    }
}
