//! Load: many threads sharing one `LoadedModel` get exactly the single-threaded results, and
//! thousands of inferences leave resident memory and the GPU buffer count flat.
//!
//! The model is `common::tiny_arch` (17×17, every block kind and kernel path, rule-filled
//! weights): about 1.5 ms per inference on lavapipe, so the 3,600 inferences here take
//! seconds. A real variant would not test more sharing or leaking, only slower: synthetic
//! `tf_efficientnet_lite0` costs ~150 ms per run on lavapipe whatever the resolution (a
//! fixed per-run cost, measured from 8×8 to 64×64), which would make this test take minutes.

mod common;

use effnet::gpu::buffers_created;
use effnet::model::rule::RuleSource;
use effnet::model::{Activation, Padding, load_weights};
use effnet::{Engine, LoadedModel, Model, SessionOptions};
use std::sync::{Mutex, OnceLock};

const THREADS: usize = 8;
const RUNS_PER_THREAD: usize = 200;
/// `tiny_arch`'s own resolution.
const SIDE: usize = 17;
/// Distinct inputs, so a thread reading another's results would be caught.
const INPUTS: usize = 4;

const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<LoadedModel>();
    shareable::<Engine>();
};

/// The tests count buffers process-wide; running them one at a time keeps the counts exact.
static SERIAL: Mutex<()> = Mutex::new(());

fn model() -> Option<&'static LoadedModel> {
    static LOADED: OnceLock<Option<LoadedModel>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            let gpu = common::gpu()?;
            let engine = Engine::from_device(gpu.device, gpu.queue, gpu.info);
            let arch = common::tiny_arch(Padding::Same, Activation::Silu);
            let weights = load_weights(&arch, &mut RuleSource).unwrap();
            Some(
                engine
                    .load(Model {
                        arch,
                        weights,
                        labels: None,
                    })
                    .unwrap(),
            )
        })
        .as_ref()
}

fn options(m: &LoadedModel) -> SessionOptions {
    m.default_options(1).with_resolution(SIDE, SIDE)
}

/// A smooth, input-specific pattern in roughly the normalized-image range.
fn input(k: usize) -> Vec<f32> {
    (0..3 * SIDE * SIDE)
        .map(|i| ((i * (k + 3)) as f32 * 0.011).sin())
        .collect()
}

#[test]
fn eight_threads_sharing_one_model_match_a_single_thread_bit_for_bit() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some(m) = model() else { return };
    let inputs: Vec<Vec<f32>> = (0..INPUTS).map(input).collect();
    let mut single = m.session(options(m)).unwrap();
    let expected: Vec<Vec<f32>> = inputs
        .iter()
        .map(|x| single.run(x).unwrap().logits)
        .collect();
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (m, inputs, expected) = (m.clone(), &inputs, &expected);
            scope.spawn(move || {
                let mut s = m.session(options(&m)).unwrap();
                for r in 0..RUNS_PER_THREAD {
                    let k = (t + r) % INPUTS;
                    let got = s.run(&inputs[k]).unwrap().logits;
                    // Same kernels, same device, same inputs: any difference is a race.
                    assert!(got == expected[k], "thread {t} run {r} differs");
                }
            });
        }
    });
}

/// Resident set size in bytes, from /proc/self/statm (Linux).
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[test]
fn memory_and_gpu_buffers_stay_flat_over_2000_inferences() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let Some(m) = model() else { return };
    let mut s = m.session(options(m)).unwrap();
    let x = input(0);
    // Warm-up: the driver's and allocator's pools reach their steady size.
    for _ in 0..100 {
        s.run(&x).unwrap();
    }
    let (rss0, buffers0) = (resident_bytes(), buffers_created());
    for _ in 0..2000 {
        s.run(&x).unwrap();
    }
    let (rss1, buffers1) = (resident_bytes(), buffers_created());
    // A run makes no buffer of its own: every one was made with the session.
    assert_eq!(buffers1, buffers0, "runs created GPU buffers");
    if let (Some(a), Some(b)) = (rss0, rss1) {
        // A leak of one small allocation per run (a 1 KiB readback or command buffer) would
        // add 2 MB over 2,000 runs; allow half of that for allocator and driver noise.
        let bound = 2000 * 1024 / 2;
        eprintln!("resident memory {a} -> {b} bytes over 2,000 runs");
        assert!(b < a + bound, "resident memory grew from {a} to {b} bytes");
    }
}
