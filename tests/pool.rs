//! `effnet::Pool`: sessions on several devices (here two on one adapter) give a single
//! session's answers in input order, share a queue so a slow device takes fewer batches, and
//! say which device and batch failed.

mod common;

use effnet::{Engine, Error, LoadedModel, Model, Pool, SessionOptions};
use std::sync::Mutex;
use std::time::Duration;

/// 32×32 keeps every run fast on a software driver; 2 per batch makes several batches.
const RES: usize = 32;
const BATCH: usize = 2;

/// The bundled model on the test adapter, or `None` where there is none (outside CI).
fn model() -> Option<LoadedModel> {
    let engine = Engine::from_gpu(common::gpu()?);
    Some(engine.load(Model::bundled().unwrap()).unwrap())
}

/// `images` distinct made-up inputs, NCHW.
fn input(images: usize) -> Vec<f32> {
    (0..images * 3 * RES * RES)
        .map(|i| (i as f32 * 0.37).sin())
        .collect()
}

#[test]
fn two_sessions_on_one_adapter_answer_as_one_session_in_order() {
    let Some(model) = model() else { return };
    let options = SessionOptions::new(BATCH, RES, RES);
    // Five images: two full batches and a short one, padded.
    let x = input(5);
    let mut single = model.session(options).unwrap();
    let per_batch = BATCH * 3 * RES * RES;
    let mut expected = Vec::new();
    for chunk in x.chunks(per_batch) {
        let mut padded = chunk.to_vec();
        padded.resize(per_batch, 0.0);
        let logits = single.run(&padded).unwrap().logits;
        let width = logits.len() / BATCH;
        let images = chunk.len() / (3 * RES * RES);
        expected.extend(logits.chunks(width).take(images).map(<[f32]>::to_vec));
    }
    let mut pool = Pool::new(&[model.clone(), model], options).unwrap();
    assert_eq!(pool.len(), 2);
    let rows = pool.run(&x).unwrap();
    // Same adapter, kernels and batch composition: the same bits, whichever session ran it.
    assert_eq!(rows, expected);
    assert_ne!(rows[0], rows[1], "distinct inputs must give distinct rows");
}

#[test]
fn a_slow_device_takes_fewer_batches_and_results_stay_in_order() {
    let Some(model) = model() else { return };
    let options = SessionOptions::new(BATCH, RES, RES);
    let mut pool = Pool::new(&[model.clone(), model], options).unwrap();
    // The session that takes job 0 plays a slow device: 300 ms per job; the other is instant.
    let slow: Mutex<Option<usize>> = Mutex::new(None);
    let work = |session: &mut effnet::Session, job: usize| {
        let me = session as *mut _ as usize;
        let is_slow = *slow.lock().unwrap().get_or_insert(me) == me;
        if is_slow {
            std::thread::sleep(Duration::from_millis(300));
        }
        Ok(job * 10)
    };
    let mut seen = Vec::new();
    let ran = pool
        .run_jobs(0..10usize, work, |i, r| seen.push((i, r)))
        .unwrap();
    let expected: Vec<(usize, usize)> = (0..10).map(|i| (i, i * 10)).collect();
    assert_eq!(seen, expected, "results in job order");
    assert_eq!(ran.iter().sum::<usize>(), 10);
    // A fixed split would give 5 and 5. While the slow session sleeps 300 ms on its first job
    // the fast one drains the queue; 2 allows for the slow one waking to take a second.
    assert!(ran.iter().min().unwrap() <= &2, "per session: {ran:?}");
}

#[test]
fn a_failure_names_the_device_and_batch_and_stops_the_run() {
    let Some(model) = model() else { return };
    let options = SessionOptions::new(BATCH, RES, RES);
    let mut pool = Pool::new(&[model.clone(), model], options).unwrap();
    let work = |_: &mut effnet::Session, job: usize| match job {
        3 => Err(Error::Input("job three breaks".into())),
        _ => Ok(job),
    };
    let mut seen = Vec::new();
    let err = pool
        .run_jobs(0..8usize, work, |i, _| seen.push(i))
        .unwrap_err();
    let Error::OnDevice {
        device,
        batch,
        first_image,
        source,
    } = &err
    else {
        panic!("expected Error::OnDevice, got {err:?}")
    };
    assert_eq!((*batch, *first_image), (Some(3), Some(3 * BATCH)));
    assert!(
        device.starts_with("device ") && device.contains(" of 2 ("),
        "{device}"
    );
    assert!(source.to_string().contains("job three breaks"), "{source}");
    let message = err.to_string();
    assert!(message.contains("batch 3 (from image 6)"), "{message}");
    // Whatever finished before the failure came out in order, and nothing from batch 3 on.
    assert_eq!(seen, (0..seen.len()).collect::<Vec<_>>());
    assert!(seen.len() <= 3, "{seen:?}");
}

#[test]
fn bad_pool_input_is_an_error_not_a_panic() {
    assert!(matches!(
        Pool::new(&[], SessionOptions::new(1, RES, RES)),
        Err(Error::Input(_))
    ));
    let Some(model) = model() else { return };
    let mut pool = Pool::new(&[model], SessionOptions::new(BATCH, RES, RES)).unwrap();
    // Not a whole number of images.
    let err = pool.run(&[0.5; 7]).unwrap_err();
    assert!(matches!(err, Error::Shape { .. }), "{err}");
    assert_eq!(pool.run(&[]).unwrap(), Vec::<Vec<f32>>::new());
}
