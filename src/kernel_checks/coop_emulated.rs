//! The tensor-core pointwise kernel (shaders/gpu/pointwise_coop.wgsl) on an adapter without
//! cooperative matrices (lavapipe): its source with each cooperative operation rewritten as
//! a plain function that does what wgpu's spec (docs/api-specs/cooperative_matrix.md) says
//! the operation does (`EMULATION`), dispatched as
//! `kernels::gpu::pointwise_coop::describe` says, against the formula on the host. It checks
//! everything but the matrices themselves: staging, bounds at channel and column edges,
//! gate, epilogue, grid, and which layout each load and store assumes.

use super::check::gpu;
use super::gpu_pointwise::case;
use crate::gpu::Gpu;
use crate::gpu::pipelines::{Arithmetic, Storage};
use crate::graph::Op;
use crate::kernels::DispatchDesc;
use crate::kernels::gpu::pointwise_coop::{KERNEL, describe};
use crate::kernels::ops::pointwise::gemm_rows;
use crate::model::Activation;
use half::f16;

/// The operations on the matrices, by all lanes together as the real ones: a matrix is where
/// it lies (offset, stride) in workgroup memory, and the accumulators lie where the kernel
/// stores them in `out_tile` (it loads their zeros from there), so a multiply-add adds into
/// `out_tile` in place, each lane into its own 8 of the 256 elements.
const EMULATION: &str = r#"
alias MatA = vec2<u32>;
alias MatB = vec2<u32>;
alias MatC = vec2<u32>;

// coopLoad: column-major, `stride` elements between columns (read when multiplied).
fn emu_load_w_tile(at: u32, stride: u32) -> MatA { return MatA(at, stride); }
// coopLoadT: row-major, `stride` elements between rows.
fn emu_loadT_x_tile(at: u32, stride: u32) -> MatB { return MatB(at, stride); }
fn emu_loadT_out_tile(at: u32, stride: u32) -> MatC { return MatC(at, stride); }

// coopStoreT: the accumulator lies where it was loaded; a store elsewhere copies it (each
// lane its own elements), so a kernel storing to the wrong place fails.
fn emu_storeT_out_tile(m: MatC, at: u32, stride: u32) {
    if (m.x == at && m.y == stride) { return; }
    for (var e = emu_lane; e < 256u; e += 32u) {
        out_tile[at + e / 16u * stride + e % 16u] = out_tile[m.x + e / 16u * m.y + e % 16u];
    }
}

// coopMultiplyAdd: c += a × b, lane `emu_lane` taking elements emu_lane, emu_lane + 32, ...
var<private> emu_lane: u32;
fn emu_mma(a: MatA, b: MatB, c: MatC) -> MatC {
    for (var e = emu_lane; e < 256u; e += 32u) {
        let r = e / 16u;
        let col = e % 16u;
        var s = 0.0;
        for (var k = 0u; k < 16u; k++) {
            s += f32(w_tile[a.x + k * a.y + r]) * f32(x_tile[b.x + k * b.y + col]);
        }
        out_tile[c.x + r * c.y + col] += s;
    }
    return c;
}
"#;

/// `src` with the call `from…[index]…)` rewritten as `to…index…)` at every occurrence: the
/// emulated operations take the index where the real ones take a pointer.
fn rewrite(src: &str, from: &str, to: &str) -> String {
    let mut out = String::new();
    let mut rest = src;
    while let Some(at) = rest.find(from) {
        out.push_str(&rest[..at]);
        out.push_str(to);
        rest = &rest[at + from.len()..];
        let close = rest.find(']').expect("an index closes");
        out.push_str(&rest[..close]);
        rest = &rest[close + 1..];
    }
    out + rest
}

/// The kernel's native f16 source with its cooperative operations emulated.
fn emulated_source() -> String {
    let src = KERNEL.source(Storage::F16, false, Arithmetic::F32);
    let aliases = "alias MatA = coop_mat16x16<f16, A>;\nalias MatB = coop_mat16x16<f16, B>;\n\
                   alias MatC = coop_mat16x16<f32, C>;\n";
    assert!(src.contains(aliases), "the shader's matrix types");
    let mut src = (src.replace("enable wgpu_cooperative_matrix;\n", ""))
        .replace(aliases, EMULATION)
        .replace("coopMultiplyAdd(", "emu_mma(");
    for (from, to) in [
        ("coopLoad<MatA>(&w_tile[", "emu_load_w_tile("),
        ("coopLoadT<MatB>(&x_tile[", "emu_loadT_x_tile("),
        ("coopLoadT<MatC>(&out_tile[", "emu_loadT_out_tile("),
        (", &out_tile[", ", "),
    ] {
        src = rewrite(&src, from, to);
    }
    let src = (src.replace("coopStoreT(", "emu_storeT_out_tile(")).replace(
        "    let co0 = wid.x * TILE;\n",
        "    let co0 = wid.x * TILE;\n    emu_lane = li;\n",
    );
    let code = src.lines().map(|l| l.split("//").next().unwrap_or(""));
    let left: Vec<&str> = code.filter(|l| l.contains("coop")).collect();
    assert!(left.is_empty(), "cooperative code left: {left:?}");
    src
}

