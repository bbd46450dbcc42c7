//! Hand-made checkpoints for tests/checkpoint.rs: a tiny pickle writer and builders for the
//! legacy and zip PyTorch formats, so no binary fixture has to be committed.

#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;

/// A pickle (protocol 2) under construction.
pub struct Pickle(pub Vec<u8>);

impl Pickle {
    pub fn new() -> Self {
        Pickle(vec![0x80, 2])
    }
    pub fn op(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.extend_from_slice(bytes);
        self
    }
    pub fn str(&mut self, s: &str) -> &mut Self {
        self.0.push(b'X');
        self.0.extend_from_slice(&(s.len() as u32).to_le_bytes());
        self.op(s.as_bytes())
    }
    pub fn int(&mut self, i: u64) -> &mut Self {
        if i <= i32::MAX as u64 {
            self.0.push(b'J');
            return self.op(&(i as i32).to_le_bytes());
        }
        self.0.extend_from_slice(&[0x8a, 9]); // LONG1, 9 bytes keeps it positive
        self.op(&i.to_le_bytes()).op(&[0])
    }
    pub fn global(&mut self, module: &str, name: &str) -> &mut Self {
        self.0.push(b'c');
        self.op(format!("{module}\n{name}\n").as_bytes())
    }
    pub fn tuple(&mut self, items: &[u64]) -> &mut Self {
        self.op(b"(");
        for &i in items {
            self.int(i);
        }
        self.op(b"t")
    }
    pub fn empty_ordered_dict(&mut self) -> &mut Self {
        self.global("collections", "OrderedDict").op(b")R")
    }
    pub fn stop(&mut self) -> Vec<u8> {
        self.op(b".");
        std::mem::take(&mut self.0)
    }
}

/// How a fixture tensor sits in its storage.
#[derive(Clone, Copy)]
pub struct Spec<'a> {
    pub key: &'a str,
    pub storage_type: &'a str,
    pub storage_key: &'a str,
    pub numel: u64,
    /// Legacy only: `(offset, size)` of a view into the storage.
    pub view: Option<(u64, u64)>,
    pub offset: u64,
    pub shape: &'a [u64],
    pub stride: &'a [u64],
}

/// Pushes `key`, then `_rebuild_tensor_v2(...)` for `spec` (leaves both on the stack).
pub fn tensor_entry(p: &mut Pickle, spec: &Spec, legacy: bool) {
    p.str(spec.key).global("torch._utils", "_rebuild_tensor_v2");
    p.op(b"((")
        .str("storage")
        .global("torch", spec.storage_type);
    p.str(spec.storage_key).str("cpu").int(spec.numel);
    if legacy {
        match spec.view {
            None => drop(p.op(b"N")),
            Some((off, size)) => drop(p.op(b"(").str("view").int(off).int(size).op(b"t")),
        }
    }
    p.op(b"tQ")
        .int(spec.offset)
        .tuple(spec.shape)
        .tuple(spec.stride);
    p.op(&[0x89]).empty_ordered_dict().op(b"tR");
}

/// The main pickle: `OrderedDict` of the specs, optionally inside `{"state_dict": ...}`.
pub fn state_dict_pickle(specs: &[Spec], legacy: bool, wrap: bool) -> Vec<u8> {
    let mut p = Pickle::new();
    if wrap {
        p.op(b"}").str("state_dict");
    }
    p.empty_ordered_dict().op(b"(");
    specs.iter().for_each(|s| tensor_entry(&mut p, s, legacy));
    p.op(b"u");
    if wrap {
        p.op(b"s");
    }
    p.stop()
}

/// A legacy `.pth`: magic, protocol, sys info, `main`, storage keys, then the storages
/// (`(key, element count, raw bytes)`) each behind its 8-byte count.
pub fn legacy_file(main: &[u8], storages: &[(&str, u64, &[u8])]) -> Vec<u8> {
    let mut out = vec![0x80, 2, 0x8a, 10];
    out.extend_from_slice(&0x1950a86a20f9469cfc6cu128.to_le_bytes()[..10]);
    out.push(b'.');
    out.extend_from_slice(&[0x80, 2, b'M', 0xe9, 0x03, b'.']);
    out.extend_from_slice(&[0x80, 2, b'}', b'.']);
    out.extend_from_slice(main);
    let mut keys = Pickle::new();
    keys.op(b"](");
    for (k, _, _) in storages {
        keys.str(k);
    }
    out.extend_from_slice(&keys.op(b"e").stop());
    for (_, count, raw) in storages {
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(raw);
    }
    out
}

/// A zip `.pth` as torch >= 1.6 writes it, with the given folder name.
pub fn zip_file(dir: &str, main: &[u8], storages: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let mut add = |name: String, data: &[u8]| {
        zip.start_file(name, opts).unwrap();
        zip.write_all(data).unwrap();
    };
    add(format!("{dir}/data.pkl"), main);
    add(format!("{dir}/byteorder"), b"little");
    for (key, raw) in storages {
        add(format!("{dir}/data/{key}"), raw);
    }
    zip.finish().unwrap().into_inner()
}

pub fn f16_bytes(values: &[f32]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
        .collect()
}

/// A fresh scratch directory for one test.
pub fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("effnet-ckpt-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `bytes` to `dir/name` and returns the path.
pub fn write(dir: &std::path::Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}
