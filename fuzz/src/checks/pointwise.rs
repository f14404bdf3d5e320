//! The `pointwise` target: every registered two-input pointwise loss
//! (`for_each_pointwise_loss!`), built from fuzzed parameters through its registry line, on
//! fuzzed inputs, in f32 or f64, one verb in write or accumulate mode, with or without
//! weights, on every available backend (and unpinned).
//!
//! Checked: no panic; the error is exactly the documented one (parameters, lengths, empty,
//! reduction, then the first element whose pred, target or weight is not finite, or which
//! is outside the loss's domain), with the output zeroed (write mode, data errors) or
//! untouched (accumulate mode, validation errors); values against the f64 reference
//! ([`Def::reference`]) on the rounded inputs, per element and reduced; f32 derivatives
//! against the f64 kernel, f64 gradients against central differences of the reference where
//! those are reliable; no NaN from valid inputs; accumulate mode adding exactly the written
//! result; `value_and_grad` equal to `value` and `grad` bit for bit; every backend within the
//! budget of every other, and the unpinned call bit-identical to the active backend's.

use super::super::input::Input;
use super::{Budget, Want, What, agree, bits, budget, is_f32, is_validation, max_of, reduction_ok};
use super::{same_error, show};
use losskit::prelude::*;
use losskit::reference::{classification as rc, regression as rr};
use losskit::registry::{self, Domain};

/// A loss's parameters by their registry names.
pub struct Params(pub Vec<(&'static str, f64)>);

impl Params {
    /// The value of parameter `k` (a name the registry entry lacks is a bug here).
    pub fn get(&self, k: &str) -> f64 {
        self.0
            .iter()
            .find(|(n, _)| *n == k)
            .unwrap_or_else(|| panic!("no parameter {k}"))
            .1
    }
    fn flag(&self, k: &str) -> bool {
        self.get(k) != 0.0
    }
    /// These parameters as the kernel of precision `F` uses them, for the reference: the
    /// Poisson NLL's `ε` is added to f32 data rounded to f32 (as PyTorch adds it to an f32
    /// tensor), and near `ln 1` that rounding (`1.0001` is `1.00010002` in f32) is a 1.6e-4
    /// relative change of `ln(p + ε)`, which no budget should absorb.
    fn in_precision<F: Float>(&self, loss: &str) -> Params {
        Params(
            self.0
                .iter()
                .map(|&(n, x)| {
                    let rounded = is_f32::<F>() && loss == "poisson_nll" && n == "eps";
                    (n, if rounded { f64::from(x as f32) } else { x })
                })
                .collect(),
        )
    }
}

type Of = fn(&Params, f64, f64) -> f64;

/// What the checks know of a pointwise loss beyond the registry: its reference with the
/// fuzzed parameters, the magnitudes its value and gradient are computed from (where
/// parts cancel, the tolerance is relative to them), its parameter and input domains, and
/// its kinks (where central differences are not taken, and near which inputs are drawn).
pub struct Def {
    pub name: &'static str,
    pub reference: Of,
    /// The magnitude of the parts of `ℓ`.
    pub parts: Of,
    /// The magnitude of the parts of `∂ℓ/∂p`.
    pub gparts: Of,
    /// The parameter that is invalid, if one is.
    pub bad_param: fn(&Params) -> Option<&'static str>,
    /// The input (`"pred"` or `"target"`) outside the domain at `(p, t)`, if one is.
    pub outside: fn(&Params, f64, f64) -> Option<&'static str>,
    /// Predictions at which `ℓ(·, t)` has a kink or a domain edge.
    pub kinks: fn(&Params, f64) -> Vec<f64>,
}

/// No parts beyond the value itself (the checks take `max(parts, |ℓ|)`).
fn abs_value(_: &Params, _: f64, _: f64) -> f64 {
    0.0
}

fn none(_: &Params) -> Option<&'static str> {
    None
}
fn real_domain(_: &Params, _: f64, _: f64) -> Option<&'static str> {
    None
}
fn no_kinks(_: &Params, _: f64) -> Vec<f64> {
    Vec::new()
}
fn at_target(_: &Params, t: f64) -> Vec<f64> {
    vec![t]
}
fn positive(d: &Params, k: &'static str) -> Option<&'static str> {
    let x = d.get(k);
    (!(x.is_finite() && x > 0.0)).then_some(k)
}
/// In f32's normal range (a scale that stays positive, finite and invertible in f32).
fn normal_positive(d: &Params, k: &'static str) -> Option<&'static str> {
    let x = d.get(k);
    (!(f64::from(f32::MIN_POSITIVE)..=f64::from(f32::MAX)).contains(&x)).then_some(k)
}
fn non_negative(d: &Params, k: &'static str) -> Option<&'static str> {
    let x = d.get(k);
    (!(0.0..=f64::from(f32::MAX)).contains(&x)).then_some(k)
}
fn unit(d: &Params, k: &'static str) -> Option<&'static str> {
    (!(0.0..=1.0).contains(&d.get(k))).then_some(k)
}
fn unit_target(_: &Params, _: f64, t: f64) -> Option<&'static str> {
    (!(0.0..=1.0).contains(&t)).then_some("target")
}
fn sign_target(_: &Params, _: f64, t: f64) -> Option<&'static str> {
    (t != 1.0 && t != -1.0).then_some("target")
}
fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}
fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}
/// The margin losses' kinks `z = t·p ∈ zs`, as predictions.
fn margin_kinks(t: f64, zs: &[f64]) -> Vec<f64> {
    zs.iter().map(|z| z * t).collect()
}

