//! A restricted reader for the pickles inside PyTorch checkpoints.
//!
//! `torch.load` without `weights_only` runs whatever callables a pickle names, so a downloaded
//! checkpoint can run arbitrary code. This reader never calls anything: it knows the handful of
//! globals a state dict needs and builds inert values for them; any other global is refused by
//! name. Work is bounded by a step budget proportional to the input, and every length is
//! checked against the bytes left before anything is allocated.

use std::collections::HashMap;
use std::rc::Rc;

mod ops;
#[cfg(test)]
mod tests;
mod value;

pub(crate) use value::{Dict, DictKey, Global, Obj, StorageRef, TensorRef, Unpickled, Value};

#[derive(Debug, thiserror::Error)]
pub(crate) enum PickleError {
    #[error("the pickle asks for the global `{0}`")]
    Refused(String),
    #[error("malformed pickle at byte {at}: {message}")]
    Malformed { at: usize, message: String },
}

type Res<T> = std::result::Result<T, PickleError>;

/// Runs one pickle from the start of `data` up to its STOP opcode.
pub(crate) fn unpickle(data: &[u8]) -> Res<Unpickled> {
    let mut m = Machine {
        data,
        pos: 0,
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
        arena: Vec::new(),
        // Each opcode costs one step and each item moved by a bulk opcode one more; an honest
        // pickle needs far fewer than this, a crafted one cannot loop.
        steps: data.len().saturating_mul(4).saturating_add(64),
    };
    loop {
        let op = m.byte()?;
        m.charge(1)?;
        if op == b'.' {
            let root = m.pop()?;
            return Ok(Unpickled {
                root,
                arena: m.arena,
                consumed: m.pos,
            });
        }
        m.step(op)?;
    }
}

struct Machine<'a> {
    data: &'a [u8],
    pos: usize,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: HashMap<usize, Value>,
    arena: Vec<Obj>,
    steps: usize,
}

impl<'a> Machine<'a> {
    fn step(&mut self, op: u8) -> Res<()> {
        if let Some(v) = self.literal(op)? {
            self.push(v);
            return Ok(());
        }
        match op {
            0x80 => drop(self.take(1)?), // PROTO: every version reads the same here
            0x95 => drop(self.take(8)?), // FRAME: only a buffering hint
            b'(' => self.marks.push(self.stack.len()),
            b'0' => drop(self.pop()?),
            b'1' => drop(self.pop_mark()?),
            b'2' => {
                let v = self.peek()?;
                self.push(v)
            }
            b'}' => self.push_obj(Obj::Dict(Dict::default())),
            b']' => self.push_obj(Obj::List(Vec::new())),
            b')' => self.push_obj(Obj::Tuple(Vec::new())),
            b'l' => self.collect(Obj::List)?,
            b't' => self.collect(Obj::Tuple)?,
            b'd' => self.dict_from_mark()?,
            0x85..=0x87 => self.small_tuple(usize::from(op - 0x84))?,
            b's' => self.setitem()?,
            b'u' => self.setitems()?,
            b'a' => self.append()?,
            b'e' => self.appends()?,
            b'q' => self.put(1)?,
            b'r' => self.put(4)?,
            0x94 => self.memoize()?,
            b'h' => self.get(1)?,
            b'j' => self.get(4)?,
            b'c' => self.global()?,
            0x93 => self.stack_global()?,
            b'R' => self.reduce()?,
            0x81 => self.newobj(false)?,
            0x92 => self.newobj(true)?,
            b'b' => self.build()?,
            b'Q' => self.persistent_load()?,
            _ => return Err(self.bad(format!("unsupported opcode 0x{op:02x}"))),
        }
        Ok(())
    }

    /// Opcodes that push one plain value; `None` for every other opcode.
    fn literal(&mut self, op: u8) -> Res<Option<Value>> {
        Ok(Some(match op {
            b'X' | b'T' => self.text(4)?, // T: Python 2 str; keys are ASCII in practice
            0x8c | b'U' => self.text(1)?,
            0x8d => self.text(8)?,
            b'B' => self.bytes(4)?,
            b'C' => self.bytes(1)?,
            0x8e => self.bytes(8)?,
            b'J' => Value::Int(i32::from_le_bytes(self.array()?).into()),
            b'K' => Value::Int(self.byte()?.into()),
            b'M' => Value::Int(u16::from_le_bytes(self.array()?).into()),
            0x8a => self.long(1)?,
            0x8b => self.long(4)?,
            b'G' => {
                self.take(8)?;
                Value::Float
            }
            b'N' => Value::None,
            0x88 => Value::Bool(true),
            0x89 => Value::Bool(false),
            _ => return Ok(None),
        }))
    }

    fn bad(&self, message: impl Into<String>) -> PickleError {
        PickleError::Malformed {
            at: self.pos,
            message: message.into(),
        }
    }

