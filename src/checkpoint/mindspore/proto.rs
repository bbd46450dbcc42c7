//! The protobuf wire format, just as much of it as `checkpoint.proto` needs:
//!
//! ```text
//! message Checkpoint { repeated Value value = 1; }
//! message Value { string tag = 1; TensorProto tensor = 2; MapTensorProto maptensor = 3; }
//! message TensorProto { repeated int64 dims = 1; string tensor_type = 2; bytes tensor_content = 3; }
//! ```
//!
//! Entries borrow from the file: nothing is allocated from a length read in it, except the dims
//! list, which is capped. Unknown fields inside a Value or TensorProto are skipped, as protobuf
//! readers do, so a newer MindSpore adding a field still loads; at the top level only field 1 is
//! accepted, which makes ciphertext and other formats fail at once instead of being skipped over.

/// More dimensions than any real tensor; a longer list is damage, not a shape.
pub(super) const MAX_DIMS: usize = 32;

/// One `Value` of the file.
pub(super) struct Entry<'a> {
    pub tag: &'a str,
    /// Byte offset of the Value in the file, for error messages.
    pub at: usize,
    /// `None` when the Value has no `tensor` (map tensors, which MindSpore writes without one).
    pub tensor: Option<TensorMsg<'a>>,
    pub has_map: bool,
}

pub(super) struct TensorMsg<'a> {
    pub dims: Vec<i64>,
    pub dtype: &'a str,
    pub content: &'a [u8],
}

/// Why the bytes are not a checkpoint: where, and whether the file simply ends too early.
#[derive(Debug)]
pub(super) struct Failure {
    pub at: usize,
    pub truncated: bool,
    pub what: String,
    /// Values read completely before the failure, and the tag of the last of them.
    pub entries_before: usize,
    pub last_tag: Option<String>,
}

/// Reads the whole Checkpoint message.
pub(super) fn parse(body: &[u8]) -> Result<Vec<Entry<'_>>, Failure> {
    let mut top = Wire::new(body, 0, true);
    let mut entries: Vec<Entry> = Vec::new();
    let fail = |e: WireError, entries: &[Entry]| Failure {
        at: e.at,
        truncated: e.truncated,
        what: e.what,
        entries_before: entries.len(),
        last_tag: entries.last().map(|e| e.tag.to_owned()),
    };
    while !top.done() {
        let at = top.pos();
        let value = match top.key() {
            Ok((1, 2)) => top.bytes(),
            Ok((field, wire)) => Err(top.err(
                at,
                format!("field {field} with wire type {wire} at the top level, where only entries (field 1, wire type 2) belong"),
            )),
            Err(e) => Err(e),
        };
        let entry = value.and_then(|(bytes, start)| value_msg(bytes, start, at));
        entries.push(entry.map_err(|e| fail(e, &entries))?);
    }
    Ok(entries)
}

fn value_msg(bytes: &[u8], start: usize, at: usize) -> Result<Entry<'_>, WireError> {
    let mut w = Wire::new(bytes, start, false);
    let (mut tag, mut tensor, mut has_map) = (None, None, false);
    while !w.done() {
        let field_at = w.pos();
        match w.key()? {
            (1, 2) => tag = Some(w.string("the entry's name")?),
            (2, 2) => {
                let (b, s) = w.bytes()?;
                tensor = Some(tensor_msg(b, s)?);
            }
            (3, 2) => {
                w.bytes()?;
                has_map = true;
            }
            (f @ 1..=3, wire) => {
                return Err(w.err(
                    field_at,
                    format!("entry field {f} has wire type {wire}, expected 2"),
                ));
            }
            (_, wire) => w.skip(wire, field_at)?,
        }
    }
    let tag = tag.ok_or_else(|| w.err(at, "an entry without a name (tag)".into()))?;
    Ok(Entry {
        tag,
        at,
        tensor,
        has_map,
    })
}

