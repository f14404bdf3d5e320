//! Row utilities on the row-softmax driver: `logsumexp`, `softmax`, `log_softmax`.

use crate::shape::dispatch::{Task, task};
use crate::shape::pointwise::On;
use crate::shape::row_checks::{check_len, check_shape};
use crate::shape::row_sweep::{Pass, emit, first_bad, load, neg_inf, row_max, sweep};
use crate::shape::rows::Loss;
use crate::simd::math::exp;
use crate::simd::{Float, Simd, Vector};
use crate::{Backend, Error, Result};

/// What a row utility writes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    /// `out[r] = log Σⱼ exp x[r, j]`.
    LogSumExp,
    /// `out[r, j] = exp(x[r, j] − lse_r)`.
    Softmax,
    /// `out[r, j] = x[r, j] − lse_r`.
    LogSoftmax,
}

/// The row utilities as methods, to pin them to a backend as a loss is pinned:
/// `RowOps.on(backend)?.softmax(..)` ([`Loss::on`]). `RowOps` itself, like the free
/// functions, runs on the best backend.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RowOps;

impl Loss for RowOps {}

struct OpTask<'a, F> {
    op: Op,
    x: &'a [F],
    classes: usize,
    out: &'a mut [F],
}

/// `Σ exp(xⱼ − m)`, storing each term into `out` when it is not empty.
struct ExpSum<'a, V: Vector> {
    x: &'a [V::Elem],
    out: &'a mut [V::Elem],
    m: V,
}

impl<V: Vector> Pass<V, 1> for ExpSum<'_, V> {
    #[inline(always)]
    fn at<const FULL: bool>(&mut self, v: V, i: usize, _n: usize) -> [V; 1] {
        let e = exp(load::<V, FULL>(v, self.x, i, neg_inf::<V::Elem>()).sub(self.m));
        if !self.out.is_empty() {
            emit::<V, FULL>(v, e, self.out, i, false);
        }
        [e]
    }
}

/// `out = (a·src + b) + c` over a row (`src` is `x` for log-softmax, `out` itself for
/// softmax).
struct Affine<'a, V: Vector> {
    x: Option<&'a [V::Elem]>,
    out: &'a mut [V::Elem],
    a: V,
    b: V,
    c: V,
}

impl<V: Vector> Pass<V, 0> for Affine<'_, V> {
    #[inline(always)]
    fn at<const FULL: bool>(&mut self, v: V, i: usize, _n: usize) -> [V; 0] {
        let zero = <V::Elem as Float>::ZERO;
        let src = match self.x {
            Some(x) => load::<V, FULL>(v, x, i, zero),
            None => load::<V, FULL>(v, self.out, i, zero),
        };
        emit::<V, FULL>(
            v,
            src.mul_add(self.a, self.b).add(self.c),
            self.out,
            i,
            false,
        );
        []
    }
}

impl<F: Float> Task for OpTask<'_, F> {
    type Output = Result<()>;
    #[inline(always)]
    fn run<S: Simd>(self, simd: S) -> Result<()> {
        let v = F::lanes(simd);
        let c = self.classes;
        for r in 0..self.x.len() / c {
            let row = &self.x[r * c..(r + 1) * c];
            let (m, ok) = row_max(v, row);
            if !ok {
                return Err(Error::NonFinite {
                    name: "x",
                    index: r * c + first_bad(row).unwrap_or(0),
                });
            }
            let all_masked = m.to_f64() == f64::NEG_INFINITY;
            if all_masked && self.op != Op::LogSumExp {
                return Err(Error::InvalidInput {
                    name: "x",
                    index: r * c,
                });
            }
            let store: &mut [F] = if self.op == Op::Softmax {
                &mut self.out[r * c..(r + 1) * c]
            } else {
                &mut []
            };
            let [s] = if all_masked {
                [0.0]
            } else {
                sweep::<_, _, 1>(
                    v,
                    c,
                    &mut ExpSum {
                        x: row,
                        out: store,
                        m: v.splat(m),
                    },
                )
            };
            let lse = m.to_f64() + libm::log(s);
            match self.op {
                Op::LogSumExp => {
                    self.out[r] = F::from_f64(if all_masked { f64::NEG_INFINITY } else { lse })
                }
                Op::Softmax => {
                    sweep::<_, _, 0>(
                        v,
                        c,
                        &mut Affine {
                            x: None,
                            out: &mut self.out[r * c..(r + 1) * c],
                            a: v.splat(F::from_f64(1.0 / s)),
                            b: v.splat(F::ZERO),
                            c: v.splat(F::ZERO),
                        },
                    );
                }
                Op::LogSoftmax => {
                    // (x − m) − ln S: never lse − x at the logits' own scale.
                    sweep::<_, _, 0>(
                        v,
                        c,
                        &mut Affine {
                            x: Some(row),
                            out: &mut self.out[r * c..(r + 1) * c],
                            a: v.splat(F::ONE),
                            b: v.splat(m).neg(),
                            c: v.splat(F::from_f64(-libm::log(s))),
                        },
                    );
                }
            }
        }
        Ok(())
    }
}

