//! The error contract of every row loss, with a bad row planted first, in the middle and
//! last: NaN, `+∞`, a row of `−∞` only, and a label out of range, in write, accumulate and
//! in-place modes, on every backend, for narrow (C ≤ 32) and wide rows.
//!
//! After an error the caller's buffers must be exactly as documented: a gradient written in
//! write mode is all zeros when the error came from the data (validation errors — labels,
//! shapes — write nothing, so it keeps its bits); a gradient in accumulate mode and logits
//! overwritten in place keep the exact bits they had before the call.

use crate::common::backends;
use losskit::prelude::*;

/// What is planted in the chosen row.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Bad {
    Nan,
    PosInf,
    /// Every logit of the row is `−∞`.
    AllMasked,
    /// The row's label is `classes` (one past the last class).
    Label,
}

/// How the gradient is delivered.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Write,
    Accumulate,
    /// The logits are overwritten with their gradient.
    InPlace,
}

/// Which input gets the bad row.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Input {
    /// The logits (student logits for distillation).
    Main,
    /// The second matrix of distillation (teacher logits).
    Teacher,
}

/// One call of a row loss: logits (or the buffer overwritten in place), second matrix
/// (soft targets, teacher logits or multi-label targets), labels, the gradient buffer.
struct Call<'a> {
    x: &'a mut [f32],
    second: &'a [f32],
    labels: &'a [i64],
    classes: usize,
    grad: &'a mut [f32],
    mode: Mode,
}

/// A row loss under test: its name, what it calls the planted input, which modes it has,
/// and whether a row of `−∞` only is an error (softmax losses) or not (NLL: log-probability
/// 0 is allowed).
struct Case {
    name: &'static str,
    input_name: fn(Input) -> &'static str,
    labelled: bool,
    in_place: bool,
    teacher: bool,
    second_is_targets: bool,
    /// The error a row of `−∞` only gives, at the row's first index (None: accepted).
    all_masked: Option<fn(&'static str, usize) -> Error>,
    run: fn(Backend, Call<'_>) -> Result<()>,
}

fn logits_name(_: Input) -> &'static str {
    "logits"
}

fn invalid(name: &'static str, index: usize) -> Error {
    Error::InvalidInput { name, index }
}

fn non_finite(name: &'static str, index: usize) -> Error {
    Error::NonFinite { name, index }
}

/// The labels of a call.
fn labels<'a>(c: &Call<'a>) -> &'a [i64] {
    c.labels
}

/// The second matrix of a call as soft or multi-label targets.
fn targets<'a>(c: &Call<'a>) -> &'a [f32] {
    c.second
}

/// The second matrix of a call as teacher logits, with the call's labels.
fn teacher<'a>(c: &Call<'a>) -> Teacher<'a, f32, i64> {
    Teacher {
        logits: c.second,
        labels: c.labels,
    }
}

/// `value_and_grad` of `loss` (pinned to the backend under test) against what `target`
/// takes from the call, into the gradient in write or accumulate mode.
fn value_and_grad<'a, T: Copy>(
    loss: impl RowLoss<f32, T>,
    c: Call<'a>,
    target: fn(&Call<'a>) -> T,
) -> Result<()> {
    let t = target(&c);
    let o = match c.mode {
        Mode::Accumulate => Out::add(c.grad),
        _ => Out::write(c.grad),
    };
    loss.value_and_grad(c.x, c.classes, t, Reduction::Mean, o)
        .map(drop)
}

/// As [`value_and_grad`], and `value_and_grad_in_place` for [`Mode::InPlace`].
fn or_in_place<'a, T: Copy>(
    loss: impl RowInPlace<f32, T>,
    c: Call<'a>,
    target: fn(&Call<'a>) -> T,
) -> Result<()> {
    if c.mode == Mode::InPlace {
        return loss
            .value_and_grad_in_place(c.x, c.classes, target(&c), Reduction::Mean)
            .map(drop);
    }
    value_and_grad(loss, c, target)
}

/// Per-class tensors for the losses that take them (sliced to `classes`).
const fn ramp<const N: usize>(first: f32, step: f32) -> [f32; N] {
    let mut x = [0.0; N];
    let mut i = 0;
    while i < N {
        x[i] = first + step * i as f32;
        i += 1;
    }
    x
}
static CLASS_WEIGHTS: [f32; 64] = ramp(0.5, 0.25);
static POS_WEIGHTS: [f32; 64] = ramp(1.0, 0.5);

