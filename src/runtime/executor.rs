//! The GPU executor behind `Session`. An executor (model, batch, resolution) makes every
//! buffer, pipeline and bind group once; a forward pass only uploads the input, records one
//! compute pass per stage, submits and reads back.

use super::bind::BindContext;
use super::guard::{check_graph, tensor_bytes_in};
use super::timer::{Profile, Timer};
use crate::gpu::weights::{decode, encode};
use crate::gpu::{Gpu, GpuWeights, Pipelines, Precision, create_storage};
use crate::graph::plan::{self, Pass, passes_and_readback};
use crate::graph::{Graph, Output, StageTensor, TensorId};
use crate::kernels::candidates::{Choice, describe_chosen};
use crate::kernels::formats::Storage;
use crate::kernels::layout::Stored;
use crate::kernels::source::Variants;
use crate::kernels::{DispatchDesc, Family};
use crate::{Error, Result};

mod asynchronous;
mod layout;
mod record;

use record::Recorded;

struct Dispatch {
    pipeline: wgpu::ComputePipeline,
    bind_group: wgpu::BindGroup,
    workgroups: [u32; 3],
    /// The kernel, its override constants and grid, for traces.
    label: String,
}

/// A lowered graph ready to run: every buffer, pipeline and bind group, made once.
pub struct Executor {
    device: wgpu::Device,
    queue: wgpu::Queue,
    graph: Graph,
    slots: Vec<wgpu::Buffer>,
    slot_of: Vec<Option<usize>>,
    dispatches: Vec<Dispatch>,
    /// Dispatch ranges of each compute pass, and the tensor copied out after it.
    passes: Vec<Pass>,
    /// Readback regions (tensor, byte offset in `staging`).
    readback: Vec<(TensorId, u64)>,
    staging: wgpu::Buffer,
    /// Where `run_on_gpu` leaves the logits for the app's own GPU work.
    logits_out: wgpu::Buffer,
    pipeline_count: usize,
    family: Family,
    precision: Precision,
    /// Byte size of each tensor on the GPU.
    sizes: Vec<u64>,
    /// The next pass's commands, recorded while the GPU runs the last one (`record.rs`).
    recorded: Recorded,
    /// Host nanoseconds of the last submit's critical path (input in place, submit), as f64
    /// bits.
    last_submit_ns: std::sync::atomic::AtomicU64,
    /// How its tensors are laid out (`Tuning::gpu_layout`): what upload and readback convert.
    stored: Stored,
}