/// A 1×1 conv's tensors in f16 (values in [-1, 1) from `seed`, each rounded to f16 as
/// storage holds it): input `x`, weights in the kernels' layout with the biases after them,
/// gate and residual.
struct Tensors {
    x: Vec<f32>,
    w: Vec<f32>,
    gate: Vec<f32>,
    res: Vec<f32>,
}

fn values(len: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let v = (s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0;
            f16::from_f32(v).to_f32()
        })
        .collect()
}

/// `n` images of `hw` pixels, `cin` → `cout` channels.
fn tensors((n, cin, cout, hw): (usize, usize, usize, usize)) -> Tensors {
    Tensors {
        x: values(n * cin * hw, 1),
        w: values(cin * gemm_rows(cout) + cout, 2),
        gate: values(n * cin, 3).iter().map(|v| v.abs()).collect(),
        res: values(n * cout * hw, 4),
    }
}

/// out[n, co, p] = act(bias[co] + Σ_ci W[ci][co] · gate[n, ci] · x[n, ci, p]) + res[n, co, p]
/// in f64, and each output's tolerance: the kernel rounds each gated input to f16 (≤ 2^-11
/// of each term, through an activation's slope ≤ 1.1) and the output to f16 (≤ 2^-11 of
/// it); twice that, for f32 sums and the driver's exp.
fn expected(t: &Tensors, shape: (usize, usize, usize, usize), act: Activation) -> Vec<(f64, f64)> {
    let (n, cin, cout, hw) = shape;
    let rows = gemm_rows(cout);
    let mut out = Vec::with_capacity(n * cout * hw);
    for img in 0..n {
        for co in 0..cout {
            for p in 0..hw {
                let terms = (0..cin).map(|ci| {
                    let x = t.x[(img * cin + ci) * hw + p] * t.gate[img * cin + ci];
                    t.w[ci * rows + co] as f64 * x as f64
                });
                let (sum, size) = terms.fold((0.0, 0.0), |(s, a), v| (s + v, a + v.abs()));
                let pre = sum + t.w[rows * cin + co] as f64;
                let y = activate(act, pre) + t.res[(img * cout + co) * hw + p] as f64;
                out.push((y, 2.0 / 2048.0 * (y.abs() + 1.1 * size) + 1e-6));
            }
        }
    }
    out
}

fn activate(act: Activation, x: f64) -> f64 {
    match act {
        Activation::Identity => x,
        Activation::Silu => x / (1.0 + (-x).exp()),
        Activation::Relu6 => x.clamp(0.0, 6.0),
    }
}

/// A storage buffer holding `values` in f16, padded to whole 16-byte vec4s of the
/// residual's view.
fn storage(gpu: &Gpu, values: &[f32], usage: wgpu::BufferUsages) -> wgpu::Buffer {
    let mut halves: Vec<f16> = values.iter().map(|&v| f16::from_f32(v)).collect();
    halves.resize(values.len().next_multiple_of(8).max(8), f16::ZERO);
    let desc = wgpu::util::BufferInitDescriptor {
        label: Some("coop emulation"),
        contents: bytemuck::cast_slice(&halves),
        usage: usage | wgpu::BufferUsages::STORAGE,
    };
    crate::gpu::create_buffer_init(&gpu.device, &desc)
}

/// The emulated kernel's pipeline, specialized by `d`'s constants.
fn pipeline(gpu: &Gpu, d: &DispatchDesc) -> wgpu::ComputePipeline {
    let dev = &gpu.device;
    let constants: Vec<(&str, f64)> = d.constants.iter().map(|&(k, v)| (k, v as f64)).collect();
    let made = gpu.scoped("the emulated tensor-core kernel", || {
        let module = dev.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("coop emulation"),
            source: wgpu::ShaderSource::Wgsl(emulated_source().into()),
        });
        Ok(
            dev.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some("coop emulation"),
                layout: None,
                module: &module,
                entry_point: Some("main"),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants: &constants,
                    zero_initialize_workgroup_memory: false,
                },
                cache: None,
            }),
        )
    });
    made.unwrap()
}

