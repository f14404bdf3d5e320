//! The naive f64 oracle: one function per loss, written from the formula in the simplest
//! scalar way, sharing no code with the kernels (`cfg(test)` or feature `reference`).
//!
//! Each returns the per-element value `ℓ`; tests take derivatives of these by central
//! finite differences, so the oracle never repeats a kernel's closed-form gradient.

pub mod classification;
pub mod regression;
pub mod softmax;

/// The inputs a pointwise loss is defined on, as the registry lists it, so that generic
/// tests can draw valid inputs for every loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    /// Any real prediction and target (the regression losses).
    Real,
    /// A real prediction (a log-rate) and a count target `t ≥ 0` (Poisson NLL; a negative
    /// count is `InvalidInput`).
    Count,
    /// A probability `p ∈ [0, 1]` and a target `y ∈ [0, 1]` (BCE).
    Probability,
    /// A real logit and a target `y ∈ [0, 1]` (BCE with logits, focal).
    Logit,
    /// A real score and a label `y ∈ {−1, +1}` (soft margin, hinge family).
    Sign,
    /// A log-probability `x ≤ 0` and a target probability `t ≥ 0`, drawn in `[0, 1]` (KL
    /// divergence: a negative target is rejected, one above 1 is not, nor is `x > 0`).
    LogProbability,
}

impl Domain {
    /// Maps an arbitrary real pair into the domain, deterministically: a probability is
    /// `σ(p)` (0 and 1 for large `|p|`), a log-probability `−|p|`, a `[0, 1]` target (also a
    /// KL target) is `(t + 1)/2` clamped (a third each of 0, 1 and soft for `t` uniform on
    /// `[−3, 3]`), a label is the sign of `t` (+1 for 0), a count is `|t|`. `Real` leaves the
    /// pair alone.
    pub fn place(self, p: f64, t: f64) -> (f64, f64) {
        let unit = |t: f64| (0.5 * t + 0.5).clamp(0.0, 1.0);
        match self {
            Domain::Real => (p, t),
            Domain::Count => (p, libm::fabs(t)),
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
            Domain::Real | Domain::Count => false,
            Domain::Probability => !(1e-3..=1.0 - 1e-3).contains(&p),
            Domain::Logit | Domain::LogProbability => false,
            // Breakpoints of the margin losses: z = y·x ∈ {−1, 0, 1}.
            Domain::Sign => [-1.0, 0.0, 1.0]
                .iter()
                .any(|k| libm::fabs(t * p - k) < 1e3 * h),
        }
    }
}
