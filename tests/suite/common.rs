//! Helpers shared by the integration tests: vector files, tolerances, backends.

use losskit::prelude::*;
use serde_json::Value;
use std::path::Path;

/// The cases of one conformance file in `tests/data/`.
pub fn cases(file: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let v: Value = serde_json::from_str(&text).expect("valid JSON");
    v["cases"].as_array().expect("cases").clone()
}

pub fn nums(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(a) => a.iter().map(num).collect(),
        x => vec![num(x)],
    }
}

/// A number; the generator writes non-finite values as strings or null.
pub fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(s) => match s.as_str() {
            "inf" | "Infinity" => f64::INFINITY,
            "-inf" | "-Infinity" => f64::NEG_INFINITY,
            _ => f64::NAN,
        },
        _ => f64::NAN,
    }
}

/// serde_json's default float parser may round a long decimal to a neighbour of the nearest
/// f64 (it gives `-1.474390745162964` for `-1.4743907451629639`, an input of `extra.json`),
/// which the f64 checks would then blame on the crate; the `float_roundtrip` feature parses
/// exactly.
#[test]
fn vector_numbers_parse_to_the_nearest_f64() {
    for s in [
        "-1.4743907451629639",
        "0.0010000000474974513",
        "2.464854430503475",
    ] {
        let v: Value = serde_json::from_str(s).expect("a number");
        assert_eq!(
            num(&v).to_bits(),
            s.parse::<f64>().unwrap().to_bits(),
            "{s}"
        );
    }
}

/// Precision under test.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Prec {
    F32,
    F64,
}

impl Prec {
    pub fn rel(self) -> f64 {
        match self {
            Prec::F32 => 1e-5,
            Prec::F64 => 1e-10,
        }
    }
}

/// Compares `got` with `want` element by element: `|g − w| ≤ rel · max(|w|, scale)` where
/// `scale` is the largest magnitude in `want` times `scale_frac` (scale-aware for arrays
/// whose small entries are differences of large inputs).
pub fn close(what: &str, got: &[f64], want: &[f64], prec: Prec) -> Result<(), String> {
    if got.len() != want.len() {
        return Err(format!("{what}: length {} vs {}", got.len(), want.len()));
    }
    let scale = want.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let slack = match prec {
        Prec::F64 => 0.0,
        Prec::F32 => scale,
    };
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let ok = if w.is_infinite() || w.is_nan() {
            g == w || (g.is_nan() && w.is_nan())
        } else {
            (g - w).abs() <= prec.rel() * w.abs().max(slack).max(f64::MIN_POSITIVE)
        };
        if !ok {
            return Err(format!("{what}[{i}]: got {g:e}, want {w:e} ({prec:?})"));
        }
    }
    Ok(())
}

/// Every backend this CPU runs, and a check that the test runner saw the ones the
/// environment says it must (`LOSSKIT_EXPECT_BACKENDS=avx2,avx512` in CI).
pub fn backends() -> Vec<Backend> {
    let have: Vec<Backend> = Backend::available().collect();
    if let Ok(expect) = std::env::var("LOSSKIT_EXPECT_BACKENDS") {
        for name in expect.split(',').filter(|s| !s.is_empty()) {
            assert!(
                have.iter().any(|b| b.name() == name),
                "backend {name} expected by LOSSKIT_EXPECT_BACKENDS but not available"
            );
        }
    }
    have
}

/// One case of a conformance file on one backend in one precision.
pub type CaseRunner = fn(&Value, Backend, Prec) -> Result<(), String>;

