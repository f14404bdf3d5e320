//! Multiclass hinge losses: Weston–Watkins ([`MultiMargin`], PyTorch `multi_margin_loss`)
//! and Crammer–Singer ([`MulticlassHinge`], optax `multiclass_hinge_loss`).

use super::Extra;
use crate::label::{Label, Target, classify};
use crate::shape::dispatch::{Task, task};
use crate::shape::row_checks::{check_class_weights, check_labels, check_len, check_shape};
use crate::shape::row_softmax::{Logits, Verb};
use crate::shape::row_sweep::{Pass, emit, first_index_of, load, row_max};
use crate::shape::rows::kernel::RowKernel;
use crate::shape::rows::{Loss, RowElementwise};
use crate::simd::{Float, Simd, Vector};
use crate::{Backend, Error, Out, Reduction, Result};

/// Weston–Watkins multiclass hinge, PyTorch's `MultiMarginLoss`: for a row `x` with label
/// `y`, exponent `p ∈ {1, 2}`, `margin` and class weights `w`,
///
/// ```text
/// ℓ = (1/C)·Σ_{j≠y} w_y·max(0, margin − x_y + xⱼ)^p
/// ∂ℓ/∂xⱼ = (w_y/C)·p·hⱼ^(p−1)  (j ≠ y, hⱼ = max(0, margin − x_y + xⱼ); 0 where hⱼ = 0),
/// ∂ℓ/∂x_y = −Σ_{j≠y} ∂ℓ/∂xⱼ
/// ```
///
/// `Mean` divides by the number of rows (PyTorch). Logits must be finite. The kernel works
/// on halves so that no difference overflows where the result fits; halving is exact in
/// the normal range, so only a hinge within a few subnormal steps of 0 (f32: `2⁻¹⁴⁹`, a
/// margin of `2⁻¹⁴⁹` over equal logits) may be taken as 0, where the subgradient is 0
/// (PyTorch takes the active side there). Its verbs are
/// those of [`RowLoss`](crate::RowLoss) with `&[L]` labels, and
/// [`RowElementwise`](crate::RowElementwise).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MultiMargin<'w, F: Float> {
    /// `p`: 1 or 2 (default 1).
    pub p: u8,
    /// The margin, in `[−f32::MAX, f32::MAX]` (default 1): finite in either precision
    /// (numerics rule 10). Rounded to the data's precision, as PyTorch converts it.
    pub margin: f64,
    /// One weight per class, 0 or in `[2⁻⁶⁴, 2⁶⁴]` (numerics rule 10;
    /// default none: all 1).
    pub class_weights: Option<&'w [F]>,
}

impl<F: Float> Default for MultiMargin<'_, F> {
    fn default() -> Self {
        MultiMargin {
            p: 1,
            margin: 1.0,
            class_weights: None,
        }
    }
}

/// Crammer–Singer multiclass hinge, optax's `multiclass_hinge_loss`: for a row `x` with
/// label `y`,
///
/// ```text
/// ℓ = max(0, 1 + max_{j≠y} xⱼ − x_y) = maxⱼ(xⱼ + [j ≠ y]) − x_y
/// ∂ℓ/∂x = e_{j*} − e_y when ℓ > 0 (j* the first largest other logit), 0 otherwise
/// ```
///
/// `Mean` divides by the number of rows. Logits must be finite. Its verbs are those of
/// [`RowLoss`](crate::RowLoss) with `&[L]` labels, and
/// [`RowElementwise`](crate::RowElementwise).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MulticlassHinge;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    WestonWatkins { square: bool },
    CrammerSinger,
}

crate::shape::dispatch::compiled_per_precision! {
/// Runs `t` on `backend` (one instance per precision, whatever the caller's label type).
fn run_task<F>(backend: Backend, t: MarginTask<'_, F>) -> Result<f64> {
    task(backend, t)
}
}

use super::{COEF_SCALE, COEF_UNSCALE, COEF_UNSCALE_HALF};

