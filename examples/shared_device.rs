//! An application that owns its wgpu device hands it to effnet, feeds input from its own GPU
//! buffer and keeps the logits on the GPU for its own work, copying them back only to print.
//!
//! ```sh
//! cargo run --release --example shared_device [-- --synthetic]
//! ```
//!
//! The model is the bundled EfficientNet-Lite0 (ImageNet weights); `--synthetic` uses
//! rule-filled weights instead (the classes then mean nothing).

use effnet::wgpu::{self, util::DeviceExt};
use effnet::{Engine, Model};

/// The app's own device: any adapter, default features; effnet needs nothing special.
fn app_device() -> Result<(wgpu::Device, wgpu::Queue), Box<dyn std::error::Error>> {
    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle().with_env());
    let adapter = pollster::block_on(instance.request_adapter(&Default::default()))?;
    let limits = adapter.limits();
    let desc = wgpu::DeviceDescriptor {
        required_limits: limits,
        ..Default::default()
    };
    Ok(pollster::block_on(adapter.request_device(&desc))?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (device, queue) = app_device()?;
    let info = device.adapter_info();
    let engine = Engine::from_device(device.clone(), queue.clone(), info);
    println!(
        "adapter: {} ({:?})",
        engine.adapter_info().name,
        engine.backend()
    );
    println!("features: {:?}", engine.features());

    let synthetic = std::env::args().skip(1).any(|a| a == "--synthetic");
    let model = if synthetic {
        Model::synthetic("tf_efficientnet_lite0")?
    } else {
        Model::bundled()?
    };
    let model = engine.load(model)?;
    // 64×64 keeps the example quick on a CPU driver; any size the device fits works.
    let mut session = model.session(model.default_options(1).with_resolution(64, 64))?;

    // The app's own input buffer, e.g. written by its own shaders; here, a constant image
    // already normalized as the model expects.
    let pixels = vec![0.25f32; 3 * 64 * 64];
    let input = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("app input"),
        contents: bytemuck::cast_slice(&pixels),
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
    });
    let on_cpu = session.run_gpu_buffer(&input)?;

    // Logits stay on the GPU; the app copies them where it needs them (here, to read back).
    let logits = session.run_on_gpu(&input)?;
    let readback = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("app readback"),
        size: logits.size(),
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut enc = device.create_command_encoder(&Default::default());
    enc.copy_buffer_to_buffer(logits, 0, &readback, 0, logits.size());
    queue.submit([enc.finish()]);
    readback
        .slice(..)
        .map_async(wgpu::MapMode::Read, |r| r.expect("map"));
    device.poll(wgpu::PollType::wait_indefinitely())?;
    let on_gpu: Vec<f32> = bytemuck::pod_collect_to_vec(&readback.slice(..).get_mapped_range()?);

    assert_eq!(
        on_gpu, on_cpu.logits,
        "GPU-resident logits equal the read-back ones"
    );
    let weights = if synthetic { "synthetic" } else { "ImageNet" };
    for p in model.predictions(&on_gpu, 3)? {
        let share = 100.0 * p.prob;
        println!(
            "{share:5.1}%  {} (class {}, {weights} weights)",
            p.label, p.index
        );
    }
    Ok(())
}