/// Runs every case of `file` on every backend, in f64 (`f64_case`) and f32 (`f32_case`),
/// and fails listing every failing case; prints the number of checks.
pub fn run_vectors(file: &str, f64_case: CaseRunner, f32_case: CaseRunner) {
    let cases = cases(file);
    assert!(!cases.is_empty(), "{file} has no cases");
    let mut failures = Vec::new();
    let mut checked = 0;
    for backend in backends() {
        for case in &cases {
            for (prec, run) in [(Prec::F64, f64_case), (Prec::F32, f32_case)] {
                checked += 1;
                if let Err(e) = run(case, backend, prec) {
                    failures.push(format!(
                        "{} [{backend}]: {e}",
                        case["id"].as_str().unwrap_or("?")
                    ));
                }
            }
        }
    }
    println!("{file}: {checked} checks, {} failed", failures.len());
    assert!(
        failures.is_empty(),
        "{} of {checked} checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A check that runs on any two-input pointwise loss (what a conformance runner does with the
/// loss a case names).
pub trait PointwiseCheck {
    /// Checks `loss` (pinned to the case's backend) against the case.
    fn check<L: losskit::PointwiseLoss>(self, loss: L) -> Result<(), String>;
}

/// Runs `check` on the registered two-input pointwise loss whose conformance vectors are
/// named `vectors` (the case's `"loss"`), built from the case's `params` by its registry line
/// (`for_each_pointwise_loss!`) and pinned to `backend`; `None` when no such loss is
/// registered. A loss added to the registry is run with no line here.
pub fn registered_pointwise(
    vectors: &str,
    params: &Value,
    backend: Backend,
    check: impl PointwiseCheck,
) -> Option<Result<(), String>> {
    use losskit::PointwiseLoss;
    let entry = losskit::registry::LOSSES
        .iter()
        .find(|l| l.vectors.contains(&vectors))?;
    // The case's value, else the registry's default; a name the entry lacks is a bug of the
    // registry line.
    let default = |k: &str| {
        entry
            .params
            .iter()
            .find(|p| p.name == k)
            .unwrap_or_else(|| panic!("{} has no parameter {k}", entry.name))
            .default
    };
    let param = |k: &str| match params.get(k) {
        Some(Value::Bool(b)) => f64::from(u8::from(*b)),
        Some(v) => v.as_f64().unwrap_or_else(|| default(k)),
        None => default(k),
    };
    macro_rules! build {
        ($(($name:ident, $loss:expr, $oracle:expr, $domain:expr, $from:expr)),* $(,)?) => {
            match entry.name {
                $( stringify!($name) => Some(match {
                    let from: fn(&dyn Fn(&str) -> f64) -> _ = $from;
                    from(&param).on(backend)
                } {
                    Ok(loss) => check.check(loss),
                    Err(e) => Err(e.to_string()),
                }), )*
                _ => None,
            }
        };
    }
    losskit::for_each_pointwise_loss!(build)
}

/// `x` rounded to precision `F`.
pub fn cast<F: Float>(x: &[f64]) -> Vec<F> {
    x.iter().map(|&v| F::from_f64(v)).collect()
}

/// `x` widened to f64 (exact).
pub fn widen<F: Float>(x: &[F]) -> Vec<f64> {
    x.iter().map(|v| v.to_f64()).collect()
}

/// The bit patterns of `x` widened to f64, to compare runs bit for bit.
pub fn bits<F: Float>(x: &[F]) -> Vec<u64> {
    x.iter().map(|v| v.to_f64().to_bits()).collect()
}

/// `Ok` when two runs agree bit for bit, else an error naming `what`.
pub fn same_bits<F: Float>(what: &str, a: &[F], b: &[F]) -> Result<(), String> {
    if bits(a) == bits(b) {
        Ok(())
    } else {
        Err(format!("{what}: not bit-identical"))
    }
}

/// An error a case did not expect, as a case failure.
pub fn err(e: losskit::Error) -> String {
    format!("unexpected error {e}")
}

/// A small deterministic generator (xorshift64), so failures reproduce.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn bits(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.bits() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in [-1, 1).
    pub fn unit(&mut self) -> f64 {
        (self.bits() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// The reduced value of a pointwise loss, with its gradient written to `grad`, checking
/// the verbs against each other: `value_and_grad` returns `value`'s bits and `grad` writes
/// the same gradient bit for bit.
pub fn fused_value_and_grad<F: Float, L: PointwiseLoss>(
    loss: &L,
    (pred, target, weight): (&[F], &[F], Option<&[F]>),
    reduction: Reduction,
    grad: &mut [F],
) -> Result<F, String> {
    let v = loss.value(pred, target, weight, reduction).map_err(err)?;
    let v2 = loss
        .value_and_grad(pred, target, weight, reduction, &mut grad[..])
        .map_err(err)?;
    if v2.to_f64().to_bits() != v.to_f64().to_bits() {
        return Err(format!("value_and_grad value {v2} != value {v}"));
    }
    let mut g2 = vec![F::ZERO; grad.len()];
    loss.grad(pred, target, weight, reduction, &mut g2[..])
        .map_err(err)?;
    same_bits("grad and value_and_grad's gradient", grad, &g2)?;
    Ok(v)
}

/// Magnitudes from zero through subnormals to `f32::MAX`, for the "finite inputs of any
/// magnitude never give NaN" properties (used with both signs).
pub const MAGNITUDES: [f32; 13] = [
    0.0,
    1e-45,
    1e-38,
    1e-20,
    1e-8,
    0.5,
    1.0,
    3.0,
    90.0,
    1e4,
    1e20,
    1e38,
    f32::MAX,
];
