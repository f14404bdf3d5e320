//! Knowledge distillation (Hinton et al. 2015): cross-entropy on the labels plus the
//! temperature-softened KL divergence to a teacher.

use super::Extra;
use crate::label::{Label, Target, classify};
use crate::shape::dispatch::{Task, task};
use crate::shape::row_checks::{check_labels, check_len, check_row_named, check_rows, check_shape};
use crate::shape::row_softmax::{DOT_SCALE, DOT_UNSCALE, Logits, Verb};
use crate::shape::row_sweep::{Pass, emit, load, neg_inf, sweep};
use crate::shape::rows::Loss;
use crate::shape::rows::kernel::RowKernel;
use crate::simd::math::exp;
use crate::simd::{Float, Simd, Vector};
use crate::{Backend, Error, Out, Reduction, Result};

/// Distillation loss for student logits `s`, teacher logits `t`, labels `y`, weight `α` and
/// temperature `T`, per row:
///
/// ```text
/// ℓ = α·CE(s, y) + (1 − α)·T²·KL(softmax(t/T) ‖ softmax(s/T))
/// ∂ℓ/∂sⱼ = α·(softmax(s)ⱼ − [j = y]) + (1 − α)·T·(softmax(s/T)ⱼ − softmax(t/T)ⱼ)
/// ```
///
/// Both terms are computed in shifted log space (`KL = Σ q̂ⱼ(zₜⱼ − zₛⱼ) − log Q + log S_T`
/// with `z` the shifted, scaled logits), so huge logits and `−∞` masks are exact: a teacher
/// mask contributes 0 (xlogy), a student mask under a teacher logit that is not a mask makes
/// the value `+∞`, also where the teacher's probability underflows (`e⁻¹⁷⁶` in f32, or with
/// a tiny `T`): it is positive, so the KL is infinite. PyTorch's `kl_div` counts an
/// underflowed probability as 0 and returns a finite value there.
/// `Mean` divides by the number of rows. The gradient is with respect to the student only.
///
/// Its verbs are those of [`RowLoss`](crate::RowLoss), the rows scored against a
/// [`Teacher`] (the teacher's logits and the labels). In accumulate mode every row of both
/// inputs is checked before anything is added, so an error leaves `grad` as it was.
///
/// ```
/// use losskit::prelude::*;
/// let student = [2.0f64, 0.0, -1.0];
/// let teacher = Teacher { logits: &[1.0f64, 0.5, -2.0][..], labels: &[0u8][..] };
/// let mut grad = [0.0; 3];
/// let v = Distillation::default().value_and_grad(&student, 3, teacher, Reduction::Mean, &mut grad)?;
/// assert!(v > 0.0 && grad.iter().sum::<f64>().abs() < 1e-15);
/// # Ok::<(), losskit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Distillation {
    /// `α ∈ [0, 1]`, the weight of the label term (default 0.5).
    pub alpha: f64,
    /// `T ∈ [2⁻¹²⁶, 2¹²⁶]` (default 1): `1/T` is finite in f32 and `T²` in f64, so the
    /// softened logits and the KL term's factor exist in every precision.
    pub temperature: f64,
}

impl Default for Distillation {
    fn default() -> Self {
        Distillation {
            alpha: 0.5,
            temperature: 1.0,
        }
    }
}

crate::shape::dispatch::compiled_per_precision! {
/// Runs `t` on `backend` (one instance per precision, whatever the caller's label type).
fn run_task<F>(backend: Backend, t: DistillTask<'_, F>) -> Result<Result<f64>> {
    task(backend, t)
}
}

struct DistillTask<'a, F> {
    s: &'a [F],
    t: &'a [F],
    classes: usize,
    label: &'a dyn Fn(usize) -> usize,
    alpha: f64,
    temperature: f64,
    scale: f64,
    grad: &'a mut [F],
    add: bool,
}