/// Barron's scale range, `[2⁻⁶³, 2⁶³]`.
const SCALE_MIN: f64 = 1.0 / 9_223_372_036_854_775_808.0;
const SCALE_MAX: f64 = 9_223_372_036_854_775_808.0;

/// Every pointwise loss's definition (a registered loss missing here fails every case).
pub static DEFS: &[Def] = &[
    Def {
        name: "mse",
        reference: |_, p, t| rr::mse(p, t),
        parts: abs_value,
        gparts: |_, p, t| 2.0 * (p - t).abs(),
        bad_param: none,
        outside: real_domain,
        kinks: no_kinks,
    },
    Def {
        name: "mae",
        reference: |_, p, t| rr::mae(p, t),
        parts: abs_value,
        gparts: |_, _, _| 1.0,
        bad_param: none,
        outside: real_domain,
        kinks: at_target,
    },
    Def {
        name: "huber",
        reference: |d, p, t| rr::huber(p, t, d.get("delta")),
        parts: abs_value,
        gparts: |d, p, t| (p - t).abs().min(d.get("delta").abs()),
        bad_param: |d| normal_positive(d, "delta"),
        outside: real_domain,
        kinks: |d, t| vec![t - d.get("delta"), t + d.get("delta"), t],
    },
    Def {
        name: "smooth_l1",
        reference: |d, p, t| rr::smooth_l1(p, t, d.get("beta")),
        parts: abs_value,
        gparts: |_, _, _| 1.0,
        bad_param: |d| {
            if d.get("beta") == 0.0 {
                None
            } else {
                positive(d, "beta")
            }
        },
        outside: real_domain,
        kinks: |d, t| vec![t - d.get("beta"), t + d.get("beta"), t],
    },
    Def {
        name: "quantile",
        reference: |d, p, t| rr::quantile(p, t, d.get("tau")),
        parts: abs_value,
        gparts: |_, _, _| 1.0,
        bad_param: |d| unit(d, "tau"),
        outside: real_domain,
        kinks: at_target,
    },
    Def {
        name: "expectile",
        reference: |d, p, t| rr::expectile(p, t, d.get("tau")),
        parts: abs_value,
        gparts: |_, p, t| 2.0 * (p - t).abs(),
        bad_param: |d| unit(d, "tau"),
        outside: real_domain,
        kinks: at_target,
    },
    Def {
        name: "pseudo_huber",
        reference: |d, p, t| rr::pseudo_huber(p, t, d.get("delta")),
        parts: abs_value,
        gparts: |_, p, t| (p - t).abs(),
        bad_param: |d| normal_positive(d, "delta"),
        outside: real_domain,
        kinks: no_kinks,
    },
    Def {
        name: "log_cosh",
        reference: |_, p, t| rr::log_cosh(p, t),
        parts: abs_value,
        gparts: |_, _, _| 0.0,
        bad_param: none,
        outside: real_domain,
        kinks: no_kinks,
    },
    Def {
        name: "barron",
        // The naive reference squares the residual: where that overflows it cannot say.
        reference: |d, p, t| {
            let x = (p - t) / d.get("scale");
            if (x * x).is_finite() {
                rr::barron(p, t, d.get("alpha"), d.get("scale"))
            } else {
                f64::NAN
            }
        },
        parts: abs_value,
        gparts: |_, _, _| 0.0,
        bad_param: |d| {
            let (a, c) = (d.get("alpha"), d.get("scale"));
            if !(a == f64::NEG_INFINITY || a.abs() <= 18_446_744_073_709_551_616.0) {
                Some("alpha")
            } else if !(SCALE_MIN..=SCALE_MAX).contains(&c) {
                Some("scale")
            } else {
                None
            }
        },
        outside: real_domain,
        kinks: no_kinks,
    },
    Def {
        name: "poisson_nll",
        reference: |d, p, t| {
            rr::poisson_nll(p, t, d.flag("log_input"), d.flag("full"), d.get("eps"))
        },
        parts: |d, p, t| {
            let stirling = if d.flag("full") && t > 1.0 {
                (t * t.ln()).abs() + t + (0.5 * (2.0 * core::f64::consts::PI * t).ln()).abs()
            } else {
                0.0
            };
            stirling
                + if d.flag("log_input") {
                    p.exp() + (t * p).abs()
                } else {
                    p.abs() + (t * (p + d.get("eps")).ln()).abs()
                }
        },
        gparts: |d, p, t| {
            if d.flag("log_input") {
                p.exp() + t
            } else {
                1.0 + t / (p + d.get("eps"))
            }
        },
        bad_param: |d| {
            let e = d.get("eps");
            let normal = (f64::from(f32::MIN_POSITIVE)..=f64::from(f32::MAX)).contains(&e);
            (!(e == 0.0 || normal)).then_some("eps")
        },
        outside: |d, p, t| {
            if t < 0.0 {
                Some("target")
            } else if !d.flag("log_input") && p < 0.0 {
                Some("pred")
            } else {
                None
            }
        },
        kinks: |d, _| {
            if d.flag("log_input") {
                vec![]
            } else {
                vec![0.0]
            }
        },
    },
    Def {
        name: "tweedie",
        reference: |d, p, t| rr::tweedie(p, t, d.get("power"), d.flag("deviance")),
        parts: |d, p, t| {
            let rho = d.get("power");
            let (a, b) = (rho - 1.0, 2.0 - rho);
            let big_a = if t == 0.0 { 0.0 } else { t * (-a * p).exp() };
            let dev = if d.flag("deviance") && t > 0.0 {
                (b * t.ln()).exp() / (a * b)
            } else {
                0.0
            };
            2.0 * (big_a / a + (b * p).exp() / b + dev)
        },
        gparts: |d, p, t| {
            let rho = d.get("power");
            let (a, b) = (rho - 1.0, 2.0 - rho);
            2.0 * (t * (-a * p).exp() + (b * p).exp())
        },
        bad_param: |d| {
            let r = d.get("power");
            (!(r > 1.0 && r < 2.0)).then_some("power")
        },
        outside: |_, _, t| (t < 0.0).then_some("target"),
        kinks: no_kinks,
    },
    Def {
        name: "gamma",
        reference: |d, p, t| rr::gamma(p, t, d.flag("deviance")),
        parts: |_, p, t| 2.0 * ((t * (-p).exp()).abs() + p.abs() + t.ln().abs() + 1.0),
        gparts: |_, p, t| 2.0 * (1.0 + t * (-p).exp()),
        bad_param: none,
        outside: |_, _, t| (t <= 0.0).then_some("target"),
        kinks: no_kinks,
    },
    Def {
        name: "bce",
        reference: |_, p, t| rc::bce(p, t),
        parts: abs_value,
        gparts: |_, p, t| t / p.max(1e-12) + (1.0 - t) / (1.0 - p).max(1e-12),
        bad_param: none,
        outside: |_, p, t| {
            if !(0.0..=1.0).contains(&p) {
                Some("pred")
            } else if !(0.0..=1.0).contains(&t) {
                Some("target")
            } else {
                None
            }
        },
        // The clamps: `max(p, 1e-12)` in the gradient, `ln ≥ −100` in the value.
        kinks: |_, _| vec![0.0, 1.0, 1e-12, 1.0 - 1e-12, 3.7e-44, 1.0 - 3.7e-44],
    },
    Def {
        name: "bce_with_logits",
        reference: |d, p, t| rc::bce_with_logits(p, t, d.get("pos_weight")),
        parts: |d, x, y| {
            ((1.0 - y) * x).abs() + (1.0 + (d.get("pos_weight") - 1.0) * y).abs() * softplus(-x)
        },
        gparts: |d, x, y| {
            let w = d.get("pos_weight");
            (1.0 + (w - 1.0) * y).abs() * sigmoid(x) + w * y
        },
        bad_param: |d| non_negative(d, "pos_weight"),
        outside: unit_target,
        kinks: no_kinks,
    },
    Def {
        name: "sigmoid_focal",
        reference: |d, p, t| rc::sigmoid_focal(p, t, d.get("alpha"), d.get("gamma")),
        parts: abs_value,
        gparts: |d, x, y| {
            let (a, g) = (d.get("alpha"), d.get("gamma"));
            let at = if a >= 0.0 {
                a * y + (1.0 - a) * (1.0 - y)
            } else {
                1.0
            };
            let q = y * sigmoid(-x) + (1.0 - y) * sigmoid(x);
            let ce = rc::bce_with_logits(x, y, 1.0);
            at.abs() * q.powf(g) * (g * ce + 1.0)
        },
        bad_param: |d| {
            // α in [0, 1], or exactly −1 (`SigmoidFocal::UNBALANCED`).
            let a = d.get("alpha");
            if !((0.0..=1.0).contains(&a) || a == -1.0) {
                Some("alpha")
            } else {
                non_negative(d, "gamma")
            }
        },
        outside: unit_target,
        kinks: no_kinks,
    },
    Def {
        name: "soft_margin",
        reference: |_, p, t| rc::soft_margin(p, t),
        parts: abs_value,
        gparts: |_, _, _| 1.0,
        bad_param: none,
        outside: sign_target,
        kinks: no_kinks,
    },
    Def {
        name: "hinge",
        reference: |_, p, t| rc::hinge(p, t),
        parts: abs_value,
        gparts: |_, _, _| 1.0,
        bad_param: none,
        outside: sign_target,
        kinks: |_, t| margin_kinks(t, &[1.0]),
    },
    Def {
        name: "squared_hinge",
        reference: |_, p, t| rc::squared_hinge(p, t),
        parts: abs_value,
        gparts: |_, p, t| 2.0 * (1.0 - p * t).abs(),
        bad_param: none,
        outside: sign_target,
        kinks: |_, t| margin_kinks(t, &[1.0]),
    },
    Def {
        name: "smooth_hinge",
        reference: |_, p, t| rc::smooth_hinge(p, t),
        parts: abs_value,
        gparts: |_, _, _| 1.0,
        bad_param: none,
        outside: sign_target,
        kinks: |_, t| margin_kinks(t, &[0.0, 1.0]),
    },
    Def {
        name: "modified_huber",
        reference: |_, p, t| rc::modified_huber(p, t),
        parts: abs_value,
        gparts: |_, p, t| 4.0f64.max(2.0 * (1.0 - p * t).abs()),
        bad_param: none,
        outside: sign_target,
        kinks: |_, t| margin_kinks(t, &[-1.0, 1.0]),
    },
    Def {
        name: "kl_div",
        reference: |d, p, t| rc::kl_div(p, t, d.flag("log_target")),
        parts: |d, x, t| {
            if d.flag("log_target") {
                t.exp() * (t.abs() + x.abs())
            } else if t == 0.0 {
                0.0
            } else {
                (t * t.ln()).abs() + (t * x).abs()
            }
        },
        gparts: |d, _, t| if d.flag("log_target") { t.exp() } else { t },
        bad_param: none,
        outside: |d, _, t| (!d.flag("log_target") && t < 0.0).then_some("target"),
        kinks: no_kinks,
    },
];

