#![no_main]
//! The `rows` target: see `losskit_fuzz::checks::rows`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| losskit_fuzz::checks::rows::run(data));