/// Where a forward pass takes its input from.
#[derive(Clone, Copy)]
pub(crate) enum Input<'a> {
    /// NCHW f32 values in host memory, uploaded with `Queue::write_buffer`.
    Host(&'a [f32]),
    /// An app's GPU buffer holding the NCHW input from offset 0 in the session's precision,
    /// copied on the GPU; it needs `COPY_SRC` usage and at least the input's size.
    Gpu(&'a wgpu::Buffer),
}

impl Executor {
    /// Prepares `graph` to run on `gpu` with `weights`. With `capture_stages`, every run also
    /// returns the output of every stage. A shader or pipeline the device rejects is an error
    /// here, not a silent failure of later runs.
    /// Its dispatches run the kernels `kernels` chooses: a family's (`Family` converts), or
    /// one candidate's wherever it takes an op.
    pub fn new(
        gpu: &Gpu,
        weights: &GpuWeights,
        graph: Graph,
        capture_stages: bool,
        kernels: impl Into<Choice>,
    ) -> Result<Self> {
        let kernels = kernels.into();
        gpu.scoped("the session's buffers and pipelines", || {
            Self::build(gpu, weights, graph, capture_stages, kernels)
        })
    }

    fn build(
        gpu: &Gpu,
        weights: &GpuWeights,
        graph: Graph,
        capture_stages: bool,
        kernels: Choice,
    ) -> Result<Self> {
        let precision = weights.precision;
        let session = gpu.session_tuning(precision);
        let (tuning, graph) = layout::laid_out(&session, graph, kernels, capture_stages)?;
        let stored = Stored::new(&graph, tuning.layout(kernels.family()));
        let sizes = tensor_bytes_in(&graph, precision, &stored);
        let descs: Vec<DispatchDesc> = (graph.ops.iter())
            .map(|op| describe_chosen(&graph, op, &tuning, kernels))
            .collect();
        check_graph(&gpu.limits, &graph, &descs, &sizes)?;
        // Stage outputs need no pinning: each is copied out right after the pass that ends
        // with the op producing it, before any later op can reuse its slot.
        let p = plan::plan(&sizes, &graph.ops, graph.input, &[graph.logits]);
        let dev = &gpu.device;
        let slots: Vec<wgpu::Buffer> = p
            .slot_sizes
            .iter()
            .enumerate()
            .map(|(i, &size)| create_storage(dev, &format!("slot {i}"), size.max(4)))
            .collect();
        let ctx = BindContext::new(gpu, &descs, &slots, &p.slot_of, weights);
        let (dispatches, pipeline_count) = dispatches(gpu, &descs, &ctx, precision);
        let mut captured = vec![graph.logits];
        if capture_stages {
            captured.extend(graph.stages.iter().map(|s| s.tensor));
        }
        let (passes, readback, staging_size) = passes_and_readback(&graph, &captured, &sizes);
        // Every pipeline exists now: keep them for the next process's start-up.
        if let Some(c) = &gpu.pipeline_cache {
            c.save();
        }
        Ok(Executor {
            family: kernels.family(),
            device: dev.clone(),
            queue: gpu.queue.clone(),
            logits_out: create_storage(dev, "logits", sizes[graph.logits]),
            staging: readback_buffer(dev, staging_size),
            graph,
            slots,
            slot_of: p.slot_of,
            dispatches,
            passes,
            readback,
            pipeline_count,
            precision,
            sizes,
            recorded: Recorded::default(),
            last_submit_ns: Default::default(),
            stored,
        })
    }

    pub(crate) fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Number of distinct compute pipelines the session uses.
    pub(crate) fn pipeline_count(&self) -> usize {
        self.pipeline_count
    }

    /// The kernel family it runs.
    pub(crate) fn family(&self) -> Family {
        self.family
    }

    pub(crate) fn dispatch_count(&self) -> usize {
        self.dispatches.len()
    }

    /// Dispatch `i`'s kernel, override constants and grid (`GpuPointwise TM=64 … grid
    /// [20, 49, 1]`): which tiles a layer got, beside its time in a trace.
    pub(crate) fn dispatch_label(&self, i: usize) -> &str {
        &self.dispatches[i].label
    }

    /// Runs a forward pass on `input`, NCHW f32 of the session's batch and resolution.
    pub fn run(&self, input: &[f32]) -> Result<Output> {
        self.run_from(Input::Host(input))
    }

    /// Runs a forward pass and reads the results back to the host.
    pub(crate) fn run_from(&self, input: Input) -> Result<Output> {
        self.submit(input, false)?;
        self.read_back()
    }

    /// Host milliseconds of the last run's critical path: the input put in place and the
    /// pass submitted (its commands were recorded during the run before).
    pub(crate) fn last_submit_ms(&self) -> f64 {
        let bits = self
            .last_submit_ns
            .load(std::sync::atomic::Ordering::Relaxed);
        f64::from_bits(bits) / 1e6
    }

    /// Submits a forward pass and returns the buffer that will hold the logits (`[batch,
    /// classes]` in the session's precision, usage `STORAGE | COPY_SRC`) without waiting:
    /// work the app submits to the same queue afterwards sees them. The next run overwrites
    /// them.
    pub(crate) fn run_on_gpu(&self, input: Input) -> Result<&wgpu::Buffer> {
        let logits = self.graph.shapes[self.graph.logits];
        if self.stored.len(self.graph.logits, logits) != logits.len() {
            let why = "an NHWC session pads its logits to a multiple of 4 classes";
            return Err(Error::Input(format!("{why}: read them back with `run`")));
        }
        self.submit(input, true)?;
        Ok(&self.logits_out)
    }

    /// Like `run`, but each dispatch gets its own pass bracketed by timestamps, so the GPU
    /// time of every dispatch can be read. Needs `Features::TIMESTAMP_QUERY`.
    pub(crate) fn run_profiled(&self, input: &[f32], timer: &Timer) -> Result<(Output, Profile)> {
        self.upload(input)?;
        let t0 = web_time::Instant::now();
        let mut enc = self.device.create_command_encoder(&Default::default());
        self.encode(&mut enc, Some(&timer.queries));
        timer.resolve(&mut enc, self.dispatches.len());
        self.queue.submit([enc.finish()]);
        let host_ns = t0.elapsed().as_nanos() as f64;
        let out = self.read_back()?;
        let ticks = timer.read(&self.device, self.dispatches.len())?;
        let period = self.queue.get_timestamp_period() as f64;
        let first = ticks.first().copied().unwrap_or(0);
        let at = |t: u64| t.saturating_sub(first) as f64 * period;
        let dispatch_ns = ticks.chunks(2).map(|t| (at(t[0]), at(t[1]))).collect();
        Ok((
            out,
            Profile {
                host_encode_submit_ns: host_ns,
                dispatch_ns,
            },
        ))
    }

    fn upload(&self, input: &[f32]) -> Result<()> {
        let expected = self.graph.shapes[self.graph.input];
        if input.len() != expected.len() {
            return Err(Error::Shape {
                what: "input tensor (NCHW)".into(),
                expected: expected.dims().to_vec(),
                got: vec![input.len()],
            });
        }
        let input_slot = &self.slots[self.slot_of[self.graph.input].expect("input slot")];
        let input = (self.stored).to_gpu(self.graph.input, expected, input);
        self.queue
            .write_buffer(input_slot, 0, &encode(&input, self.precision));
        Ok(())
    }

    /// Timestamp query resources sized for this session.
    pub(crate) fn timer(&self) -> Result<Timer> {
        Timer::new(&self.device, self.dispatches.len())
    }

    fn read_back(&self) -> Result<Output> {
        let slice = self.staging.slice(..);
        let (tx, rx) = std::sync::mpsc::channel();
        slice.map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| Error::Gpu(format!("waiting for the GPU failed: {e}")))?;
        rx.recv()
            .map_err(|_| Error::Gpu("readback was dropped".into()))?
            .map_err(|e| Error::Gpu(format!("cannot map the readback buffer: {e}")))?;
        self.collect()
    }

    /// Copies the mapped staging buffer into an `Output` and unmaps it.
    fn collect(&self) -> Result<Output> {
        let slice = self.staging.slice(..);
        let bytes = slice
            .get_mapped_range()
            .map_err(|e| Error::Gpu(format!("cannot read the readback buffer: {e}")))?;
        let read = |t: TensorId, offset: u64| -> Vec<f32> {
            let shape = self.graph.shapes[t];
            let len = self.stored.len(t, shape);
            let values = decode(&bytes[offset as usize..], len, self.precision);
            self.stored.to_host(t, shape, values)
        };
        let mut out = Output {
            logits: vec![],
            stages: vec![],
        };
        for &(t, offset) in &self.readback {
            if t == self.graph.logits {
                out.logits = read(t, offset);
            }
            for s in self.graph.stages.iter().filter(|s| s.tensor == t) {
                let shape = self.graph.shapes[t];
                let data = read(t, offset);
                out.stages.push(StageTensor {
                    name: s.name.clone(),
                    shape,
                    data,
                });
            }
        }
        drop(bytes);
        self.staging.unmap();
        Ok(out)
    }
}

