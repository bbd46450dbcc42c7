//! The MindSpore `.ckpt` reader on raw bytes (no format sniffing in front of it): the protobuf
//! walk, the CRC trailer, joining split tensors, shape checks, conversion to f32.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = effnet::checkpoint::fuzzing::mindspore(data);
});
