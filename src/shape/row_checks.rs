//! The checks every row driver shares (rows × classes inputs, labels, per-class weights,
//! reductions over label totals), run before anything is written.
//!
//! Row losses validate in this order: shapes and lengths, parameters, per-class tensors,
//! labels; then (accumulate and in-place calls) every row of every input matrix with
//! [`check_rows`], so that an error leaves the caller's buffers exactly as they were. Write-
//! mode calls check each row as they reach it and reset their outputs on an error.

use crate::error::{Error, Result};
use crate::label::Target;
use crate::shape::row_sweep::{first_bad, row_max};
use crate::simd::{Float, Simd, Vector};

/// Lane vector type of `F` on `S`.
type Lanes<S, F> = <F as crate::simd::private::Sealed>::Lanes<S>;

/// Checks every row of `x` (read-only max pass) before a run that cannot undo its writes;
/// errors name the input `name`.
#[inline(always)]
fn prevalidate<S: Simd, F: Float>(
    simd: S,
    x: &[F],
    rows: usize,
    classes: usize,
    name: &'static str,
) -> Result<()> {
    let v = F::lanes(simd);
    for r in 0..rows {
        let row = &x[r * classes..(r + 1) * classes];
        check_row_named::<Lanes<S, F>>(v, row, r * classes, name)?;
    }
    Ok(())
}

crate::shape::dispatch::compiled_per_precision! {
/// Checks every row of the `rows × classes` matrix `x` on `backend` (the rule every row
/// driver applies: no NaN or `+∞`, not all `−∞`), writing nothing. Accumulate-mode and
/// in-place calls run it over every input matrix before their first write, so that an error
/// leaves the caller's buffers exactly as they were.
///
/// # Errors
/// [`Error::NonFinite`] (NaN or `+∞`, its flat index) or [`Error::InvalidInput`] (a row of
/// `−∞` only, the row's first index), naming `name`.
pub(crate) fn check_rows<F>(
    backend: crate::Backend,
    x: &[F],
    rows: usize,
    classes: usize,
    name: &'static str,
) -> Result<()> {
    crate::shape::dispatch::task(
        backend,
        PrevalidateTask {
            x,
            rows,
            classes,
            name,
        },
    )?
}
}

/// The max of a row, or the error it gives, naming the input `name`.
#[inline(always)]
pub(crate) fn check_row_named<V: Vector>(
    v: V,
    row: &[V::Elem],
    base: usize,
    name: &'static str,
) -> Result<V::Elem> {
    let (m, ok) = row_max(v, row);
    if !ok {
        return Err(Error::NonFinite {
            name,
            index: base + first_bad(row).unwrap_or(0),
        });
    }
    if m.to_f64() == f64::NEG_INFINITY {
        return Err(Error::InvalidInput { name, index: base });
    }
    Ok(m)
}

struct PrevalidateTask<'a, F> {
    x: &'a [F],
    rows: usize,
    classes: usize,
    name: &'static str,
}

impl<F: Float> crate::shape::dispatch::Task for PrevalidateTask<'_, F> {
    type Output = Result<()>;
    #[inline(always)]
    fn run<S: Simd>(self, simd: S) -> Result<()> {
        prevalidate(simd, self.x, self.rows, self.classes, self.name)
    }
}

/// Checks that `len` logits are `rows × classes` (rows and classes > 0).
pub(crate) fn check_shape(len: usize, rows: usize, classes: usize) -> Result<()> {
    if rows == 0 || classes == 0 {
        return Err(Error::Empty);
    }
    let expected = rows.checked_mul(classes).ok_or(Error::LengthMismatch {
        name: "logits",
        expected: usize::MAX,
        found: len,
    })?;
    if len != expected {
        return Err(Error::LengthMismatch {
            name: "logits",
            expected,
            found: len,
        });
    }
    Ok(())
}

/// Checks that `name` has `expected` elements.
pub(crate) fn check_len(name: &'static str, len: usize, expected: usize) -> Result<()> {
    if len == expected {
        Ok(())
    } else {
        Err(Error::LengthMismatch {
            name,
            expected,
            found: len,
        })
    }
}