crate::shape::dispatch::compiled_per_precision! {
/// Runs `op` on `backend`.
fn run<F>(backend: Backend, op: Op, x: &[F], classes: usize, out: &mut [F]) -> Result<()> {
    let rows = x.len().checked_div(classes).unwrap_or(0);
    check_shape(x.len(), rows, classes)?;
    let want = if op == Op::LogSumExp { rows } else { x.len() };
    check_len("out", out.len(), want)?;
    let r = task(
        backend,
        OpTask {
            op,
            x,
            classes,
            out: &mut *out,
        },
    )
    .and_then(|r| r);
    if r.is_err() {
        out.fill(F::ZERO);
    }
    r
}
}

/// The utilities on a backend: one definition for [`RowOps`] (the best backend) and
/// `On<RowOps>` (pinned).
macro_rules! row_ops {
    ($ty:ty, $backend:expr) => {
        impl $ty {
            /// `out[r] = log Σⱼ exp x[r, j]` for each row of `x` (`rows × classes`), computed as
            /// `m + log Σ exp(xⱼ − m)`: exact for rows of huge logits, `−∞` for a row of `−∞` only.
            ///
            /// # Errors
            /// Shapes; [`Error::NonFinite`] for NaN or `+∞`. On an error `out` is zeroed.
            pub fn logsumexp<F: Float>(
                &self,
                x: &[F],
                classes: usize,
                out: &mut [F],
            ) -> Result<()> {
                run($backend(self), Op::LogSumExp, x, classes, out)
            }

            /// `out[r, j] = exp(x[r, j] − lse_r)`, each row of `out` summing to 1 (one `exp` per
            /// element). `−∞` entries give exactly 0.
            ///
            /// # Errors
            /// As [`RowOps::logsumexp`], and [`Error::InvalidInput`] for a row of `−∞` only.
            pub fn softmax<F: Float>(&self, x: &[F], classes: usize, out: &mut [F]) -> Result<()> {
                run($backend(self), Op::Softmax, x, classes, out)
            }

            /// `out[r, j] = (x[r, j] − m_r) − log Σ exp(x[r, ·] − m_r)`, never forming `lse − x` at the
            /// scale of the logits (exact for rows like `[1e8, 1e8]`).
            ///
            /// # Errors
            /// As [`RowOps::softmax`].
            pub fn log_softmax<F: Float>(
                &self,
                x: &[F],
                classes: usize,
                out: &mut [F],
            ) -> Result<()> {
                run($backend(self), Op::LogSoftmax, x, classes, out)
            }
        }
    };
}

row_ops!(RowOps, |_: &RowOps| Backend::active());
row_ops!(On<RowOps>, |o: &On<RowOps>| o.pinned_backend());

/// [`RowOps::logsumexp`] on the best backend.
///
/// ```
/// let mut lse = [0.0f32; 1];
/// losskit::loss::softmax::logsumexp(&[1e8f32, 1e8], 2, &mut lse)?;
/// assert_eq!(lse[0], 1e8); // 1e8 + ln 2 rounds to 1e8 in f32
/// # Ok::<(), losskit::Error>(())
/// ```
///
/// # Errors
/// As [`RowOps::logsumexp`].
pub fn logsumexp<F: Float>(x: &[F], classes: usize, out: &mut [F]) -> Result<()> {
    RowOps.logsumexp(x, classes, out)
}

/// [`RowOps::softmax`] on the best backend.
///
/// # Errors
/// As [`RowOps::softmax`].
pub fn softmax<F: Float>(x: &[F], classes: usize, out: &mut [F]) -> Result<()> {
    RowOps.softmax(x, classes, out)
}

/// [`RowOps::log_softmax`] on the best backend.
///
/// # Errors
/// As [`RowOps::log_softmax`].
pub fn log_softmax<F: Float>(x: &[F], classes: usize, out: &mut [F]) -> Result<()> {
    RowOps.log_softmax(x, classes, out)
}
