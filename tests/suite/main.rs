//! The integration tests of losskit, in one test binary.
//!
//! The kernels are generic (loss × precision × verb × backend), so every crate that calls
//! them compiles its own copies; one binary compiles them once, where seven did it seven
//! times. Each module is one concern; run one with `cargo test --test suite -- <module>::`.

mod barron_properties;
mod common;
mod compiled_once;
mod conformance_barron;
mod conformance_classification;
mod conformance_extra;
mod conformance_regression;
mod conformance_softmax;
mod no_alloc;
mod pointwise_properties;
mod pointwise_proptest;
mod row_errors;
mod row_registry;
mod softmax_properties;
