//! Per-kernel benchmarks on the shapes EfficientNet-B0 (224) and V2-S (384) really use
//! (`effnet::bench::cases`). Each case is a one-op graph run through the real executor;
//! criterion reports time and throughput as FLOP/s ("elem/s") and bytes/s from the op's
//! arithmetic and traffic (`effnet::bench::cost`). A sample includes the input upload and
//! output readback, as a caller of a single op would see it. Run with `cargo bench` (on
//! lavapipe expect minutes).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use effnet::Engine;
use effnet::bench::{cases, cost::cost};
use effnet::gpu::{GpuWeights, Precision};
use effnet::runtime::Executor;

fn kernels(c: &mut Criterion) {
    // The engine's family: EFFNET_KERNELS, else the adapter's default.
    let engine = match Engine::new() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("no GPU, no kernel benchmarks: {e}");
            return;
        }
    };
    let (gpu, family) = (engine.gpu(), engine.kernels());
    eprintln!(
        "adapter: {}, {family:?} kernels, tuning {:?}",
        gpu.describe(),
        gpu.tuning
    );
    let mut group = c.benchmark_group("kernels");
    group.sample_size(10);
    for case in cases::all() {
        let gw = GpuWeights::new(gpu, &case.weights, Precision::F32);
        let session = Executor::new(gpu, &gw, case.graph.clone(), false, family).expect("session");
        let input = vec![0.5f32; case.graph.shapes[0].len()];
        let (flop, bytes) = cost(&case.graph, &case.graph.ops[0]);
        group.throughput(Throughput::ElementsAndBytes {
            elements: flop,
            bytes,
        });
        group.bench_function(case.name, |b| b.iter(|| session.run(&input).expect("run")));
    }
    group.finish();
}

criterion_group!(benches, kernels);
criterion_main!(benches);
