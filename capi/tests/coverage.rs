//! Every loss in losskit's registry (`losskit::registry::LOSSES`, from which `codegen/`
//! writes the functions) has its C functions (all its verbs, f32 and f64) in the committed
//! generated code and header: fails when a loss was registered without running
//! `LOSSKIT_BLESS=1 cargo test -p losskit-capi --test codegen`. (That the registry's
//! generic test lists match the table is losskit's own test, `registry::tests`.) And every
//! registered loss has C cases that the C tests run: fails when one is missing.

#[path = "../codegen/mod.rs"]
#[allow(dead_code)]
mod codegen;

use losskit::registry::Shape;

#[test]
fn every_registered_loss_has_c_functions() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let header = std::fs::read_to_string(root.join("include/losskit.h")).unwrap();
    let generated = std::fs::read_to_string(root.join("src/generated.rs")).unwrap();
    let names = codegen::function_names();
    // A row loss has at least the value and the gradient.
    for l in losskit::registry::LOSSES {
        let v = codegen::verbs(l);
        assert!(
            v.contains(&"value") && v.contains(&"grad") && v.contains(&"value_and_grad"),
            "{}: {v:?}",
            l.name
        );
    }
    for name in &names {
        assert!(
            header.contains(&format!(" {name}(")),
            "{name} missing from include/losskit.h"
        );
        assert!(
            generated.contains(&format!("pub unsafe extern \"C\" fn {name}(")),
            "{name} missing from src/generated.rs"
        );
    }
}

/// The exported functions: every generated loss function plus the hand-written ones of
/// `lib.rs`, each declared once.
#[test]
fn header_declares_exactly_the_exported_functions() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let header = std::fs::read_to_string(root.join("include/losskit.h")).unwrap();
    // Declarations start at column 0 (comments are indented or start with `/*`).
    let declared: Vec<&str> = header
        .lines()
        .filter(|l| l.starts_with("losskit_status ") || l.starts_with("const char *"))
        .filter_map(|l| l.split_once('(').map(|(head, _)| head))
        .filter_map(|head| head.rsplit([' ', '*']).next())
        .filter_map(|name| name.strip_prefix("losskit_"))
        .collect();
    let mut expected: Vec<String> = codegen::function_names()
        .into_iter()
        .map(|n| n.trim_start_matches("losskit_").to_string())
        .collect();
    // The hand-written ones of `lib.rs`: the utilities, and Barron's gradient in its shape.
    expected.extend(
        [
            "version",
            "backend_name",
            "status_str",
            "barron_grad_alpha_f32",
            "barron_grad_alpha_f64",
        ]
        .map(String::from),
    );
    let mut declared: Vec<String> = declared.into_iter().map(String::from).collect();
    declared.sort();
    expected.sort();
    assert_eq!(declared, expected);
    println!("{} exported functions", declared.len());
}

/// The losses of the X-macro list `list` in the committed `tests/c/cases.h`: the first
/// argument of each `X(...)` line of its `#define`.
fn x_list(cases_h: &str, list: &str) -> Vec<String> {
    let start = cases_h
        .find(&format!("#define {list}(X)"))
        .unwrap_or_else(|| panic!("tests/c/cases.h has no {list}"));
    cases_h[start..]
        .lines()
        .skip(1)
        .take_while(|l| l.trim_start().starts_with("X("))
        .map(|l| {
            let args = l.trim_start().trim_start_matches("X(");
            args.split(',').next().unwrap().trim().to_string()
        })
        .collect()
}

/// Every registered loss has C cases run by the C tests: each loss is in the generated
/// lists of `tests/c/cases.h` that `values.c` (and `statuses.c`) and `rows.c` expand. (`tests/c_api.rs` checks the same at run
/// time from what the programs print.)
#[test]
fn every_registered_loss_has_c_cases() {
    let c = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c");
    let read = |f: &str| std::fs::read_to_string(c.join(f)).unwrap();
    let (cases_h, values, statuses, rows) = (
        read("cases.h"),
        read("values.c"),
        read("statuses.c"),
        read("rows.c"),
    );
    let pointwise = x_list(&cases_h, "LOSSKIT_POINTWISE_CASES");
    let aux = x_list(&cases_h, "LOSSKIT_AUX_CASES");
    assert!(values.contains("LOSSKIT_POINTWISE_CASES(BOTH_CASE);"));
    assert!(values.contains("LOSSKIT_AUX_CASES(RUN_AUX);"));
    assert!(statuses.contains("LOSSKIT_POINTWISE_CASES(SHARED_STATUSES);"));
    let row = x_list(&cases_h, "LOSSKIT_ROW_CASES");
    assert!(rows.contains("LOSSKIT_ROW_CASES(CHECK_ROW_CASE);"));
    assert!(rows.contains("LOSSKIT_ROW_ELEMENTWISE_CASES(CHECK_ROW_ELEMENTWISE_CASE);"));
    let mut missing = Vec::new();
    for l in losskit::registry::LOSSES {
        let name = l.name.to_string();
        let covered = match l.shape {
            Shape::Pointwise { .. } => pointwise.contains(&name),
            Shape::PointwiseAux { .. } => {
                aux.contains(&name) && values.contains(&format!("CHECK_AUX_{name}("))
            }
            Shape::Rows { .. } | Shape::MultiLabel { .. } => row.contains(&name),
        };
        if !covered {
            missing.push(name);
        }
    }
    assert!(
        missing.is_empty(),
        "registered losses without C cases: {missing:?} (pointwise: run \
         `LOSSKIT_BLESS=1 cargo test -p losskit-capi --test codegen`; a loss with a third input \
         needs CHECK_AUX_<name> in values.c)"
    );
}
