//! The checks of the fuzz targets, one module per shape driver, and what they share: the
//! accuracy budgets ([`budget`], the one place they are written), comparisons against the
//! f64 reference, and the error contract.
//!
//! Mounted by `fuzz/src/lib.rs` (the fuzz targets) and by `tests/suite/fuzz_replay.rs`
//! (the corpora replayed as ordinary tests): paths here are relative (`super::`), never
//! `crate::`. A failed check panics with the case described.

pub mod multilabel;
pub mod pointwise;
pub mod pointwise_aux;
pub mod rows;

use losskit::{Error, Float, Reduction};

/// What is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum What {
    /// A reduced value (against the reference's sum).
    Value,
    /// Per-element or per-row values.
    Elementwise,
    /// A gradient (f32 against the f64 kernel; f64 against central differences of the
    /// reference where those are reliable).
    Grad,
    /// A Hessian diagonal or Hessian–vector product (f32 against the f64 kernel).
    Hessian,
}

/// A tolerance: `|got − want| ≤ rel · max(|want|, scale) + abs`, where `scale` is the
/// magnitude of the parts the result is computed from (a sum of `|terms|`, or a formula's
/// own parts where they cancel).
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub rel: f64,
    pub abs: f64,
    /// What the budget is for (loss, f32 or not, what): the replay's accuracy tally
    /// ([`tally`]) files each accepted comparison under it.
    pub of: (&'static str, bool, What),
}

/// The accuracy budget of `loss` for `what` in f32 (`f32 == true`) or f64, against the
/// f64 reference (values) or the f64 kernel (f32 derivatives), and between backends.
///
/// The one place the fuzz targets' tolerances are written, to be aligned with the accuracy
/// contract (issue 11) when it lands. The defaults are a few f32 rounding errors of the
/// parts summed (inputs are rounded to f32 first and the reference runs on the rounded
/// inputs, so the difference is the kernel's own error), and about 10⁴ f64 roundings.
pub fn budget(loss: &'static str, f32: bool, what: What) -> Budget {
    // Subnormal f32 results carry a few hundred ulps of 2⁻¹⁴⁹ of absolute error.
    let (mut rel, abs) = if f32 { (2e-5, 1e-41) } else { (1e-11, 1e-300) };
    // Central differences of the f64 reference are themselves accurate to about 1e-7.
    if what == What::Grad && !f32 {
        rel = 1e-5;
    }
    match loss {
        // Barron's general loss goes through pow/expm1/log1p with α up to 2⁶⁴.
        "barron" => rel *= 10.0,
        // Distillation divides by the temperature and multiplies by T².
        "distillation" => rel *= 10.0,
        _ => {}
    }
    Budget {
        rel,
        abs,
        of: (loss, f32, what),
    }
}

/// The largest finite value of `F`, in f64.
pub fn max_of<F: Float>() -> f64 {
    if F::MANTISSA_DIGITS == 24 {
        f64::from(f32::MAX)
    } else {
        f64::MAX
    }
}

/// Whether `F` is f32.
pub fn is_f32<F: Float>() -> bool {
    F::MANTISSA_DIGITS == 24
}

/// `x` rounded to `F`, saturating at `±F::MAX` (so a clean finite input stays finite).
pub fn round_sat<F: Float>(x: f64) -> F {
    let m = max_of::<F>();
    F::from_f64(if x.is_finite() { x.clamp(-m, m) } else { x })
}

/// Two errors are the same: equal, or the same parameter named (the rule's wording aside).
pub fn same_error(a: &Error, b: &Error) -> bool {
    match (a, b) {
        (Error::InvalidParameter { name: x, .. }, Error::InvalidParameter { name: y, .. }) => {
            x == y
        }
        _ => a == b,
    }
}

/// Whether an error is a validation error (found before anything is written: shapes,
/// parameters, labels, per-class tensors), after which every buffer is untouched.
pub fn is_validation(e: &Error) -> bool {
    matches!(
        e,
        Error::LengthMismatch { .. }
            | Error::Empty
            | Error::InvalidParameter { .. }
            | Error::LabelOutOfRange { .. }
    )
}

/// The reduction's divisor is valid (`Divisor(d)` needs `d` in `[2⁻¹²⁶, 2¹²⁶]`).
pub fn reduction_ok(r: Reduction) -> bool {
    let min = f64::from(f32::MIN_POSITIVE);
    match r {
        Reduction::Divisor(d) => (min..=1.0 / min).contains(&d),
        _ => true,
    }
}

