//! Properties of every pointwise loss in the registry, on every backend, f32 and f64:
//! agreement with the f64 oracle over every length `0..=4·16+3` and start offset (tails,
//! misalignment), large inputs, finite differences of the oracle for gradients and of the
//! gradient for Hessians, weights, accumulate mode, and the error contract. Inputs are
//! drawn on each loss's domain (the registry's [`Domain`]: reals, probabilities, `[0, 1]`
//! targets, `±1` labels).

use crate::common::{MAGNITUDES, Rng, backends, cast};
use losskit::prelude::*;
use losskit::reference::Domain;

/// Residual-like data straddling the kinks of Huber/quantile: ±3 with a few far ones.
trait Residuals {
    fn data(&mut self, n: usize) -> Vec<f64>;
}

impl Residuals for Rng {
    fn data(&mut self, n: usize) -> Vec<f64> {
        (0..n)
            .map(|_| {
                let x = 3.0 * self.unit();
                if self.bits().is_multiple_of(17) {
                    x * 40.0
                } else {
                    x
                }
            })
            .collect()
    }
}

const MAX_LANES: usize = 16;

/// Moves generated data onto the loss's domain (`Domain::place`).
fn in_domain<F: Float>(domain: Domain, p: &mut [F], t: &mut [F]) {
    for (p, t) in p.iter_mut().zip(t.iter_mut()) {
        let (a, b) = domain.place(p.to_f64(), t.to_f64());
        (*p, *t) = (F::from_f64(a), F::from_f64(b));
    }
}

/// Tolerance of a result against the oracle: f64 ~1e-12 relative to the magnitudes summed,
/// f32 ~ a few f32 ulps of the same (inputs are first rounded to f32, and the oracle runs on
/// those rounded inputs, so the difference is the kernel's own error).
fn tol<F: Float>(magnitude: f64) -> f64 {
    let eps = if F::MANTISSA_DIGITS == 24 {
        1e-5
    } else {
        1e-12
    };
    eps * magnitude.max(1e-30)
}

/// `got` agrees with the oracle's `want`: within `tol`, or the correctly signed infinity
/// where `want` is beyond the precision's range.
fn agrees<F: Float>(got: f64, want: f64, tol: f64) -> bool {
    let max = if F::MANTISSA_DIGITS == 24 {
        f32::MAX as f64
    } else {
        f64::MAX
    };
    if want.abs() > max {
        got == want.signum() * f64::INFINITY
    } else {
        (got - want).abs() <= tol
    }
}