/// The definition of `name`.
pub fn def(name: &str) -> &'static Def {
    DEFS.iter().find(|d| d.name == name).unwrap_or_else(|| {
        panic!("{name}: a registered pointwise loss without a Def in fuzz/src/checks/pointwise.rs")
    })
}

/// A visitor of the loss built for a case.
trait Visit {
    fn visit<L: PointwiseLoss + std::fmt::Debug>(self, loss: L);
}

macro_rules! table {
    ($(($name:ident, $loss:expr, $oracle:expr, $domain:expr, $from:expr)),* $(,)?) => {
        /// The registered pointwise losses, in registry order.
        pub const NAMES: &[&str] = &[$(stringify!($name)),*];

        /// Builds `name` from the parameters `f` by its registry line and visits it.
        fn build(name: &str, f: &dyn Fn(&str) -> f64, v: impl Visit) {
            match name {
                $( stringify!($name) => {
                    let from: fn(&dyn Fn(&str) -> f64) -> _ = $from;
                    v.visit(from(f))
                } )*
                _ => unreachable!("{name}"),
            }
        }
    };
}
losskit::for_each_pointwise_loss!(table);

/// The verbs of the pointwise shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Value,
    Elementwise,
    Grad,
    ValueAndGrad,
    Hessian,
}

