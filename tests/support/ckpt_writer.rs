//! Hand-built MindSpore `.ckpt` files for tests/mindspore_ckpt.rs: a protobuf writer just
//! large enough for checkpoint.proto, so no binary fixture beyond the real one is committed.

#![allow(dead_code)]

pub fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub fn field(out: &mut Vec<u8>, number: u64, bytes: &[u8]) {
    varint(out, number << 3 | 2);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// One top-level `Value` (field 1 of `Checkpoint`) holding a tensor.
pub fn entry(tag: &str, dims: &[i64], packed: bool, dtype: &str, content: &[u8]) -> Vec<u8> {
    let mut tensor = Vec::new();
    if packed {
        let mut list = Vec::new();
        dims.iter().for_each(|&d| varint(&mut list, d as u64));
        field(&mut tensor, 1, &list);
    } else {
        for &d in dims {
            varint(&mut tensor, 1 << 3);
            varint(&mut tensor, d as u64);
        }
    }
    field(&mut tensor, 2, dtype.as_bytes());
    field(&mut tensor, 3, content);
    let mut value = Vec::new();
    field(&mut value, 1, tag.as_bytes());
    field(&mut value, 2, &tensor);
    let mut out = Vec::new();
    field(&mut out, 1, &value);
    out
}

pub fn f32_entry(tag: &str, dims: &[i64], values: &[f32]) -> Vec<u8> {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    entry(tag, dims, false, "Float32", &bytes)
}

/// A small valid file: a conv weight and a BN gamma.
pub fn small() -> Vec<u8> {
    let w: Vec<f32> = (0..8).map(|i| i as f32 * 0.5).collect();
    [
        f32_entry("net.conv.weight", &[2, 1, 2, 2], &w),
        f32_entry("net.bn.gamma", &[2], &[1.0, 2.0]),
    ]
    .concat()
}

/// CRC-32 as Python's `binascii.crc32`, which MindSpore's `crc_check` trailer holds.
pub fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}
