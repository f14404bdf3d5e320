//! Which backend runs: detected once, cached, and skipped when the build already knows.
//!
//! Detection uses `cpufeatures` (no_std, checks OS support for the wide registers, caches the
//! answer in an atomic). When the build's `cfg(target_feature)` already guarantees a tier,
//! `cpufeatures` compiles the check to a constant, so no detection runs at all.
//!
//! `--cfg losskit_force_portable` (a cfg, not a Cargo feature, so no dependency can turn it
//! on by accident) makes [`Backend::active`] return [`Backend::Portable`]. Tests and benches
//! pick any backend explicitly with [`Backend::available`] and the losses' `on(backend)`
//! adapters.
//!
//! Under Miri there is no `cpuid`: `cpufeatures` then answers from the build's target
//! features alone (its `miri` module), so a plain Miri run has the portable backend only,
//! and one built with `-C target-feature=+avx2,+fma` has the AVX2 backend too, which is how
//! `scripts/miri` interprets the AVX2 intrinsics (masked tail loads and stores included).

#[cfg(target_arch = "x86_64")]
cpufeatures::new!(has_avx2_fma, "avx2", "fma");
#[cfg(target_arch = "x86_64")]
cpufeatures::new!(has_avx512f, "avx512f");

/// A SIMD backend: an instruction-set tier the kernels can run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// `wide`-based code, compiled for whatever the build's target features are
    /// (SSE2 on a default x86_64 build, NEON on aarch64, scalar arrays on Cortex-M).
    Portable,
    /// x86_64 AVX2 + FMA, 256-bit lanes (8 × f32, 4 × f64).
    Avx2,
    /// x86_64 AVX-512F, 512-bit lanes (16 × f32, 8 × f64).
    Avx512,
}

impl Backend {
    /// Every backend this crate has, in order of preference (fastest last).
    pub const ALL: [Backend; 3] = [Backend::Portable, Backend::Avx2, Backend::Avx512];

    /// The backend the losses use by default: the widest one this CPU supports, unless the
    /// build was made with `--cfg losskit_force_portable`.
    #[inline]
    pub fn active() -> Backend {
        if cfg!(losskit_force_portable) {
            return Backend::Portable;
        }
        if Backend::Avx512.is_available() {
            Backend::Avx512
        } else if Backend::Avx2.is_available() {
            Backend::Avx2
        } else {
            Backend::Portable
        }
    }

    /// Whether this CPU (and OS) can run the backend. The answer is cached after the first call.
    #[inline]
    pub fn is_available(self) -> bool {
        match self {
            Backend::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Backend::Avx2 => has_avx2_fma::get(),
            #[cfg(target_arch = "x86_64")]
            Backend::Avx512 => has_avx512f::get() && has_avx2_fma::get(),
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The backends this CPU can run, for tests and benches that sweep all of them.
    pub fn available() -> impl Iterator<Item = Backend> {
        Backend::ALL.into_iter().filter(|b| b.is_available())
    }

    /// A short lower-case name: `"portable"`, `"avx2"`, `"avx512"`.
    pub const fn name(self) -> &'static str {
        match self {
            Backend::Portable => "portable",
            Backend::Avx2 => "avx2",
            Backend::Avx512 => "avx512",
        }
    }
}

/// Parses a backend's [`name`](Backend::name) (ASCII case-insensitive), e.g. from a
/// command-line flag or an environment variable. Whether this CPU can run it is a separate
/// question: pin it with a loss's `on(backend)`, which fails on a CPU without it.
///
/// ```
/// use losskit::Backend;
/// assert_eq!("AVX2".parse::<Backend>(), Ok(Backend::Avx2));
/// assert!("sse9".parse::<Backend>().is_err());
/// ```
impl core::str::FromStr for Backend {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<Backend> {
        Backend::ALL
            .into_iter()
            .find(|b| b.name().eq_ignore_ascii_case(s))
            .ok_or(crate::Error::InvalidParameter {
                name: "backend",
                rule: "must be one of portable, avx2, avx512",
            })
    }
}

impl core::fmt::Display for Backend {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}
