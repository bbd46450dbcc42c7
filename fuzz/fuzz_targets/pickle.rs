//! The legacy `.pth` reader: magic-number pickle, protocol pickle, the state-dict pickle and
//! storage blobs, all through the restricted unpickler.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = effnet::checkpoint::fuzzing::torch_legacy(data);
});