const VERBS: [Verb; 5] = [
    Verb::Value,
    Verb::Elementwise,
    Verb::Grad,
    Verb::ValueAndGrad,
    Verb::Hessian,
];

/// One fuzzed call, before the precision is chosen (values in f64).
struct Case {
    name: &'static str,
    def: &'static Def,
    params: Params,
    p: Vec<f64>,
    t: Vec<f64>,
    w: Option<Vec<f64>>,
    out_len: usize,
    reduction: Reduction,
    verb: Verb,
    add: bool,
    offset: usize,
}

/// Runs the check on one fuzz input.
pub fn run(data: &[u8]) {
    let mut inp = Input::new(data);
    let name = NAMES[inp.below(NAMES.len())];
    let entry = registry::find(name).expect("registered");
    let domain = entry.domain().expect("pointwise");
    let def = def(name);
    let params = Params(
        entry
            .params
            .iter()
            .map(|p| {
                let v = match p.kind {
                    registry::Kind::Flag => f64::from(u8::from(inp.chance(128))),
                    _ => inp.param(p.default),
                };
                (p.name, v)
            })
            .collect(),
    );
    let f32 = inp.chance(128);
    let case = draw(&mut inp, name, def, params, domain, f32);
    let f = |k: &str| case.params.get(k);
    struct V<'a>(&'a Case, bool);
    impl Visit for V<'_> {
        fn visit<L: PointwiseLoss + std::fmt::Debug>(self, loss: L) {
            if self.1 {
                check::<f32, L>(self.0, loss);
            } else {
                check::<f64, L>(self.0, loss);
            }
        }
    }
    build(name, &f, V(&case, f32));
}