fn check_against_oracle<L: PointwiseLoss, F: Float>(
    name: &str,
    loss: L,
    oracle: fn(f64, f64) -> f64,
    domain: Domain,
) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let lens: Vec<usize> = (0..=4 * MAX_LANES + 3)
        .chain([2047, 2048, 2049, 100_003])
        .collect();
    for backend in backends() {
        let l = loss.on(backend).unwrap();
        for &n in &lens {
            let offsets = if n > 1000 { 0..2 } else { 0..MAX_LANES };
            for off in offsets {
                let mut pbuf: Vec<F> = cast(&rng.data(n + off));
                let mut tbuf: Vec<F> = cast(&rng.data(n + off));
                in_domain(domain, &mut pbuf, &mut tbuf);
                let (p, t) = (&pbuf[off..], &tbuf[off..]);
                if n == 0 {
                    assert_eq!(l.value(p, t, None, Reduction::Sum), Err(Error::Empty));
                    continue;
                }
                let pf: Vec<f64> = p.iter().map(|x| x.to_f64()).collect();
                let tf: Vec<f64> = t.iter().map(|x| x.to_f64()).collect();
                let terms: Vec<f64> = pf.iter().zip(&tf).map(|(&a, &b)| oracle(a, b)).collect();
                let want: f64 = terms.iter().sum();
                let mag: f64 = terms.iter().map(|x| x.abs()).sum();
                let got = l.value(p, t, None, Reduction::Sum).unwrap().to_f64();
                assert!(
                    agrees::<F>(got, want, tol::<F>(mag)),
                    "{name} [{backend}] n={n} off={off}: sum {got} vs {want}"
                );
                let mean = l.value(p, t, None, Reduction::Mean).unwrap().to_f64();
                // Terms are computed in the input precision: a term beyond its range makes the
                // mean infinite even where the exact mean would fit.
                let max = if F::MANTISSA_DIGITS == 24 {
                    f32::MAX as f64
                } else {
                    f64::MAX
                };
                let want_mean = if terms.iter().any(|x| x.abs() > max) {
                    want * f64::INFINITY
                } else {
                    want / n as f64
                };
                assert!(
                    agrees::<F>(mean, want_mean, tol::<F>(mag / n as f64)),
                    "{name} mean {mean} vs {want_mean}"
                );
                // Elementwise, and value_and_grad's value bit-equal to value.
                let mut out = vec![F::ZERO; n + off];
                l.value_elementwise(p, t, None, &mut out[off..]).unwrap();
                // Scale-aware: a term that is a small difference of large parts (Poisson's
                // e^p − t·p) is as accurate as its parts, not relative to itself.
                let scale =
                    terms.iter().fold(
                        0.0f64,
                        |m, x| if x.abs() < 1e30 { m.max(x.abs()) } else { m },
                    );
                for i in 0..n {
                    let (g, w) = (out[off + i].to_f64(), terms[i]);
                    assert!(
                        agrees::<F>(g, w, tol::<F>(w.abs().max(scale))),
                        "{name} [{backend}] elem {i}: {g} vs {w}"
                    );
                }
                assert!(
                    out[..off].iter().all(|x| x.to_f64() == 0.0),
                    "{name}: wrote before the slice"
                );
                let mut g = vec![F::ZERO; n];
                let v2 = l
                    .value_and_grad(p, t, None, Reduction::Sum, &mut g[..])
                    .unwrap();
                assert_eq!(
                    v2.to_f64().to_bits(),
                    got.to_bits(),
                    "{name} value_and_grad value"
                );
                // The fused gradient equals the separate one bit for bit, and both agree
                // with the f64 kernel (finite-difference checked in `check_derivatives`)
                // at every element, as does the Hessian diagonal.
                let mut g_alone = vec![F::ZERO; n];
                l.grad(p, t, None, Reduction::Sum, &mut g_alone[..])
                    .unwrap();
                assert!(
                    g.iter()
                        .zip(&g_alone)
                        .all(|(a, b)| a.to_f64().to_bits() == b.to_f64().to_bits()),
                    "{name} [{backend}] n={n} off={off}: value_and_grad's gradient differs from grad's"
                );
                let mut h = vec![F::ZERO; n];
                l.hessian_diag(p, t, None, Reduction::Sum, &mut h[..])
                    .unwrap();
                check_derivative_arrays::<L, F>(name, backend, loss, &pf, &tf, &g, &h, n, off);
            }
        }
    }
}

/// `grad` and `hess` (from the kernel in precision `F` on `backend`) against the f64 kernel
/// on the portable backend, one element per call (each element then runs through the
/// padded tail, not the unrolled body), on the same `F`-rounded inputs `pf`, `tf`: within
/// the precision's tolerance relative to the element or to the array's largest finite
/// entry (a derivative that is a small difference of large parts, like Poisson's
/// `eᵖ − t`, is as accurate as its parts), or the correctly signed infinity where the f64
/// value is beyond `F`'s range.
#[allow(clippy::too_many_arguments)]
fn check_derivative_arrays<L: PointwiseLoss, F: Float>(
    name: &str,
    backend: Backend,
    loss: L,
    pf: &[f64],
    tf: &[f64],
    g: &[F],
    h: &[F],
    n: usize,
    off: usize,
) {
    let reference = loss.on(Backend::Portable).unwrap();
    let mut want_g = vec![0.0f64; n];
    let mut want_h = vec![0.0f64; n];
    for i in 0..n {
        let (p1, t1) = (&pf[i..=i], &tf[i..=i]);
        reference
            .grad(p1, t1, None, Reduction::Sum, &mut want_g[i..=i])
            .unwrap();
        reference
            .hessian_diag(p1, t1, None, Reduction::Sum, &mut want_h[i..=i])
            .unwrap();
    }
    for (what, got, want) in [("grad", g, &want_g), ("hess", h, &want_h)] {
        let scale = want.iter().fold(
            0.0f64,
            |m, x| if x.abs() < 1e30 { m.max(x.abs()) } else { m },
        );
        for i in 0..n {
            let (x, w) = (got[i].to_f64(), want[i]);
            assert!(
                agrees::<F>(x, w, tol::<F>(w.abs().max(scale))),
                "{name} [{backend}] n={n} off={off} {what}[{i}] at p={} t={}: {x:e} vs f64 {w:e}",
                pf[i],
                tf[i]
            );
        }
    }
}