fn tensor_msg(bytes: &[u8], start: usize) -> Result<TensorMsg<'_>, WireError> {
    let mut w = Wire::new(bytes, start, false);
    let mut t = TensorMsg {
        dims: Vec::new(),
        dtype: "",
        content: &[],
    };
    while !w.done() {
        let field_at = w.pos();
        match w.key()? {
            (1, 0) => push_dim(&mut t.dims, w.varint()?, &w, field_at)?,
            // Packed dims: protobuf readers must accept both encodings of a repeated scalar.
            (1, 2) => {
                let (b, s) = w.bytes()?;
                let mut packed = Wire::new(b, s, false);
                while !packed.done() {
                    let dim_at = packed.pos();
                    push_dim(&mut t.dims, packed.varint()?, &packed, dim_at)?;
                }
            }
            (2, 2) => t.dtype = w.string("the tensor type")?,
            (3, 2) => t.content = w.bytes()?.0,
            (f @ 1..=3, wire) => {
                return Err(w.err(field_at, format!("tensor field {f} has wire type {wire}")));
            }
            (_, wire) => w.skip(wire, field_at)?,
        }
    }
    Ok(t)
}

fn push_dim(dims: &mut Vec<i64>, v: u64, w: &Wire, at: usize) -> Result<(), WireError> {
    if dims.len() == MAX_DIMS {
        return Err(w.err(at, format!("a tensor with more than {MAX_DIMS} dimensions")));
    }
    // int64 fields carry negative values as two's complement in ten bytes.
    dims.push(v as i64);
    Ok(())
}

struct WireError {
    at: usize,
    truncated: bool,
    what: String,
}

/// A cursor over one message. `base` is the message's offset in the file; `whole_file` tells
/// whether running out of bytes means the file ends early (truncation) or a length inside it
/// is wrong (corruption).
struct Wire<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
    whole_file: bool,
}

impl<'a> Wire<'a> {
    fn new(buf: &'a [u8], base: usize, whole_file: bool) -> Self {
        Wire {
            buf,
            pos: 0,
            base,
            whole_file,
        }
    }

    fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn pos(&self) -> usize {
        self.base + self.pos
    }

    fn err(&self, at: usize, what: String) -> WireError {
        WireError {
            at,
            truncated: false,
            what,
        }
    }

    fn short(&self, at: usize, what: &str) -> WireError {
        if self.whole_file {
            WireError {
                at,
                truncated: true,
                what: format!("the file ends inside {what}"),
            }
        } else {
            WireError {
                at,
                truncated: false,
                what: format!("{what} runs past the end of its message"),
            }
        }
    }

    fn varint(&mut self) -> Result<u64, WireError> {
        let at = self.pos();
        let mut value = 0u64;
        for i in 0..10 {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(self.short(at, "a varint"));
            };
            self.pos += 1;
            // The tenth byte holds only the 64th bit.
            if i == 9 && b > 1 {
                return Err(self.err(at, "a varint longer than 64 bits".into()));
            }
            value |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(value);
            }
        }
        Err(self.err(at, "a varint longer than 10 bytes".into()))
    }

    fn key(&mut self) -> Result<(u64, u8), WireError> {
        let at = self.pos();
        let key = self.varint()?;
        let (field, wire) = (key >> 3, (key & 7) as u8);
        if field == 0 {
            return Err(self.err(at, "field number 0".into()));
        }
        Ok((field, wire))
    }

    /// A length-delimited field's bytes and their offset in the file.
    fn bytes(&mut self) -> Result<(&'a [u8], usize), WireError> {
        let at = self.pos();
        let len = self.varint()?;
        let start = self.pos;
        let rest = self.buf.len() - start;
        match usize::try_from(len) {
            Ok(n) if n <= rest => {
                self.pos += n;
                Ok((&self.buf[start..start + n], self.base + start))
            }
            _ => Err(self.short(
                at,
                &format!("a field of {len} bytes, {rest} of which are present"),
            )),
        }
    }

    fn string(&mut self, what: &str) -> Result<&'a str, WireError> {
        let (b, at) = self.bytes()?;
        std::str::from_utf8(b).map_err(|_| self.err(at, format!("{what} is not UTF-8 text")))
    }

    fn skip(&mut self, wire: u8, at: usize) -> Result<(), WireError> {
        let fixed = |w: &mut Self, n: usize| {
            if w.buf.len() - w.pos < n {
                return Err(w.short(at, &format!("a {n}-byte field")));
            }
            w.pos += n;
            Ok(())
        };
        match wire {
            0 => self.varint().map(drop),
            1 => fixed(self, 8),
            2 => self.bytes().map(drop),
            5 => fixed(self, 4),
            // Groups (3, 4) are deprecated and absent from checkpoint.proto; 6 and 7 do not exist.
            _ => Err(self.err(at, format!("wire type {wire}, which checkpoints never use"))),
        }
    }
}