/// Draws the inputs: mostly valid (finite, in the domain, near the loss's kinks), sometimes
/// with one bad value planted, sometimes raw.
fn draw(
    inp: &mut Input<'_>,
    name: &'static str,
    def: &'static Def,
    params: Params,
    domain: Domain,
    f32: bool,
) -> Case {
    let n = inp.len(16);
    let clean = inp.chance(200);
    let max = if f32 { f64::from(f32::MAX) } else { f64::MAX };
    let sat = |x: f64| {
        if x.is_nan() { 0.0 } else { x.clamp(-max, max) }
    };
    let (mut p, mut t) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut last_t = 0.0;
    for _ in 0..n {
        let mut ti = match inp.byte() % 4 {
            0 => last_t,
            1 => inp.pick(&[0.0, 1.0, -1.0, 0.5, 1e-8, 1.0 - 1e-8, 2.0, 1e-40]),
            _ => inp.real(),
        };
        let mut pi = match inp.byte() % 4 {
            0 => inp.real(),
            1 => {
                let k = (def.kinks)(&params, ti);
                if k.is_empty() {
                    ti
                } else {
                    let x = k[inp.below(k.len())];
                    inp.near(x)
                }
            }
            2 => ti + inp.real(),
            _ => inp.near(ti),
        };
        if clean {
            (pi, ti) = domain.place(sat(pi), sat(ti));
            if name == "poisson_nll" && params.get("log_input") == 0.0 {
                pi = pi.abs();
            }
            if domain == Domain::Probability && inp.chance(64) {
                pi = inp.pick(&[0.0, 1.0, 1e-12, 1.0 - 1e-12, 1e-45, 1.0 - 5.96e-8, 3e-44]);
            }
            (pi, ti) = (sat(pi), sat(ti));
        }
        last_t = ti;
        p.push(pi);
        t.push(ti);
    }
    let w = match inp.byte() % 4 {
        0 | 1 => None,
        _ => Some(
            (0..n)
                .map(|_| {
                    let x = match inp.byte() % 8 {
                        0 => 0.0,
                        1 => 1.0,
                        2 => -1.0,
                        3 | 4 => f64::from(inp.byte()) / 32.0,
                        _ => inp.real(),
                    };
                    if clean { sat(x) } else { x }
                })
                .collect(),
        ),
    };
    let mut case = Case {
        name,
        def,
        params,
        p,
        t,
        w,
        out_len: n,
        reduction: super::reduction(inp),
        verb: VERBS[inp.below(VERBS.len())],
        add: inp.chance(100),
        offset: inp.below(17),
    };
    // One bad value planted among valid ones.
    if clean && n > 0 && inp.chance(24) {
        let i = inp.below(n);
        let bad = inp.pick(&[f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.5, 2.0, 1.5]);
        match inp.byte() % 3 {
            0 => case.p[i] = bad,
            1 => case.t[i] = bad,
            _ => match &mut case.w {
                Some(w) => w[i] = bad,
                None => case.p[i] = bad,
            },
        }
    }
    // A length that does not match.
    if inp.chance(8) {
        let k = inp.below(3);
        let len = inp.below(n + 3);
        match k {
            0 => case.t.truncate(len.min(n)),
            1 => {
                if let Some(w) = &mut case.w {
                    w.resize(len, 1.0);
                }
            }
            _ => case.out_len = len,
        }
    }
    case
}

/// A buffer at `offset` in a larger one (misaligned for the vector loads).
fn placed<F: Float>(x: &[f64], offset: usize) -> Vec<F> {
    let mut v = vec![F::from_f64(7.0); offset];
    v.extend(x.iter().map(|&a| F::from_f64(a)));
    v
}

/// `b` as an output written or added into.
fn out_mode<F: Float>(b: &mut [F], add: bool) -> Out<'_, F> {
    if add { Out::add(b) } else { Out::write(b) }
}

/// The inputs of a call in precision `F`.
struct Data<F> {
    p: Vec<F>,
    t: Vec<F>,
    w: Option<Vec<F>>,
    offset: usize,
}

impl<F: Float> Data<F> {
    fn p(&self) -> &[F] {
        &self.p[self.offset..]
    }
    fn t(&self) -> &[F] {
        &self.t[self.offset..]
    }
    fn w(&self) -> Option<&[F]> {
        self.w.as_ref().map(|w| &w[self.offset..])
    }
}

/// One verb on `loss`: the result (value, or 0 for the array verbs) and the output buffer,
/// which starts as `base`.
fn call<F: Float, L: PointwiseLoss>(
    loss: &L,
    d: &Data<F>,
    r: Reduction,
    verb: Verb,
    add: bool,
    base: &[F],
) -> (Result<F>, Vec<F>) {
    let mut out = base.to_vec();
    let res = match verb {
        Verb::Value => loss.value(d.p(), d.t(), d.w(), r),
        Verb::Elementwise => loss
            .value_elementwise(d.p(), d.t(), d.w(), &mut out)
            .map(|_| F::ZERO),
        Verb::Grad => loss
            .grad(d.p(), d.t(), d.w(), r, out_mode(&mut out, add))
            .map(|_| F::ZERO),
        Verb::ValueAndGrad => loss.value_and_grad(d.p(), d.t(), d.w(), r, out_mode(&mut out, add)),
        Verb::Hessian => loss
            .hessian_diag(d.p(), d.t(), d.w(), r, out_mode(&mut out, add))
            .map(|_| F::ZERO),
    };
    (res, out)
}

/// The error the documented rules give for this case, if any.
fn expected_error<F: Float>(c: &Case, d: &Data<F>) -> Option<Error> {
    if let Some(name) = (c.def.bad_param)(&c.params) {
        return Some(Error::InvalidParameter { name, rule: "" });
    }
    let n = d.p().len();
    let mismatch = |name, found| Error::LengthMismatch {
        name,
        expected: n,
        found,
    };
    if d.t().len() != n {
        return Some(mismatch("target", d.t().len()));
    }
    if let Some(w) = d.w()
        && w.len() != n
    {
        return Some(mismatch("weight", w.len()));
    }
    let out_name = match c.verb {
        Verb::Value => None,
        Verb::Elementwise => Some("out"),
        Verb::Hessian => Some("hess"),
        _ => Some("grad"),
    };
    if let Some(name) = out_name
        && c.out_len != n
    {
        return Some(mismatch(name, c.out_len));
    }
    if n == 0 {
        return Some(Error::Empty);
    }
    if c.verb != Verb::Elementwise && !reduction_ok(c.reduction) {
        return Some(Error::InvalidParameter {
            name: "reduction",
            rule: "",
        });
    }
    for i in 0..n {
        let (p, t) = (d.p()[i].to_f64(), d.t()[i].to_f64());
        let w = d.w().map_or(1.0, |w| w[i].to_f64());
        for (name, x) in [("pred", p), ("target", t), ("weight", w)] {
            if !x.is_finite() {
                return Some(Error::NonFinite { name, index: i });
            }
        }
        if let Some(name) = (c.def.outside)(&c.params, p, t) {
            return Some(Error::InvalidInput { name, index: i });
        }
    }
    None
}

