//! The library API's input and output paths agree: host input, async, the app's GPU buffer,
//! logits left on the GPU, and decoded images.

mod common;

use effnet::{Engine, Model, SessionOptions};
use wgpu::util::DeviceExt;

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
    let model = engine.load(Model::synthetic("tf_efficientnet_lite0").unwrap());
    let o = SessionOptions {
        height: 32,
        width: 32,
        ..model.default_options(2)
    };
    model.session(o).unwrap()
}

#[test]
fn every_input_and_output_path_gives_the_same_logits() {
    let Some(gpu) = common::gpu() else { return };
    let engine = Engine::from_device(gpu.device, gpu.queue, gpu.info);
    assert_eq!(engine.backend(), engine.adapter_info().backend);
    assert!(!engine.adapter_info().name.is_empty());
    let mut s = small_lite0_session(&engine);
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

#[test]
fn images_of_any_size_run_through_the_models_preprocessing() {
    let Some(gpu) = common::gpu() else { return };
    let engine = Engine::from_device(gpu.device, gpu.queue, gpu.info);
    let mut s = small_lite0_session(&engine);
    let wide = image::RgbImage::from_fn(90, 20, |x, _| image::Rgb([x as u8, 40, 200]));
    let tall = image::RgbImage::from_fn(7, 50, |_, y| image::Rgb([9, y as u8 * 5, 0]));
    let out = s.run_images(&[wide, tall]).unwrap();
    assert_eq!(out.logits.len(), 2000);
    assert!(out.logits.iter().all(|v| v.is_finite()));
    // An extreme aspect ratio: only the kept centre is resized, so memory stays small.
    let sliver = image::RgbImage::new(1, 60_000);
    let dot = image::RgbImage::new(1, 1);
    assert_eq!(s.run_images(&[sliver, dot]).unwrap().logits.len(), 2000);
}
