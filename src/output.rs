//! Writing a result file without ever losing the file that was there.
//!
//! Every command that writes (`features`, `convert`, `train`, `bench --trace`) goes through
//! [`OutputFile`]:
//! - it is opened before the work, so a run that could not save its result does not start;
//!   opening creates a temporary file of this run's own (`.NAME.PID-RANDOM.partial`, beside the
//!   target) and touches nothing else, so two runs never trip over each other's files;
//! - the result goes to that temporary file, is flushed to disk (`fsync`) and renamed over the
//!   target in one step: a reader sees the old file or the whole new one, never half of one, and
//!   a failed or interrupted run leaves the old file as it was (dropping an uncommitted
//!   `OutputFile` removes its temporary file; the `effnet` command also removes it on
//!   SIGINT/SIGTERM/SIGHUP);
//! - the target's permissions (and, where allowed, its owner) carry over to the new file, and a
//!   symbolic link is followed, so the file it points to is replaced and the link stays;
//! - a FIFO, a character device or a descriptor path (`-o /dev/stdout`) is opened before the
//!   work and written in place, never renamed over; a block device (a disk) is refused;
//! - a target that is one of the run's inputs is refused, and so is an existing file that holds
//!   something else than what the command writes (a JPEG where safetensors would go) or that is
//!   read-only, unless [`OutputRules::force`] says to replace it.

mod content;

use crate::{Error, Result};
pub use content::Content;
use content::refuse_other_content;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// How a refusal names [`OutputRules::force`]: the command line's flag for it.
const FORCE: &str = "--force";

/// The checks made before an output file is opened.
#[derive(Clone, Debug)]
pub struct OutputRules {
    /// What the command writes.
    pub content: Content,
    /// The run's input files: the output may not be one of them.
    pub inputs: Vec<PathBuf>,
    /// Replace an existing file even when it holds something else than `content`.
    pub force: bool,
}

impl OutputRules {
    /// Rules for writing `content` with no inputs to protect and no forcing.
    pub fn new(content: Content) -> Self {
        OutputRules {
            content,
            inputs: Vec::new(),
            force: false,
        }
    }

    /// The same rules with `inputs` protected.
    pub fn with_inputs<P: AsRef<Path>>(mut self, inputs: impl IntoIterator<Item = P>) -> Self {
        self.inputs
            .extend(inputs.into_iter().map(|p| p.as_ref().to_path_buf()));
        self
    }

    /// The same rules with `force` set.
    pub fn with_force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }
}

/// An output file opened for one result: see the module documentation.
#[derive(Debug)]
pub struct OutputFile {
    /// The path as the caller named it, for messages.
    named: PathBuf,
    way: Way,
    committed: bool,
}

#[derive(Debug)]
enum Way {
    /// A regular file, or a name not yet taken: written to `temp`, then renamed to `target`.
    Replace {
        target: PathBuf,
        temp: PathBuf,
        file: Option<File>,
        /// The target's metadata where it exists (boxed: it is most of the variant's size).
        previous: Option<Box<std::fs::Metadata>>,
    },
    /// A FIFO, character device or `/dev/stdout`-like path: opened at `create`, written in
    /// place.
    InPlace(File),
}

