//! Buffer planning by liveness: tensors whose lifetimes do not overlap share a buffer
//! ("slot"), so a deep network needs only a few activation buffers.

use super::ops::{Graph, Op, TensorId};
use std::iter::once;

/// The tensors an op reads and the tensors it writes.
pub(crate) fn uses(op: &Op) -> (Vec<TensorId>, Vec<TensorId>) {
    match op {
        Op::Conv(c) => (once(c.input).chain(c.residual).collect(), vec![c.output]),
        Op::Depthwise(d) => (vec![d.input], once(d.output).chain(d.se_sums).collect()),
        Op::SeExcite(e) => (vec![e.sums], vec![e.gate]),
        Op::Pointwise(p) => {
            let reads = [Some(p.input), p.gate, p.residual];
            (reads.into_iter().flatten().collect(), vec![p.output])
        }
        Op::PoolClassify(p) => (vec![p.input], vec![p.output]),
        // The expanded tensor in between is neither read nor written.
        Op::ExpandDepthwise(f) => {
            let d = f.depthwise;
            (
                vec![f.expand.input()],
                once(d.output).chain(d.se_sums).collect(),
            )
        }
        Op::ConvProject(f) => (
            once(f.conv.input).chain(f.project.residual).collect(),
            vec![f.project.output],
        ),
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Plan {
    /// The slot of each tensor (`None` for tensors no op touches).
    pub slot_of: Vec<Option<usize>>,
    /// Size in bytes of each slot: the largest tensor it ever holds.
    pub slot_sizes: Vec<u64>,
}

/// Assigns slots. `sizes[t]` is the byte size of tensor `t`; `input` is live before the first
/// op; `pinned` tensors stay live to the end (they are read back).
pub(crate) fn plan(sizes: &[u64], ops: &[Op], input: TensorId, pinned: &[TensorId]) -> Plan {
    let mut last_use = vec![0usize; sizes.len()];
    for (i, op) in ops.iter().enumerate() {
        let (reads, writes) = uses(op);
        for t in reads.into_iter().chain(writes) {
            last_use[t] = i;
        }
    }
    for &t in pinned {
        last_use[t] = usize::MAX;
    }
    let mut p = Plan {
        slot_of: vec![None; sizes.len()],
        slot_sizes: vec![],
    };
    let mut free: Vec<usize> = vec![];
    p.assign(input, sizes[input], &mut free);
    for (i, op) in ops.iter().enumerate() {
        let (reads, writes) = uses(op);
        // A tensor read before any op writes it is an extra input (e.g. a gate fed by the
        // caller in a one-op benchmark graph): it gets a slot like the main input.
        for &t in reads.iter().chain(&writes) {
            if p.slot_of[t].is_none() {
                p.assign(t, sizes[t], &mut free);
            }
        }
        for t in reads.into_iter().chain(writes) {
            if last_use[t] == i {
                free.push(p.slot_of[t].expect("used tensor has a slot"));
                last_use[t] = usize::MAX - 1; // freed once, even if listed twice
            }
        }
    }
    p
}

impl Plan {
    /// Best fit among free slots; else grow the largest free slot; else a new slot.
    fn assign(&mut self, t: TensorId, size: u64, free: &mut Vec<usize>) {
        let sizes = &self.slot_sizes;
        let fit = free
            .iter()
            .enumerate()
            .filter(|&(_, &s)| sizes[s] >= size)
            .min_by_key(|&(_, &s)| sizes[s])
            .or_else(|| free.iter().enumerate().max_by_key(|&(_, &s)| sizes[s]))
            .map(|(i, _)| i);
        let slot = match fit {
            Some(i) => free.swap_remove(i),
            None => {
                self.slot_sizes.push(0);
                self.slot_sizes.len() - 1
            }
        };
        self.slot_sizes[slot] = self.slot_sizes[slot].max(size);
        self.slot_of[t] = Some(slot);
    }
}

/// The dispatches of one compute pass, and the tensor copied out after it.
pub(crate) type Pass = (std::ops::Range<usize>, Option<TensorId>);

/// Splits the ops into one compute pass per captured tensor (each ends with the op that
/// produces it) and lays out the readback buffer.
pub(crate) fn passes_and_readback(
    g: &Graph,
    captured: &[TensorId],
    sizes: &[u64],
) -> (Vec<Pass>, Vec<(TensorId, u64)>, u64) {
    let mut passes = vec![];
    let mut readback = vec![];
    let mut start = 0;
    let mut offset = 0u64;
    for (i, op) in g.ops.iter().enumerate() {
        let (_, writes) = uses(op);
        if let Some(&t) = writes.iter().find(|t| captured.contains(t)) {
            passes.push((start..i + 1, Some(t)));
            readback.push((t, offset));
            offset += sizes[t];
            start = i + 1;
        }
    }
    if start < g.ops.len() {
        passes.push((start..g.ops.len(), None));
    }
    (passes, readback, offset.max(4))
}