/// A reduction drawn from the input: mean, sum, or a divisor (sometimes invalid).
pub fn reduction(inp: &mut super::input::Input<'_>) -> Reduction {
    match inp.byte() % 6 {
        0 | 1 => Reduction::Mean,
        2 | 3 => Reduction::Sum,
        _ => Reduction::Divisor(inp.param(3.0)),
    }
}

/// The expected result of one number.
#[derive(Clone, Copy, Debug)]
pub enum Want {
    /// A finite value, with the magnitude of the parts it is computed from.
    Finite { value: f64, scale: f64 },
    /// An infinity of this sign (the true result is beyond the precision's range).
    Inf(f64),
    /// Anything not NaN (the reference cannot say; e.g. a true result at the edge of the
    /// range).
    NotNan,
    /// Anything (the reference itself is undefined here).
    Any,
}

impl Want {
    /// What a result of true value `value` (with parts of magnitude `scale`) must be in
    /// `F`: finite and close where it fits, the signed infinity beyond the range, either
    /// within the budget of the edge.
    pub fn of<F: Float>(value: f64, scale: f64, b: Budget) -> Want {
        let max = max_of::<F>();
        if value.is_nan() {
            Want::Any
        } else if value.abs() > max * (1.0 + 4.0 * b.rel)
            && value.abs() - (b.rel * scale + b.abs) > max
        {
            Want::Inf(value.signum())
        } else if value.abs() > max {
            // Beyond the range, but within the rounding of its parts of it (a derivative
            // that cancels to 1e-9 of its parts, times a weight over a divisor of 3e57): the
            // precision's result may be any finite value in that band, or ±∞.
            Want::NotNan
        } else if value.abs() >= max * (1.0 - 4.0 * b.rel) || scale > max {
            Want::NotNan
        } else {
            Want::Finite { value, scale }
        }
    }

    /// What a reduced value must be, from the reference's `terms`, the reduction's factor
    /// `s` and the magnitude `parts` of what was summed (already times `|s|`): anything
    /// where terms are infinite of both signs or undefined (a NaN sum), the signed infinity
    /// where a term is infinite, else as [`of`](Self::of) of the sum times `s`. The sum is
    /// formed with each term scaled by 2⁻⁶⁴ (exact in the normal range): terms near half of
    /// `f64::MAX` whose true sum rounds to it can pass it by their own rounding, and are
    /// then within the edge's band, not beyond it.
    pub fn of_sum<F: Float>(terms: &[f64], s: f64, parts: f64, b: Budget) -> Want {
        const DOWN: f64 = 1.0 / 18_446_744_073_709_551_616.0;
        let sum: f64 = terms.iter().sum();
        if sum.is_nan() {
            return Want::Any;
        }
        if terms.iter().any(|t| t.is_infinite()) {
            return Want::Inf(sum.signum());
        }
        let scaled = terms.iter().map(|t| t * DOWN).sum::<f64>() * s;
        let edge = max_of::<F>() * DOWN;
        if scaled.abs() > edge * (1.0 + 4.0 * b.rel) {
            Want::Inf(scaled.signum())
        } else if scaled.abs() >= edge * (1.0 - 4.0 * b.rel) {
            Want::NotNan
        } else {
            // Not `sum * s`: the plain sum may have overflowed where its mean fits.
            Want::of::<F>(scaled / DOWN, parts, b)
        }
    }

    /// Checks `got` against this; `Err` describes the difference.
    pub fn check(self, got: f64, b: Budget) -> Result<(), String> {
        match self {
            Want::Any => Ok(()),
            Want::NotNan if !got.is_nan() => Ok(()),
            Want::NotNan => Err("NaN".into()),
            Want::Inf(s) if got == s * f64::INFINITY => Ok(()),
            Want::Inf(s) => Err(format!(
                "{got:e}, want {}inf",
                if s < 0.0 { "-" } else { "+" }
            )),
            Want::Finite { value, scale } => {
                let tol = b.rel * value.abs().max(scale) + b.abs;
                if got.is_finite() && (got - value).abs() <= tol {
                    #[cfg(test)]
                    tally::see(b, got, value, scale);
                    Ok(())
                } else {
                    Err(format!(
                        "{got:e}, want {value:e} (tolerance {tol:e}, scale {scale:e})"
                    ))
                }
            }
        }
    }
}

/// Two backends' results agree: bit for bit where either is not finite, else within the
/// budget relative to `scale` (the magnitude of what was summed or computed).
pub fn agree(a: f64, b: f64, scale: f64, bud: Budget) -> bool {
    if !a.is_finite() || !b.is_finite() {
        return a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
    }
    (a - b).abs() <= 2.0 * bud.rel * a.abs().max(b.abs()).max(scale) + bud.abs
}