impl OutputFile {
    /// Checks `path` against `rules` and, unless it is a FIFO, device or socket, creates this
    /// run's temporary file beside it. Fails with [`Error::Write`] when the folder is missing or
    /// read-only, and with [`Error::Input`] when a rule refuses the target.
    pub fn create(path: &Path, rules: &OutputRules) -> Result<OutputFile> {
        if cfg!(target_arch = "wasm32") {
            return Err(Error::Input(
                "a browser page has no files to write: keep the bytes in memory".into(),
            ));
        }
        let fail = |message: &str| Error::Write {
            path: path.to_path_buf(),
            source: std::io::Error::other(message.to_string()),
        };
        let text = path.to_string_lossy();
        if text.is_empty() || text.ends_with('/') || path.is_dir() || path.file_name().is_none() {
            return Err(fail("it is a folder; name a file"));
        }
        refuse_inputs(path, &rules.inputs)?;
        let way = match std::fs::metadata(path) {
            Ok(m) if !m.is_file() || names_a_descriptor(path) => in_place(path, &m, rules)?,
            Ok(m) => replace_existing(path, m, rules)?,
            Err(_) if std::fs::symlink_metadata(path).is_ok() => {
                return Err(fail("it is a symbolic link to nothing; name a file"));
            }
            Err(_) => {
                let (temp, file) = create_temp(path, None)?;
                Way::Replace {
                    target: path.to_path_buf(),
                    temp,
                    file: Some(file),
                    previous: None,
                }
            }
        };
        Ok(OutputFile {
            named: path.to_path_buf(),
            way,
            committed: false,
        })
    }

    /// The temporary file this run writes to before renaming it over the target; `None` for
    /// targets written in place. A caller that handles signals removes it when interrupted.
    pub fn temp_path(&self) -> Option<&Path> {
        match &self.way {
            Way::Replace { temp, .. } => Some(temp),
            Way::InPlace(_) => None,
        }
    }

    /// Writes `bytes` as the whole new content of the target: to the temporary file, flushed
    /// to disk, then renamed over the target. On failure the target is as it was.
    pub fn commit(mut self, bytes: &[u8]) -> Result<()> {
        let named = self.named.clone();
        match &mut self.way {
            Way::InPlace(f) => {
                f.write_all(bytes)
                    .and_then(|()| f.flush())
                    .map_err(|e| write_err(&named, e))?;
            }
            Way::Replace {
                target,
                temp,
                file,
                previous,
            } => {
                let mut f = file.take().expect("an OutputFile commits once");
                f.write_all(bytes)
                    .and_then(|()| f.sync_all())
                    .map_err(|e| write_err(&named, e))?;
                drop(f);
                keep_owner_and_mode(temp, previous.as_deref());
                std::fs::rename(&*temp, &*target).map_err(|e| write_err(&named, e))?;
                sync_folder(target);
            }
        }
        self.committed = true;
        Ok(())
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        if let (false, Way::Replace { temp, .. }) = (self.committed, &self.way) {
            let _ = std::fs::remove_file(temp);
        }
    }
}

/// Refuses an output `path` that is one of `inputs` (the same path, or the same file by
/// another name), for inputs known only after the output was opened (a folder's images).
pub fn refuse_inputs<P: AsRef<Path>>(path: &Path, inputs: &[P]) -> Result<()> {
    let existing = std::fs::metadata(path).ok();
    let Some(input) = (inputs.iter()).find(|i| same_file(path, existing.as_ref(), i.as_ref()))
    else {
        return Ok(());
    };
    Err(Error::Input(format!(
        "the output {} is also an input ({}); writing it would destroy that input: name \
         another output file",
        path.display(),
        input.as_ref().display()
    )))
}

/// `/dev/stdout`, `/dev/fd/N`, `/proc/self/fd/N`: a descriptor of this process, which may be
/// a regular file the shell opened (`-o /dev/stdout >> log`); it is written, never replaced.
fn names_a_descriptor(path: &Path) -> bool {
    path.starts_with("/dev") || path.starts_with("/proc")
}

