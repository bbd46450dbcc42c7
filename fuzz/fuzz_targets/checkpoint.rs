//! Any bytes through the format sniffing and whichever reader it picks, as `Model::from_file`
//! would see them.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = effnet::checkpoint::load_bytes(std::path::Path::new("fuzz"), data);
});
