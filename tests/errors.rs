//! Bad requests and GPU failures come back as structured errors whose messages say what to
//! do: sizes beyond the device's limits (with the largest that fits), wrong inputs, a lost
//! device, wgpu validation errors, and no adapter at all.

mod common;

use effnet::gpu::Precision::F32;
use effnet::runtime::guard::{check_size, tensor_limit};
use effnet::{Engine, Error, LoadedModel, Model, SessionOptions};
use std::sync::OnceLock;

const MODEL: &str = "tf_efficientnet_lite0";

/// One synthetic Lite0 on the GPU for every test, or `None` where no adapter exists (see
/// `common::gpu`: CI fails instead of skipping).
fn model() -> Option<&'static LoadedModel> {
    static LOADED: OnceLock<Option<LoadedModel>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            let gpu = common::gpu()?;
            let engine = Engine::from_device(gpu.device, gpu.queue, gpu.info);
            Some(engine.load(Model::synthetic(MODEL).unwrap()).unwrap())
        })
        .as_ref()
}

/// 32×32 keeps every run fast on lavapipe; the errors do not depend on the size.
fn small(m: &LoadedModel, batch: usize) -> SessionOptions {
    m.default_options(batch).with_resolution(32, 32)
}

fn session_error(m: &LoadedModel, o: SessionOptions) -> Error {
    match m.session(o) {
        Err(e) => e,
        Ok(_) => panic!("a session for {o:?} was made"),
    }
}

/// The number after `prefix` in `text`.
fn number_after(text: &str, prefix: &str) -> usize {
    let rest = &text[text.find(prefix).unwrap_or_else(|| panic!("{text}")) + prefix.len()..];
    rest.split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn absurd_resolution_names_the_limit_and_the_largest_that_fits() {
    let Some(m) = model() else { return };
    let o = small(m, 1).with_resolution(100_000, 100_000);
    let e = session_error(m, o);
    let limit = tensor_limit(&m.gpu().limits);
    let Error::DeviceLimit {
        limit: named, hint, ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(*named, limit);
    let side = number_after(hint, "resolution of at most ");
    let arch = m.arch();
    assert!(
        check_size(arch, (1, side, side), F32, limit).is_ok(),
        "{side} should fit"
    );
    assert!(
        check_size(arch, (1, side + 1, side + 1), F32, limit).is_err(),
        "{side} is not the largest"
    );
}

#[test]
fn absurd_batch_names_the_largest_batch_that_fits() {
    let Some(m) = model() else { return };
    let e = session_error(m, small(m, 1_000_000_000));
    assert!(matches!(e, Error::DeviceLimit { .. }), "{e:?}");
    let largest = number_after(&e.to_string(), "batch of at most ");
    let limit = tensor_limit(&m.gpu().limits);
    assert!(check_size(m.arch(), (largest, 32, 32), F32, limit).is_ok());
    assert!(check_size(m.arch(), (largest + 1, 32, 32), F32, limit).is_err());
    // usize::MAX in every dimension must not overflow anything on the way to the error.
    let o = SessionOptions::new(usize::MAX, usize::MAX, usize::MAX);
    assert!(matches!(session_error(m, o), Error::DeviceLimit { .. }));
}

#[test]
fn empty_batch_or_resolution_is_invalid_input() {
    let Some(m) = model() else { return };
    for o in [small(m, 0), small(m, 1).with_resolution(0, 32)] {
        let e = session_error(m, o);
        assert!(matches!(e, Error::Input(_)), "{e:?}");
        assert!(e.to_string().contains("at least 1"), "{e}");
    }
}

#[test]
fn wrong_input_length_names_the_expected_shape() {
    let Some(m) = model() else { return };
    let mut s = m.session(small(m, 1)).unwrap();
    let e = s.run(&[0.0; 17]).unwrap_err();
    let Error::Shape { expected, got, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(
        (expected.as_slice(), got.as_slice()),
        (&[1, 3, 32, 32][..], &[17][..])
    );
}

#[test]
fn wrong_image_count_or_empty_image_is_invalid_input() {
    let Some(m) = model() else { return };
    let mut s = m.session(small(m, 2)).unwrap();
    let one = image::RgbImage::new(40, 30);
    let e = s.run_images(std::slice::from_ref(&one)).unwrap_err();
    assert!(
        matches!(e, Error::Input(_)) && e.to_string().contains("batch of 2"),
        "{e}"
    );
    let empty = image::RgbImage::new(0, 5);
    let e = s.run_images(&[one, empty]).unwrap_err();
    assert!(
        matches!(e, Error::Input(_)) && e.to_string().contains("no pixels"),
        "{e}"
    );
}

#[test]
fn unusable_gpu_input_buffers_say_what_is_wrong() {
    let Some(m) = model() else { return };
    let mut s = m.session(small(m, 1)).unwrap();
    let make = |size, usage| {
        m.gpu().device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size,
            usage,
            mapped_at_creation: false,
        })
    };
    let no_copy = make(4 * 3 * 32 * 32, wgpu::BufferUsages::STORAGE);
    let e = s.run_gpu_buffer(&no_copy).unwrap_err();
    assert!(e.to_string().contains("COPY_SRC"), "{e}");
    let short = make(64, wgpu::BufferUsages::COPY_SRC);
    let e = s.run_gpu_buffer(&short).unwrap_err();
    assert!(e.to_string().contains("holds 64 bytes"), "{e}");
}

/// wgpu's default handler panics on a validation error outside an error scope; ours keeps
/// it for the next call on that engine to return.
#[test]
fn uncaptured_wgpu_errors_become_errors_not_panics() {
    let Some(gpu) = common::gpu() else { return };
    let engine = Engine::from_device(gpu.device, gpu.queue, gpu.info);
    let m = engine.load(Model::synthetic(MODEL).unwrap()).unwrap();
    // MAP_READ may only be combined with COPY_DST: a validation error.
    let _bad = engine.gpu().device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("invalid on purpose"),
        size: 16,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::STORAGE,
        mapped_at_creation: false,
    });
    let e = session_error(&m, small(&m, 1));
    assert!(matches!(e, Error::Gpu(_)), "{e:?}");
    assert!(
        m.session(small(&m, 1)).is_ok(),
        "the error is reported once"
    );
}

