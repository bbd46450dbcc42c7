//! The one size guard: whether a session fits the device, checked before it allocates
//! anything. Activation tensors grow linearly with the batch and roughly with the pixel
//! count, so absurd requests (100000×100000, a batch of 10⁹) would overflow `usize`
//! arithmetic or ask the driver for terabytes; instead they get an error naming the device
//! limit and the largest batch or resolution that fits. `check_size` runs before lowering
//! (from the architecture alone), `check_graph` on the lowered graph and its dispatches
//! (every executor, however it was made).

use crate::gpu::Precision;
use crate::graph::{Graph, Op};
use crate::kernels::layout::{Layout, Stored};
use crate::kernels::lower;
use crate::kernels::{DispatchDesc, ops::se};
use crate::model::Arch;
use crate::{Error, Result};

/// The largest buffer one tensor may occupy: it must be both allocatable and bindable.
pub fn tensor_limit(limits: &wgpu::Limits) -> u64 {
    limits
        .max_storage_buffer_binding_size
        .min(limits.max_buffer_size)
}

/// Byte size of each tensor on the GPU in NCHW, padded to 4 bytes (a WebGPU copy unit).
pub(crate) fn tensor_bytes(g: &Graph, precision: Precision) -> Vec<u64> {
    tensor_bytes_in(g, precision, &Stored::new(g, Layout::Nchw))
}

/// Byte size of each tensor on the GPU as `stored` lays it out, padded to 4 bytes.
pub(crate) fn tensor_bytes_in(g: &Graph, precision: Precision, stored: &Stored) -> Vec<u64> {
    let bytes = |(t, &s)| (stored.len(t, s) as u64 * precision.bytes()).next_multiple_of(4);
    g.shapes.iter().enumerate().map(bytes).collect()
}

/// Bytes of the largest tensor of one image at `h`×`w`. The caller keeps `h * w` small
/// enough (see `check_size`) that no shape arithmetic can overflow.
fn largest_per_image(arch: &Arch, h: usize, w: usize, p: Precision) -> Result<u64> {
    let g = lower(arch, 1, h, w)?;
    Ok(tensor_bytes(&g, p).into_iter().max().unwrap_or(0))
}

/// Checks that `batch` images of `h`×`w` with tensors stored in `p` fit `limit` bytes per
/// tensor, before lowering the full graph.
pub fn check_size(
    arch: &Arch,
    (batch, h, w): (usize, usize, usize),
    p: Precision,
    limit: u64,
) -> Result<()> {
    if batch == 0 || h == 0 || w == 0 {
        return Err(Error::Input(format!(
            "batch and resolution must be at least 1, got batch {batch}, {h}x{w}"
        )));
    }
    // The input alone (3 f32 channels) bounds what a single image may be; u128 cannot
    // overflow for any pair of usize.
    let input_bytes = 12 * h as u128 * w as u128;
    let per_image = if input_bytes > limit as u128 {
        input_bytes
    } else {
        largest_per_image(arch, h, w, p)? as u128
    };
    if per_image > limit as u128 {
        let side = largest_square(arch, limit, p)?;
        return Err(Error::DeviceLimit {
            what: format!("one {h}x{w} image (its largest tensor)"),
            needed: per_image.min(u64::MAX as u128) as u64,
            limit,
            unit: "bytes",
            hint: format!("use a resolution of at most {side}x{side} (at batch 1)"),
        });
    }
    let per_image = per_image as u64;
    let needed = batch as u128 * per_image as u128;
    if needed > limit as u128 {
        let what = format!("the largest activation tensor at batch {batch}, {h}x{w}");
        return Err(batch_error(what, needed, per_image, limit));
    }
    Ok(())
}

/// `needed` bytes over `limit` for a batch whose images need `per_image` each.
fn batch_error(what: String, needed: u128, per_image: u64, limit: u64) -> Error {
    Error::DeviceLimit {
        what,
        needed: needed.min(u64::MAX as u128) as u64,
        limit,
        unit: "bytes",
        hint: format!(
            "use a batch of at most {} at this resolution, or a smaller resolution",
            limit / per_image.max(1)
        ),
    }
}

/// Checks a lowered graph whose tensors take `sizes` bytes and its dispatches against the
/// device: every tensor fits one storage binding, every grid the per-dimension workgroup
/// limit, and every SE hidden layer the partial sums it is kept in.
pub(crate) fn check_graph(
    limits: &wgpu::Limits,
    g: &Graph,
    descs: &[DispatchDesc],
    sizes: &[u64],
) -> Result<()> {
    let limit = tensor_limit(limits);
    let largest = sizes.iter().copied().max().unwrap_or(0);
    if largest > limit {
        let batch = g.shapes[g.input].n as u64;
        let what = format!("the largest activation tensor at batch {batch}");
        return Err(batch_error(
            what,
            largest as u128,
            largest.div_ceil(batch),
            limit,
        ));
    }
    let max = limits.max_compute_workgroups_per_dimension;
    for d in descs {
        if let Some(&dim) = d.workgroups.iter().find(|&&w| w > max) {
            return Err(Error::DeviceLimit {
                what: format!("a {:?} dispatch", d.kernel()),
                needed: dim as u64,
                limit: max as u64,
                unit: "workgroups",
                hint: "use a smaller batch or resolution".into(),
            });
        }
    }
    check_se(g)
}

/// Every EfficientNet reduces (hidden ≤ channels), so this only refuses made-up models.
fn check_se(g: &Graph) -> Result<()> {
    for op in &g.ops {
        if let Op::SeExcite(excite) = op {
            let s = g.shapes[excite.sums];
            if !se::fits(s.c, excite.reduced, s.w) {
                return Err(Error::DeviceLimit {
                    what: "the SE reduction".into(),
                    needed: excite.reduced as u64,
                    limit: (s.c * s.w) as u64,
                    unit: "channels",
                    hint: "this model's SE blocks are wider than the SE kernel supports".into(),
                });
            }
        }
    }
    Ok(())
}

/// The largest batch whose tensors fit `limit` at `h`×`w` (at most 65535, the workgroup grid's
/// limit on the image axis); the error of `check_size` when not even one image fits.
pub(crate) fn max_batch(
    arch: &Arch,
    (h, w): (usize, usize),
    p: Precision,
    limit: u64,
) -> Result<usize> {
    check_size(arch, (1, h, w), p, limit)?;
    let per_image = largest_per_image(arch, h, w, p)?.max(1);
    Ok(((limit / per_image) as usize).clamp(1, 65535))
}

/// The largest square resolution whose tensors fit at batch 1, by bisection (lowering is
/// cheap: shapes only, no buffers).
fn largest_square(arch: &Arch, limit: u64, p: Precision) -> Result<usize> {
    let fits = |r: usize| -> Result<bool> {
        Ok(12 * (r as u128).pow(2) <= limit as u128 && largest_per_image(arch, r, r, p)? <= limit)
    };
    let (mut lo, mut hi) = (0usize, 1usize << 20);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if fits(mid)? {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Ok(lo)
}
