//! The `pointwise_aux` target: the pointwise losses with a third per-element input
//! (`for_each_aux_pointwise_loss!`: the Gaussian NLL and its variance), every verb, the
//! gradient of the third input written, added or not requested, on every backend.
//!
//! Checked as the `pointwise` target: the documented error (output lengths, then the
//! parameters, input lengths, empty, reduction, then the first element whose pred, target
//! or variance is not finite, or whose variance is negative) with each output zeroed (its
//! write mode, data errors) or untouched; values against the f64 reference; f32 derivatives
//! against the f64 kernel and f64 ones against central differences of the reference (the
//! variance's only where the clamp `max(var, eps)` is not active: its gradient is the
//! formula at the clamped variance, not a derivative there); accumulate mode adding exactly
//! the written result; `value_and_grad` equal to `value` and `grad` bit for bit; backends
//! agreeing.

use super::super::input::Input;
use super::{Budget, Want, What, agree, bits, budget, is_f32, is_validation, max_of};
use super::{reduction_ok, same_error, show};
use losskit::prelude::*;
use losskit::reference::regression as rr;

/// The auxiliary-input losses the checks know (a new one fails every case until added).
const KNOWN: &[&str] = &["gaussian_nll"];

macro_rules! names {
    ($( ($name:ident, $($rest:tt)*) ),* $(,)?) => { &[$(stringify!($name)),*] };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verb {
    Value,
    Elementwise,
    Grad,
    ValueAndGrad,
    Hessian,
}

/// How an output is passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Write,
    Add,
}

struct Case {
    full: bool,
    eps: f64,
    p: Vec<f64>,
    t: Vec<f64>,
    v: Vec<f64>,
    out_len: usize,
    /// The variance's gradient: not requested, or its mode and length.
    aux: Option<(Mode, usize)>,
    reduction: Reduction,
    verb: Verb,
    mode: Mode,
    offset: usize,
}

/// Runs the check on one fuzz input.
pub fn run(data: &[u8]) {
    let registered: &[&str] = losskit::for_each_aux_pointwise_loss!(names);
    assert_eq!(
        registered, KNOWN,
        "an auxiliary-input loss without checks in fuzz/src/checks/pointwise_aux.rs"
    );
    let mut inp = Input::new(data);
    let full = inp.chance(128);
    let eps = inp.param(1e-6);
    let f32 = inp.chance(128);
    let n = inp.len(16);
    let clean = inp.chance(200);
    let max = if f32 { f64::from(f32::MAX) } else { f64::MAX };
    let sat = |x: f64| if x.is_nan() { 0.0 } else { x.clamp(-max, max) };
    let (mut p, mut t, mut v) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        let ti = inp.real();
        let pi = match inp.byte() % 3 {
            0 => inp.real(),
            1 => inp.near(ti),
            _ => ti + inp.real(),
        };
        let vi = match inp.byte() % 4 {
            0 => inp.near(eps),
            1 => inp.pick(&[0.0, 1.0, 1e-40, 1e-300, 3e38, 1e300]),
            _ => inp.real(),
        };
        if clean {
            p.push(sat(pi));
            t.push(sat(ti));
            v.push(sat(vi).abs());
        } else {
            p.push(pi);
            t.push(ti);
            v.push(vi);
        }
    }
    if clean && n > 0 && inp.chance(24) {
        let i = inp.below(n);
        let bad = inp.pick(&[f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, -1e-300]);
        [&mut p, &mut t, &mut v][inp.below(3)][i] = bad;
    }
    let mut case = Case {
        full,
        eps,
        p,
        t,
        v,
        out_len: n,
        aux: match inp.byte() % 3 {
            0 => None,
            1 => Some((Mode::Write, n)),
            _ => Some((Mode::Add, n)),
        },
        reduction: super::reduction(&mut inp),
        verb: [
            Verb::Value,
            Verb::Elementwise,
            Verb::Grad,
            Verb::ValueAndGrad,
            Verb::Hessian,
        ][inp.below(5)],
        mode: if inp.chance(100) {
            Mode::Add
        } else {
            Mode::Write
        },
        offset: inp.below(17),
    };
    if inp.chance(8) {
        let len = inp.below(n + 3);
        match inp.below(4) {
            0 => case.t.truncate(len.min(n)),
            1 => case.v.truncate(len.min(n)),
            2 => case.out_len = len,
            _ => {
                if let Some(a) = &mut case.aux {
                    a.1 = len;
                }
            }
        }
    }
    let loss = GaussianNll { full, eps };
    if f32 {
        check::<f32>(&case, loss);
    } else {
        check::<f64>(&case, loss);
    }
}