/// The four row sums: `Σ e^{s−mₛ}`, `Σ e^{zₛ}`, `Σ e^{zₜ}`, `Σ e^{zₜ}(zₜ − zₛ)`, with
/// `zₛ = (s − mₛ)/T`, `zₜ = (t − mₜ)/T`; or, as the gradient pass, the gradient.
struct Distill<'a, V: Vector> {
    s: &'a [V::Elem],
    t: &'a [V::Elem],
    ms: V,
    mt: V,
    k: V,
    /// Gradient pass: `(α/S₁, (1−α)T/S_T, (1−α)T/Q)` times the reduction factor.
    coef: Option<(V, V, V)>,
    /// `Some(2⁶⁴)` when `coef` is carried scaled by 2⁻¹²⁸ (one overflowed the precision: a
    /// large `T` over a small divisor): each entry is multiplied back twice.
    unscale: Option<V>,
    g: &'a mut [V::Elem],
    add: bool,
}

impl<V: Vector> Pass<V, 4> for Distill<'_, V> {
    #[inline(always)]
    fn at<const FULL: bool>(&mut self, v: V, i: usize, _n: usize) -> [V; 4] {
        let zero = v.splat(<V::Elem as Float>::ZERO);
        let (s_raw, t_raw) = (
            load::<V, FULL>(v, self.s, i, neg_inf::<V::Elem>()),
            load::<V, FULL>(v, self.t, i, neg_inf::<V::Elem>()),
        );
        let (s, t) = (s_raw.sub(self.ms), t_raw.sub(self.mt));
        let (zs, zt) = (s.mul(self.k), t.mul(self.k));
        let (e1, es, et) = (exp(s), exp(zs), exp(zt));
        if let Some((a1, a_s, a_t)) = self.coef {
            // The KL part first: `(1−α)T·(q_s − q_t)` cancels where the softened
            // distributions agree, and added after a large `T`'s terms the label part was
            // lost (`4.5e18 + 3e38 − 3e38 = 0`).
            let g = e1.mul(a1).add(es.mul(a_s).sub(et.mul(a_t)));
            let g = match self.unscale {
                Some(k) => g.mul(k).mul(k),
                None => g,
            };
            emit::<V, FULL>(v, g, self.g, i, self.add);
            return [zero; 4];
        }
        // The masks are read from the logits: `x − m` of finite logits can overflow to −∞.
        [e1, es, et, kl_term(v, s_raw, t_raw, et, zt.sub(zs))]
    }
}

/// One class's `e^{zₜ}·diff` (`diff` = `zₜ − zₛ`, or its scaled form) in the KL sum, with the
/// xlogy convention decided on the logits, not on `e^{zₜ}`: a teacher mask (`t = −∞`)
/// contributes 0; a student mask (`s = −∞`) under a teacher logit that is not a mask
/// contributes `+∞`, also where the teacher's probability underflowed (`e^{−176}` in f32:
/// its true value is not 0, and the true KL is `+∞`); elsewhere an underflowed `e^{zₜ}`
/// contributes 0 (not `0·∞` where the difference overflowed).
#[inline(always)]
fn kl_term<V: Vector>(v: V, s: V, t: V, et: V, diff: V) -> V {
    let zero = v.splat(<V::Elem as Float>::ZERO);
    let ninf = v.splat(neg_inf::<V::Elem>());
    let finite_part = V::select(et.eq(zero), zero, et.mul(diff));
    let student_masked = V::select(s.eq(ninf), ninf.neg(), finite_part);
    V::select(t.eq(ninf), zero, student_masked)
}

/// The KL term's `Σ e^{zₜ}(zₜ − zₛ)` again, for a row where the first sum overflowed: as
/// `T·Σ e^{zₜ}(Δₜ − Δₛ)` with `Δ = x − m` formed from terms scaled by 2⁻⁶⁴
/// (`2⁻⁶⁴x − 2⁻⁶⁴m`, exact in the normal range, as the row driver's `Σ τ(z − m)`), so that
/// neither `zₛ = Δₛ/T` (a tiny `T`) nor the difference (logits of both signs near the
/// range's end) overflows; the caller multiplies by 2⁶⁴ where the row's value needs it.
struct DistillDot<'a, V: Vector> {
    s: &'a [V::Elem],
    t: &'a [V::Elem],
    ms: V,
    mt: V,
    k: V,
    /// 2⁻⁶⁴.
    scale: V,
}