    fn charge(&mut self, n: usize) -> Res<()> {
        self.steps = self.steps.checked_sub(n).ok_or_else(|| {
            self.bad("step limit exceeded; the pickle does far more work than a state dict needs")
        })?;
        Ok(())
    }

    fn take(&mut self, n: usize) -> Res<&'a [u8]> {
        let left = self.data.len() - self.pos;
        if n > left {
            return Err(self.bad(format!(
                "needs {n} more bytes but only {left} remain (truncated file?)"
            )));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Res<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn byte(&mut self) -> Res<u8> {
        Ok(self.take(1)?[0])
    }

    /// Reads a little-endian length of `width` bytes; `take` then checks it against the input.
    fn length(&mut self, width: usize) -> Res<usize> {
        let mut a = [0u8; 8];
        a[..width].copy_from_slice(self.take(width)?);
        usize::try_from(u64::from_le_bytes(a)).map_err(|_| self.bad("length does not fit"))
    }

    fn line(&mut self) -> Res<&'a str> {
        let rest = &self.data[self.pos..];
        let n = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| self.bad("unterminated GLOBAL name"))?;
        let s =
            std::str::from_utf8(&rest[..n]).map_err(|_| self.bad("GLOBAL name is not UTF-8"))?;
        self.pos += n + 1;
        Ok(s)
    }

    fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    fn alloc(&mut self, obj: Obj) -> Value {
        self.arena.push(obj);
        Value::Obj(self.arena.len() - 1)
    }

    fn push_obj(&mut self, obj: Obj) {
        let v = self.alloc(obj);
        self.stack.push(v);
    }

    /// Items above the innermost MARK are off limits to plain pops, as in CPython.
    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn pop(&mut self) -> Res<Value> {
        if self.stack.len() <= self.fence() {
            return Err(self.bad("stack underflow"));
        }
        Ok(self.stack.pop().unwrap_or(Value::None))
    }

    fn peek(&self) -> Res<Value> {
        match self.stack.last() {
            Some(v) if self.stack.len() > self.fence() => Ok(v.clone()),
            _ => Err(self.bad("stack underflow")),
        }
    }

    fn pop_mark(&mut self) -> Res<Vec<Value>> {
        let mark = self.marks.pop().ok_or_else(|| self.bad("no MARK"))?;
        self.charge(self.stack.len() - mark)?;
        Ok(self.stack.split_off(mark))
    }

    fn collect(&mut self, make: fn(Vec<Value>) -> Obj) -> Res<()> {
        let items = self.pop_mark()?;
        self.push_obj(make(items));
        Ok(())
    }

    fn small_tuple(&mut self, n: usize) -> Res<()> {
        let mut items = (0..n).map(|_| self.pop()).collect::<Res<Vec<_>>>()?;
        items.reverse();
        self.push_obj(Obj::Tuple(items));
        Ok(())
    }

    fn dict_from_mark(&mut self) -> Res<()> {
        let items = self.pop_mark()?;
        self.push_obj(Obj::Dict(Dict::default()));
        self.fill_dict(items)
    }

    fn text(&mut self, width: usize) -> Res<Value> {
        let n = self.length(width)?;
        let raw = self.take(n)?;
        let s = std::str::from_utf8(raw).map_err(|_| self.bad("string is not UTF-8"))?;
        Ok(Value::Str(Rc::from(s)))
    }

    fn bytes(&mut self, width: usize) -> Res<Value> {
        let n = self.length(width)?;
        self.take(n)?;
        Ok(Value::Bytes)
    }

    /// LONG1/LONG4: little-endian two's complement; 16 bytes cover every integer a state dict
    /// holds (and the 10-byte legacy magic number).
    fn long(&mut self, width: usize) -> Res<Value> {
        let n = self.length(width)?;
        if n > 16 {
            return Err(self.bad(format!("{n}-byte integer is too large")));
        }
        let raw = self.take(n)?;
        let fill = if raw.last().is_some_and(|&b| b & 0x80 != 0) {
            0xff
        } else {
            0
        };
        let mut a = [fill; 16];
        a[..n].copy_from_slice(raw);
        Ok(Value::Int(i128::from_le_bytes(a)))
    }

    fn put(&mut self, width: usize) -> Res<()> {
        let index = self.length(width)?;
        self.memoize_at(index)
    }

    fn memoize(&mut self) -> Res<()> {
        self.memoize_at(self.memo.len())
    }

    fn memoize_at(&mut self, index: usize) -> Res<()> {
        let v = self.peek().map_err(|_| self.bad("PUT on an empty stack"))?;
        self.memo.insert(index, v);
        Ok(())
    }

    fn get(&mut self, width: usize) -> Res<()> {
        let index = self.length(width)?;
        let v = self.memo.get(&index).cloned();
        let v = v.ok_or_else(|| self.bad(format!("memo entry {index} is not defined")))?;
        self.push(v);
        Ok(())
    }
}