fn placed<F: Float>(x: &[f64], offset: usize) -> Vec<F> {
    let mut v = vec![F::from_f64(7.0); offset];
    v.extend(x.iter().map(|&a| F::from_f64(a)));
    v
}

struct Data<F> {
    p: Vec<F>,
    t: Vec<F>,
    v: Vec<F>,
    offset: usize,
}

impl<F: Float> Data<F> {
    fn p(&self) -> &[F] {
        &self.p[self.offset..]
    }
    fn t(&self) -> &[F] {
        &self.t[self.offset..]
    }
    fn v(&self) -> &[F] {
        &self.v[self.offset..]
    }
}

/// The outputs of a call: the main one and the variance's gradient.
struct Outs<F> {
    main: Vec<F>,
    aux: Vec<F>,
}

fn out<F: Float>(b: &mut [F], m: Mode) -> Out<'_, F> {
    match m {
        Mode::Write => Out::write(b),
        Mode::Add => Out::add(b),
    }
}

fn call<F: Float, L: AuxPointwiseLoss>(
    loss: &L,
    d: &Data<F>,
    c: &Case,
    verb: Verb,
    (mode, aux): (Mode, Option<Mode>),
    base: &Outs<F>,
) -> (Result<F>, Outs<F>) {
    let mut o = Outs {
        main: base.main.clone(),
        aux: base.aux.clone(),
    };
    let (p, t, v, r) = (d.p(), d.t(), d.v(), c.reduction);
    let res = match verb {
        Verb::Value => loss.value(p, t, v, r),
        Verb::Elementwise => loss
            .value_elementwise(p, t, v, &mut o.main)
            .map(|_| F::ZERO),
        Verb::Grad => loss
            .grad(
                p,
                t,
                v,
                r,
                out(&mut o.main, mode),
                aux.map(|m| out(&mut o.aux[..], m)),
            )
            .map(|_| F::ZERO),
        Verb::ValueAndGrad => loss.value_and_grad(
            p,
            t,
            v,
            r,
            out(&mut o.main, mode),
            aux.map(|m| out(&mut o.aux[..], m)),
        ),
        Verb::Hessian => loss
            .hessian_diag(p, t, v, r, out(&mut o.main, mode))
            .map(|_| F::ZERO),
    };
    (res, o)
}

fn has_aux(verb: Verb) -> bool {
    matches!(verb, Verb::Grad | Verb::ValueAndGrad)
}

fn expected_error<F: Float>(c: &Case, d: &Data<F>) -> Option<Error> {
    let n = d.p().len();
    let mismatch = |name, found| Error::LengthMismatch {
        name,
        expected: n,
        found,
    };
    let main = match c.verb {
        Verb::Value => None,
        Verb::Elementwise => Some("out"),
        Verb::Hessian => Some("hess"),
        _ => Some("grad"),
    };
    if let Some(name) = main
        && c.out_len != n
    {
        return Some(mismatch(name, c.out_len));
    }
    if has_aux(c.verb)
        && let Some((_, len)) = c.aux
        && len != n
    {
        return Some(mismatch("grad_aux", len));
    }
    // ε is a normal f32 number (its rounding to either precision is then positive and
    // finite).
    if !(f64::from(f32::MIN_POSITIVE)..=f64::from(f32::MAX)).contains(&c.eps) {
        return Some(Error::InvalidParameter {
            name: "eps",
            rule: "",
        });
    }
    if d.t().len() != n {
        return Some(mismatch("target", d.t().len()));
    }
    if d.v().len() != n {
        return Some(mismatch("var", d.v().len()));
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
        let (p, t, v) = (d.p()[i].to_f64(), d.t()[i].to_f64(), d.v()[i].to_f64());
        for (name, x) in [("pred", p), ("target", t), ("var", v)] {
            if !x.is_finite() {
                return Some(Error::NonFinite { name, index: i });
            }
        }
        if v < 0.0 {
            return Some(Error::InvalidInput {
                name: "var",
                index: i,
            });
        }
    }
    None
}

