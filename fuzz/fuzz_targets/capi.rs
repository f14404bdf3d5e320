#![no_main]
//! The `capi` target: see `losskit_fuzz::capi`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| losskit_fuzz::capi::run(data));
