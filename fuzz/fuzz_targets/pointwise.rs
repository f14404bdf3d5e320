#![no_main]
//! The `pointwise` target: see `losskit_fuzz::checks::pointwise`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| losskit_fuzz::checks::pointwise::run(data));
