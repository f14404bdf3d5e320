//! The checks of losskit's fuzz targets (`fuzz_targets/`), in a library so that the main
//! test suite can mount the same files (`tests/suite/fuzz_replay.rs`,
//! `capi/tests/fuzz_replay.rs`) and replay the committed corpora and every past finding as
//! ordinary tests, on a machine without cargo-fuzz. Nothing here uses libfuzzer-sys.

pub mod capi;
pub mod checks;
pub mod input;