/// The reduction's factor for `n` elements.
fn scale_of(r: Reduction, n: usize) -> f64 {
    r.scale(n).unwrap_or(f64::NAN)
}

/// Fails with the case described.
fn fail<F: Float>(c: &Case, d: &Data<F>, backend: Option<Backend>, msg: String) -> ! {
    panic!(
        "pointwise {} {:?} {} [{}] {:?} {} reduction={:?} offset={}: {msg}\n  pred   {}\n  target {}\n  weight {}",
        c.name,
        c.params.0,
        if is_f32::<F>() { "f32" } else { "f64" },
        backend.map_or("unpinned".to_string(), |b| b.to_string()),
        c.verb,
        if c.add { "accumulate" } else { "write" },
        c.reduction,
        c.offset,
        show(d.p()),
        show(d.t()),
        d.w().map_or("none".to_string(), show),
    )
}

/// The weighted term `w·ℓ` of element `i` as the documented policy computes it in `F`
/// (a term beyond the range of `F` is ±∞ before it is weighted; a weight of 0 gives 0),
/// and its magnitude of parts.
fn term<F: Float>(c: &Case, p: f64, t: f64, w: f64) -> (f64, f64) {
    let l = (c.def.reference)(&c.params.in_precision::<F>(c.name), p, t);
    // A term below the precision's normal range is rounded at that range's bottom before
    // its weight multiplies it: its parts are never smaller than the smallest normal number.
    let tiny = if is_f32::<F>() {
        f64::from(f32::MIN_POSITIVE)
    } else {
        f64::MIN_POSITIVE
    };
    let parts = (c.def.parts)(&c.params, p, t).max(l.abs()).max(tiny);
    if w == 0.0 {
        return (0.0, 0.0);
    }
    let max = max_of::<F>();
    // At the edge of the range either a rounded finite term or ±∞ is right.
    let edge = |x: f64| x.abs() > max * (1.0 - 1e-5) && x.abs() < max * (1.0 + 1e-5);
    if l.is_finite() && (edge(l) || edge(w * l)) {
        return (f64::NAN, f64::INFINITY);
    }
    if l.is_finite() && (l.abs() > max || (w * l).abs() > max) {
        return (l.signum() * w.signum() * f64::INFINITY, f64::INFINITY);
    }
    (w * l, (w * parts).abs())
}

fn check<F: Float, L: PointwiseLoss>(c: &Case, loss: L) {
    let d = Data::<F> {
        p: placed(&c.p, c.offset),
        t: placed(&c.t, c.offset),
        w: c.w.as_ref().map(|w| placed(w, c.offset)),
        offset: c.offset,
    };
    let base: Vec<F> = (0..c.out_len)
        .map(|i| F::from_f64(5.0 + i as f64 * 0.125))
        .collect();
    let expected = expected_error(c, &d);
    let budget_of = |what| budget(c.name, is_f32::<F>(), what);
    let mut first: Option<(Backend, Result<F>, Vec<F>)> = None;
    for backend in Backend::available() {
        let pinned = loss.on(backend).expect("available");
        let (res, out) = call(&pinned, &d, c.reduction, c.verb, c.add, &base);
        let fail = |msg: String| fail(c, &d, Some(backend), msg);
        match (&expected, &res) {
            (Some(e), Err(got)) if same_error(e, got) => {
                // value_elementwise always writes (its output has no accumulate mode).
                let add = c.add && c.verb != Verb::Elementwise;
                let want_base = add || is_validation(e) || c.verb == Verb::Value;
                if want_base && bits(&out) != bits(&base) {
                    fail(format!("{got}: the output changed"));
                }
                if !want_base && out.iter().any(|x| x.to_f64().to_bits() != 0) {
                    fail(format!("{got}: the output is not reset to zeros"));
                }
            }
            (Some(e), got) => fail(format!("{got:?}, want Err({e:?})")),
            (None, Err(e)) => fail(format!("unexpected error {e:?}")),
            (None, Ok(_)) => check_ok(c, &d, &pinned, backend, &res, &out, &base),
        }
        if backend == Backend::active() {
            let (r2, o2) = call(&loss, &d, c.reduction, c.verb, c.add, &base);
            let same = match (&res, &r2) {
                (Ok(a), Ok(b)) => a.to_f64().to_bits() == b.to_f64().to_bits(),
                (Err(a), Err(b)) => a == b,
                _ => false,
            };
            if !same || bits(&out) != bits(&o2) {
                fail(format!("unpinned {r2:?} differs from pinned {res:?}"));
            }
        }
        match &first {
            None => first = Some((backend, res, out)),
            Some((b0, r0, o0)) => {
                if let (Ok(v0), Ok(v)) = (r0, &res) {
                    let n = d.p().len();
                    let s = scale_of(c.reduction, n).abs();
                    let mag: f64 = (0..n)
                        .map(|i| {
                            let w = d.w().map_or(1.0, |w| w[i].to_f64());
                            term::<F>(c, d.p()[i].to_f64(), d.t()[i].to_f64(), w).1
                        })
                        .sum::<f64>()
                        * s;
                    if !agree(v0.to_f64(), v.to_f64(), mag, budget_of(What::Value)) {
                        fail(format!("value {v:?} vs {v0:?} on {b0}"));
                    }
                    let what = match c.verb {
                        Verb::Elementwise => What::Elementwise,
                        Verb::Hessian => What::Hessian,
                        _ => What::Grad,
                    };
                    let scale = o0.iter().chain(&out).fold(0.0f64, |m, x| {
                        let x = x.to_f64().abs();
                        if x.is_finite() { m.max(x) } else { m }
                    });
                    for (i, (a, b)) in o0.iter().zip(&out).enumerate() {
                        let s = if is_f32::<F>() { scale } else { scale * 1e-3 };
                        if !agree(a.to_f64(), b.to_f64(), s, budget_of(what)) {
                            fail(format!("{what:?}[{i}] {b:?} vs {a:?} on {b0}"));
                        }
                    }
                }
            }
        }
    }
}

