//! The library API's input and output paths agree: host input, async, the app's GPU buffer,
//! logits left on the GPU, and decoded images; `classify` ranks and names what `run` returns;
//! `embed` gives the pooled head features the CPU reference and the head stage give.

mod common;

use effnet::image::{Rgb, RgbImage};
use effnet::kernels::lower;
use effnet::preprocess::Transform;
use effnet::wgpu::{self, util::DeviceExt};
use effnet::{Engine, Error, Family, LoadOptions, Model, OutputKind, Precision};

/// Reads a GPU buffer back to the host (test-side helper, as an app would).
fn read(dev: &wgpu::Device, queue: &wgpu::Queue, src: &wgpu::Buffer) -> Vec<f32> {
    let staging = dev.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: src.size(),
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut enc = dev.create_command_encoder(&Default::default());
    enc.copy_buffer_to_buffer(src, 0, &staging, 0, src.size());
    queue.submit([enc.finish()]);
    staging
        .slice(..)
        .map_async(wgpu::MapMode::Read, |r| r.unwrap());
    dev.poll(wgpu::PollType::wait_indefinitely()).unwrap();
    bytemuck::pod_collect_to_vec(&staging.slice(..).get_mapped_range().unwrap())
}

/// A synthetic Lite0 at batch 2 and 32×32: small enough for lavapipe, and a batch catches
/// row mix-ups.
fn small_lite0_session(engine: &Engine) -> effnet::Session {
    let model = engine
        .load(Model::synthetic("tf_efficientnet_lite0").unwrap())
        .unwrap();
    model
        .session(model.default_options(2).with_resolution(32, 32))
        .unwrap()
}

#[test]
fn every_input_and_output_path_gives_the_same_logits() {
    let Some(gpu) = common::gpu() else { return };
    let engine = Engine::from_device(gpu.device, gpu.queue, gpu.info);
    assert_eq!(engine.backend(), engine.adapter_info().backend);
    assert!(!engine.adapter_info().name.is_empty());
    every_path_gives_the_same_logits(&engine);
}

/// The same in a channels-last session (`Tuning::gpu_layout`): its stem reads the app's
/// NCHW buffer as it is, and its logits (1000 classes, no padding) go back as they are.
#[test]
fn every_input_and_output_path_gives_the_same_logits_in_nhwc() {
    let Some(mut gpu) = common::gpu() else { return };
    gpu.tuning.gpu_layout = effnet::kernels::Layout::Nhwc;
    every_path_gives_the_same_logits(&Engine::from_gpu(gpu).with_kernels(Family::Gpu));
}

/// Runs a small session from the host, asynchronously, from a GPU buffer and to a GPU
/// buffer: every path bit-identical.
fn every_path_gives_the_same_logits(engine: &Engine) {
    let mut s = small_lite0_session(engine);
    let x: Vec<f32> = (0..2 * 3 * 32 * 32)
        .map(|i| (i as f32 * 0.37).sin())
        .collect();
    let host = s.run(&x).unwrap().logits;
    assert_eq!(host.len(), 2 * 1000);
    assert_ne!(host[..1000], host[1000..], "the two images differ");
    let asynchronous = pollster::block_on(s.run_async(&x)).unwrap().logits;
    let dev = &engine.gpu().device;
    let input = dev.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("app input"),
        contents: bytemuck::cast_slice(&x),
        usage: wgpu::BufferUsages::COPY_SRC,
    });
    let from_gpu = s.run_gpu_buffer(&input).unwrap().logits;
    let logits_buffer = s.run_on_gpu(&input).unwrap().clone();
    let on_gpu = read(dev, &engine.gpu().queue, &logits_buffer);
    // One device, one set of kernels: every path is bit-identical.
    assert!(asynchronous == host && from_gpu == host && on_gpu == host);
}

