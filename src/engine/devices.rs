//! Which adapters a [`Pool`](crate::Pool) runs on: `all`, or a list of indices into
//! [`Engine::adapters`](crate::Engine::adapters), and the rule that turns "all" into one
//! adapter per physical device.

use crate::{Error, Result};
use wgpu::{AdapterInfo, Backend, DeviceType};

/// The devices to run on: every distinct adapter, or adapters by their number in
/// [`Engine::adapters`](crate::Engine::adapters) (one number may repeat: `0,0` makes two
/// sessions on adapter 0). Parses from the forms `effnet --device` takes: `N`, `N,M,...` or
/// `all`.
///
/// ```
/// use effnet::Devices;
/// assert_eq!("0,2".parse::<Devices>().unwrap(), Devices::List(vec![0, 2]));
/// assert_eq!("all".parse::<Devices>().unwrap(), Devices::All);
/// assert!("x".parse::<Devices>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Devices {
    /// One adapter per physical device ([`distinct_adapters`]).
    All,
    /// These adapters, in this order; never empty when parsed.
    List(Vec<usize>),
}

/// The forms `--device` takes, for messages.
pub const DEVICE_FORMS: &str = "an adapter number N, a comma-separated list N,M,... (a number may repeat: 0,0 runs two \
     sessions on adapter 0) or `all`; `effnet devices` numbers the adapters";

impl std::str::FromStr for Devices {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("all") {
            return Ok(Devices::All);
        }
        let parsed: std::result::Result<Vec<usize>, _> =
            text.split(',').map(|n| n.trim().parse::<usize>()).collect();
        match parsed {
            Ok(list) if !list.is_empty() => Ok(Devices::List(list)),
            _ => Err(Error::Input(format!(
                "`{text}` names no adapters; give {DEVICE_FORMS}"
            ))),
        }
    }
}

impl std::fmt::Display for Devices {
    /// As `--device` takes it: `all` or `0,2`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Devices::All => f.write_str("all"),
            Devices::List(list) => {
                let numbers: Vec<String> = list.iter().map(usize::to_string).collect();
                f.write_str(&numbers.join(","))
            }
        }
    }
}

impl Devices {
    /// The one adapter named, where exactly one is (`N`); `None` for `all` or a list.
    pub fn single(&self) -> Option<usize> {
        match self {
            Devices::List(list) if list.len() == 1 => Some(list[0]),
            _ => None,
        }
    }

    /// The adapter indices to open, one per session: `all` resolved against the adapters
    /// found now, a list as given. `all` with no adapter at all is `Error::NoAdapter`.
    pub fn indices(&self) -> Result<Vec<usize>> {
        match self {
            Devices::List(list) => Ok(list.clone()),
            Devices::All => {
                let found = distinct_adapters(&crate::Engine::adapters());
                if found.is_empty() {
                    let backends = wgpu::InstanceDescriptor::new_without_display_handle()
                        .with_env()
                        .backends;
                    return Err(Error::NoAdapter {
                        backends: format!("{backends:?}"),
                    });
                }
                Ok(found)
            }
        }
    }
}

/// Which backend wins where one device shows up on several: the native APIs first (they
/// report PCI bus ids and run compute best), GL last.
fn backend_rank(b: Backend) -> u8 {
    match b {
        Backend::Vulkan => 0,
        Backend::Metal => 1,
        Backend::Dx12 => 2,
        Backend::Gl => 3,
        _ => 4,
    }
}

/// Whether `a` and `b` may be one physical device seen through two backends. A backend lists
/// each device once, so two adapters of one backend are two devices (two identical GPUs stay
/// two). Across backends the PCI bus id decides where both report one (Vulkan and DX12 do);
/// else the PCI vendor and device ids where both have them; GL reports neither (only a vendor
/// guessed from its vendor string), so there the vendor or the exact name decides.
fn same_device(a: &AdapterInfo, b: &AdapterInfo) -> bool {
    if a.backend == b.backend {
        return false;
    }
    let (bus_a, bus_b) = (&a.device_pci_bus_id, &b.device_pci_bus_id);
    if !bus_a.is_empty() && !bus_b.is_empty() {
        return bus_a == bus_b;
    }
    if a.device != 0 && b.device != 0 {
        return a.vendor == b.vendor && a.device == b.device;
    }
    (a.vendor != 0 && a.vendor == b.vendor) || a.name == b.name
}