/// 2⁻⁵⁶⁰ and 2⁵⁶⁰: the scale of each hinge in [`scaled_sums`], small enough that a row of
/// squared hinges near `f64::MAX` (`(2¹⁰²⁴·2⁻⁵⁶⁰)² = 2⁹²⁸` each) sums without overflow.
const SUM_DOWN: f64 = 2.649_734_913_688_990_5e-169;
const SUM_UP: f64 = 3.773_962_424_821_541_4e168;

/// A Weston–Watkins row's two sums again (`Σ h̃^p`, `Σ ∂h̃^p/dk`, as `Ww` returns them),
/// each hinge widened to f64 and scaled by `down` first. With [`SUM_DOWN`]: the cold path
/// for f64 data whose hinges, near `f64::MAX`, sum beyond it while the row's value (divided
/// by `C`) fits (hinges far below the overflowing ones underflow, a negligible part of such
/// a sum). With 1: the cold path for squared hinges whose squares fell below the data's
/// normal range (f32 `h̃ = 5e-31`: `h̃² = 0`, where a tiny divisor makes the value a normal
/// number), squared in f64. The same `h̃` as `Ww`, one element at a time.
fn scaled_sums<F: Float>(row: &[F], y: usize, hi: F, lo: F, square: bool, down: f64) -> [f64; 2] {
    let half = F::from_f64(0.5);
    let mut s = [0.0; 2];
    for (j, &x) in row.iter().enumerate() {
        let h = x * half + hi + lo;
        if j == y || h <= F::ZERO {
            continue;
        }
        let h = h.to_f64() * down;
        if square {
            s[0] += h * h;
            s[1] += h;
        } else {
            s[0] += h;
            s[1] += down;
        }
    }
    s
}

/// The sum of squared half-hinges below which an f32 row's squares are formed again in
/// f64 (`2⁻¹⁰⁰`: a square below `2⁻¹²⁶` has lost bits beyond `2⁻²⁶` of such a sum).
const TINY_SQUARES_F32: f64 = 7.888_609_052_210_118e-31;
/// Likewise for f64 rows (`2⁻⁹⁹⁶`), whose hinges are then scaled by [`TINY_UP`] (`2⁴⁰⁰`) before
/// squaring, and the sum by [`TINY_DOWN`] twice.
const TINY_SQUARES_F64: f64 = 1.493_221_789_605_150_2e-300;
/// `2⁴⁰⁰`.
const TINY_UP: f64 = 2.582_249_878_086_908_6e120;
/// `2⁻⁴⁰⁰`.
const TINY_DOWN: f64 = 3.872_591_914_849_318_3e-121;

struct MarginTask<'a, F> {
    kind: Kind,
    margin: F,
    x: &'a [F],
    classes: usize,
    label: &'a dyn Fn(usize) -> usize,
    weight: &'a dyn Fn(usize) -> f64,
    scale: f64,
    grad: &'a mut [F],
    add: bool,
    per_row: &'a mut [F],
}

/// Weston–Watkins terms over the classes `j ≠ y`, in halves so that no intermediate
/// overflows where the result fits (`x_j − x_y` can exceed the precision's range while the
/// value and gradient, divided by `C`, do not): with `h̃ = max(0, (½x_j − ½x_y) + ½margin)
/// = h/2` (halving is exact in the normal range), the sums returned are `Σ h̃²` (square;
/// `h² = 4h̃²`) or `Σ h̃` (`h = 2h̃`), and `Σ ∂hⱼ^p/∂h / dk` with `dk = 4` (square: `2h =
/// 4h̃`) or 1; the gradient `∂/∂xⱼ` is stored scaled by `f` (which includes `dk`).
///
/// The row's constant `½margin − ½x_y` is carried exactly, as `hi + lo` (TwoSum, once per
/// row), and `h̃ = (½xⱼ + hi) + lo`: where `½xⱼ + hi` cancels (the result is small beside
/// the logits) it is exact (Sterbenz) and `lo` is added with one rounding, so neither a
/// margin far smaller than equal large logits (`margin = 1`, `xⱼ = x_y = 1e20`: `h = 1`) nor
/// small logits beside a margin that cancels the label's (`margin = x_y = −3.4e38`,
/// `xⱼ = 7.4`) is rounded away; elsewhere `h̃` is within an ulp or two of itself. Each
/// order of two plain additions loses one of those cases.
struct Ww<'a, V: Vector> {
    x: &'a [V::Elem],
    g: &'a mut [V::Elem],
    add: bool,
    /// `½margin − ½x_y = hi + lo` exactly (`lo = 0` where `hi` is infinite).
    hi: V,
    lo: V,
    f: V,
    /// `Some(2⁶⁴)` when `f` is carried scaled by 2⁻¹²⁸ (the row's factor overflowed the
    /// precision): each entry is multiplied back twice, exact where it fits, 0 where `d = 0`
    /// (not `0·∞ = NaN`). A per-vector check of a per-row option.
    unscale: Option<V>,
    square: bool,
}