fn fail<F: Float>(c: &Case, d: &Data<F>, backend: Backend, msg: String) -> ! {
    panic!(
        "pointwise_aux gaussian_nll full={} eps={:e} {} [{backend}] {:?} {:?} aux={:?} reduction={:?} offset={}: {msg}\n  pred   {}\n  target {}\n  var    {}",
        c.full,
        c.eps,
        if is_f32::<F>() { "f32" } else { "f64" },
        c.verb,
        c.mode,
        c.aux,
        c.reduction,
        c.offset,
        show(d.p()),
        show(d.t()),
        show(d.v()),
    )
}

/// ℓ and the magnitude of its parts.
fn reference(c: &Case, p: f64, t: f64, v: f64) -> (f64, f64) {
    let l = rr::gaussian_nll(p, t, v, c.full, c.eps);
    let vv = v.max(c.eps);
    (l, 0.5 * (vv.ln().abs() + (p - t) * ((p - t) / vv)) + 1.0)
}

fn check<F: Float>(c: &Case, loss: GaussianNll) {
    let d = Data::<F> {
        p: placed(&c.p, c.offset),
        t: placed(&c.t, c.offset),
        v: placed(&c.v, c.offset),
        offset: c.offset,
    };
    let aux_len = c.aux.map_or(0, |a| a.1);
    let base = Outs {
        main: (0..c.out_len)
            .map(|i| F::from_f64(5.0 + i as f64 * 0.125))
            .collect(),
        aux: (0..aux_len)
            .map(|i| F::from_f64(-3.0 + i as f64 * 0.25))
            .collect(),
    };
    let aux_mode = if has_aux(c.verb) {
        c.aux.map(|a| a.0)
    } else {
        None
    };
    let modes = (c.mode, aux_mode);
    let expected = expected_error(c, &d);
    let mut first: Option<(Backend, Result<F>, Outs<F>)> = None;
    let n = d.p().len();
    for backend in Backend::available() {
        let pinned = loss.on(backend).expect("available");
        let (res, o) = call(&pinned, &d, c, c.verb, modes, &base);
        let fail = |msg: String| fail(c, &d, backend, msg);
        match (&expected, &res) {
            (Some(e), Err(got)) if same_error(e, got) => {
                let keep_main = is_validation(e)
                    || c.verb == Verb::Value
                    || c.mode == Mode::Add && c.verb != Verb::Elementwise;
                let keep_aux = is_validation(e) || aux_mode != Some(Mode::Write);
                for (what, buf, b, keep) in [
                    ("output", &o.main, &base.main, keep_main),
                    ("grad_aux", &o.aux, &base.aux, keep_aux),
                ] {
                    if keep && bits(buf) != bits(b) {
                        fail(format!("{got}: the {what} changed"));
                    }
                    if !keep && buf.iter().any(|x| x.to_f64().to_bits() != 0) {
                        fail(format!("{got}: the {what} is not reset to zeros"));
                    }
                }
            }
            (Some(e), got) => fail(format!("{got:?}, want Err({e:?})")),
            (None, Err(e)) => fail(format!("unexpected error {e:?}")),
            (None, Ok(_)) => {
                check_ok(c, &d, &pinned, &res, &o, &base, modes, &fail);
            }
        }
        if backend == Backend::active() {
            let (r2, o2) = call(&loss, &d, c, c.verb, modes, &base);
            let same = match (&res, &r2) {
                (Ok(a), Ok(b)) => a.to_f64().to_bits() == b.to_f64().to_bits(),
                (Err(a), Err(b)) => a == b,
                _ => false,
            };
            if !same || bits(&o.main) != bits(&o2.main) || bits(&o.aux) != bits(&o2.aux) {
                fail(format!("unpinned {r2:?} differs from pinned {res:?}"));
            }
        }
        match &first {
            None => first = Some((backend, res, o)),
            Some((b0, r0, o0)) => {
                if let (Ok(v0), Ok(v)) = (r0, &res) {
                    let s = c.reduction.scale(n).unwrap_or(1.0).abs();
                    let mag: f64 = (0..n)
                        .map(|i| {
                            reference(c, d.p()[i].to_f64(), d.t()[i].to_f64(), d.v()[i].to_f64()).1
                        })
                        .sum::<f64>()
                        * s;
                    let b = budget("gaussian_nll", is_f32::<F>(), What::Value);
                    if !agree(v0.to_f64(), v.to_f64(), mag, b) {
                        fail(format!("value {v:?} vs {v0:?} on {b0}"));
                    }
                    let b = budget("gaussian_nll", is_f32::<F>(), What::Grad);
                    for (a0, a) in [(&o0.main, &o.main), (&o0.aux, &o.aux)] {
                        let scale = a0.iter().fold(0.0f64, |m, x| {
                            let x = x.to_f64().abs();
                            if x.is_finite() { m.max(x) } else { m }
                        });
                        for (i, (x, y)) in a0.iter().zip(a.iter()).enumerate() {
                            if !agree(x.to_f64(), y.to_f64(), scale, b) {
                                fail(format!("output[{i}] {y:?} vs {x:?} on {b0}"));
                            }
                        }
                    }
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn check_ok<F: Float, L: AuxPointwiseLoss>(
    c: &Case,
    d: &Data<F>,
    loss: &L,
    res: &Result<F>,
    o: &Outs<F>,
    base: &Outs<F>,
    modes: (Mode, Option<Mode>),
    fail: &dyn Fn(String),
) {
    let n = d.p().len();
    // value_elementwise takes no reduction (any divisor is accepted and unused).
    let s = if c.verb == Verb::Elementwise {
        1.0
    } else {
        c.reduction.scale(n).expect("checked by expected_error")
    };
    let terms: Vec<(f64, f64)> = (0..n)
        .map(|i| reference(c, d.p()[i].to_f64(), d.t()[i].to_f64(), d.v()[i].to_f64()))
        .map(|(l, m)| {
            if l.abs() > max_of::<F>() && l.is_finite() {
                (l.signum() * f64::INFINITY, f64::INFINITY)
            } else {
                (l, m)
            }
        })
        .collect();
    let f32 = is_f32::<F>();
    if matches!(c.verb, Verb::Value | Verb::ValueAndGrad) {
        let b = budget("gaussian_nll", f32, What::Value);
        let values: Vec<f64> = terms.iter().map(|x| x.0).collect();
        let mag: f64 = terms.iter().map(|x| x.1).sum();
        let want = Want::of_sum::<F>(&values, s, mag * s.abs(), b);
        if let Err(e) = want.check(res.as_ref().expect("ok").to_f64(), b) {
            fail(format!("value {e}"));
        }
    }
    if c.verb == Verb::Elementwise {
        let b = budget("gaussian_nll", f32, What::Elementwise);
        for (i, &(x, m)) in terms.iter().enumerate() {
            let want = if x.is_infinite() {
                Want::Inf(x.signum())
            } else {
                Want::of::<F>(x, m, b)
            };
            if let Err(e) = want.check(o.main[i].to_f64(), b) {
                fail(format!("elementwise[{i}] {e}"));
            }
        }
    }
    if c.verb == Verb::ValueAndGrad {
        let (v, _) = call(loss, d, c, Verb::Value, modes, base);
        let (g, go) = call(loss, d, c, Verb::Grad, modes, base);
        g.expect("grad after value_and_grad");
        if v.expect("value").to_f64().to_bits() != res.as_ref().expect("ok").to_f64().to_bits() {
            fail("value differs from value_and_grad's".into());
        }
        if bits(&go.main) != bits(&o.main) || bits(&go.aux) != bits(&o.aux) {
            fail("grad's outputs differ from value_and_grad's, bit for bit".into());
        }
    }
    if !matches!(c.verb, Verb::Grad | Verb::ValueAndGrad | Verb::Hessian) {
        return;
    }
    // Written results (accumulate mode must add exactly these).
    let verb = if c.verb == Verb::Hessian {
        Verb::Hessian
    } else {
        Verb::Grad
    };
    let write_modes = (Mode::Write, modes.1.map(|_| Mode::Write));
    let (r, w) = call(loss, d, c, verb, write_modes, base);
    r.expect("write mode");
    for (what, got, written, b, mode) in [
        ("output", &o.main, &w.main, &base.main, Some(modes.0)),
        ("grad_aux", &o.aux, &w.aux, &base.aux, modes.1),
    ] {
        match mode {
            Some(Mode::Add) => {
                for i in 0..n {
                    if (b[i] + written[i]).to_f64().to_bits() != got[i].to_f64().to_bits() {
                        fail(format!(
                            "{what}[{i}] accumulated {:?} != {:?} + {:?}",
                            got[i], b[i], written[i]
                        ));
                    }
                }
            }
            Some(Mode::Write) if bits(got) != bits(written) => {
                fail(format!("{what}: two write-mode calls differ"));
            }
            _ => {}
        }
        if mode.is_some() && written.iter().any(|x| x.to_f64().is_nan()) {
            fail(format!("{what}: NaN"));
        }
    }
    let what = if verb == Verb::Hessian {
        What::Hessian
    } else {
        What::Grad
    };
    let b = budget("gaussian_nll", f32, what);
    if f32 {
        let wide = Data::<f64> {
            p: d.p().iter().map(|x| x.to_f64()).collect(),
            t: d.t().iter().map(|x| x.to_f64()).collect(),
            v: d.v().iter().map(|x| x.to_f64()).collect(),
            offset: 0,
        };
        let zeros = Outs {
            main: vec![0.0; n],
            aux: vec![0.0; if write_modes.1.is_some() { n } else { 0 }],
        };
        let (r, g64) = call(loss, &wide, c, verb, write_modes, &zeros);
        r.expect("the f64 kernel on the f32 case");
        for (what, got, want) in [
            ("output", &w.main, &g64.main),
            ("grad_aux", &w.aux, &g64.aux),
        ] {
            for i in 0..want.len() {
                // A per-element derivative below f32's normal range is rounded to a multiple
                // of 2⁻¹⁴⁹ before the reduction's factor multiplies it (numerics policy 2): a
                // divisor of 2⁻¹²⁶ turns that ulp into 2⁻²³ (the aux derivative takes a few
                // such roundings).
                let floor = 4.0 * 1.4e-45 * (1.0 + want[i].abs() / s.abs().max(1e-300) + s.abs());
                let bb = Budget {
                    abs: b.abs + floor,
                    ..b
                };
                let (p, t, v) = (wide.p[i], wide.t[i], wide.v[i].max(c.eps));
                // ∂ℓ/∂var = ½(1/v − r²/v²): its two parts cancel.
                let mut parts = if what == "grad_aux" {
                    0.5 * s.abs() * (1.0 / v + (p - t) * (p - t) / (v * v))
                } else {
                    0.0
                };
                // A per-element derivative beyond the precision's range is ±∞ before the
                // reduction's factor (numerics policy 2): then any non-NaN result is right.
                let unscaled = (want[i] / s).abs();
                if unscaled > max_of::<F>() {
                    parts = parts.max(unscaled);
                }
                if let Err(e) = Want::of::<F>(want[i], parts, bb).check(got[i].to_f64(), bb) {
                    fail(format!("{what}[{i}]: {e} (f64 kernel)"));
                }
            }
        }
        return;
    }
    if verb != Verb::Grad || !(1e-4..=1e4).contains(&c.eps) || !s.is_finite() {
        return;
    }
    for i in 0..n {
        let (p, t, v) = (d.p()[i].to_f64(), d.t()[i].to_f64(), d.v()[i].to_f64());
        if p.abs() > 1e6 || t.abs() > 1e6 || v > 1e6 {
            continue;
        }
        let h = 1e-5 * p.abs().max(1.0);
        let f = |x: f64| rr::gaussian_nll(x, t, v, c.full, c.eps);
        let fd = (f(p + h) - f(p - h)) / (2.0 * h);
        let l = f(p);
        let noise = 1e-13 * reference(c, p, t, v).1 / h;
        let want = s * fd;
        let tol = b.rel * (s * fd).abs().max(s.abs() * (p - t).abs() / v.max(c.eps))
            + s.abs() * 10.0 * noise
            + 1e-290;
        if l.is_finite() && fd.is_finite() && (w.main[i].to_f64() - want).abs() > tol {
            fail(format!(
                "grad[{i}] {:e}, central difference {want:e} (tolerance {tol:e})",
                w.main[i].to_f64()
            ));
        }
        let hv = 1e-5 * v;
        if modes.1.is_some() && v - 2.0 * hv > c.eps * 1.001 {
            let g = |x: f64| rr::gaussian_nll(p, t, x, c.full, c.eps);
            let fd = (g(v + hv) - g(v - hv)) / (2.0 * hv);
            let want = s * fd;
            let parts = 0.5 * (1.0 / v + (p - t) * (p - t) / (v * v));
            let tol = b.rel * s.abs() * parts
                + s.abs() * 10.0 * 1e-13 * reference(c, p, t, v).1 / hv
                + 1e-290;
            if fd.is_finite() && (w.aux[i].to_f64() - want).abs() > tol {
                fail(format!(
                    "grad_aux[{i}] {:e}, central difference {want:e} (tolerance {tol:e})",
                    w.aux[i].to_f64()
                ));
            }
        }
    }
}