/// Central differences of the oracle (f64) against the kernel's gradient, and of the
/// kernel's gradient against its Hessian diagonal, away from kinks.
fn check_derivatives<L: PointwiseLoss>(
    name: &str,
    loss: L,
    oracle: fn(f64, f64) -> f64,
    domain: Domain,
) {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for backend in backends() {
        let l = loss.on(backend).unwrap();
        let mut p = rng.data(257);
        let mut t = rng.data(257);
        in_domain(domain, &mut p, &mut t);
        let mut g = vec![0.0f64; 257];
        let mut h = vec![0.0f64; 257];
        l.grad(&p, &t, None, Reduction::Sum, &mut g[..]).unwrap();
        l.hessian_diag(&p, &t, None, Reduction::Sum, &mut h[..])
            .unwrap();
        for i in 0..p.len() {
            let step = 1e-6 * p[i].abs().max(1.0);
            let fd = (oracle(p[i] + step, t[i]) - oracle(p[i] - step, t[i])) / (2.0 * step);
            // Near a kink the difference straddles it: skip those points.
            let kink = [
                p[i] - t[i],
                p[i] - t[i] - 1.0,
                p[i] - t[i] + 1.0,
                p[i] - t[i] - 0.5,
                p[i] - t[i] + 0.5,
            ];
            if (domain == Domain::Real && kink.iter().any(|k| k.abs() < 1e-3))
                || domain.near_kink(p[i], t[i], step)
            {
                continue;
            }
            assert!(
                (fd - g[i]).abs() <= 1e-6 * fd.abs().max(1.0),
                "{name} [{backend}] grad[{i}] {} vs fd {fd}",
                g[i]
            );
            let gp = {
                let mut o = [0.0];
                l.grad(&[p[i] + step], &[t[i]], None, Reduction::Sum, &mut o[..])
                    .unwrap();
                o[0]
            };
            let gm = {
                let mut o = [0.0];
                l.grad(&[p[i] - step], &[t[i]], None, Reduction::Sum, &mut o[..])
                    .unwrap();
                o[0]
            };
            let fd2 = (gp - gm) / (2.0 * step);
            assert!(
                (fd2 - h[i]).abs() <= 1e-5 * fd2.abs().max(1.0),
                "{name} [{backend}] hess[{i}] {} vs fd {fd2}",
                h[i]
            );
        }
    }
}

