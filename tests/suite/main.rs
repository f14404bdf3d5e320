//! The integration tests of losskit, in one test binary.
//!
//! The kernels are compiled once, in losskit (ARCHITECTURE.md, "Kernels compiled once"), but
//! the thin generic layer above them (validation, the reduction, the traits' verbs) is
//! instantiated by every test binary for every loss it calls: as a binary of its own, the
//! conformance modules alone took 262 s to compile beside the rest's 273 s, where this one
//! binary takes 232 s. Each module is one concern; run one with
//! `cargo test --test suite -- <module>::`.

mod accuracy;
mod barron_properties;
mod common;
mod compiled_once;
mod conformance_barron;
mod conformance_classification;
mod conformance_extra;
mod conformance_regression;
mod conformance_softmax;
mod driver_edges;
mod fuzz_findings;
mod fuzz_replay;
mod no_alloc;
mod pointwise_properties;
mod pointwise_proptest;
mod row_errors;
mod row_registry;
mod softmax_properties;