/// The checks of a successful call on one backend.
fn check_ok<F: Float, L: PointwiseLoss>(
    c: &Case,
    d: &Data<F>,
    loss: &L,
    backend: Backend,
    res: &Result<F>,
    out: &[F],
    base: &[F],
) {
    let fail = |msg: String| fail(c, d, Some(backend), msg);
    let n = d.p().len();
    let s = scale_of(c.reduction, n);
    let terms: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let w = d.w().map_or(1.0, |w| w[i].to_f64());
            term::<F>(c, d.p()[i].to_f64(), d.t()[i].to_f64(), w)
        })
        .collect();
    let bv = budget(c.name, is_f32::<F>(), What::Value);
    if matches!(c.verb, Verb::Value | Verb::ValueAndGrad) {
        let v = res.as_ref().expect("ok").to_f64();
        let values: Vec<f64> = terms.iter().map(|x| x.0).collect();
        let mag: f64 = terms.iter().map(|x| x.1).sum();
        let want = Want::of_sum::<F>(&values, s, mag * s.abs(), bv);
        if let Err(e) = want.check(v, bv) {
            fail(format!("value {e}"));
        }
    }
    if c.verb == Verb::Elementwise {
        let be = budget(c.name, is_f32::<F>(), What::Elementwise);
        for (i, &(x, mag)) in terms.iter().enumerate() {
            let want = if x.is_infinite() {
                Want::Inf(x.signum())
            } else {
                Want::of::<F>(x, mag, be)
            };
            if let Err(e) = want.check(out[i].to_f64(), be) {
                fail(format!("elementwise[{i}] {e}"));
            }
        }
    }
    if matches!(c.verb, Verb::Grad | Verb::ValueAndGrad | Verb::Hessian) {
        check_derivatives(c, d, loss, backend, out, base, s);
    }
    if c.verb == Verb::ValueAndGrad {
        let (v, _) = call(loss, d, c.reduction, Verb::Value, c.add, base);
        let (g, gout) = call(loss, d, c.reduction, Verb::Grad, c.add, base);
        let v = v.expect("value after value_and_grad");
        g.expect("grad after value_and_grad");
        if v.to_f64().to_bits() != res.as_ref().expect("ok").to_f64().to_bits() {
            fail(format!("value {v:?} != value_and_grad's {res:?}"));
        }
        if bits(&gout) != bits(out) {
            fail("grad's output differs from value_and_grad's, bit for bit".into());
        }
    }
}

