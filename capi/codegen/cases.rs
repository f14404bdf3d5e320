//! Writes the case data of the C tests (`tests/c/cases.h`) and of the firmware
//! (`../embedded/src/pointwise_cases.rs`) from losskit's registry (`losskit::registry::LOSSES`:
//! which losses, their parameters and defaults, their conformance vector names) and the
//! conformance vectors (`../tests/data/*.json`). Run by `tests/codegen.rs`, which fails when a
//! committed file is stale (`LOSSKIT_BLESS=1` rewrites it).
//!
//! For every pointwise loss (and every pointwise loss with a third input) one case is picked
//! from its vectors: no per-element weights, a reduced value (sum or mean), at most
//! [`MAX_LEN`] elements, finite numbers, preferring a case with a Hessian diagonal, then the
//! sum, then one of at least [`PREFERRED_LEN`] elements, then the first in file order. The C tests get the sum (a mean case times its length).
//! The C call's parameters come from the case's `params` (by the registry's parameter names),
//! or the registry's default where a case omits one.

use losskit::registry::{Against, Kind, LOSSES, LossInfo, Shape};
use serde_json::Value;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The longest case the C tests take (their stack arrays).
pub const MAX_LEN: usize = 16;

/// Cases at least this long are preferred (the vectors' first cases are often edge cases of
/// one element).
pub const PREFERRED_LEN: usize = 5;

/// Every case of every `tests/data/*.json`, files in name order.
pub fn vectors() -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for f in files {
        let json: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
        cases.extend(json["cases"].as_array().unwrap().iter().cloned());
    }
    cases
}

/// A number of a case: a JSON number, a boolean (0/1), or "inf"/"-inf"/"nan".
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        Value::String(s) => s.parse::<f64>().ok(),
        _ => None,
    }
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| number(x).unwrap())
        .collect()
}

/// A usable conformance case of a pointwise loss (numbers as in the vector).
pub struct Case {
    /// The registry entry.
    pub loss: &'static LossInfo,
    /// The vector's id, e.g. `huber-30`.
    pub id: String,
    /// Its `params` as JSON text (for a comment).
    pub params_json: String,
    /// The C parameters, in the registry's order: (kind, value).
    pub params: Vec<(&'static Kind, f64)>,
    /// `"sum"` or `"mean"`.
    pub reduction: String,
    pub pred: Vec<f64>,
    pub target: Vec<f64>,
    /// The third input and its gradient (`Shape::PointwiseAux`).
    pub aux: Option<(Vec<f64>, Vec<f64>)>,
    pub value: f64,
    pub grad: Vec<f64>,
    pub hess: Option<Vec<f64>>,
}

impl Case {
    /// The C identifier of the case: its id with `-` as `_`.
    pub fn ident(&self) -> String {
        self.id.replace('-', "_")
    }