/// Weights multiply each term and leave the mean's divisor alone; `Out::add` accumulates.
fn check_weights_and_accumulate<L: PointwiseLoss>(name: &str, loss: L, domain: Domain) {
    let mut rng = Rng(77);
    for backend in backends() {
        let l = loss.on(backend).unwrap();
        let n = 1000;
        let (mut p, mut t, w) = (rng.data(n), rng.data(n), rng.data(n));
        in_domain(domain, &mut p, &mut t);
        let mut elem = vec![0.0; n];
        l.value_elementwise(&p, &t, None, &mut elem).unwrap();
        let want: f64 = elem.iter().zip(&w).map(|(e, w)| e * w).sum::<f64>() / n as f64;
        let got = l.value(&p, &t, Some(&w), Reduction::Mean).unwrap();
        assert!(
            (got - want).abs() <= 1e-12 * want.abs().max(1.0),
            "{name} weighted mean"
        );
        let mut g = vec![0.0; n];
        l.grad(&p, &t, None, Reduction::Mean, &mut g[..]).unwrap();
        let mut gw = vec![0.0; n];
        l.grad(&p, &t, Some(&w), Reduction::Mean, &mut gw[..])
            .unwrap();
        for i in 0..n {
            let want = g[i] * w[i];
            assert!(
                (gw[i] - want).abs() <= 1e-15 * want.abs() + 1e-300,
                "{name} weighted grad"
            );
        }
        // Accumulate: g_acc = base + grad, bit for bit.
        let base: Vec<f64> = rng.data(n);
        let mut acc = base.clone();
        l.grad(&p, &t, None, Reduction::Mean, Out::add(&mut acc))
            .unwrap();
        for i in 0..n {
            assert_eq!(
                acc[i].to_bits(),
                (base[i] + g[i]).to_bits(),
                "{name} accumulate"
            );
        }
        // Divisor: the same as Mean with d = n.
        let d = l.value(&p, &t, None, Reduction::Divisor(n as f64)).unwrap();
        let m = l.value(&p, &t, None, Reduction::Mean).unwrap();
        assert_eq!(d.to_bits(), m.to_bits(), "{name} divisor");
    }
}

/// Errors: length mismatch and bad divisor write nothing; a NaN or ∞ at any position of any
/// input is reported with its index; write-mode outputs are then zero, add-mode outputs
/// untouched; an input outside a classification domain is `InvalidInput` at its index.
fn check_errors<L: PointwiseLoss>(name: &str, loss: L, domain: Domain) {
    // Valid inputs to plant the bad values among.
    let (p0, t0) = domain.place(0.5, 0.25);
    let (p0, t0) = (p0 as f32, t0 as f32);
    for backend in backends() {
        let l = loss.on(backend).unwrap();
        let sentinel = 42.0f32;
        let mut g = [sentinel; 5];
        assert!(matches!(
            l.grad(&[1.0f32; 5], &[1.0; 4], None, Reduction::Sum, &mut g[..]),
            Err(Error::LengthMismatch {
                name: "target",
                expected: 5,
                found: 4
            })
        ));
        assert!(matches!(
            l.grad(
                &[1.0f32; 5],
                &[1.0; 5],
                Some(&[1.0; 3]),
                Reduction::Sum,
                &mut g[..]
            ),
            Err(Error::LengthMismatch { name: "weight", .. })
        ));
        assert!(matches!(
            l.grad(
                &[1.0f32; 5],
                &[1.0; 5],
                None,
                Reduction::Divisor(0.0),
                &mut g[..]
            ),
            Err(Error::InvalidParameter {
                name: "reduction",
                ..
            })
        ));
        assert!(
            g.iter().all(|&x| x == sentinel),
            "{name}: wrote on a validation error"
        );
        for n in [1usize, 7, 16, 35, 2049] {
            for pos in [0, n / 2, n - 1] {
                for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                    for (which, input) in [("pred", 0), ("target", 1), ("weight", 2)] {
                        let mut p = vec![p0; n];
                        let mut t = vec![t0; n];
                        let mut w = vec![1.0f32; n];
                        [&mut p, &mut t, &mut w][input][pos] = bad;
                        let e = l.value(&p, &t, Some(&w), Reduction::Mean);
                        assert_eq!(
                            e,
                            Err(Error::NonFinite {
                                name: which,
                                index: pos
                            }),
                            "{name} [{backend}] value n={n}"
                        );
                        let mut g = vec![sentinel; n];
                        let e = l.value_and_grad(&p, &t, Some(&w), Reduction::Mean, &mut g[..]);
                        assert_eq!(
                            e,
                            Err(Error::NonFinite {
                                name: which,
                                index: pos
                            })
                        );
                        assert!(
                            g.iter().all(|&x| x == 0.0),
                            "{name}: write mode not reset on error"
                        );
                        let mut g = vec![sentinel; n];
                        let e = l.grad(&p, &t, Some(&w), Reduction::Mean, Out::add(&mut g));
                        assert_eq!(
                            e,
                            Err(Error::NonFinite {
                                name: which,
                                index: pos
                            })
                        );
                        assert!(
                            g.iter().all(|&x| x == sentinel),
                            "{name}: add mode touched on error"
                        );
                    }
                }
            }
        }
        // Out of the domain: a target off [0, 1] or ±1 (and a probability off [0, 1]).
        let outside: &[(&str, usize, f32)] = match domain {
            Domain::Real => &[],
            Domain::Count => &[("target", 1, -0.5), ("target", 1, -f32::MIN_POSITIVE)],
            Domain::Positive => &[("target", 1, 0.0), ("target", 1, -0.0), ("target", 1, -2.0)],
            Domain::Probability => &[("target", 1, 1.5), ("pred", 0, -0.25), ("pred", 0, 2.0)],
            Domain::Logit => &[("target", 1, -0.5), ("target", 1, 1.0 + f32::EPSILON)],
            Domain::Sign => &[("target", 1, 0.0), ("target", 1, 0.5), ("target", 1, -3.0)],
            // KL divergence: only a negative target is outside (log-probabilities and targets
            // above 1 are accepted).
            Domain::LogProbability => &[("target", 1, -0.5), ("target", 1, -f32::MIN_POSITIVE)],
        };
        for &(which, input, v) in outside {
            for n in [1usize, 9, 35] {
                let pos = n / 2;
                let mut p = vec![p0; n];
                let mut t = vec![t0; n];
                [&mut p, &mut t][input][pos] = v;
                let mut g = vec![sentinel; n];
                let e = l.value_and_grad(&p, &t, None, Reduction::Sum, &mut g[..]);
                assert_eq!(
                    e,
                    Err(Error::InvalidInput {
                        name: which,
                        index: pos
                    }),
                    "{name} [{backend}] {which}={v}"
                );
                assert!(g.iter().all(|&x| x == 0.0), "{name}: not reset");
            }
        }
    }
}