impl<V: Vector> Pass<V, 1> for DistillDot<'_, V> {
    #[inline(always)]
    fn at<const FULL: bool>(&mut self, v: V, i: usize, _n: usize) -> [V; 1] {
        let s = load::<V, FULL>(v, self.s, i, neg_inf::<V::Elem>());
        let t = load::<V, FULL>(v, self.t, i, neg_inf::<V::Elem>());
        // The same `e^{zₜ}` as the first sweep.
        let et = exp(t.sub(self.mt).mul(self.k));
        let ds = s.mul(self.scale).sub(self.ms.mul(self.scale));
        let dt = t.mul(self.scale).sub(self.mt.mul(self.scale));
        [kl_term(v, s, t, et, dt.sub(ds))]
    }
}

impl<F: Float> Task for DistillTask<'_, F> {
    type Output = Result<f64>;
    #[inline(always)]
    fn run<S: Simd>(self, simd: S) -> Result<f64> {
        let v = F::lanes(simd);
        let c = self.classes;
        let k = 1.0 / self.temperature;
        let mut total = 0.0;
        for r in 0..self.s.len() / c {
            let srow = &self.s[r * c..(r + 1) * c];
            let trow = &self.t[r * c..(r + 1) * c];
            let mut maxes = [F::ZERO; 2];
            for (m, (name, row)) in maxes.iter_mut().zip([("student", srow), ("teacher", trow)]) {
                *m = check_row_named(v, row, r * c, name)?;
            }
            let [ms, mt] = maxes;
            let mut pass = Distill {
                s: srow,
                t: trow,
                ms: v.splat(ms),
                mt: v.splat(mt),
                k: v.splat(F::from_f64(k)),
                coef: None,
                unscale: None,
                g: &mut [],
                add: self.add,
            };
            let [s1, st, q, d] = sweep::<_, _, 4>(v, c, &mut pass);
            let y = (self.label)(r);
            let sy = srow[y].to_f64() - ms.to_f64();
            let (a, tt) = (self.alpha, self.temperature);
            let ce = libm::log(s1) - sy;
            let value = if d.is_finite() {
                let kl = d / q - libm::log(q) + libm::log(st);
                super::xmul(a, ce) + super::xmul((1.0 - a) * tt * tt, kl)
            } else {
                // `d` overflowed (`zₛ` of a tiny `T`, or `zₜ − zₛ` beyond the precision) or
                // is `+∞` (teacher mass on a student mask): `T²·Σ q(zₜ − zₛ)` is
                // `T·Σ q(Δₜ − Δₛ)`, from the scaled sum; `+∞` again only where the row's value
                // is beyond f64 or the student masks a class of the teacher's. A rare path:
                // one more sweep for such a row alone.
                let [ds] = sweep::<_, _, 1>(
                    v,
                    c,
                    &mut DistillDot {
                        s: srow,
                        t: trow,
                        ms: v.splat(ms),
                        mt: v.splat(mt),
                        k: v.splat(F::from_f64(k)),
                        scale: v.splat(F::from_f64(DOT_SCALE)),
                    },
                );
                let w = (1.0 - a) * tt;
                let kl_t = (w * (ds / q)) * DOT_UNSCALE + (w * tt) * (libm::log(st) - libm::log(q));
                super::xmul(a, ce) + if w == 0.0 { 0.0 } else { kl_t }
            };
            total += value;
            if !self.grad.is_empty() {
                let g = &mut self.grad[r * c..(r + 1) * c];
                let f = self.scale;
                let coef = [f * a / s1, f * (1.0 - a) * tt / st, f * (1.0 - a) * tt / q];
                // Where one overflows the precision (`∞·e − ∞·e` would be NaN where the entry
                // fits), all three are carried scaled (a per-row decision).
                let scaled = coef.iter().any(|&c| !F::from_f64(c).is_finite());
                let [c1, cs, ct] = coef
                    .map(|c| v.splat(F::from_f64(if scaled { c * super::COEF_SCALE } else { c })));
                pass.coef = Some((c1, cs, ct));
                pass.unscale = scaled.then(|| v.splat(F::from_f64(super::COEF_UNSCALE_HALF)));
                // In accumulate mode the caller's value at the label is taken out first and
                // added to the finished entry `g_y − f·α`: added before, it would be lost
                // beside a large `f·α` (a tiny divisor: `(5 + 4.6e18) − 4.6e18 = 0`), as
                // the row driver's label entry (`take_label_base`).
                let base = if self.add {
                    Some(core::mem::replace(&mut g[y], F::ZERO))
                } else {
                    None
                };
                pass.g = g;
                sweep::<_, _, 4>(v, c, &mut pass);
                let gy = &mut pass.g[y];
                let entry = F::from_f64(gy.to_f64() - f * a);
                *gy = match base {
                    Some(b) => b + entry,
                    None => entry,
                };
            }
        }
        Ok(total * self.scale)
    }
}