type Run = fn(Backend, Call<'_>) -> Result<()>;

/// A softmax row loss with integer labels: `−∞` is a mask, a row of `−∞` only an error.
fn softmax(name: &'static str, run: Run) -> Case {
    Case {
        name,
        input_name: logits_name,
        labelled: true,
        in_place: false,
        teacher: false,
        second_is_targets: false,
        all_masked: Some(invalid),
        run,
    }
}

/// The hinges (labels) and the multi-label losses (targets) have no masks: `−∞` is a
/// non-finite input.
fn no_masks(name: &'static str, labelled: bool, run: Run) -> Case {
    Case {
        all_masked: Some(non_finite),
        labelled,
        second_is_targets: !labelled,
        input_name: if labelled { logits_name } else { |_| "pred" },
        ..softmax(name, run)
    }
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            in_place: true,
            ..softmax("cross_entropy", |b, c| {
                or_in_place(CrossEntropy::default().on(b)?, c, labels)
            })
        },
        Case {
            in_place: true,
            ..softmax("cross_entropy (smoothing, class weights)", |b, c| {
                let ce = CrossEntropy {
                    label_smoothing: 0.1,
                    class_weights: Some(&CLASS_WEIGHTS[..c.classes]),
                    ..CrossEntropy::default()
                };
                or_in_place(ce.on(b)?, c, labels)
            })
        },
        Case {
            in_place: true,
            ..softmax("poly1", |b, c| {
                or_in_place(Poly1::<f32>::default().on(b)?, c, labels)
            })
        },
        Case {
            in_place: true,
            ..softmax("poly1 (smoothing, class weights, ε = −1)", |b, c| {
                let poly = Poly1::<f32> {
                    epsilon: -1.0,
                    label_smoothing: 0.1,
                    class_weights: Some(&CLASS_WEIGHTS[..c.classes]),
                    ..Poly1::default()
                };
                or_in_place(poly.on(b)?, c, labels)
            })
        },
        Case {
            labelled: false,
            in_place: true,
            second_is_targets: true,
            ..softmax("soft_cross_entropy", |b, c| {
                or_in_place(SoftCrossEntropy::default().on(b)?, c, targets)
            })
        },
        Case {
            input_name: |_| "log_probs",
            // Log-probabilities of −∞ are probability 0: the value is +∞, not an error.
            all_masked: None,
            ..softmax("nll", |b, c| {
                value_and_grad(Nll::default().on(b)?, c, labels)
            })
        },
        softmax("softmax_focal", |b, c| {
            value_and_grad(SoftmaxFocal::default().on(b)?, c, labels)
        }),
        Case {
            input_name: |i| match i {
                Input::Main => "student",
                Input::Teacher => "teacher",
            },
            teacher: true,
            ..softmax("distillation", |b, c| {
                let d = Distillation {
                    temperature: 2.0,
                    ..Distillation::default()
                };
                value_and_grad(d.on(b)?, c, teacher)
            })
        },
        no_masks("multi_margin", true, |b, c| {
            value_and_grad(MultiMargin::default().on(b)?, c, labels)
        }),
        no_masks("multiclass_hinge", true, |b, c| {
            value_and_grad(MulticlassHinge.on(b)?, c, labels)
        }),
        no_masks("multilabel_bce_with_logits", false, |b, c| {
            let l = MultiLabelBceWithLogits {
                pos_weight: Some(&POS_WEIGHTS[..c.classes]),
                ..MultiLabelBceWithLogits::default()
            };
            value_and_grad(l.on(b)?, c, targets)
        }),
        no_masks("multilabel_soft_margin", false, |b, c| {
            value_and_grad(MultiLabelSoftMargin::default().on(b)?, c, targets)
        }),
    ]
}

/// Deterministic logits in about [−3, 3] and a distinct sentinel per gradient entry.
fn logits(n: usize, seed: u32) -> Vec<f32> {
    (0..n)
        .map(|i| ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) >> 8) as f32)
        .map(|u| u / (1u32 << 24) as f32 * 6.0 - 3.0)
        .collect()
}

fn bits(x: &[f32]) -> Vec<u32> {
    x.iter().map(|v| v.to_bits()).collect()
}

