#![no_main]
//! The `multilabel` target: see `losskit_fuzz::checks::multilabel`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| losskit_fuzz::checks::multilabel::run(data));
