//! `kernels::gpu::reduce`'s two WGSL files of sums across lanes, run alone on the adapter:
//! the subgroup variant's layout check and every run length of `cluster_sum`, against sums
//! on the host.

use super::check;
use crate::gpu::Gpu;
use crate::kernels::gpu::reduce::{PLAIN, SUBGROUP, subgroup_reductions};

/// Writes S (subgroup_width) at 0, then for each n = 1, 2, 4 .. S (run e = log2 n) and
/// lane li, its cluster_sum of 5 values at 1 + 5·(e·WG + li).
const KERNEL: &str = r#"
override WG: u32;
@group(0) @binding(0) var<storage, read_write> out: array<f32>;

fn value(li: u32, c: u32) -> f32 { return f32((li * 37u + c * 11u) % 101u); }

fn kernel(wid: vec3<u32>, nwg: vec3<u32>, li: u32) {
    let S = subgroup_width();
    if (li == 0u) { out[0] = f32(S); }
    var e = 0u;
    for (var n = 1u; n <= S; n <<= 1u) {
        for (var c = 0u; c < 5u; c++) {
            out[1u + 5u * (e * WG + li) + c] = cluster_sum(value(li, c), n, S);
        }
        e++;
    }
}
"#;

fn value(li: usize, c: usize) -> f32 {
    ((li * 37 + c * 11) % 101) as f32
}

/// One workgroup of `wg` lanes of KERNEL after `reduce`: what it wrote.
fn run(gpu: &Gpu, reduce: &str, wg: u32) -> Vec<f32> {
    let dev = &gpu.device;
    let size = 4 * (1 + 8 * 5 * wg as u64);
    let buffer = |usage| {
        let desc = wgpu::BufferDescriptor {
            label: Some("reduce test"),
            size,
            usage,
            mapped_at_creation: false,
        };
        dev.create_buffer(&desc)
    };
    let out = buffer(wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC);
    let staging = buffer(wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST);
    let pipeline = gpu.scoped("the reduce test's pipeline", || {
        let source = format!("{reduce}\n{KERNEL}");
        let module = dev.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("reduce test"),
            source: wgpu::ShaderSource::Wgsl(source.into()),
        });
        Ok(
            dev.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some("reduce test"),
                layout: None,
                module: &module,
                entry_point: Some("main"),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants: &[("WG", wg as f64)],
                    zero_initialize_workgroup_memory: false,
                },
                cache: None,
            }),
        )
    });
    let pipeline = pipeline.unwrap();
    let bind = dev.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("reduce test"),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[wgpu::BindGroupEntry {
            binding: 0,
            resource: out.as_entire_binding(),
        }],
    });
    let mut enc = dev.create_command_encoder(&Default::default());
    {
        let mut pass = enc.begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind, &[]);
        pass.dispatch_workgroups(1, 1, 1);
    }
    enc.copy_buffer_to_buffer(&out, 0, &staging, 0, size);
    gpu.queue.submit([enc.finish()]);
    let slice = staging.slice(..);
    slice.map_async(wgpu::MapMode::Read, |r| r.expect("the readback maps"));
    dev.poll(wgpu::PollType::wait_indefinitely()).unwrap();
    bytemuck::cast_slice(&slice.get_mapped_range().unwrap()).to_vec()
}

/// Every lane's cluster sums against the host's, for every run length up to S.
fn sums_match(out: &[f32], wg: usize, what: &str) {
    let s = out[0] as usize;
    for (e, n) in (0..).zip((0..).map(|e| 1 << e).take_while(|&n| n <= s)) {
        for li in 0..wg {
            let first = li / n * n;
            for c in 0..5 {
                let expected: f32 = (first..first + n).map(|k| value(k, c)).sum();
                let ours = out[1 + 5 * (e * wg + li) + c];
                // Sums of integers below 2^24 are exact in f32, in any order: tolerance 0.
                assert_eq!(
                    ours, expected,
                    "{what}, WG {wg}, S {s}, n {n}: lane {li} value {c}: ours {ours}, \
                     reference {expected}, tolerance 0"
                );
            }
        }
    }
}

/// On this adapter the subgroup layout check passes (S is its subgroup size, not the
/// fallback 1: else the GPU family's subgroup variant would go untested here) and
/// cluster_sum adds exactly the runs it names, for workgroups of 64 and 256 lanes; the
/// plain file's S is 1.
#[test]
fn subgroup_sums_add_each_run_of_lanes() {
    let Some(gpu) = check::gpu() else { return };
    let lanes = gpu.subgroup_lanes;
    if !subgroup_reductions(lanes) {
        assert!(
            !check::ci(),
            "CI=true but the adapter has no usable subgroups"
        );
        eprintln!("skipping: subgroups of {lanes} lanes (0: none)");
        return;
    }
    let (min, max) = (gpu.info.subgroup_min_size, gpu.info.subgroup_max_size);
    for wg in [64, 256] {
        let out = run(&gpu, SUBGROUP, wg);
        let s = out[0] as u32;
        assert!(
            (min.max(2)..=max).contains(&s),
            "WG {wg}: subgroup_width {s}, the adapter's subgroups have {min} to {max} lanes"
        );
        sums_match(&out, wg as usize, "subgroup");
        let out = run(&gpu, PLAIN, wg);
        assert_eq!(out[0], 1.0, "plain: subgroup_width");
        sums_match(&out, wg as usize, "plain");
    }
}