/// A session records each pass's commands while the GPU runs the one before: back-to-back
/// runs of different inputs, from the host and from the app's GPU buffer, each give that
/// input's own logits, the ones a fresh session gives.
#[test]
fn back_to_back_runs_each_see_their_own_input() {
    let Some(gpu) = common::gpu() else { return };
    let engine = Engine::from_device(gpu.device, gpu.queue, gpu.info);
    let wave = |phase: f32| -> Vec<f32> {
        (0..2 * 3 * 32 * 32)
            .map(|i| (i as f32 * 0.37 + phase).sin())
            .collect()
    };
    let (a, b) = (wave(0.0), wave(1.0));
    let fresh_b = small_lite0_session(&engine).run(&b).unwrap().logits;
    let mut s = small_lite0_session(&engine);
    let first_a = s.run(&a).unwrap().logits;
    assert_ne!(first_a, fresh_b, "the inputs give different logits");
    assert_eq!(s.run(&b).unwrap().logits, fresh_b, "b after a");
    assert_eq!(s.run(&a).unwrap().logits, first_a, "a after b");
    let dev = &engine.gpu().device;
    let buffer_b = dev.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("app input b"),
        contents: bytemuck::cast_slice(&b),
        usage: wgpu::BufferUsages::COPY_SRC,
    });
    let logits = s.run_on_gpu(&buffer_b).unwrap().clone();
    assert_eq!(
        read(dev, &engine.gpu().queue, &logits),
        fresh_b,
        "b from a buffer"
    );
    assert_eq!(s.run(&a).unwrap().logits, first_a, "a from the host after");
}

#[test]
fn images_of_any_size_run_through_the_models_preprocessing() {
    let Some(gpu) = common::gpu() else { return };
    let engine = Engine::from_device(gpu.device, gpu.queue, gpu.info);
    let mut s = small_lite0_session(&engine);
    let [wide, tall] = two_images();
    let out = s.run_images(&[wide, tall]).unwrap();
    assert_eq!(out.logits.len(), 2000);
    assert!(out.logits.iter().all(|v| v.is_finite()));
    // An extreme aspect ratio: only the kept centre is resized, so memory stays small.
    let sliver = RgbImage::new(1, 60_000);
    let dot = RgbImage::new(1, 1);
    assert_eq!(s.run_images(&[sliver, dot]).unwrap().logits.len(), 2000);
}

/// Two images of different sizes and aspect ratios.
fn two_images() -> [RgbImage; 2] {
    [
        RgbImage::from_fn(90, 20, |x, _| Rgb([x as u8, 40, 200])),
        RgbImage::from_fn(7, 50, |_, y| Rgb([9, y as u8 * 5, 0])),
    ]
}

/// Relative L2 error of `got` against `want`.
fn rel_err(got: &[f32], want: &[f32]) -> f64 {
    assert_eq!(got.len(), want.len());
    let diff: f64 = (got.iter().zip(want))
        .map(|(&g, &w)| (g as f64 - w as f64).powi(2))
        .sum();
    let norm: f64 = want.iter().map(|&w| (w as f64).powi(2)).sum();
    (diff / norm).sqrt()
}

#[test]
fn the_bundled_model_names_imagenet_classes() {
    let model = Model::bundled().unwrap();
    assert_eq!(model.arch.name, "tf_efficientnet_lite0");
    let names = model.class_names();
    assert_eq!(names.len(), 1000);
    assert_eq!(names[0], effnet::imagenet::classes()[0].label);
    assert_eq!(effnet::imagenet::classes()[999].wnid, "n15075141");
    // Own labels win; a model without a classifier has no classes.
    let renamed = (0..1000).map(|i| format!("thing {i}")).collect();
    assert_eq!(
        model.clone().with_labels(renamed).unwrap().class_names()[7],
        "thing 7"
    );
    let headless = Model {
        arch: model.arch.clone().with_classes(0),
        ..model
    };
    assert!(headless.class_names().is_empty());
}

