//! The integration tests of losskit, in one test binary.
//!
//! The kernels are compiled once, in losskit (ARCHITECTURE.md, "Kernels compiled once"), but
//! the thin generic layer above them (validation, the reduction, the traits' verbs) is
//! instantiated by every test binary for every loss it calls: as a binary of its own, the
//! conformance modules alone took 262 s to compile beside the rest's 273 s, where this one
//! binary takes 232 s. Each module is one concern; run one with
//! `cargo test --test suite -- <module>::`.
//!
//! With `--cfg losskit_conformance_only` (CI's second configuration, which runs only the
//! conformance vectors: `.ci/run`) the binary holds the conformance modules alone, so that
//! configuration does not compile the rest for nothing.
#![cfg_attr(losskit_conformance_only, allow(dead_code, unused_imports))]

#[cfg(not(losskit_conformance_only))]
mod accuracy;
#[cfg(not(losskit_conformance_only))]
mod barron_properties;
mod common;
#[cfg(not(losskit_conformance_only))]
mod compiled_once;
mod conformance_barron;
mod conformance_classification;
mod conformance_extra;
mod conformance_regression;
mod conformance_softmax;
#[cfg(not(losskit_conformance_only))]
mod driver_edges;
#[cfg(not(losskit_conformance_only))]
mod fuzz_findings;
#[cfg(not(losskit_conformance_only))]
mod fuzz_replay;
#[cfg(not(losskit_conformance_only))]
mod no_alloc;
#[cfg(not(losskit_conformance_only))]
mod pointwise_properties;
#[cfg(not(losskit_conformance_only))]
mod pointwise_proptest;
#[cfg(not(losskit_conformance_only))]
mod row_errors;
#[cfg(not(losskit_conformance_only))]
mod row_registry;
#[cfg(not(losskit_conformance_only))]
mod softmax_properties;