/// The range of a class weight that is not 0: `[2⁻⁶⁴, 2⁶⁴]` (numerics rule 10).
const CLASS_WEIGHT_MIN: f64 = 1.0 / 18_446_744_073_709_551_616.0;
/// See [`CLASS_WEIGHT_MIN`].
const CLASS_WEIGHT_MAX: f64 = 18_446_744_073_709_551_616.0;

/// Checks per-class weights: `classes` of them, finite, and each 0 or in `[2⁻⁶⁴, 2⁶⁴]`
/// ([`Error::InvalidInput`] naming the first that is not; a NaN or `±∞` is
/// [`Error::NonFinite`]). The drivers form a weight's products with shares, probabilities,
/// other weights and the reduction's factor in the data's precision; within this range
/// they stay inside f32's (a ratio of 2¹²⁸ between two weights, or a weight of 1e-40 or
/// 1e38, would leave it where the weighted mean fits).
pub(crate) fn check_class_weights<F: Float>(w: Option<&[F]>, classes: usize) -> Result<()> {
    check_entries("class_weights", w, classes, |x| {
        x == 0.0 || (CLASS_WEIGHT_MIN..=CLASS_WEIGHT_MAX).contains(&x)
    })
}

/// Checks a per-class tensor named `name` (class weights, `pos_weight`): `classes` entries,
/// each finite and ≥ 0; the error names the first entry that is not, whichever rule it
/// breaks.
pub(crate) fn check_per_class<F: Float>(
    name: &'static str,
    w: Option<&[F]>,
    classes: usize,
) -> Result<()> {
    check_entries(name, w, classes, |x| x >= 0.0)
}

/// `classes` entries, each finite ([`Error::NonFinite`]) and `valid`
/// ([`Error::InvalidInput`]); the error names the first entry that is not.
fn check_entries<F: Float>(
    name: &'static str,
    w: Option<&[F]>,
    classes: usize,
    valid: impl Fn(f64) -> bool,
) -> Result<()> {
    let Some(w) = w else { return Ok(()) };
    check_len(name, w.len(), classes)?;
    for (index, x) in w.iter().enumerate() {
        if !x.is_finite() {
            return Err(Error::NonFinite { name, index });
        }
        if !valid(x.to_f64()) {
            return Err(Error::InvalidInput { name, index });
        }
    }
    Ok(())
}

/// What the labels of a batch add up to.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LabelTotals {
    /// Rows whose label is not ignored.
    pub count: usize,
    /// `Σ w_y` over those rows (= `count` without class weights).
    pub weight: f64,
}

/// Validates every label (in range or the ignore index) and sums the counts a mean needs.
pub(crate) fn check_labels<L: crate::Label, F: Float>(
    labels: &[L],
    classes: usize,
    ignore_index: Option<i64>,
    weights: Option<&[F]>,
) -> Result<LabelTotals> {
    let mut t = LabelTotals {
        count: 0,
        weight: 0.0,
    };
    for (row, &l) in labels.iter().enumerate() {
        match crate::label::classify(l, classes, ignore_index) {
            Some(Target::Class(y)) => {
                t.count += 1;
                t.weight += weights.map_or(1.0, |w| w[y].to_f64());
            }
            Some(Target::Ignored) => {}
            None => return Err(Error::LabelOutOfRange { row }),
        }
    }
    Ok(t)
}

/// The factor of a reduction whose mean divides by `total` (rule 7 of the numerics policy:
/// a zero total gives value 0 and gradient 0).
pub(crate) fn mean_scale(reduction: crate::Reduction, total: f64) -> Result<f64> {
    match reduction {
        crate::Reduction::Mean => Ok(if total > 0.0 { 1.0 / total } else { 0.0 }),
        r => r.scale(1),
    }
}

/// The row losses' contract for an output written in write mode: an error found in the data
/// (a non-finite logit or log-probability) leaves it all zeros, as the drivers that find such errors
/// mid-pass do; validation errors (shapes, labels, weights) leave it untouched.
pub(crate) fn data_error_zeroes<F: Float, T>(out: &mut [F], r: Result<T>) -> Result<T> {
    // A non-finite class weight is a validation error (checked before the data is read).
    if let Err(Error::NonFinite { name, .. }) = r
        && name != "class_weights"
    {
        out.fill(F::ZERO);
    }
    r
}
