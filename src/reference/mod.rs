//! The naive f64 oracle: one function per loss, written from the formula in the simplest
//! scalar way, sharing no code with the kernels (`cfg(test)` or feature `reference`).
//!
//! Each returns the per-element value `ℓ`; tests take derivatives of these by central
//! finite differences, so the oracle never repeats a kernel's closed-form gradient.

pub mod classification;
pub mod regression;
pub mod softmax;

pub use crate::registry::Domain;

impl Domain {
    /// Maps an arbitrary real pair into the domain, deterministically: a probability is
    /// `σ(p)` (0 and 1 for large `|p|`), a log-probability `−|p|`, a `[0, 1]` target (also a
    /// KL target) is `(t + 1)/2` clamped (a third each of 0, 1 and soft for `t` uniform on
    /// `[−3, 3]`), a label is the sign of `t` (+1 for 0), a count is `|t|`, a positive
    /// target `|t|` (1 for 0). `Real` leaves the pair alone.
    pub fn place(self, p: f64, t: f64) -> (f64, f64) {
        let unit = |t: f64| (0.5 * t + 0.5).clamp(0.0, 1.0);
        match self {
            Domain::Real => (p, t),
            Domain::Count => (p, libm::fabs(t)),
            Domain::Positive => (p, if t == 0.0 { 1.0 } else { libm::fabs(t) }),
            Domain::Probability => (1.0 / (1.0 + libm::exp(-p)), unit(t)),
            Domain::Logit => (p, unit(t)),
            Domain::LogProbability => (-libm::fabs(p), unit(t)),
            Domain::Sign => (p, if t < 0.0 { -1.0 } else { 1.0 }),
        }
    }

    /// Whether a central difference with step `h` at `(p, t)` can straddle a kink or leave
    /// the domain (then tests skip the point). `Real` is handled by the tests, which know
    /// the regression kinks.
    pub fn near_kink(self, p: f64, t: f64, h: f64) -> bool {
        match self {
            Domain::Real | Domain::Count | Domain::Positive => false,
            Domain::Probability => !(1e-3..=1.0 - 1e-3).contains(&p),
            Domain::Logit | Domain::LogProbability => false,
            // Breakpoints of the margin losses: z = y·x ∈ {−1, 0, 1}.
            Domain::Sign => [-1.0, 0.0, 1.0]
                .iter()
                .any(|k| libm::fabs(t * p - k) < 1e3 * h),
        }
    }
}
