//! The command's output files: the library's [`OutputFile`] (unique temporary file, atomic
//! rename, the old file kept on failure) plus what only a process can do: remove this run's
//! temporary files when SIGINT, SIGTERM or SIGHUP ends it, so no hidden `.partial` file of up
//! to hundreds of megabytes is left behind.

use effnet::Result;
use effnet::output::{OutputFile, OutputRules};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Temporary files of outputs not yet committed. Process-wide because signals are: the signal
/// thread must find them without being handed anything.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// An output file of this run, its temporary file removed if a signal ends the process.
pub struct Output {
    file: Option<OutputFile>,
    temp: Option<PathBuf>,
}

/// Checks `path` against `rules` and opens it for this run's result (see [`OutputFile`]).
pub fn open(path: &Path, rules: &OutputRules) -> Result<Output> {
    remove_on_signals();
    // Held while the temporary file is created, so a signal meanwhile still finds it listed.
    let mut pending = PENDING.lock().unwrap_or_else(|p| p.into_inner());
    let file = OutputFile::create(path, rules)?;
    let temp = file.temp_path().map(Path::to_path_buf);
    pending.extend(temp.clone());
    Ok(Output {
        file: Some(file),
        temp,
    })
}

impl Output {
    /// Writes `bytes` as the target's new content (see [`OutputFile::commit`]).
    pub fn commit(mut self, bytes: &[u8]) -> Result<()> {
        self.file.take().expect("committed once").commit(bytes)
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        // The library removes an uncommitted temporary file; here it is only unlisted.
        drop(self.file.take());
        if let Some(temp) = &self.temp {
            let mut pending = PENDING.lock().unwrap_or_else(|p| p.into_inner());
            pending.retain(|p| p != temp);
        }
    }
}

/// On the first call, starts a thread that waits for SIGINT, SIGTERM or SIGHUP, removes the
/// pending temporary files, then dies of the signal as it would have (so a shell loop stops
/// on Ctrl-C), or exits with 128 + its number where that cannot be done.
fn remove_on_signals() {
    #[cfg(unix)]
    {
        static STARTED: std::sync::Once = std::sync::Once::new();
        STARTED.call_once(|| {
            use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
            let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
            else {
                return; // without the handler a signal still ends the run, leaving the file
            };
            std::thread::spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    let pending = PENDING.lock().unwrap_or_else(|p| p.into_inner());
                    for temp in pending.iter() {
                        let _ = std::fs::remove_file(temp);
                    }
                    let _ = signal_hook::low_level::emulate_default_handler(signal);
                    std::process::exit(128 + signal);
                }
            });
        });
    }
}
