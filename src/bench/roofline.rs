//! Per kernel kind: FLOPs and compulsory DRAM bytes of one pass, arithmetic intensity,
//! achieved GFLOP/s and GB/s, and (given the device's peaks) the roofline bound and the
//! fraction of it reached.

use super::cost::Role;
use serde::Serialize;
use std::str::FromStr;

/// A device's peak compute and memory bandwidth, as `--peak GFLOPS,GBPS` gives them.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Peak {
    pub gflop_per_s: f64,
    pub gb_per_s: f64,
}

impl Peak {
    /// The roofline: the most GFLOP/s a kernel of `intensity` FLOP/byte can reach,
    /// `min(peak GFLOP/s, intensity × peak GB/s)`.
    pub(crate) fn bound(&self, intensity: f64) -> f64 {
        self.gflop_per_s.min(intensity * self.gb_per_s)
    }
}

impl FromStr for Peak {
    type Err = String;

    /// `GFLOPS,GBPS`: two positive finite numbers, e.g. `67000,4800`.
    fn from_str(s: &str) -> Result<Self, String> {
        let usage = || {
            format!(
                "expected GFLOPS,GBPS: the device's peak GFLOP/s and GB/s as two positive \
                 numbers separated by a comma, e.g. 67000,4800 (got {s:?})"
            )
        };
        let parts: Vec<&str> = s.split(',').map(str::trim).collect();
        let [flops, bw] = parts[..] else {
            return Err(usage());
        };
        let positive = |p: &str| {
            (p.parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v > 0.0)
                .ok_or_else(usage)
        };
        Ok(Peak {
            gflop_per_s: positive(flops)?,
            gb_per_s: positive(bw)?,
        })
    }
}

/// One kernel kind's share of a pass.
#[derive(Clone, Debug, Serialize)]
pub struct KindTime {
    pub kind: Role,
    pub dispatches: usize,
    /// GPU milliseconds per pass (0 without timestamps).
    pub gpu_ms: f64,
    /// Floating point operations per pass (2 per multiply-add).
    pub flop: u64,
    /// Compulsory DRAM bytes per pass: every tensor the kind's dispatches read once, every
    /// tensor they write once, and their weights, at the session's storage precision.
    pub compulsory_bytes: u64,
    /// Arithmetic intensity, `flop / compulsory_bytes` (FLOP per byte).
    pub intensity: f64,
    /// Achieved `flop` per second of `gpu_ms`, in GFLOP/s (0 without timestamps).
    pub gflop_per_s: f64,
    /// Achieved `compulsory_bytes` per second of `gpu_ms`, in GB/s (0 without timestamps).
    pub gb_per_s: f64,
    /// The roofline bound at `intensity`, in GFLOP/s (with `--peak`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roofline_gflop_per_s: Option<f64>,
    /// `gflop_per_s / roofline_gflop_per_s` (with `--peak` and timestamps).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roofline_fraction: Option<f64>,
}

/// The per-kind table: `roles` and `costs` (FLOPs, compulsory bytes) per dispatch, `ms`
/// the GPU milliseconds of each dispatch where timestamps gave them, in `Role` order.
pub(crate) fn kinds(
    roles: &[Role],
    costs: &[(u64, u64)],
    ms: Option<&[f64]>,
    peak: Option<Peak>,
) -> Vec<KindTime> {
    let mut kinds: Vec<Role> = roles.to_vec();
    kinds.sort();
    kinds.dedup();
    (kinds.into_iter())
        .map(|kind| {
            let idx: Vec<usize> = (0..roles.len()).filter(|&i| roles[i] == kind).collect();
            let t = ms.map(|ms| idx.iter().map(|&i| ms[i]).sum::<f64>());
            let flop: u64 = idx.iter().map(|&i| costs[i].0).sum();
            let bytes: u64 = idx.iter().map(|&i| costs[i].1).sum();
            kind_row(kind, idx.len(), t, flop, bytes, peak)
        })
        .collect()
}

/// One row from its totals; `t` is `None` without timestamps.
fn kind_row(
    kind: Role,
    dispatches: usize,
    t: Option<f64>,
    flop: u64,
    bytes: u64,
    peak: Option<Peak>,
) -> KindTime {
    let per_s = |x: u64| match t {
        Some(t) if t > 0.0 => x as f64 / (t / 1e3) / 1e9,
        _ => 0.0,
    };
    let intensity = if bytes > 0 {
        flop as f64 / bytes as f64
    } else {
        0.0
    };
    let bound = peak.map(|p| p.bound(intensity));
    let gflop_per_s = per_s(flop);
    let fraction = match (bound, t) {
        (Some(b), Some(_)) if b > 0.0 => Some(gflop_per_s / b),
        _ => None,
    };
    KindTime {
        kind,
        dispatches,
        gpu_ms: t.unwrap_or(0.0),
        flop,
        compulsory_bytes: bytes,
        intensity,
        gflop_per_s,
        gb_per_s: per_s(bytes),
        roofline_gflop_per_s: bound,
        roofline_fraction: fraction,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_parses_two_positive_numbers_only() {
        let p: Peak = "67000, 4800".parse().unwrap();
        assert_eq!((p.gflop_per_s, p.gb_per_s), (67000.0, 4800.0));
        for bad in [
            "", "67000", "1,2,3", "0,4800", "67000,-1", "x,1", "nan,1", "inf,1",
        ] {
            assert!(bad.parse::<Peak>().is_err(), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn bound_is_the_lower_roof() {
        let p = Peak {
            gflop_per_s: 1000.0,
            gb_per_s: 100.0,
        };
        // Ridge point at 1000 / 100 = 10 FLOP/byte: memory bound below it, compute above.
        assert_eq!(p.bound(2.0), 200.0);
        assert_eq!(p.bound(50.0), 1000.0);
    }

    #[test]
    fn kinds_sum_dispatches_and_reach_a_fraction_of_the_roof() {
        let roles = [Role::Expand, Role::Depthwise, Role::Expand];
        let costs = [
            (2_000_000, 1_000_000),
            (500_000, 1_000_000),
            (2_000_000, 1_000_000),
        ];
        let ms = [1.0, 0.5, 1.0];
        let peak = Peak {
            gflop_per_s: 100.0,
            gb_per_s: 2.0,
        };
        let k = kinds(&roles, &costs, Some(&ms), Some(peak));
        assert_eq!(k.len(), 2, "two distinct kinds");
        let e = &k[0];
        assert_eq!((e.kind, e.dispatches, e.flop), (Role::Expand, 2, 4_000_000));
        // 4 MFLOP over 2 MB is 2 FLOP/byte; the roof there is 2 × 2 GB/s = 4 GFLOP/s, and
        // 4 MFLOP in 2 ms is 2 GFLOP/s: half of it. 1e-12 allows the rounding of ms / 1e3.
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert_eq!(e.intensity, 2.0);
        assert_eq!(e.roofline_gflop_per_s, Some(4.0));
        assert!(close(e.gflop_per_s, 2.0), "{}", e.gflop_per_s);
        assert!(close(e.roofline_fraction.unwrap(), 0.5), "{e:?}");
        let static_only = kinds(&roles, &costs, None, Some(peak));
        assert_eq!(
            static_only[0].roofline_fraction, None,
            "no times, no fraction"
        );
        assert_eq!(static_only[0].compulsory_bytes, 2_000_000);
    }
}