/// Where the results of a run land for the host to map.
fn readback_buffer(dev: &wgpu::Device, size: u64) -> wgpu::Buffer {
    crate::gpu::create_buffer(
        dev,
        &wgpu::BufferDescriptor {
            label: Some("readback"),
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        },
    )
}

/// An app's input buffer must be copyable and large enough; wgpu would otherwise report a
/// validation error far from the cause.
fn check_input_buffer(buffer: &wgpu::Buffer, bytes: u64, dims: [usize; 4]) -> Result<()> {
    if !buffer.usage().contains(wgpu::BufferUsages::COPY_SRC) {
        return Err(Error::Input(format!(
            "the input buffer lacks COPY_SRC usage ({:?}); create it with \
             wgpu::BufferUsages::COPY_SRC",
            buffer.usage()
        )));
    }
    if buffer.size() < bytes {
        return Err(Error::Input(format!(
            "the input buffer holds {} bytes but an NCHW input of {dims:?} needs {bytes}",
            buffer.size()
        )));
    }
    Ok(())
}

fn dispatch_label(d: &DispatchDesc) -> String {
    let constants: Vec<String> = (d.constants.iter())
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!(
        "{:?} {} grid {:?}",
        d.kernel(),
        constants.join(" "),
        d.workgroups
    )
}

/// The dispatches of `descs`, each with its pipeline (compiled once per kernel and constants)
/// and bind group, and how many pipelines they use.
fn dispatches(
    gpu: &Gpu,
    descs: &[DispatchDesc],
    ctx: &BindContext,
    precision: Precision,
) -> (Vec<Dispatch>, usize) {
    let dev = &gpu.device;
    let format = Storage::for_precision(precision, gpu.native_f16);
    let cache = gpu.pipeline_cache.as_ref().map(|c| c.cache.clone());
    let variants = Variants::of(&gpu.tuning, gpu.subgroup_lanes);
    let mut pipelines = Pipelines::new(dev, cache);
    let dispatches = (descs.iter().enumerate())
        .map(|(i, d)| Dispatch {
            pipeline: (pipelines.get(dev, (d.kernel(), d.constants.clone()), || {
                variants.source(d.kernel(), format)
            }))
            .clone(),
            bind_group: ctx.bind_group(dev, &pipelines.layout, i, d),
            workgroups: d.workgroups,
            label: dispatch_label(d),
        })
        .collect();
    (dispatches, pipelines.count())
}
