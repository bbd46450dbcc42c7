//! What an output file holds, and the refusal to replace a file that holds something else
//! (a JPEG where safetensors would go) unless forced.

use super::{FORCE, OutputRules};
use crate::{Error, Result};
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// What a command writes, so that an existing file holding something else is not replaced by
/// accident.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// A safetensors file (8-byte header length, then a JSON header).
    Safetensors,
    /// A JSON document (object or array).
    Json,
    /// An SVG drawing (`effnet bench --roofline`).
    Svg,
}

/// Refuses an existing, non-empty regular file that does not hold `rules.content`, unless
/// forced: a typo must not turn a photo into a safetensors file.
pub(super) fn refuse_other_content(
    path: &Path,
    meta: &std::fs::Metadata,
    rules: &OutputRules,
) -> Result<()> {
    if rules.force || meta.len() == 0 {
        return Ok(());
    }
    let mut head = [0u8; 64];
    let n = File::open(path)
        .and_then(|mut f| read_up_to(&mut f, &mut head))
        .map_err(|e| Error::io(path, e))?;
    let head = &head[..n];
    let holds = match rules.content {
        Content::Safetensors => head.len() > 8 && head[8] == b'{',
        Content::Json => matches!(
            head.iter().find(|b| !b.is_ascii_whitespace()),
            Some(b'{' | b'[')
        ),
        Content::Svg => {
            let text = String::from_utf8_lossy(head);
            let text = text.trim_start();
            text.starts_with("<svg") || text.starts_with("<?xml")
        }
    };
    if holds {
        return Ok(());
    }
    let wanted = match rules.content {
        Content::Safetensors => "safetensors",
        Content::Json => "JSON",
        Content::Svg => "SVG",
    };
    Err(Error::Input(format!(
        "{} exists and is not a {wanted} file (it looks like {}); name another output file, or \
         pass {} to replace it",
        path.display(),
        describe_content(head),
        FORCE
    )))
}

fn read_up_to(f: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// A few words on what a file's first bytes say it is.
fn describe_content(head: &[u8]) -> &'static str {
    match head {
        [0xff, 0xd8, 0xff, ..] => "a JPEG image",
        [0x89, b'P', b'N', b'G', ..] => "a PNG image",
        [b'P', b'K', 3, 4, ..] => "a zip archive, such as a PyTorch checkpoint",
        [0x80, 2..=5, ..] => "a Python pickle, such as a PyTorch checkpoint",
        _ if std::str::from_utf8(head).is_ok() => "text",
        _ => "some other binary data",
    }
}