#[test]
fn a_lost_device_surfaces_from_run_and_a_new_engine_works() {
    let Some(gpu) = common::gpu() else { return };
    let engine = Engine::from_device(gpu.device, gpu.queue, gpu.info);
    let m = engine.load(Model::synthetic(MODEL).unwrap()).unwrap();
    let mut s = m.session(small(&m, 1)).unwrap();
    let input = vec![0.5; 3 * 32 * 32];
    s.run(&input).unwrap();
    engine.gpu().device.destroy();
    let e = s.run(&input).unwrap_err();
    assert!(matches!(e, Error::DeviceLost { .. }), "{e:?}");
    assert!(e.to_string().contains("create a new Engine"), "{e}");
    assert!(matches!(
        session_error(&m, small(&m, 1)),
        Error::DeviceLost { .. }
    ));
    let fresh = Engine::new()
        .unwrap()
        .load(Model::synthetic(MODEL).unwrap())
        .unwrap();
    let out = fresh
        .session(small(&fresh, 1))
        .unwrap()
        .run(&input)
        .unwrap();
    assert_eq!(out.logits.len(), 1000);
}

/// `WGPU_BACKEND=dx12` on Linux finds no adapter. The env var is process-wide, so this runs
/// the test binary again as a child with only this test.
#[test]
fn no_adapter_names_the_backends_and_how_to_install_a_driver() {
    if std::env::var_os("EFFNET_NO_ADAPTER_CHILD").is_some() {
        let e = Engine::new()
            .err()
            .expect("no adapter with WGPU_BACKEND=dx12");
        assert!(matches!(e, Error::NoAdapter { .. }), "{e:?}");
        let text = e.to_string();
        assert!(
            text.contains("DX12") && text.contains("mesa-vulkan-drivers"),
            "{text}"
        );
        return;
    }
    if !cfg!(target_os = "linux") {
        return; // dx12 exists elsewhere
    }
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "no_adapter_names_the_backends_and_how_to_install_a_driver",
        ])
        .env("EFFNET_NO_ADAPTER_CHILD", "1")
        .env("WGPU_BACKEND", "dx12")
        .status()
        .unwrap();
    assert!(status.success());
}
