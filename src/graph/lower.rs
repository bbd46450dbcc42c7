//! Lowering: an architecture to the graph of fused ops for one batch size and resolution.

use super::ops::{
    ConvGeom, ConvOp, DepthwiseOp, Graph, Op, PointwiseOp, PoolClassifyOp, SeExciteOp, Shape,
    StageOutput, TensorId,
};
use crate::model::{Arch, Block, ConvLayer};
use crate::{Error, Result};

/// How many partial sums per channel the depthwise op in front of an SE block leaves for an
/// `h`×`w` output with `geom` (the width of its SE sums tensor). The kernels decide, not the
/// graph: `kernels::lower` passes theirs (`kernels::se_partials`).
pub(crate) type SePartials = fn(h: usize, w: usize, geom: &ConvGeom) -> usize;

/// Lowers `arch` for a batch of `n` images of `h`×`w`, sizing SE sums by `se_partials`.
pub(crate) fn lower_with(
    arch: &Arch,
    (n, h, w): (usize, usize, usize),
    se_partials: SePartials,
) -> Result<Graph> {
    if n == 0 || h == 0 || w == 0 {
        return Err(Error::Input(format!(
            "batch and resolution must be at least 1, got batch {n}, {h}x{w}"
        )));
    }
    let mut b = Builder {
        arch,
        g: Graph {
            shapes: vec![Shape { n, c: 3, h, w }],
            ops: vec![],
            input: 0,
            logits: 0,
            stages: vec![],
        },
        next_layer: 0,
        next_se: 0,
        se_partials,
    };
    let mut x = b.conv(0, &arch.stem, None)?;
    b.stage_output(&arch.stem_name, x);
    for stage in &arch.stages {
        for block in &stage.blocks {
            x = b.block(x, block)?;
        }
        b.stage_output(&stage.name, x);
    }
    x = b.conv(x, &arch.head, None)?;
    b.stage_output(&arch.head_name, x);
    let logits = b.tensor(Shape {
        n,
        c: arch.output_width(),
        h: 1,
        w: 1,
    });
    b.g.ops.push(Op::PoolClassify(PoolClassifyOp {
        input: x,
        output: logits,
        classify: arch.classifier.is_some(),
    }));
    b.g.logits = logits;
    Ok(b.g)
}

struct Builder<'a> {
    arch: &'a Arch,
    g: Graph,
    next_layer: usize,
    next_se: usize,
    se_partials: SePartials,
}

impl Builder<'_> {
    fn tensor(&mut self, shape: Shape) -> TensorId {
        self.g.shapes.push(shape);
        self.g.shapes.len() - 1
    }

    fn stage_output(&mut self, name: &str, tensor: TensorId) {
        let name = name.to_string();
        self.g.stages.push(StageOutput { name, tensor });
    }

    fn take_layer(&mut self) -> usize {
        self.next_layer += 1;
        self.next_layer - 1
    }

    /// Geometry and output shape of `layer` applied to tensor `x`.
    fn geom(&mut self, x: TensorId, layer: &ConvLayer) -> Result<(ConvGeom, Shape)> {
        let s = self.g.shapes[x];
        if s.c != layer.in_c {
            return Err(Error::Shape {
                what: format!("input of {}", layer.keys.weight),
                expected: vec![layer.in_c],
                got: vec![s.c],
            });
        }
        let (oh, pad_top) = self.arch.padding.resolve(s.h, layer.k, layer.stride);
        let (ow, pad_left) = self.arch.padding.resolve(s.w, layer.k, layer.stride);
        let geom = ConvGeom {
            layer: self.take_layer(),
            k: layer.k,
            stride: layer.stride,
            pad_top,
            pad_left,
            act: layer.act,
        };
        Ok((
            geom,
            Shape {
                n: s.n,
                c: layer.out_c,
                h: oh,
                w: ow,
            },
        ))
    }

    /// A dense conv layer: 1×1 stride 1 becomes a GEMM, anything else a direct conv.
    fn conv(&mut self, x: TensorId, layer: &ConvLayer, res: Option<TensorId>) -> Result<TensorId> {
        self.conv_gated(x, layer, None, res)
    }

    fn conv_gated(
        &mut self,
        x: TensorId,
        layer: &ConvLayer,
        gate: Option<TensorId>,
        residual: Option<TensorId>,
    ) -> Result<TensorId> {
        let (geom, shape) = self.geom(x, layer)?;
        let output = self.tensor(shape);
        let pointwise = layer.runs_as_gemm();
        self.g.ops.push(if pointwise {
            let (layer, act) = (geom.layer, geom.act);
            Op::Pointwise(PointwiseOp {
                input: x,
                output,
                layer,
                act,
                gate,
                residual,
            })
        } else {
            if gate.is_some() {
                return Err(Error::Input(
                    "SE gate before a k×k conv is not supported".into(),
                ));
            }
            Op::Conv(ConvOp {
                input: x,
                output,
                geom,
                residual,
            })
        });
        Ok(output)
    }

    fn block(&mut self, input: TensorId, block: &Block) -> Result<TensorId> {
        if block.se.is_some() && block.depthwise.is_none() {
            return Err(Error::Input(
                "SE without a depthwise conv is not supported".into(),
            ));
        }
        let residual = block.residual.then_some(input);
        let mut x = input;
        let last = block.layers().count() - 1;
        let mut gate = None;
        for (i, layer) in block.layers().enumerate() {
            let res = if i == last { residual } else { None };
            if layer.depthwise {
                x = self.depthwise(x, layer, block, &mut gate)?;
            } else {
                x = self.conv_gated(x, layer, gate.take(), res)?;
            }
        }
        if gate.is_some() {
            return Err(Error::Input(
                "SE block without a projection after it".into(),
            ));
        }
        Ok(x)
    }

    /// Depthwise conv, and the SE excitation when the block has one (its gate is applied by
    /// the projection that follows).
    fn depthwise(
        &mut self,
        x: TensorId,
        layer: &ConvLayer,
        block: &Block,
        gate: &mut Option<TensorId>,
    ) -> Result<TensorId> {
        let (geom, shape) = self.geom(x, layer)?;
        let output = self.tensor(shape);
        let pooled = Shape {
            h: 1,
            w: 1,
            ..shape
        };
        // The SE sums hold as many partial sums per channel as the depthwise kernel leaves.
        let partials = Shape {
            w: (self.se_partials)(shape.h, shape.w, &geom),
            ..pooled
        };
        let se_sums = block.se.as_ref().map(|_| self.tensor(partials));
        self.g.ops.push(Op::Depthwise(DepthwiseOp {
            input: x,
            output,
            geom,
            se_sums,
        }));
        if let (Some(se), Some(sums)) = (&block.se, se_sums) {
            let g = self.tensor(pooled);
            let hw = shape.h * shape.w;
            let op = Op::SeExcite(SeExciteOp {
                sums,
                gate: g,
                se: self.next_se,
                reduced: se.reduced,
                hw,
                act: se.act,
            });
            self.next_se += 1;
            self.g.ops.push(op);
            *gate = Some(g);
        }
        Ok(output)
    }
}