impl<V: Vector> Pass<V, 2> for Ww<'_, V> {
    #[inline(always)]
    fn at<const FULL: bool>(&mut self, v: V, i: usize, _n: usize) -> [V; 2] {
        let zero = v.splat(<V::Elem as Float>::ZERO);
        let half = v.splat(<V::Elem as Float>::from_f64(0.5));
        let h = load::<V, FULL>(v, self.x, i, <V::Elem as Float>::ZERO)
            .mul(half)
            .add(self.hi)
            .add(self.lo)
            .max(zero);
        let (val, d) = if self.square {
            (h.mul(h), h)
        } else {
            (
                h,
                V::select(zero.lt(h), v.splat(<V::Elem as Float>::ONE), zero),
            )
        };
        if !self.g.is_empty() {
            let g = match self.unscale {
                // `d·2⁶⁴` first: exact (or `∞` where the entry is beyond the range anyway),
                // so that the one rounding is the product with `f`, as unscaled.
                Some(k) => d.mul(k).mul(self.f).mul(k),
                None => d.mul(self.f),
            };
            emit::<V, FULL>(v, g, self.g, i, self.add);
        }
        [val, d]
    }
}

impl<F: Float> Task for MarginTask<'_, F> {
    type Output = f64;
    #[inline(always)]
    fn run<S: Simd>(self, simd: S) -> f64 {
        let v = F::lanes(simd);
        let c = self.classes;
        let mut total = 0.0;
        for r in 0..self.x.len() / c {
            let row = &self.x[r * c..(r + 1) * c];
            let g: &mut [F] = if self.grad.is_empty() {
                &mut []
            } else {
                &mut self.grad[r * c..(r + 1) * c]
            };
            let y = (self.label)(r);
            let w = (self.weight)(r);
            let xy = row[y];
            let (value, gy) = match self.kind {
                Kind::WestonWatkins { square } => {
                    // The factors of the halved sums (see `Ww`): value and derivative.
                    let (vk, dk) = if square { (4.0, 4.0) } else { (2.0, 1.0) };
                    let f = w * self.scale / c as f64 * dk;
                    // A large weight over a small divisor can take the row's factor beyond
                    // f32 (up to 2⁶⁴·2¹²⁶·4/C, within f64 since class weights are at most
                    // 2⁶⁴) where entries fit or are 0: then it is carried scaled by 2⁻¹²⁸
                    // (at most 2⁶⁴ in f32, at least 1) and every entry scaled back.
                    let (f, unscale) = if F::from_f64(f).is_finite() {
                        (f, 1.0)
                    } else {
                        (w * COEF_SCALE * self.scale / c as f64 * dk, COEF_UNSCALE)
                    };
                    let (left, right) = row.split_at(y);
                    let (gl, gr) = if g.is_empty() {
                        (&mut [][..], &mut [][..])
                    } else {
                        let (a, b) = g.split_at_mut(y);
                        (a, &mut b[1..])
                    };
                    let (hi, lo) = crate::shape::accumulate::two_sum(
                        F::from_f64(self.margin.to_f64() * 0.5),
                        F::from_f64(xy.to_f64() * -0.5),
                    );
                    // `½margin − ½x_y` is within the range (both are), but keep `lo` finite
                    // should `hi` ever round to ∞.
                    let lo = if hi.is_finite() { lo } else { F::ZERO };
                    let mut sums = [0.0; 2];
                    for (part, gp) in [(left, gl), (&right[1..], gr)] {
                        let s = crate::shape::row_sweep::sweep::<_, _, 2>(
                            v,
                            part.len(),
                            &mut Ww {
                                x: part,
                                g: gp,
                                add: self.add,
                                hi: v.splat(hi),
                                lo: v.splat(lo),
                                f: v.splat(F::from_f64(f)),
                                unscale: if unscale == 1.0 {
                                    None
                                } else {
                                    Some(v.splat(F::from_f64(COEF_UNSCALE_HALF)))
                                },
                                square,
                            },
                        );
                        sums[0] += s[0];
                        sums[1] += s[1];
                    }
                    // Squares below the data's normal range lost their bits (to 0 for
                    // `h̃ < 2⁻⁷⁵` in f32) where a small divisor may still make the value a
                    // normal number: such a row's squares again (cold; a row whose squares
                    // sum below 2⁻¹⁰⁰ in f32, 2⁻⁹⁹⁶ in f64, with a hinge active), in f64 for
                    // f32 data, scaled by 2⁴⁰⁰ for f64 data.
                    if square && sums[1] > 0.0 {
                        if F::MANTISSA_DIGITS == 24 && sums[0] < TINY_SQUARES_F32 {
                            sums[0] = scaled_sums(row, y, hi, lo, true, 1.0)[0];
                        } else if F::MANTISSA_DIGITS != 24 && sums[0] < TINY_SQUARES_F64 {
                            let up = scaled_sums(row, y, hi, lo, true, TINY_UP)[0];
                            sums[0] = up * TINY_DOWN * TINY_DOWN;
                        }
                    }
                    let value = w * (sums[0] * vk) / c as f64;
                    let gy = -sums[1] * f * unscale;
                    if w == 0.0 {
                        // The row counts for 0 whatever its hinges (numerics rule 10:
                        // `0·∞` would be NaN where their sum overflows).
                        (0.0, 0.0)
                    } else if value.is_finite() && gy.is_finite() {
                        (value, gy)
                    } else {
                        // f64 data: hinges near f64::MAX sum beyond it where the value,
                        // divided by C, fits. The sums again, scaled down (cold); scaled
                        // back in steps, so that only a result beyond the range is ∞.
                        let s = scaled_sums(row, y, hi, lo, square, SUM_DOWN);
                        let mut value = w * vk / c as f64 * s[0] * SUM_UP;
                        if square {
                            value *= SUM_UP;
                        }
                        (value, -(s[1] * f) * SUM_UP * unscale)
                    }
                }
                Kind::CrammerSinger => {
                    let (left, right) = row.split_at(y);
                    let (ml, _) = row_max(v, left);
                    let (mr, _) = row_max(v, &right[1..]);
                    let other = ml.to_f64().max(mr.to_f64());
                    let loss = (1.0 + other - xy.to_f64()).max(0.0);
                    if !g.is_empty() {
                        if !self.add {
                            g.fill(F::ZERO);
                        }
                        if loss > 0.0 {
                            let j = if ml.to_f64() >= mr.to_f64() {
                                first_index_of(v, left, ml)
                            } else {
                                y + 1 + first_index_of(v, &right[1..], mr)
                            };
                            g[j] = F::from_f64(g[j].to_f64() + self.scale);
                        }
                    }
                    (loss, if loss > 0.0 { -self.scale } else { 0.0 })
                }
            };
            if !g.is_empty() {
                let base = if self.add { g[y].to_f64() } else { 0.0 };
                g[y] = F::from_f64(base + gy);
            }
            if !self.per_row.is_empty() {
                self.per_row[r] = F::from_f64(value);
            }
            total += value;
        }
        total * self.scale
    }
}