    /// What turns the case's value and derivatives into the sum's: its length for a mean.
    pub fn to_sum(&self) -> f64 {
        if self.reduction == "mean" {
            self.pred.len() as f64
        } else {
            1.0
        }
    }
}

/// The registry's parameters of `loss` as given by a case's `params` (else the defaults).
fn call_params(loss: &'static LossInfo, params: &Value) -> Vec<(&'static Kind, f64)> {
    loss.params
        .iter()
        .map(|p| {
            let v = params.get(p.name).and_then(number).unwrap_or(p.default);
            (&p.kind, v)
        })
        .collect()
}

/// The case of `c` as a pointwise case of `loss` if it is usable: no weights, sum or mean,
/// short, finite.
fn pointwise_case(loss: &'static LossInfo, c: &Value) -> Option<Case> {
    let reduction = c["params"]["reduction"].as_str()?;
    if reduction != "sum" && reduction != "mean" {
        return None;
    }
    let inputs = c["inputs"].as_object()?;
    if inputs.contains_key("weight") {
        return None;
    }
    let aux = match loss.shape {
        Shape::PointwiseAux { aux } => Some(aux),
        _ => None,
    };
    // The first input is the prediction, whatever the vectors call it (pred, prob, logits,
    // scores, log_probs).
    let x = inputs
        .keys()
        .find(|k| !["target", "weight"].contains(&k.as_str()) && Some(k.as_str()) != aux)?;
    let pred = numbers(&inputs[x]);
    let n = pred.len();
    if n > MAX_LEN {
        return None;
    }
    let exp = &c["expected"];
    let grad = numbers(&exp["grad"][x]);
    let hess = exp.get("hess_diag").map(|h| numbers(&h[x]));
    let aux = aux.map(|a| (numbers(&inputs[a]), numbers(&exp["grad"][a])));
    let case = Case {
        loss,
        id: c["id"].as_str()?.to_string(),
        params_json: c["params"].to_string(),
        params: call_params(loss, &c["params"]),
        reduction: reduction.to_string(),
        target: numbers(&inputs["target"]),
        pred,
        aux,
        value: number(&exp["value"])?,
        grad,
        hess,
    };
    // Finite, moderate numbers only, so that the f32 functions can be held to a relative
    // tolerance.
    let ok = case
        .pred
        .iter()
        .chain(&case.target)
        .chain(&case.grad)
        .chain(case.hess.iter().flatten())
        .chain(case.aux.iter().flat_map(|(a, g)| a.iter().chain(g)))
        .chain([&case.value])
        .all(|v| v.is_finite() && v.abs() * n as f64 <= 1e6)
        && case.params.iter().all(|(_, v)| v.is_finite());
    ok.then_some(case)
}

/// The usable cases of each pointwise entry (and each entry with a third input), in the
/// registry's order, each loss's ordered by preference (a Hessian diagonal, then the sum,
/// then file order). Panics naming a loss none of whose vectors is usable.
pub fn pointwise_cases(vectors: &[Value]) -> Vec<Vec<Case>> {
    let mut out = Vec::new();
    for l in LOSSES {
        if !matches!(
            l.shape,
            Shape::Pointwise { .. } | Shape::PointwiseAux { .. }
        ) {
            continue;
        }
        let mut usable: Vec<(usize, Case)> = vectors
            .iter()
            .filter(|c| l.vectors.contains(&c["loss"].as_str().unwrap_or("")))
            .filter_map(|c| pointwise_case(l, c))
            .enumerate()
            .collect();
        assert!(
            !usable.is_empty(),
            "{}: no usable conformance case (no weights, sum or mean, at most {MAX_LEN} elements, finite and below 1e6) in tests/data",
            l.name
        );
        usable.sort_by_key(|(i, c)| {
            (
                c.hess.is_none(),
                c.reduction != "sum",
                c.pred.len() < PREFERRED_LEN,
                *i,
            )
        });
        out.push(usable.into_iter().map(|(_, c)| c).collect());
    }
    out
}

/// A C double literal.
fn c_num(x: f64) -> String {
    if x == f64::INFINITY {
        "INFINITY".into()
    } else if x == f64::NEG_INFINITY {
        "-INFINITY".into()
    } else {
        format!("{x:?}")
    }
}

fn c_array(dst: &mut String, name: &str, xs: &[f64]) {
    let body: Vec<String> = xs.iter().map(|x| c_num(*x)).collect();
    let _ = writeln!(
        dst,
        "const double {name}[{}] = {{{}}};",
        xs.len(),
        body.join(", ")
    );
}

/// A parameter as a C argument.
fn c_param(kind: &Kind, v: f64) -> String {
    match kind {
        Kind::Real => c_num(v),
        Kind::Flag | Kind::Int | Kind::Index => format!("{}", v as i64),
    }
}

/// The text of `tests/c/cases.h`.
pub fn c_cases_h(vectors: &[Value]) -> String {
    let cases: Vec<Case> = pointwise_cases(vectors)
        .into_iter()
        .filter_map(|v| v.into_iter().next())
        .collect();
    let mut s = String::from(
        "/* Generated by codegen/cases.rs from losskit's registry and tests/data: conformance\n \
         * cases of every pointwise loss, and (below) of every row loss. Do not edit: run\n \
         * `LOSSKIT_BLESS=1 cargo test -p losskit-capi --test codegen`.\n \
         *\n \
         * Per case `<id>` (the vector's id, `-` as `_`): <id>_LEN, <id>_value, <id>_pred,\n \
         * <id>_target, <id>_grad, <id>_hess (if the vector has it), for a loss with a third input\n \
         * <id>_<aux> and <id>_grad_<aux>, and <id>_P(): the C parameters after the length, each\n \
         * followed by a comma (the case's params, else the registry's defaults). Values, gradients\n \
         * and Hessians are those of the SUM reduction (a mean case is multiplied by its length).\n \
         * LOSSKIT_CASE_<loss> names the case of each loss. The data are `const`, not `static`:\n \
         * each program uses part of them, and a const object with external linkage draws no\n \
         * unused-variable warning (each C test is one translation unit). */\n\
         #ifndef LOSSKIT_TEST_CASES_H\n#define LOSSKIT_TEST_CASES_H\n#include <math.h>\n#include <stddef.h>\n#include <stdint.h>\n\
         #define LOSSKIT_NO_HESS ((const double *)NULL)\n",
    );
    for c in &cases {
        let v = c.ident();
        let _ = writeln!(s, "/* {} ({}): {} */", c.id, c.loss.name, c.params_json);
        let _ = writeln!(s, "#define LOSSKIT_CASE_{} {v}", c.loss.name);
        let _ = writeln!(s, "#define {v}_LEN {}", c.pred.len());
        let params: String = c
            .params
            .iter()
            .map(|(k, x)| format!(" {},", c_param(k, *x)))
            .collect();
        let _ = writeln!(s, "#define {v}_P(){params}");
        let k = c.to_sum();
        let sum = |xs: &[f64]| xs.iter().map(|x| x * k).collect::<Vec<_>>();
        let _ = writeln!(s, "const double {v}_value = {};", c_num(c.value * k));
        c_array(&mut s, &format!("{v}_pred"), &c.pred);
        c_array(&mut s, &format!("{v}_target"), &c.target);
        c_array(&mut s, &format!("{v}_grad"), &sum(&c.grad));
        if let (Some((a, ga)), Shape::PointwiseAux { aux }) = (&c.aux, &c.loss.shape) {
            c_array(&mut s, &format!("{v}_{aux}"), a);
            c_array(&mut s, &format!("{v}_grad_{aux}"), &sum(ga));
        }
        if let Some(h) = &c.hess {
            c_array(&mut s, &format!("{v}_hess"), &sum(h));
        }
    }
    s.push_str(
        "\n/* X(loss, case, hess): every two-input pointwise loss of the registry, with its case and\n \
         * its Hessian diagonal (LOSSKIT_NO_HESS where the vector has none). */\n\
         #define LOSSKIT_POINTWISE_CASES(X)",
    );
    for c in cases.iter().filter(|c| c.aux.is_none()) {
        let v = c.ident();
        let hess = if c.hess.is_some() {
            format!("{v}_hess")
        } else {
            "LOSSKIT_NO_HESS".into()
        };
        let _ = write!(s, " \\\n    X({}, {v}, {hess})", c.loss.name);
    }
    s.push_str(
        "\n\n/* X(loss, case): every pointwise loss with a third input (its checks are by name). */\n\
         #define LOSSKIT_AUX_CASES(X)",
    );
    for c in cases.iter().filter(|c| c.aux.is_some()) {
        let _ = write!(s, " \\\n    X({}, {})", c.loss.name, c.ident());
    }
    s.push('\n');
    c_rows_part(&mut s, vectors);
    s.push_str("\n#endif\n");
    s
}

/// The most elements (`rows × classes`) of a row case the C tests take.
pub const MAX_ROW_ELEMENTS: usize = 64;

/// A usable conformance case of a row (or multi-label) loss.
pub struct RowCase {
    /// The registry entry.
    pub loss: &'static LossInfo,
    /// The vector's id.
    pub id: String,
    /// The vector's `params` as JSON text.
    pub params_json: String,
    /// `"mean"`, `"sum"` or `"none"`.
    pub reduction: String,
    pub rows: usize,
    pub classes: usize,
    /// The inputs, by the vector's names (labels as numbers).
    pub inputs: Vec<(String, Vec<f64>)>,
    /// The name of the scores (and of their gradient).
    pub x: String,
    /// The C arguments between `classes` and `reduction`, each with a trailing comma, array
    /// names relative to the case's identifier.
    pub args: Vec<String>,
    /// The value, or the per-row (per-element) values for `"none"`.
    pub values: Vec<f64>,
    pub grad: Vec<f64>,
}

impl RowCase {
    /// The C identifier of the case: `row_` and its id with `-` as `_`.
    pub fn ident(&self) -> String {
        format!("row_{}", self.id.replace('-', "_"))
    }
}

/// The case of `c` as a row case of `loss` if it is usable: small, finite, moderate.
fn row_case(loss: &'static LossInfo, c: &Value) -> Option<RowCase> {
    let p = &c["params"];
    let reduction = p["reduction"].as_str()?.to_string();
    let (rows, classes) = (p["rows"].as_u64()? as usize, p["cols"].as_u64()? as usize);
    if rows * classes > MAX_ROW_ELEMENTS {
        return None;
    }
    let obj = c["inputs"].as_object()?;
    let inputs: Vec<(String, Vec<f64>)> =
        obj.iter().map(|(k, v)| (k.clone(), numbers(v))).collect();
    let x = ["logits", "log_probs", "student_logits"]
        .into_iter()
        .find(|k| obj.contains_key(*k))?
        .to_string();
    let has = |k: &str| obj.contains_key(k);
    let or_null = |k: &str| {
        if has(k) {
            format!("{{id}}_{k},")
        } else {
            "NULL,".to_string()
        }
    };
    let mut args = Vec::new();
    match &loss.shape {
        Shape::Rows {
            against, weights, ..
        } => {
            match against {
                Against::Labels => args.push("{id}_labels,".to_string()),
                Against::TargetProbs => args.push("{id}_target,".to_string()),
                Against::LabelsAndTeacher => {
                    args.push("{id}_labels,".to_string());
                    args.push("{id}_teacher_logits,".to_string());
                }
            }
            if weights.is_some() {
                args.push(or_null("class_weights"));
            }
        }
        Shape::MultiLabel { .. } => {
            args.push("{id}_target,".to_string());
            args.push(or_null("pos_weight"));
            args.push(or_null("class_weights"));
        }
        _ => return None,
    }
    for (k, v) in call_params(loss, p) {
        args.push(format!("{},", c_param(k, v)));
    }
    let exp = &c["expected"];
    let values = match &exp["value"] {
        Value::Array(_) => numbers(&exp["value"]),
        v => vec![number(v)?],
    };
    // The gradient of the scores (named after them, or the only one: distillation's
    // `student`).
    let grads = exp["grad"].as_object()?;
    let grad = numbers(
        grads
            .get(&x)
            .or(grads.values().next().filter(|_| grads.len() == 1))?,
    );
    let case = RowCase {
        loss,
        id: c["id"].as_str()?.to_string(),
        params_json: p.to_string(),
        reduction,
        rows,
        classes,
        inputs,
        x,
        args,
        values,
        grad,
    };
    let ok = case
        .inputs
        .iter()
        .flat_map(|(_, v)| v.iter())
        .chain(&case.values)
        .chain(&case.grad)
        .all(|v| v.is_finite() && v.abs() <= 1e6);
    ok.then_some(case)
}

/// For every row and multi-label entry: its first usable reduced case (mean or sum), and its
/// first usable per-row case (`"none"`) if it has `value_elementwise`. Panics naming a loss
/// without a usable reduced case.
pub fn row_cases(vectors: &[Value]) -> Vec<(Option<RowCase>, Option<RowCase>)> {
    let mut out = Vec::new();
    for l in LOSSES {
        if !matches!(l.shape, Shape::Rows { .. } | Shape::MultiLabel { .. }) {
            continue;
        }
        let mut usable: Vec<RowCase> = vectors
            .iter()
            .filter(|c| l.vectors.contains(&c["loss"].as_str().unwrap_or("")))
            .filter_map(|c| row_case(l, c))
            .collect();
        // Several rows of several classes first (the vectors start with edge cases), then
        // with per-class weights, then file order (stable).
        usable.sort_by_key(|c| {
            (
                c.rows < 2 || c.classes < 3,
                !c.inputs.iter().any(|(k, _)| k == "class_weights"),
            )
        });
        let reduced = usable
            .iter()
            .position(|c| c.reduction == "mean" || c.reduction == "sum");
        assert!(
            reduced.is_some(),
            "{}: no usable reduced conformance case (mean or sum, at most {MAX_ROW_ELEMENTS} elements, finite) in tests/data",
            l.name
        );
        let per_row = usable.iter().position(|c| c.reduction == "none");
        let per_row = per_row.filter(|_| l.shape.verbs().contains(&"value_elementwise"));
        let mut usable: Vec<Option<RowCase>> = usable.into_iter().map(Some).collect();
        let reduced = reduced.and_then(|i| usable[i].take());
        let per_row = per_row.and_then(|i| usable[i].take());
        out.push((reduced, per_row));
    }
    out
}

fn c_row_case(s: &mut String, c: &RowCase) {
    let v = c.ident();
    let _ = writeln!(s, "/* {} ({}): {} */", c.id, c.loss.name, c.params_json);
    let _ = writeln!(s, "#define {v}_ROWS {}", c.rows);
    let _ = writeln!(s, "#define {v}_COLS {}", c.classes);
    let red = match c.reduction.as_str() {
        "mean" => "LOSSKIT_REDUCTION_MEAN",
        "sum" => "LOSSKIT_REDUCTION_SUM",
        _ => "-1",
    };
    let _ = writeln!(s, "#define {v}_RED {red}");
    let args: String = c
        .args
        .iter()
        .map(|a| format!(" {}", a.replace("{id}", &v)))
        .collect();
    let _ = writeln!(s, "#define {v}_IN(){args}");
    for (k, xs) in &c.inputs {
        if k == "labels" {
            let body: Vec<String> = xs.iter().map(|x| format!("{}", *x as i64)).collect();
            let _ = writeln!(
                s,
                "const int64_t {v}_labels[{}] = {{{}}};",
                xs.len(),
                body.join(", ")
            );
        } else {
            let name = if *k == c.x { "x" } else { k.as_str() };
            c_array(s, &format!("{v}_{name}"), xs);
        }
    }
    if c.reduction == "none" {
        let _ = writeln!(s, "#define {v}_NVALUES {}", c.values.len());
        c_array(s, &format!("{v}_values"), &c.values);
    } else {
        let _ = writeln!(s, "const double {v}_value = {};", c_num(c.values[0]));
    }
    c_array(s, &format!("{v}_grad"), &c.grad);
}

/// The row part of `tests/c/cases.h`.
fn c_rows_part(s: &mut String, vectors: &[Value]) {
    let cases = row_cases(vectors);
    s.push_str(
        "\n/* Row and multi-label losses: per case `<id>` (`row_` and the vector's id): <id>_ROWS,\n \
         * <id>_COLS, <id>_RED (its reduction), <id>_x (the scores), its other inputs by the\n \
         * vector's names, <id>_value (or <id>_values and <id>_NVALUES for a per-row case),\n \
         * <id>_grad (of the sum of the values), and <id>_IN(): the C arguments between\n \
         * `classes` and the reduction (what the scores are against, the per-class weights\n \
         * where the loss has them (NULL where the case has none), the case's parameters or the\n \
         * registry's defaults), each followed by a comma. */\n",
    );
    for c in cases.iter().flat_map(|(a, b)| a.iter().chain(b)) {
        c_row_case(s, c);
    }
    s.push_str(
        "\n/* X(loss, case): a reduced case of every row and multi-label loss of the registry. */\n\
         #define LOSSKIT_ROW_CASES(X)",
    );
    for c in cases.iter().filter_map(|(a, _)| a.as_ref()) {
        let _ = write!(s, " \\\n    X({}, {})", c.loss.name, c.ident());
    }
    s.push_str(
        "\n\n/* X(loss, case): a per-row (\"none\") case of every row and multi-label loss with\n \
         * value_elementwise, where its vectors have one. */\n\
         #define LOSSKIT_ROW_ELEMENTWISE_CASES(X)",
    );
    for c in cases.iter().filter_map(|(_, b)| b.as_ref()) {
        let _ = write!(s, " \\\n    X({}, {})", c.loss.name, c.ident());
    }
    s.push('\n');
}

/// A Rust f64 literal.
fn rs_num(x: f64) -> String {
    if x == f64::INFINITY {
        "f64::INFINITY".into()
    } else if x == f64::NEG_INFINITY {
        "f64::NEG_INFINITY".into()
    } else {
        let r = format!("{x:?}");
        if r.contains(['.', 'e']) || r.contains("inf") {
            r
        } else {
            format!("{r}.0")
        }
    }
}

fn rs_array(xs: &[f64]) -> String {
    let body: Vec<String> = xs.iter().map(|x| rs_num(*x)).collect();
    format!("&[{}]", body.join(", "))
}

/// The text of `../embedded/src/pointwise_cases.rs`: the firmware's pointwise cases, the
/// preferred sum case and the preferred mean case of every pointwise loss (each is run in f32
/// and f64).
pub fn firmware_cases(vectors: &[Value]) -> String {
    let mut s = String::from(
        "// Generated by losskit-capi's codegen/cases.rs from losskit's registry and ../tests/data\n\
         // (a sum and a mean conformance case per pointwise loss). Do not edit: run\n\
         // `LOSSKIT_BLESS=1 cargo test -p losskit-capi --test codegen`.\n\
         use crate::{Case, kernels};\n\npub static CASES: &[Case] = &[\n",
    );
    let picked = pointwise_cases(vectors).into_iter().flat_map(|v| {
        let sum = v.iter().position(|c| c.reduction == "sum");
        let mean = v.iter().position(|c| c.reduction == "mean");
        v.into_iter()
            .enumerate()
            .filter(move |(i, _)| Some(*i) == sum || Some(*i) == mean)
            .map(|(_, c)| c)
    });
    for c in picked {
        let name = c.loss.name;
        let params: Vec<String> = c
            .params
            .iter()
            .map(|(k, x)| match k {
                Kind::Real => rs_num(*x),
                _ => format!("{}", *x as i64),
            })
            .collect();
        let kind = if c.aux.is_some() { "aux" } else { "pw" };
        let _ = writeln!(s, "    Case {{");
        let _ = writeln!(s, "        id: \"{}\",", c.id);
        let _ = writeln!(
            s,
            "        kernels: kernels!({kind} losskit_{name}_value_and_grad_f32, losskit_{name}_value_and_grad_f64; {}),",
            params.join(", ")
        );
        let _ = writeln!(s, "        pred: {},", rs_array(&c.pred));
        let _ = writeln!(s, "        target: {},", rs_array(&c.target));
        let aux = c.aux.as_ref().map(|(a, _)| a.as_slice()).unwrap_or(&[]);
        let _ = writeln!(s, "        aux: {},", rs_array(aux));
        let _ = writeln!(s, "        reduction: {},", i32::from(c.reduction == "sum"));
        let _ = writeln!(s, "        value: {},", rs_num(c.value));
        let _ = writeln!(s, "        grad: {},", rs_array(&c.grad));
        let _ = writeln!(s, "    }},");
    }
    s.push_str("];\n");
    s
}
