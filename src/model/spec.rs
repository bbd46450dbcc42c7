//! What a model argument names: a checkpoint file, or (where no file is there) a model name.
//! The command line's `--model` and the Python package's `Engine.load` resolve it alike.

use crate::{Error, Result};
use std::path::Path;

/// `spec` as a checkpoint file: `Some` for a regular file (symlinks followed), `None` where
/// nothing is there (so `spec` may be a model name), else an error that says what the path
/// really is: a folder, a device or pipe (never read: `/dev/zero` would never end), a broken
/// or looping symlink, a path that cannot be searched. A folder named like a known model is
/// left to be that model, as before.
pub fn checkpoint_file(spec: &str) -> Result<Option<&Path>> {
    let path = Path::new(spec);
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(Some(path)),
        Ok(m) if m.is_dir() && super::resolve(spec, None).is_ok() => Ok(None),
        Ok(m) if m.is_dir() => Err(Error::Input(format!(
            "{spec} is a folder; give a checkpoint file (.safetensors, .pth, .pt or .bin), such \
             as one inside it"
        ))),
        Ok(_) => Err(Error::Input(format!(
            "{spec} is not a regular file (a device, pipe or socket) and is not read; give a \
             checkpoint file (.safetensors, .pth, .pt or .bin)"
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if std::fs::symlink_metadata(path).is_ok() {
                return Err(Error::Input(format!(
                    "{spec} is a symbolic link to a file that does not exist; fix the link or \
                     give the checkpoint file itself"
                )));
            }
            Ok(None)
        }
        Err(e) if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_symlink()) => {
            Err(Error::Input(format!(
                "{spec} is a symbolic link that cannot be followed ({e}; a loop of links, or a \
                 link through a folder that cannot be read); fix the link or give the \
                 checkpoint file itself"
            )))
        }
        // A permission problem, a file used as a folder: the OS says which.
        Err(e) => Err(Error::io(path, e)),
    }
}