/// Derivatives (write mode, and accumulate mode adding exactly the written result): no
/// NaN, f32 within the budget of the f64 kernel, f64 gradients within the budget of central
/// differences of the reference where those are reliable.
fn check_derivatives<F: Float, L: PointwiseLoss>(
    c: &Case,
    d: &Data<F>,
    loss: &L,
    backend: Backend,
    out: &[F],
    base: &[F],
    s: f64,
) {
    let fail = |msg: String| fail(c, d, Some(backend), msg);
    let n = d.p().len();
    let verb = if c.verb == Verb::Hessian {
        Verb::Hessian
    } else {
        Verb::Grad
    };
    let written = if c.add {
        let (r, w) = call(loss, d, c.reduction, verb, false, base);
        r.expect("write mode after accumulate mode");
        for i in 0..n {
            let sum = base[i] + w[i];
            if sum.to_f64().to_bits() != out[i].to_f64().to_bits() {
                fail(format!(
                    "accumulate[{i}]: {:?} != {:?} + {:?}",
                    out[i], base[i], w[i]
                ));
            }
        }
        w
    } else {
        out.to_vec()
    };
    for (i, g) in written.iter().enumerate() {
        if g.to_f64().is_nan() {
            fail(format!("{verb:?}[{i}] is NaN"));
        }
    }
    let what = if verb == Verb::Hessian {
        What::Hessian
    } else {
        What::Grad
    };
    let b = budget(c.name, is_f32::<F>(), what);
    if is_f32::<F>() {
        // Against the f64 kernel on the same (widened) inputs.
        let wide = Data::<f64> {
            p: d.p().iter().map(|x| x.to_f64()).collect(),
            t: d.t().iter().map(|x| x.to_f64()).collect(),
            w: d.w().map(|w| w.iter().map(|x| x.to_f64()).collect()),
            offset: 0,
        };
        let (r, g64) = call(loss, &wide, c.reduction, verb, false, &vec![0.0; n]);
        r.expect("the f64 kernel on the f32 case");
        for i in 0..n {
            let (p, t) = (wide.p[i], wide.t[i]);
            let w = wide.w.as_ref().map_or(1.0, |w| w[i]);
            let ws = (w * s).abs();
            let parts = if verb == Verb::Grad {
                ws * (c.def.gparts)(&c.params, p, t)
            } else {
                0.0
            };
            // A weight·scale rounded to a subnormal f32 loses its low bits; an unweighted
            // derivative below f32's normal range carries the budget's absolute error, which
            // the weight and scale then multiply (the term is formed before they apply).
            let floor = if ws > 0.0 {
                4.0 * 1.4e-45 * (1.0 + g64[i].abs() / ws) + b.abs * (ws - 1.0).max(0.0)
            } else {
                0.0
            };
            // Per-element derivatives are computed in the input precision (numerics policy 2):
            // one beyond the range of F is ±∞ before the weight and the reduction's scale
            // apply, so then either a rounded result or ±∞ is right.
            let raw = if ws > 0.0 { g64[i].abs() / ws } else { 0.0 };
            // Within a few f32 roundings of a kink (margin losses: of `p·t`), f32 may take
            // the other branch of a derivative that jumps there; either side is right.
            // The residual `p − t` is rounded by up to ½ulp of the larger of `p` and `t`: at
            // `p = 1e-12`, `t = 1`, f32's `p − t` is −1, smooth-L1's kink for β = 1.
            let near_kink = (c.def.kinks)(&c.params, t).iter().any(|&k| {
                (p - k).abs() <= 8.0 * f64::from(f32::EPSILON) * k.abs().max(p.abs()).max(t.abs())
            });
            let want = if raw > max_of::<F>() || near_kink {
                Want::NotNan
            } else {
                Want::of::<F>(
                    g64[i],
                    parts,
                    Budget {
                        abs: b.abs + floor,
                        ..b
                    },
                )
            };
            if let Err(e) = want.check(
                written[i].to_f64(),
                Budget {
                    abs: b.abs + floor,
                    ..b
                },
            ) {
                fail(format!(
                    "{verb:?}[{i}] at p={p:e} t={t:e}: {e} (f64 kernel)"
                ));
            }
        }
        return;
    }
    if verb != Verb::Grad {
        return;
    }
    // f64: central differences of the reference, where they can be trusted.
    let tame_params = c
        .params
        .0
        .iter()
        .all(|&(_, x)| x == 0.0 || (1e-4..=1e4).contains(&x.abs()));
    if !tame_params || !s.is_finite() {
        return;
    }
    for i in 0..n {
        let (p, t) = (d.p()[i].to_f64(), d.t()[i].to_f64());
        let w = d.w().map_or(1.0, |w| w[i].to_f64());
        if p.abs() > 1e6 || t.abs() > 1e6 || w.abs() > 1e6 {
            continue;
        }
        let h = 1e-5 * p.abs().max(1.0);
        let kinks = (c.def.kinks)(&c.params, t);
        if kinks.iter().any(|k| (p - k).abs() <= 100.0 * h)
            || (c.def.outside)(&c.params, p - 2.0 * h, t).is_some()
            || (c.def.outside)(&c.params, p + 2.0 * h, t).is_some()
        {
            continue;
        }
        let f = |x: f64| (c.def.reference)(&c.params, x, t);
        let (l, fd, fd2) = (
            f(p),
            (f(p + h) - f(p - h)) / (2.0 * h),
            (f(p + h / 2.0) - f(p - h / 2.0)) / h,
        );
        let parts = (c.def.gparts)(&c.params, p, t).max(fd.abs());
        // The differences' rounding follows the values at p ± h, which near a minimum are
        // far larger than at p (ℓ(p) ≈ 0, ℓ(p ± h) ≈ h²/2): a gradient of 1e-150 there is
        // below what the difference can resolve.
        let at_steps = f(p + h).abs().max(f(p - h).abs());
        // `p ± h` is rounded (by up to ½ulp(p)): the slope over the step turns that into an
        // error of the difference, which dominates at a minimum (p = 1 − 1e-12, t = 1: a
        // gradient of 1e-12 beside a slope of 1e-5 at the steps).
        let slope = (f(p + h) - l).abs().max((l - f(p - h)).abs()) / h;
        let noise = 1e-13 * (c.def.parts)(&c.params, p, t).max(l.abs()).max(at_steps) / h
            + 2.0 * f64::EPSILON * p.abs() * slope / h;
        if !(l.is_finite() && fd.is_finite() && fd2.is_finite())
            || l.abs() > 1e100
            || (fd - fd2).abs() > 1e-4 * parts + noise
        {
            continue;
        }
        // Richardson's combination of the two steps cancels their common h² error term,
        // which a curvature that changes over h (ln cosh r with |r| ≪ h: relative error h²/3)
        // would otherwise leave above the budget.
        let want = w * s * (4.0 * fd2 - fd) / 3.0;
        let tol = b.rel * (w * s).abs() * parts + (w * s).abs() * 10.0 * noise + 1e-290;
        let got = written[i].to_f64();
        if (got - want).abs().is_nan() || (got - want).abs() > tol {
            fail(format!(
                "grad[{i}] at p={p:e} t={t:e}: {got:e}, central difference {want:e} (tolerance {tol:e})"
            ));
        }
    }
}