/// Validates a margin-loss call and runs it.
#[allow(clippy::too_many_arguments)]
fn margin_call<F: Float, L: Label>(
    kind: Kind,
    margin: f64,
    weights: Option<&[F]>,
    backend: Backend,
    x: &[F],
    classes: usize,
    labels: &[L],
    reduction: Reduction,
    grad: Option<Out<'_, F>>,
    per_row: &mut [F],
) -> Result<f64> {
    let rows = labels.len();
    check_shape(x.len(), rows, classes)?;
    check_class_weights(weights, classes)?;
    check_labels(labels, classes, None, weights)?;
    if let Some(g) = &grad {
        check_len("grad", g.buf.len(), x.len())?;
    }
    let scale = reduction.scale(rows)?;
    let (buf, add): (&mut [F], bool) = match grad {
        Some(o) => (o.buf, o.add),
        None => (&mut [], false),
    };
    if let Some(i) = x.iter().position(|e| !e.is_finite()) {
        // A data error: both written outputs (the gradient unless it is added to, and the
        // per-row losses) are reset to zeros.
        if !add {
            buf.fill(F::ZERO);
        }
        per_row.fill(F::ZERO);
        return Err(Error::NonFinite {
            name: "logits",
            index: i,
        });
    }
    let label = |r: usize| match classify(labels[r], classes, None) {
        Some(Target::Class(y)) => y,
        _ => 0, // validated above
    };
    let weight = |r: usize| weights.map_or(1.0, |w| w[label(r)].to_f64());
    run_task(
        backend,
        MarginTask {
            kind,
            margin: F::from_f64(margin),
            x,
            classes,
            label: &label,
            weight: &weight,
            scale,
            grad: buf,
            add,
            per_row,
        },
    )
}

