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

mod common;
mod conformance_barron;
mod conformance_classification;
mod conformance_extra;
mod conformance_regression;
mod conformance_softmax;

/// The modules left out with `--cfg losskit_conformance_only`.
macro_rules! beside_the_conformance_vectors {
    ($($module:ident),* $(,)?) => {
        $(
            #[cfg(not(losskit_conformance_only))]
            mod $module;
        )*
    };
}
beside_the_conformance_vectors!(
    accuracy,
    barron_properties,
    compiled_once,
    driver_edges,
    fuzz_findings,
    fuzz_replay,
    no_alloc,
    pointwise_properties,
    pointwise_proptest,
    row_errors,
    row_registry,
    softmax_properties,
);