/// Opens a FIFO, character device or descriptor path for writing now, so that one that
/// cannot be written fails before the work (a FIFO waits here for its reader). A block
/// device (a disk) is refused unless forced.
fn in_place(path: &Path, meta: &std::fs::Metadata, rules: &OutputRules) -> Result<Way> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if meta.file_type().is_block_device() && !rules.force {
            return Err(Error::Input(format!(
                "{} is a block device (a disk); writing it would destroy what it holds: name a \
                 file, or pass {} if that is really meant",
                path.display(),
                FORCE
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = (meta, rules);
    // Appending: where the descriptor is a file the shell opened for `>>`, earlier lines stay.
    let file = OpenOptions::new().append(true).open(path);
    Ok(Way::InPlace(file.map_err(|e| write_err(path, e))?))
}

/// An existing regular file (a link is followed: the file it points to is the one replaced),
/// checked for the rules and for write permission, and this run's temporary file beside it.
fn replace_existing(path: &Path, meta: std::fs::Metadata, rules: &OutputRules) -> Result<Way> {
    if meta.permissions().readonly() && !rules.force {
        return Err(Error::Input(format!(
            "{} is read-only, as if to protect it; name another output file, or pass {} to \
             replace it",
            path.display(),
            FORCE
        )));
    }
    refuse_other_content(path, &meta, rules)?;
    let target = std::fs::canonicalize(path).map_err(|e| write_err(path, e))?;
    let (temp, file) = create_temp(&target, Some(&meta))?;
    Ok(Way::Replace {
        target,
        temp,
        file: Some(file),
        previous: Some(Box::new(meta)),
    })
}

fn write_err(path: &Path, e: std::io::Error) -> Error {
    Error::Write {
        path: path.to_path_buf(),
        source: e,
    }
}

/// Whether `output` (with its metadata, if it exists) and `input` name the same file: the
/// same path, or the same device and inode (a link or another spelling).
fn same_file(output: &Path, meta: Option<&std::fs::Metadata>, input: &Path) -> bool {
    if output == input {
        return true;
    }
    let (Some(out), Ok(inp)) = (meta, std::fs::metadata(input)) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (out.dev(), out.ino()) == (inp.dev(), inp.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = (out, inp);
        std::fs::canonicalize(output).ok() == std::fs::canonicalize(input).ok()
    }
}

/// Creates `.NAME.PID-RANDOM.partial` beside `target`, new (never an existing file), with the
/// old file's permissions (less the umask until the rename sets them exactly).
fn create_temp(target: &Path, previous: Option<&std::fs::Metadata>) -> Result<(PathBuf, File)> {
    // At most 100 characters of the name, so the temporary name stays within the 255 bytes
    // a file name may have where the target's own name is long.
    let name: String = (target.file_name().unwrap_or_default().to_string_lossy())
        .chars()
        .take(100)
        .collect();
    let mut last = None;
    for _ in 0..8 {
        let temp = target.with_file_name(format!(
            ".{name}.{}-{:08x}.partial",
            std::process::id(),
            random_u32()
        ));
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            // A new target gets the usual mode (0666 less the umask); a rewritten one its own
            // from the start, so a private file's data is never readable by others meanwhile.
            let mode = previous.map_or(0o666, |m| m.permissions().mode() & 0o7777);
            options.mode(mode);
        }
        #[cfg(not(unix))]
        let _ = previous;
        match options.open(&temp) {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(write_err(target, e)),
        }
    }
    Err(write_err(target, last.expect("eight tries failed")))
}

/// A random number for temporary names: std's hash keys are seeded from the OS per process and
/// advanced per call, which is all a name that must not collide needs.
fn random_u32() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        web_time::SystemTime::UNIX_EPOCH
            .elapsed()
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish() as u32
}

/// Gives the new file the old one's exact mode and, where allowed (as root), its owner.
fn keep_owner_and_mode(temp: &Path, previous: Option<&std::fs::Metadata>) {
    let Some(m) = previous else { return };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // Best effort: only root may give a file away, and a user's own file is theirs already.
        if std::os::unix::fs::chown(temp, Some(m.uid()), Some(m.gid())).is_err() {
            // A user may still give the file its group, where they belong to it.
            let _ = std::os::unix::fs::chown(temp, None, Some(m.gid()));
        }
    }
    let _ = std::fs::set_permissions(temp, m.permissions());
}

/// Flushes the folder entry of a rename to disk where the platform allows, so the new file
/// survives a crash right after the command said it was written.
fn sync_folder(target: &Path) {
    #[cfg(unix)]
    if let Some(dir) = target.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    #[cfg(not(unix))]
    let _ = target;
}