/// What [`Distillation`] scores the student's rows against: the teacher's logits (the
/// student's shape) and one label per row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Teacher<'t, F, L> {
    /// The teacher's `rows × classes` logits.
    pub logits: &'t [F],
    /// One class label per row (any [`Label`] integer).
    pub labels: &'t [L],
}

impl Distillation {
    /// Checks the hyper-parameters.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) naming the field.
    pub fn check(&self) -> Result<()> {
        super::in_range("alpha", self.alpha, 0.0, 1.0, "must be in [0, 1]")?;
        super::in_range(
            "temperature",
            self.temperature,
            f64::from(f32::MIN_POSITIVE),
            1.0 / f64::from(f32::MIN_POSITIVE),
            "must be in [2^-126, 2^126]",
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn call<F: Float, L: Label>(
        &self,
        backend: Backend,
        student: &[F],
        teacher: &[F],
        classes: usize,
        labels: &[L],
        reduction: Reduction,
        grad: Option<Out<'_, F>>,
    ) -> Result<f64> {
        self.check()?;
        let rows = labels.len();
        check_shape(student.len(), rows, classes)?;
        check_len("teacher", teacher.len(), student.len())?;
        check_labels::<L, F>(labels, classes, None, None)?;
        let (buf, add): (&mut [F], bool) = match grad {
            Some(o) => {
                check_len("grad", o.buf.len(), student.len())?;
                (o.buf, o.add)
            }
            None => (&mut [], false),
        };
        if add {
            // Accumulate mode must not leave a partial sum: every row of both inputs passes
            // the row drivers' check (no NaN or +∞, not all −∞) before the first write.
            check_rows(backend, student, rows, classes, "student")?;
            check_rows(backend, teacher, rows, classes, "teacher")?;
        }
        let scale = reduction.scale(rows)?;
        let label = |r: usize| match classify(labels[r], classes, None) {
            Some(Target::Class(y)) => y,
            _ => 0, // validated above
        };
        let r = run_task(
            backend,
            DistillTask {
                s: student,
                t: teacher,
                classes,
                label: &label,
                alpha: self.alpha,
                temperature: self.temperature,
                scale,
                grad: &mut *buf,
                add,
            },
        )
        .and_then(|r| r);
        if r.is_err() && !add {
            buf.fill(F::ZERO);
        }
        r
    }
}

impl<'t, F: Float, L: Label> RowKernel<F, Teacher<'t, F, L>> for Distillation {
    #[allow(private_interfaces)]
    fn run(
        &self,
        backend: Backend,
        verb: Verb,
        x: Logits<'_, F>,
        classes: usize,
        t: Teacher<'t, F, L>,
        reduction: Reduction,
        _extra: Extra<'_, F>,
    ) -> Result<f64> {
        match (verb, x) {
            (Verb::Value, Logits::Read(s)) => {
                self.call(backend, s, t.logits, classes, t.labels, reduction, None)
            }
            (Verb::Grad | Verb::ValueAndGrad, Logits::Split(s, g)) => {
                self.call(backend, s, t.logits, classes, t.labels, reduction, Some(g))
            }
            // No capability trait of the distillation loss reaches another verb.
            _ => Err(Error::InvalidParameter {
                name: "verb",
                rule: "distillation has value, grad and value_and_grad only",
            }),
        }
    }
}

impl Loss for Distillation {}
