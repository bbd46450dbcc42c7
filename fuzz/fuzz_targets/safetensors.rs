//! The safetensors reader on raw bytes (no format sniffing in front of it).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = effnet::checkpoint::fuzzing::safetensors(data);
});