/// The kernel entry of a margin loss (over its `kind` and parameters), its
/// `value_elementwise`, and `on`.
macro_rules! margin_kernel {
    ([$($g:tt)*] $ty:ty) => {
        impl<'t, $($g)*, L: Label> RowKernel<F, &'t [L]> for $ty {
            #[allow(private_interfaces, clippy::too_many_arguments)]
            fn run(
                &self,
                backend: Backend,
                verb: Verb,
                x: Logits<'_, F>,
                classes: usize,
                labels: &'t [L],
                reduction: Reduction,
                extra: Extra<'_, F>,
            ) -> Result<f64> {
                let (k, m, w) = self.setup()?;
                match (verb, x) {
                    (Verb::Value, Logits::Read(x)) => {
                        margin_call(k, m, w, backend, x, classes, labels, reduction, None, &mut [])
                    }
                    (Verb::Elementwise, Logits::Read(x)) => {
                        let out = extra.per_row;
                        check_len("out", out.len(), labels.len())?;
                        margin_call(k, m, w, backend, x, classes, labels, Reduction::Sum, None, out)
                    }
                    (Verb::Grad | Verb::ValueAndGrad, Logits::Split(x, g)) => {
                        margin_call(k, m, w, backend, x, classes, labels, reduction, Some(g), &mut [])
                    }
                    // No capability trait of a margin loss reaches another verb.
                    _ => Err(Error::InvalidParameter {
                        name: "verb",
                        rule: "margin losses have value, value_elementwise, grad and value_and_grad only",
                    }),
                }
            }
        }
        impl<$($g)*, L: Label> RowElementwise<F, &[L]> for $ty {}
    };
}

impl<'w, F: Float> MultiMargin<'w, F> {
    /// Checks the hyper-parameters.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the field.
    pub fn check(&self) -> Result<()> {
        if self.p != 1 && self.p != 2 {
            return Err(Error::InvalidParameter {
                name: "p",
                rule: "must be 1 or 2",
            });
        }
        let max = f64::from(f32::MAX);
        if !(-max..=max).contains(&self.margin) {
            return Err(Error::InvalidParameter {
                name: "margin",
                rule: "must be in [-f32::MAX, f32::MAX]",
            });
        }
        Ok(())
    }

    fn setup(&self) -> Result<(Kind, f64, Option<&'w [F]>)> {
        self.check()?;
        Ok((
            Kind::WestonWatkins {
                square: self.p == 2,
            },
            self.margin,
            self.class_weights,
        ))
    }
}

impl MulticlassHinge {
    fn setup<F: Float>(&self) -> Result<(Kind, f64, Option<&'static [F]>)> {
        Ok((Kind::CrammerSinger, 1.0, None))
    }
}

margin_kernel!(['w, F: Float] MultiMargin<'w, F>);
margin_kernel!([F: Float] MulticlassHinge);
impl<F: Float> Loss for MultiMargin<'_, F> {}
impl Loss for MulticlassHinge {}
