//! `--device` and `--kernels`: what every command takes to open the GPU, and the rule that
//! only the image commands take several devices.

use effnet::Engine;

/// What every command takes to open the GPU, passed to each command as a value.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct GpuArgs {
    /// The GPU adapter to use, by its number in `effnet devices` (default: the best one;
    /// the environment variable EFFNET_ADAPTER does the same); classify, features and eval
    /// also take a list (0,2; 0,0 is two sessions on adapter 0) or `all` (one adapter per
    /// physical device, CPU drivers only where there is no GPU) and share the images out.
    #[arg(long, global = true, value_name = "N|N,M,...|all", value_parser = parse_devices)]
    pub device: Option<effnet::Devices>,
    /// Which kernel family to run: gpu (shaped for GPUs), cpu (for CPU drivers such as
    /// lavapipe) or auto (per op, the one measured faster on GPUs); default: cpu on CPU
    /// adapters, else auto (the environment variable EFFNET_KERNELS does the same)
    #[arg(long, global = true, value_enum, value_name = "FAMILY")]
    pub kernels: Option<effnet::Family>,
}

/// `--device`'s value; a bad one is a usage error (exit 2) naming the forms.
fn parse_devices(text: &str) -> Result<effnet::Devices, String> {
    text.parse()
        .map_err(|_| format!("expected {}", effnet::DEVICE_FORMS))
}

impl GpuArgs {
    /// Opens the adapter asked for, with the kernel family asked for as its sessions'
    /// default, and prints what opening it noted.
    pub fn open(&self) -> effnet::Result<Engine> {
        self.open_adapter(self.device.as_ref().and_then(effnet::Devices::single))
    }

    /// Like `open`, on adapter `index` (`None`: EFFNET_ADAPTER, else the best one).
    pub fn open_adapter(&self, index: Option<usize>) -> effnet::Result<Engine> {
        let mut engine = Engine::on_adapter(index)?;
        if let Some(family) = self.kernels {
            engine = engine.with_kernels(family);
        }
        for n in engine.notes() {
            note!("note: {n}");
        }
        Ok(engine)
    }

    /// Whether `--device` names more than one adapter: `all` or a list.
    pub fn several(&self) -> bool {
        self.device.as_ref().is_some_and(|d| d.single().is_none())
    }
}

/// The commands that share their images out over several devices.
const POOLED: [&str; 3] = ["classify", "features", "eval"];

/// A usage error (exit 2) where `--device` names several adapters for a command that runs on
/// one, before any work.
pub fn refuse_device_list(gpu: &GpuArgs, command: Option<&str>) {
    let (Some(devices), Some(command)) = (&gpu.device, command) else {
        return;
    };
    if !gpu.several() || POOLED.contains(&command) {
        return;
    }
    let message = format!(
        "--device {devices} asks for several adapters, but `{command}` runs on one: give \
         --device N (only classify, features and eval share their work over several)"
    );
    let kind = clap::error::ErrorKind::ArgumentConflict;
    <crate::Cli as clap::CommandFactory>::command()
        .error(kind, message)
        .exit()
}