/// Finite inputs of any magnitude never give NaN (values and gradients), in f32.
fn check_extremes<L: PointwiseLoss>(name: &str, loss: L, domain: Domain) {
    let mags = MAGNITUDES;
    let mut vals = Vec::new();
    for &m in &mags {
        vals.push(m);
        vals.push(-m);
    }
    let mut p = Vec::new();
    let mut t = Vec::new();
    for &a in &vals {
        for &b in &vals {
            p.push(a);
            t.push(b);
        }
    }
    in_domain(domain, &mut p, &mut t);
    for backend in backends() {
        let l = loss.on(backend).unwrap();
        let mut g = vec![0.0f32; p.len()];
        let mut e = vec![0.0f32; p.len()];
        let mut h = vec![0.0f32; p.len()];
        let v = l
            .value_and_grad(&p, &t, None, Reduction::Mean, &mut g[..])
            .unwrap();
        l.value_elementwise(&p, &t, None, &mut e).unwrap();
        // Terms are computed in the input precision: only when terms overflowed to
        // infinities of both signs (Poisson with counts near f32::MAX) is their sum NaN.
        let both = e.contains(&f32::INFINITY) && e.contains(&f32::NEG_INFINITY);
        assert!(!v.is_nan() || both, "{name} [{backend}] value NaN");
        l.hessian_diag(&p, &t, None, Reduction::Mean, &mut h[..])
            .unwrap();
        for i in 0..p.len() {
            assert!(
                !g[i].is_nan(),
                "{name} [{backend}] grad NaN at p={} t={}",
                p[i],
                t[i]
            );
            assert!(
                !e[i].is_nan(),
                "{name} [{backend}] value NaN at p={} t={}",
                p[i],
                t[i]
            );
            assert!(
                !h[i].is_nan(),
                "{name} [{backend}] hess NaN at p={} t={}",
                p[i],
                t[i]
            );
        }
    }
}

