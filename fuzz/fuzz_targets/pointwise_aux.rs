#![no_main]
//! The `pointwise_aux` target: see `losskit_fuzz::checks::pointwise_aux`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| losskit_fuzz::checks::pointwise_aux::run(data));