/// The emulated kernel's outputs for `t` under dispatch `d` (`out_len` values), on
/// `pipeline` (made for `d`'s constants).
fn run(
    gpu: &Gpu,
    (pipeline, d): (&wgpu::ComputePipeline, &DispatchDesc),
    t: &Tensors,
    out_len: usize,
) -> Vec<f32> {
    use wgpu::BufferUsages as U;
    let dev = &gpu.device;
    let params = crate::gpu::create_buffer_init(
        dev,
        &wgpu::util::BufferInitDescriptor {
            label: Some("coop emulation params"),
            contents: d.params.bytes(),
            usage: U::UNIFORM,
        },
    );
    let dst = storage(gpu, &vec![0.0; out_len], U::COPY_SRC);
    let buffers = [
        &params,
        &storage(gpu, &t.x, U::empty()),
        &storage(gpu, &t.w, U::empty()),
        &storage(gpu, &t.gate, U::empty()),
        &storage(gpu, &t.res, U::empty()),
        &dst,
    ];
    let entries: Vec<wgpu::BindGroupEntry> = (0..)
        .zip(buffers)
        .map(|(binding, b)| wgpu::BindGroupEntry {
            binding,
            resource: b.as_entire_binding(),
        })
        .collect();
    let bind = dev.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("coop emulation"),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &entries,
    });
    let mut enc = dev.create_command_encoder(&Default::default());
    {
        let mut pass = enc.begin_compute_pass(&Default::default());
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, &bind, &[]);
        let [x, y, z] = d.workgroups;
        pass.dispatch_workgroups(x, y, z);
    }
    read_back(gpu, enc, &dst, out_len)
}

/// The first `len` f16 values of `buffer` once `enc` has run.
fn read_back(
    gpu: &Gpu,
    mut enc: wgpu::CommandEncoder,
    buffer: &wgpu::Buffer,
    len: usize,
) -> Vec<f32> {
    let staging = crate::gpu::create_buffer(
        &gpu.device,
        &wgpu::BufferDescriptor {
            label: Some("coop emulation readback"),
            size: buffer.size(),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        },
    );
    enc.copy_buffer_to_buffer(buffer, 0, &staging, 0, buffer.size());
    gpu.queue.submit([enc.finish()]);
    let slice = staging.slice(..);
    slice.map_async(wgpu::MapMode::Read, |r| r.expect("the readback maps"));
    gpu.device
        .poll(wgpu::PollType::wait_indefinitely())
        .unwrap();
    let halves: Vec<f16> = bytemuck::cast_slice(&slice.get_mapped_range().unwrap()).to_vec();
    halves[..len].iter().map(|h| h.to_f32()).collect()
}

/// Shapes off every multiple of 16 and 32 (5 → 7 channels on 3×3; 37 → 13 on 7×7 at batch
/// 2, columns spanning images inside a tile; 40 → 70 on 5×6 at batch 3, two slices with a
/// short one), one exact (64 → 32 on 8×8) and 1×1 planes at batch 2; all gated with a
/// residual (as the projections that have both), each output within its tolerance
/// (`expected`). One pipeline for all (their constants are the same).
#[test]
fn emulated_tensor_core_kernel_matches_the_formula() {
    let Some(gpu) = gpu() else { return };
    if !gpu.native_f16 {
        return eprintln!("skipping the emulated tensor-core kernel: no SHADER_F16");
    }
    let mut made: Option<(wgpu::ComputePipeline, crate::kernels::Constants)> = None;
    for (n, cin, cout, h, w) in [
        (1, 5, 7, 3, 3),
        (2, 37, 13, 7, 7),
        (3, 40, 70, 5, 6),
        (1, 64, 32, 8, 8),
        (2, 33, 65, 1, 1),
    ] {
        let c = case("coop", (n, cin, cout, h, w), true, true);
        let Some(Op::Pointwise(op)) = c.graph.ops.last() else {
            unreachable!("a pointwise case")
        };
        let d = describe(&c.graph, op);
        if made.as_ref().is_none_or(|m| m.1 != d.constants) {
            made = Some((pipeline(&gpu, &d), d.constants.clone()));
        }
        let shape = (n, cin, cout, h * w);
        let t = tensors(shape);
        let expected = expected(&t, shape, op.act);
        let pipeline = &made.as_ref().expect("made above").0;
        let ours = run(&gpu, (pipeline, &d), &t, expected.len());
        for (i, (&a, &(b, tol))) in ours.iter().zip(&expected).enumerate() {
            assert!(
                (a as f64 - b).abs() <= tol,
                "{n}×{cin}→{cout} {h}×{w} [{i}]: ours {a}, reference {b}, tolerance {tol}"
            );
        }
    }
}
