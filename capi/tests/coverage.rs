//! Every loss in losskit's registry has its C functions (all verbs, f32 and f64) in the
//! table, the generated code and the committed header; and the table lists nothing else.
//! Fails when a loss is added to `for_each_pointwise_loss!`,
//! `for_each_aux_pointwise_loss!` or `for_each_row_loss!` without an entry in
//! `codegen/losses.rs`.

#[path = "../codegen/mod.rs"]
#[allow(dead_code)]
mod codegen;

/// The snake names of a registry list (the instances and references are not needed).
macro_rules! names {
    ($( ($name:ident, $($rest:tt)*) ),* $(,)?) => {
        &[$(stringify!($name)),*]
    };
}

/// The snake names of the row losses (their types must name real types with defaults).
macro_rules! row_names {
    ($( ($name:ident, $t:ty) ),* $(,)?) => {{
        $( let _ = <$t as Default>::default(); )*
        &[$(stringify!($name)),*]
    }};
}

fn registry() -> Vec<&'static str> {
    let two: &[&str] = losskit::for_each_pointwise_loss!(names);
    let aux: &[&str] = losskit::for_each_aux_pointwise_loss!(names);
    let rows: &[&str] = losskit::for_each_row_loss!(row_names);
    two.iter().chain(aux).chain(rows).copied().collect()
}

#[test]
fn every_registered_loss_has_c_functions() {
    let table: Vec<&str> = codegen::losses::LOSSES.iter().map(|l| l.c).collect();
    let registry = registry();
    let missing: Vec<_> = registry.iter().filter(|n| !table.contains(n)).collect();
    assert!(
        missing.is_empty(),
        "losses without C functions: {missing:?}; add them to capi/codegen/losses.rs and run \
         `LOSSKIT_BLESS=1 cargo test -p losskit-capi --test codegen`"
    );
    let unknown: Vec<_> = table.iter().filter(|n| !registry.contains(n)).collect();
    assert!(
        unknown.is_empty(),
        "C table entries not in the registry: {unknown:?}"
    );

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let header = std::fs::read_to_string(root.join("include/losskit.h")).unwrap();
    let generated = std::fs::read_to_string(root.join("src/generated.rs")).unwrap();
    let names = codegen::function_names();
    // A row loss has at least the value and the gradient.
    for l in codegen::losses::LOSSES {
        let v = codegen::verbs(l);
        assert!(
            v.contains(&"value") && v.contains(&"grad") && v.contains(&"value_and_grad"),
            "{}: {v:?}",
            l.c
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

/// The exported functions: every loss function plus the utilities, each declared once.
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
    expected.extend(["version", "backend_name", "status_str"].map(String::from));
    let mut declared: Vec<String> = declared.into_iter().map(String::from).collect();
    declared.sort();
    expected.sort();
    assert_eq!(declared, expected);
    println!("{} exported functions", declared.len());
}
