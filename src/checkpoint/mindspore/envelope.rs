//! What surrounds the protobuf: telling a MindSpore checkpoint from its first bytes, the magic
//! numbers of encrypted ones and the CRC trailer of `save_checkpoint(..., crc_check=True)`.

use super::proto::Entry;

const TRAILER_MARK: &[u8] = b"crc_num";
const TRAILER_LEN: usize = 17;

/// The first bytes of every block MindSpore's `Encrypt` writes, by mode.
const CIPHER_MAGIC: [(u32, &str); 3] = [
    (0x7F3A_5ED8, "AES-GCM"),
    (0x7F3A_5ED9, "AES-CBC"),
    (0x7F3A_5EDA, "SM4-CBC"),
];

/// Whether the bytes look like a MindSpore checkpoint: an encrypted one, or a Value whose
/// first field is a short UTF-8 tag (what `save_checkpoint` always writes first).
pub(crate) fn looks_like(bytes: &[u8]) -> bool {
    cipher_mode(bytes).is_some() || starts_with_tag(bytes)
}

pub(super) fn cipher_mode(bytes: &[u8]) -> Option<&'static str> {
    let magic = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?);
    CIPHER_MAGIC
        .iter()
        .find(|(m, _)| *m == magic)
        .map(|&(_, mode)| mode)
}

pub(super) fn starts_with_tag(bytes: &[u8]) -> bool {
    let mut i = 0;
    let mut next = || {
        let b = bytes.get(i).copied();
        i += 1;
        b
    };
    // 0x0a: field 1, length-delimited (a Value), then the Value's length as a varint.
    if next() != Some(0x0a) {
        return false;
    }
    while next().is_some_and(|b| b >= 0x80) {}
    // The Value's field 1 (the tag), with a one- or two-byte length.
    if next() != Some(0x0a) {
        return false;
    }
    let len = match (next(), bytes.get(i)) {
        (Some(a), _) if a < 0x80 => usize::from(a),
        (Some(a), Some(&b)) if b < 0x80 => {
            i += 1;
            usize::from(a & 0x7f) | usize::from(b) << 7
        }
        _ => return false,
    };
    let tag = bytes
        .get(i..i + len)
        .and_then(|t| std::str::from_utf8(t).ok());
    tag.is_some_and(|t| !t.is_empty() && !t.chars().any(char::is_control))
}

/// Splits off the `crc_check` trailer the way `_parse_ckpt_proto` does: by its marker alone.
pub(super) fn split_trailer(bytes: &[u8]) -> (&[u8], Option<&[u8]>) {
    match bytes.len().checked_sub(TRAILER_LEN) {
        Some(n) if &bytes[n..n + TRAILER_MARK.len()] == TRAILER_MARK => {
            (&bytes[..n], Some(&bytes[n + TRAILER_MARK.len()..]))
        }
        _ => (bytes, None),
    }
}

/// MindSpore's writer leaves `random_op` and map tensors out of the CRC while its checker covers
/// every byte, so only files without them can be checked.
pub(super) fn check_crc(
    body: &[u8],
    stored: &[u8],
    entries: &[Entry],
) -> std::result::Result<(), String> {
    if entries
        .iter()
        .any(|e| e.tag == "random_op" || e.has_map || e.tensor.is_none())
    {
        return Ok(());
    }
    let stored = stored
        .iter()
        .fold(0u128, |acc, &b| acc << 8 | u128::from(b));
    // CRC-32 (IEEE), as Python's `binascii.crc32` that MindSpore uses.
    let actual = crc32fast::hash(body);
    if stored == u128::from(actual) {
        return Ok(());
    }
    Err(format!(
        "the MindSpore checkpoint's CRC-32 trailer ({stored:#x}) does not match its content \
         ({actual:#x}); the file is damaged: download it again"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_needs_a_tag_first() {
        assert!(starts_with_tag(b"\x0a\x05\x0a\x03abc"));
        assert!(!starts_with_tag(b"\x0a\x05\x12\x03abc"));
        assert!(!starts_with_tag(b"\x0a\x05\x0a\x00"));
        assert!(looks_like(&[0xD8, 0x5E, 0x3A, 0x7F, 0, 0]));
        assert!(!looks_like(b""));
    }
}