/// The indices (into `adapters`, ascending) that `--device all` / [`Devices::All`] runs on:
///
/// 1. one adapter per physical device: where several backends show the same device (Vulkan
///    and GL both list lavapipe; Vulkan and DX12 both list a Windows GPU), the one on the
///    preferred backend is kept (Vulkan, then Metal, DX12, GL), judged by `same_device`'s
///    PCI bus id, PCI ids, vendor or name;
/// 2. CPU adapters (lavapipe, WARP) count only where no GPU is left: beside a GPU they would
///    take batches they run many times slower, and compete with the decoding threads.
pub fn distinct_adapters(adapters: &[AdapterInfo]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..adapters.len()).collect();
    order.sort_by_key(|&i| (backend_rank(adapters[i].backend), i));
    let mut kept: Vec<usize> = Vec::new();
    for i in order {
        if !kept
            .iter()
            .any(|&k| same_device(&adapters[k], &adapters[i]))
        {
            kept.push(i);
        }
    }
    let is_cpu = |i: &usize| adapters[*i].device_type == DeviceType::Cpu;
    if kept.iter().any(|i| !is_cpu(i)) {
        kept.retain(|i| !is_cpu(i));
    }
    kept.sort_unstable();
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adapter(name: &str, backend: Backend, kind: DeviceType, ids: (u32, u32)) -> AdapterInfo {
        let mut a = AdapterInfo::new(kind, backend);
        a.name = name.into();
        (a.vendor, a.device) = ids;
        a
    }

    #[test]
    fn lavapipe_on_vulkan_and_gl_is_one_device() {
        // What this machine's lavapipe reports: Mesa's vendor id on both, no device id on GL.
        let vk = adapter("llvmpipe", Backend::Vulkan, DeviceType::Cpu, (0x10005, 0));
        let gl = adapter("llvmpipe", Backend::Gl, DeviceType::Cpu, (0x10005, 0));
        assert_eq!(distinct_adapters(&[vk.clone(), gl.clone()]), vec![0]);
        assert_eq!(distinct_adapters(&[gl, vk]), vec![1], "Vulkan wins");
    }

    #[test]
    fn two_identical_gpus_stay_two_and_their_dx12_twins_go() {
        let mut a = adapter(
            "RTX",
            Backend::Vulkan,
            DeviceType::DiscreteGpu,
            (0x10de, 0x2204),
        );
        let mut b = a.clone();
        a.device_pci_bus_id = "0000:01:00.0".into();
        b.device_pci_bus_id = "0000:02:00.0".into();
        let dx = adapter(
            "RTX",
            Backend::Dx12,
            DeviceType::DiscreteGpu,
            (0x10de, 0x2204),
        );
        let cpu = adapter("WARP", Backend::Dx12, DeviceType::Cpu, (0x1414, 0x8c));
        let all = [dx.clone(), a, cpu, dx, b];
        assert_eq!(distinct_adapters(&all), vec![1, 4]);
    }

    #[test]
    fn a_cpu_adapter_counts_only_without_a_gpu() {
        let gpu = adapter(
            "Arc",
            Backend::Vulkan,
            DeviceType::IntegratedGpu,
            (0x8086, 0x56a0),
        );
        let cpu = adapter("llvmpipe", Backend::Vulkan, DeviceType::Cpu, (0x10005, 0));
        assert_eq!(distinct_adapters(&[cpu.clone(), gpu]), vec![1]);
        assert_eq!(distinct_adapters(&[cpu]), vec![0]);
        assert!(distinct_adapters(&[]).is_empty());
    }

    #[test]
    fn device_lists_parse_and_bad_ones_name_the_forms() {
        assert_eq!("3".parse::<Devices>().unwrap().single(), Some(3));
        assert_eq!(
            " 0, 0 ".parse::<Devices>().unwrap(),
            Devices::List(vec![0, 0])
        );
        assert_eq!("ALL".parse::<Devices>().unwrap().single(), None);
        assert_eq!(Devices::List(vec![0, 2]).to_string(), "0,2");
        for bad in ["", "x", "0,", "-1", "1,all"] {
            let e = bad.parse::<Devices>().unwrap_err().to_string();
            assert!(e.contains("N,M") && e.contains("`all`"), "{bad}: {e}");
        }
    }
}
