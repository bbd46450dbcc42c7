//! Recording and submitting a forward pass. A pass's commands (every dispatch, the copies
//! of captured outputs) are the same every run: the buffers, pipelines and bind groups are
//! the session's. So each submit also records the next pass's commands while the GPU runs
//! this one, and the next run only submits them: encoding, about 5–10 µs per dispatch on the
//! host, leaves the critical path of back-to-back runs (issue 23's batch-1 latency). The
//! input copy and the logits copy, which depend on the call, go in command buffers of their
//! own beside it.

use super::{Executor, Input, check_input_buffer};
use crate::{Error, Result};
use std::sync::Mutex;

/// The next pass's commands, recorded ahead (`None` until the first submit records them, or
/// while a submit has taken them).
#[derive(Default)]
pub(super) struct Recorded(Mutex<Option<wgpu::CommandBuffer>>);

impl Recorded {
    fn take(&self) -> Option<wgpu::CommandBuffer> {
        self.0.lock().ok()?.take()
    }

    fn put(&self, commands: wgpu::CommandBuffer) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(commands);
        }
    }
}

impl Executor {
    /// Puts the input in place (upload, or a GPU copy ahead of the pass) and submits the
    /// recorded pass, then records the next one. The host time of the critical path (input,
    /// submit) goes to `last_submit_ns`.
    pub(super) fn submit(
        &self,
        input: Input,
        logits_to_gpu: bool,
    ) -> Result<wgpu::SubmissionIndex> {
        let t0 = web_time::Instant::now();
        let copy_in = match input {
            Input::Host(data) => {
                self.upload(data)?;
                None
            }
            Input::Gpu(_) if self.stored.nhwc(self.graph.input) => {
                let why = "this graph's input is stored NHWC";
                return Err(Error::Input(format!("{why}: give it from the host")));
            }
            Input::Gpu(buffer) => {
                let bytes = self.sizes[self.graph.input];
                let dims = self.graph.shapes[self.graph.input].dims();
                check_input_buffer(buffer, bytes, dims)?;
                let input_slot = &self.slots[self.slot_of[self.graph.input].expect("input slot")];
                Some(
                    self.commands(|enc| enc.copy_buffer_to_buffer(buffer, 0, input_slot, 0, bytes)),
                )
            }
        };
        let pass = self.recorded.take().unwrap_or_else(|| self.record());
        let copy_out = logits_to_gpu.then(|| {
            let slot = &self.slots[self.slot_of[self.graph.logits].expect("slot")];
            let size = self.logits_out.size();
            self.commands(|enc| enc.copy_buffer_to_buffer(slot, 0, &self.logits_out, 0, size))
        });
        let index = self
            .queue
            .submit(copy_in.into_iter().chain([pass]).chain(copy_out));
        let critical_ns = t0.elapsed().as_nanos() as f64;
        (self.last_submit_ns).store(critical_ns.to_bits(), std::sync::atomic::Ordering::Relaxed);
        self.recorded.put(self.record());
        Ok(index)
    }

    /// The pass's commands: every dispatch, and the copies of captured outputs.
    pub(super) fn record(&self) -> wgpu::CommandBuffer {
        self.commands(|enc| self.encode(enc, None))
    }

    fn commands(&self, f: impl FnOnce(&mut wgpu::CommandEncoder)) -> wgpu::CommandBuffer {
        let mut enc = self.device.create_command_encoder(&Default::default());
        f(&mut enc);
        enc.finish()
    }

    /// Records every dispatch: one compute pass per stage, or with `queries` one pass per
    /// dispatch with begin/end timestamps at query 2i and 2i+1.
    pub(super) fn encode(&self, enc: &mut wgpu::CommandEncoder, queries: Option<&wgpu::QuerySet>) {
        for (range, copy) in &self.passes {
            let mut record =
                |r: std::ops::Range<usize>, ts: Option<wgpu::ComputePassTimestampWrites>| {
                    let mut pass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                        label: None,
                        timestamp_writes: ts,
                    });
                    for d in &self.dispatches[r] {
                        pass.set_pipeline(&d.pipeline);
                        pass.set_bind_group(0, &d.bind_group, &[]);
                        let [x, y, z] = d.workgroups;
                        pass.dispatch_workgroups(x, y, z);
                    }
                };
            match queries {
                None => record(range.clone(), None),
                Some(q) => range.clone().for_each(|i| {
                    record(
                        i..i + 1,
                        Some(wgpu::ComputePassTimestampWrites {
                            query_set: q,
                            beginning_of_pass_write_index: Some(2 * i as u32),
                            end_of_pass_write_index: Some(2 * i as u32 + 1),
                        }),
                    )
                }),
            }
            if let Some(t) = copy {
                let (_, offset) = self
                    .readback
                    .iter()
                    .find(|(r, _)| r == t)
                    .expect("readback");
                let slot = &self.slots[self.slot_of[*t].expect("slot")];
                enc.copy_buffer_to_buffer(slot, 0, &self.staging, *offset, self.sizes[*t]);
            }
        }
    }
}
