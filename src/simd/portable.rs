//! The portable backend: `wide`'s f32x8 and f64x4 where the target has SIMD, one-lane
//! vectors (`scalar.rs`) where it has none.
//!
//! `wide` picks its representation from the build's `cfg(target_feature)`: SSE2 on a default
//! x86_64 build, AVX2 with `-C target-cpu=x86-64-v3`, NEON on aarch64, simd128 on wasm, and
//! plain arrays elsewhere. On those other targets (Cortex-M, 32-bit ARM, RISC-V, …) the
//! arrays would repeat every lane formula eight times, so the portable backend uses one-lane
//! vectors there instead (also with `--cfg losskit_scalar_lanes`, which tests that code on
//! any host). It needs no run-time detection, so its token can be made anywhere.

/// The portable backend token. Always available.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Portable;