macro_rules! property_tests {
    ($(($name:ident, $loss:expr, $oracle:expr, $domain:expr $(, $from:expr)?)),* $(,)?) => {
        #[test]
        fn matches_oracle_on_every_length_offset_backend() {
            $(
                check_against_oracle::<_, f64>(stringify!($name), $loss, $oracle, $domain);
                check_against_oracle::<_, f32>(stringify!($name), $loss, $oracle, $domain);
            )*
        }
        #[test]
        fn gradients_and_hessians_match_finite_differences() {
            $( check_derivatives(stringify!($name), $loss, $oracle, $domain); )*
        }
        #[test]
        fn weights_divisor_and_accumulate_mode() {
            $( check_weights_and_accumulate(stringify!($name), $loss, $domain); )*
        }
        #[test]
        fn errors_locate_invalid_inputs_and_keep_outputs_consistent() {
            $( check_errors(stringify!($name), $loss, $domain); )*
        }
        #[test]
        fn finite_inputs_of_any_magnitude_never_give_nan() {
            $( check_extremes(stringify!($name), $loss, $domain); )*
        }
    };
}

losskit::for_each_pointwise_loss!(property_tests);

/// The same properties for configurations the registry does not list (it holds one instance
/// per loss): the deviance forms of the Tweedie and gamma losses, whose value is evaluated
/// differently from their likelihoods'.
mod other_configurations {
    use super::*;
    use losskit::reference::regression::{gamma, tweedie};

    property_tests! {
        (tweedie_deviance, Tweedie { power: 1.7, deviance: true },
            |p, t| tweedie(p, t, 1.7, true), Domain::Count),
        (tweedie_deviance_near_1, Tweedie { power: 1.05, deviance: true },
            |p, t| tweedie(p, t, 1.05, true), Domain::Count),
        (gamma_deviance, Gamma { deviance: true }, |p, t| gamma(p, t, true), Domain::Positive),
    }
}

/// Smooth L1 with a tiny `β` in f32: the quadratic branch is `½·r·(r/β)`, so a term whose
/// value is a normal f32 number does not underflow through `r²` (PyTorch's `½·r²/β` gives 0
/// for `β = 1e-30`, `r = 1e-31`); and a subnormal `β`, whose `1/β` overflows f32, still gives
/// the finite gradient `r/β` (not `±∞`).
#[test]
fn smooth_l1_with_a_tiny_beta_keeps_its_quadratic_branch_in_f32() {
    for backend in backends() {
        let close = |what: &str, got: f32, want: f64, tol: f64| {
            let rel = (got as f64 - want).abs() / want.abs();
            assert!(rel <= tol, "{what} on {backend:?}: {got:e}, want {want:e}");
        };
        let l = SmoothL1 { beta: 1e-30 }.on(backend).unwrap();
        let (p, t) = ([1e-31f32, -3e-31, 2e-30], [0.0f32; 3]);
        let mut g = [0.0f32; 3];
        let v = l
            .value_and_grad(&p, &t, None, Reduction::Sum, &mut g)
            .unwrap();
        close("sum", v, 5e-33 + 4.5e-32 + 1.5e-30, 1e-6);
        let mut each = [0.0f32; 3];
        l.value_elementwise(&p, &t, None, &mut each).unwrap();
        for (i, (&pi, &want)) in p.iter().zip(&[5e-33, 4.5e-32, 1.5e-30]).enumerate() {
            close("value", each[i], want, 1e-6);
            let want_g = if i < 2 { pi as f64 / 1e-30 } else { 1.0 };
            close("grad", g[i], want_g, 1e-6);
        }
        // β = 1e-40 is subnormal in f32 (1/β = 1e40 overflows): u = r/β stays finite.
        let l = SmoothL1 { beta: 1e-40 }.on(backend).unwrap();
        let mut g = [0.0f32; 1];
        l.grad(&[5e-41f32], &[0.0], None, Reduction::Sum, &mut g)
            .unwrap();
        close("grad at a subnormal beta", g[0], 0.5, 1e-3);
        let v = l.value(&[5e-41f32], &[0.0], None, Reduction::Sum).unwrap();
        close("value at a subnormal beta", v, 1.25e-41, 1e-3);
    }
}