/// The bits of a buffer (widened), to compare buffers exactly.
pub fn bits<F: Float>(x: &[F]) -> Vec<u64> {
    x.iter().map(|v| v.to_f64().to_bits()).collect()
}

/// Shortens a slice for a failure message (to 12 elements; all of them with
/// `LOSSKIT_FUZZ_SHOW_ALL` set, for triage).
pub fn show<F: Float>(x: &[F]) -> String {
    let keep = if std::env::var_os("LOSSKIT_FUZZ_SHOW_ALL").is_some() {
        x.len()
    } else {
        12
    };
    let v: Vec<f64> = x.iter().take(keep).map(|v| v.to_f64()).collect();
    if x.len() > keep {
        format!("{v:?}… ({} elements)", x.len())
    } else {
        format!("{v:?}")
    }
}

/// Whether `x` is a valid class weight (numerics rule 10): 0, or in `[2⁻⁶⁴, 2⁶⁴]`.
pub fn class_weight_ok(x: f64) -> bool {
    let bound = 18_446_744_073_709_551_616.0;
    x == 0.0 || (1.0 / bound..=bound).contains(&x)
}

/// A per-class tensor of `classes` entries drawn from the input (weights ≥ 0 mostly, with
/// the occasional negative or non-finite entry, and sometimes a wrong length).
pub fn per_class<F: Float>(inp: &mut super::input::Input<'_>, classes: usize) -> Vec<F> {
    let len = if inp.chance(8) {
        inp.below(classes + 3)
    } else {
        classes
    };
    let clean = inp.chance(230);
    (0..len)
        .map(|_| {
            let x = match inp.byte() % 8 {
                0 => 0.0,
                1 => 1.0,
                2..=4 => f64::from(inp.byte()) / 64.0,
                _ => inp.real(),
            };
            if clean {
                round_sat::<F>(if x.is_finite() { x.abs() } else { 1.0 })
            } else {
                F::from_f64(x)
            }
        })
        .collect()
}

/// The accuracy at the edges, under `cargo test` only (the replay of the corpora and
/// findings; the fuzz targets do not carry it): per loss, precision and [`What`], the
/// largest error a check accepted and how many it accepted. The error is in units of the
/// precision's `ε` times `max(|want|, scale)` (the magnitude of the parts, as the budgets
/// are), beyond the budget's absolute floor for results below the normal range.
#[cfg(test)]
pub mod tally {
    use super::{Budget, What};
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    type Key = (&'static str, bool, What);
    static WORST: Mutex<BTreeMap<Key, (f64, u64)>> = Mutex::new(BTreeMap::new());

    /// Files one accepted comparison.
    pub fn see(b: Budget, got: f64, want: f64, scale: f64) {
        let eps = if b.of.1 {
            f64::from(f32::EPSILON)
        } else {
            f64::EPSILON
        };
        let unit = eps * want.abs().max(scale);
        let over = ((got - want).abs() - b.abs).max(0.0);
        let e = if over == 0.0 { 0.0 } else { over / unit };
        let mut w = WORST.lock().unwrap_or_else(|p| p.into_inner());
        let slot = w.entry(b.of).or_insert((0.0, 0));
        slot.0 = slot.0.max(e);
        slot.1 += 1;
    }

    /// The tally as a Markdown table: per loss and precision, the largest error per
    /// [`What`] (`–`: none compared) and the number of comparisons.
    pub fn table() -> String {
        let w = WORST.lock().unwrap_or_else(|p| p.into_inner());
        let whats = [What::Value, What::Elementwise, What::Grad, What::Hessian];
        let mut rows: Vec<(&str, bool)> = w.keys().map(|k| (k.0, k.1)).collect();
        rows.dedup();
        let mut t = String::from(
            "| loss | precision | value | elementwise | gradient | Hessian | comparisons |\n\
             |---|---|---|---|---|---|---|\n",
        );
        for (loss, f32) in rows {
            let mut n = 0;
            t += &format!("| `{loss}` | {} |", if f32 { "f32" } else { "f64" });
            for what in whats {
                match w.get(&(loss, f32, what)) {
                    Some(&(e, k)) => {
                        n += k;
                        t += &format!(" {} |", figure(e));
                    }
                    None => t += " – |",
                }
            }
            t += &format!(" {n} |\n");
        }
        t
    }

    /// Two significant digits, `0` as such.
    fn figure(e: f64) -> String {
        if e == 0.0 {
            "0".into()
        } else if e < 100.0 {
            format!("{:.2}", e)
                .trim_end_matches('0')
                .trim_end_matches('.')
                .into()
        } else {
            format!("{e:.1e}")
        }
    }
}