#[test]
fn classify_ranks_and_names_the_logits_of_run_images() {
    let Some(gpu) = common::gpu() else { return };
    let engine = Engine::from_device(gpu.device, gpu.queue, gpu.info);
    let options = LoadOptions::default().with_precision(Precision::F16);
    let model = engine
        .load_with(Model::bundled().unwrap(), options)
        .unwrap();
    assert_eq!(model.precision(), Precision::F16);
    let mut s = model
        .session(model.default_options(2).with_resolution(32, 32))
        .unwrap();
    let images = two_images();
    let logits = s.run_images(&images).unwrap().logits;
    let top = s.classify(&images, 5).unwrap();
    assert_eq!(top.len(), 2);
    for (i, preds) in top.iter().enumerate() {
        let row = &logits[i * 1000..(i + 1) * 1000];
        assert_eq!(preds, &model.predictions(row, 5).unwrap());
        assert!(matches!(
            model.predictions(&logits, 5),
            Err(Error::Shape { .. })
        ));
        let probs = effnet::softmax(row);
        let best = effnet::top_k(&probs, 5);
        assert_eq!(preds.iter().map(|p| p.index).collect::<Vec<_>>(), best);
        let p = &preds[0];
        assert_eq!(p.prob, probs[p.index]);
        let class = effnet::imagenet::classes()[p.index];
        assert_eq!(
            (p.label.as_str(), p.wnid.as_deref()),
            (class.label, Some(class.wnid))
        );
    }
    // A short batch is padded: the first image's answer does not change.
    assert_eq!(s.classify(&images[..1], 5).unwrap(), top[..1]);
    let e = s.classify(
        &[images[0].clone(), images[1].clone(), images[0].clone()],
        5,
    );
    assert!(matches!(e, Err(Error::Input(_))), "{e:?}");
    assert!(matches!(s.embed(&images), Err(Error::Input(m)) if m.contains("Embeddings")));
}

#[test]
fn embeddings_match_the_cpu_reference_and_the_pooled_head_stage() {
    let Some(gpu) = common::gpu() else { return };
    let engine = Engine::from_device(gpu.device, gpu.queue, gpu.info);
    let model = Model::synthetic("tf_efficientnet_lite0").unwrap();
    let loaded = engine.load(model.clone()).unwrap();
    let images = two_images();
    let o = loaded.default_options(2).with_resolution(32, 32);
    let mut embedder = loaded
        .session(o.with_output(OutputKind::Embeddings))
        .unwrap();
    let embeddings: Vec<f32> = embedder.embed(&images).unwrap().concat();
    assert_eq!(embeddings.len(), 2 * 1280);
    assert!(matches!(
        embedder.classify(&images, 1),
        Err(Error::Input(_))
    ));

    // The CPU oracle on the headless graph (no classifier weights: it outputs the pooling).
    let t = Transform::from_spec(&model.arch.preprocess, 32, 32);
    let input: Vec<f32> = images.iter().flat_map(|i| t.apply(i)).collect();
    let headless = model.arch.clone().with_classes(0);
    let graph = lower(&headless, 2, 32, 32).unwrap();
    let mut weights = model.weights.clone();
    (weights.classifier_w, weights.classifier_b) = (Vec::new(), Vec::new());
    let cpu = effnet::reference::run(&graph, &weights, &input);
    let err = rel_err(&embeddings, &cpu[graph.logits]);
    assert!(
        err < 1e-4,
        "embeddings vs the CPU reference: relative L2 error {err:.2e}"
    );

    // What `effnet features` computes: the head stage's output averaged over H×W.
    let staged = o.with_capture_stages(true);
    let out = loaded.session(staged).unwrap().run_images(&images).unwrap();
    let head = out
        .stages
        .iter()
        .find(|s| s.name == model.arch.head_name)
        .unwrap();
    let plane = head.shape.h * head.shape.w;
    let pooled: Vec<f32> = (head.data.chunks(plane))
        .map(|p| p.iter().sum::<f32>() / plane as f32)
        .collect();
    let err = rel_err(&embeddings, &pooled);
    assert!(
        err < 1e-5,
        "embeddings vs the pooled head stage: relative L2 error {err:.2e}"
    );
}

/// What the README promises about threads: engines and loaded models are shared, sessions
/// move to the thread that runs them.
#[test]
fn engines_and_models_are_shared_and_sessions_move_between_threads() {
    fn shared<T: Send + Sync + Clone>() {}
    fn movable<T: Send>() {}
    shared::<Engine>();
    shared::<effnet::LoadedModel>();
    movable::<effnet::Session>();
    movable::<Model>();
}