/// Plants `bad` in `row` and returns the error the contract expects (None: accepted).
fn plant(
    case: &Case,
    bad: Bad,
    input: Input,
    row: usize,
    classes: usize,
    x: &mut [f32],
    labels: &mut [i64],
) -> Option<Error> {
    let name = (case.input_name)(input);
    let base = row * classes;
    match bad {
        Bad::Nan | Bad::PosInf => {
            // Past the first vector of a wide row, inside the only one of a narrow row.
            let j = (classes / 2 + 3).min(classes - 1);
            x[base + j] = if bad == Bad::Nan {
                f32::NAN
            } else {
                f32::INFINITY
            };
            Some(non_finite(name, base + j))
        }
        Bad::AllMasked => {
            x[base..base + classes].fill(f32::NEG_INFINITY);
            case.all_masked.map(|e| e(name, base))
        }
        Bad::Label => {
            labels[row] = classes as i64;
            Some(Error::LabelOutOfRange { row })
        }
    }
}

/// Every case × bad kind × position × mode × input on `backend`; returns the table rows
/// checked (one line per combination).
fn check_backend(backend: Backend, table: &mut Vec<String>) {
    const ROWS: usize = 5;
    for classes in [7usize, 40] {
        let n = ROWS * classes;
        for case in cases() {
            let inputs: &[Input] = if case.teacher {
                &[Input::Main, Input::Teacher]
            } else {
                &[Input::Main]
            };
            for bad in [Bad::Nan, Bad::PosInf, Bad::AllMasked, Bad::Label] {
                if bad == Bad::Label && !case.labelled {
                    continue;
                }
                for &input in inputs {
                    if bad == Bad::Label && input == Input::Teacher {
                        continue;
                    }
                    for row in [0, ROWS / 2, ROWS - 1] {
                        for mode in [Mode::Write, Mode::Accumulate, Mode::InPlace] {
                            if mode == Mode::InPlace && !case.in_place {
                                continue;
                            }
                            let mut x = logits(n, 17);
                            let mut second = if case.second_is_targets {
                                // Rows of probabilities (soft targets) / {0, 1} targets.
                                (0..n)
                                    .map(|i| {
                                        if i % classes == i / classes % classes {
                                            1.0
                                        } else {
                                            0.0
                                        }
                                    })
                                    .collect()
                            } else {
                                logits(n, 91)
                            };
                            let mut labels: Vec<i64> =
                                (0..ROWS).map(|r| ((r * 3) % classes) as i64).collect();
                            let planted_in: &mut [f32] = match input {
                                Input::Main => &mut x,
                                Input::Teacher => &mut second,
                            };
                            let Some(want) =
                                plant(&case, bad, input, row, classes, planted_in, &mut labels)
                            else {
                                continue;
                            };
                            let mut grad: Vec<f32> =
                                (0..n).map(|i| 5.0 + i as f32 * 0.125).collect();
                            let (x_before, grad_before) = (bits(&x), bits(&grad));
                            let got = (case.run)(
                                backend,
                                Call {
                                    x: &mut x,
                                    second: &second,
                                    labels: &labels,
                                    classes,
                                    grad: &mut grad,
                                    mode,
                                },
                            );
                            let what = format!(
                                "{} [{backend}] C={classes} {bad:?} in {input:?} row {row}, {mode:?}",
                                case.name
                            );
                            assert_eq!(got, Err(want), "{what}: error");
                            assert_eq!(bits(&x), x_before, "{what}: the logits changed");
                            let validation = bad == Bad::Label;
                            match mode {
                                Mode::Write if !validation => assert!(
                                    grad.iter().all(|&g| g.to_bits() == 0),
                                    "{what}: write mode must leave zeros"
                                ),
                                Mode::InPlace => {}
                                _ => assert_eq!(
                                    bits(&grad),
                                    grad_before,
                                    "{what}: the gradient must keep its bits"
                                ),
                            }
                            if backend == Backend::Portable && classes == 7 && row == 0 {
                                table.push(format!(
                                    "{:<42} {:<10} {:<8} {:<11} {:?}",
                                    case.name,
                                    format!("{bad:?}"),
                                    format!("{input:?}"),
                                    format!("{mode:?}"),
                                    want
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn a_bad_row_anywhere_leaves_the_buffers_as_documented() {
    let mut table = Vec::new();
    let mut count = 0;
    for backend in backends() {
        check_backend(backend, &mut table);
        count += 1;
    }
    // One line per (loss, bad kind, input, mode) at row 0 on the portable backend; each was
    // also run at the middle and last row, for C = 7 and 40, on every backend.
    println!("planted bad rows checked on {count} backends:");
    for line in &table {
        println!("  {line}");
    }
    assert!(table.len() > 60, "only {} combinations ran", table.len());
}

/// The bug this module was written for: a distillation call in accumulate mode with a row
/// of `−∞` only in the middle of the batch used to add the earlier rows' gradients into
/// the caller's buffer before it returned the error.
#[test]
fn distillation_accumulate_mode_checks_every_row_before_writing() {
    let (rows, classes) = (3, 4);
    let mut student = logits(rows * classes, 5);
    student[classes..2 * classes].fill(f32::NEG_INFINITY);
    let teacher = logits(rows * classes, 6);
    let mut grad = vec![1.5f32; rows * classes];
    for backend in backends() {
        let d = Distillation::default().on(backend).unwrap();
        let r = d.value_and_grad(
            &student,
            classes,
            Teacher {
                logits: &teacher,
                labels: &[0u32, 1, 2],
            },
            Reduction::Mean,
            Out::add(&mut grad),
        );
        assert_eq!(
            r,
            Err(Error::InvalidInput {
                name: "student",
                index: classes
            }),
            "{backend}"
        );
        assert_eq!(
            grad,
            vec![1.5f32; rows * classes],
            "{backend}: grad changed"
        );
    }
}

/// Soft targets are probabilities: a finite target outside `[0, 1]` is `InvalidInput` (a
/// negative one makes the loss unbounded below; PyTorch accepts it), NaN or `±∞` is
/// `NonFinite`, at its flat index, in every mode and row position, with the buffers as the
/// contract says (write mode: zeros; accumulate and in place: untouched). 0 and 1 are valid.
#[test]
fn soft_targets_outside_zero_one_are_errors() {
    const ROWS: usize = 4;
    for backend in backends() {
        let loss = SoftCrossEntropy::<f32>::default().on(backend).unwrap();
        for classes in [7usize, 40] {
            let n = ROWS * classes;
            let x = logits(n, 5);
            let uniform = 1.0 / classes as f32;
            for (bad, kind) in [
                (-0.1f32, "invalid"),
                (-f32::MIN_POSITIVE, "invalid"),
                (1.0 + f32::EPSILON, "invalid"),
                (-1e30, "invalid"),
                (f32::NAN, "non-finite"),
                (f32::NEG_INFINITY, "non-finite"),
            ] {
                for row in [0, ROWS - 1] {
                    let at = row * classes + classes / 2;
                    let mut t = vec![uniform; n];
                    t[at] = bad;
                    let want = if kind == "invalid" {
                        invalid("target", at)
                    } else {
                        non_finite("target", at)
                    };
                    let what = format!("{backend:?} C={classes} target {bad} at row {row}");
                    let mut g: Vec<f32> = (0..n).map(|i| 5.0 + i as f32).collect();
                    let before = bits(&g);
                    let got = loss.value(&x, classes, &t, Reduction::Mean).map(drop);
                    assert_eq!(got, Err(want), "{what}: value");
                    let got = loss
                        .value_and_grad(&x, classes, &t, Reduction::Mean, Out::add(&mut g))
                        .map(drop);
                    assert_eq!(got, Err(want), "{what}: accumulate");
                    assert_eq!(bits(&g), before, "{what}: accumulate changed the gradient");
                    let got = loss
                        .value_and_grad(&x, classes, &t, Reduction::Mean, Out::write(&mut g))
                        .map(drop);
                    assert_eq!(got, Err(want), "{what}: write");
                    assert!(
                        g.iter().all(|&v| v.to_bits() == 0),
                        "{what}: write mode zeros"
                    );
                    let mut inplace = x.clone();
                    let got = loss
                        .value_and_grad_in_place(&mut inplace, classes, &t, Reduction::Mean)
                        .map(drop);
                    assert_eq!(got, Err(want), "{what}: in place");
                    assert_eq!(
                        bits(&inplace),
                        bits(&x),
                        "{what}: in place changed the logits"
                    );
                }
            }
            // The bounds themselves are probabilities.
            let mut t = vec![0.0f32; n];
            for r in 0..ROWS {
                t[r * classes + r % classes] = 1.0;
            }
            assert!(loss.value(&x, classes, &t, Reduction::Mean).is_ok());
        }
    }
}
