//! Every loss in losskit's registry (`losskit::registry::LOSSES`, from which `codegen/`
//! writes the functions) has its C functions (all its verbs, f32 and f64) in the committed
//! generated code and header: fails when a loss was registered without running
//! `LOSSKIT_BLESS=1 cargo test -p losskit-capi --test codegen`. (That the registry's
//! generic test lists match the table is losskit's own test, `registry::tests`.)

#[path = "../codegen/mod.rs"]
#[allow(dead_code)]
mod codegen;

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
