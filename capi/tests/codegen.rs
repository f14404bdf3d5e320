//! `src/generated.rs` and `include/losskit.h` are what the table and cbindgen make of the
//! current sources, and the case data of the C tests (`tests/c/cases.h`) and of the firmware
//! (`../embedded/src/pointwise_cases.rs`) what the table and the conformance vectors make.
//! `LOSSKIT_BLESS=1` rewrites them instead of failing.

#[path = "../codegen/mod.rs"]
#[allow(dead_code)]
mod codegen;

#[path = "../codegen/cases.rs"]
#[allow(dead_code)]
mod cases;

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Compares `fresh` with the committed file, or rewrites it under `LOSSKIT_BLESS=1`.
fn check_or_bless(path: &Path, fresh: &str) {
    let bless = std::env::var_os("LOSSKIT_BLESS").is_some_and(|v| v == "1");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    if committed == fresh {
        return;
    }
    if bless {
        std::fs::write(path, fresh).unwrap();
        eprintln!("rewrote {}", path.display());
    } else {
        panic!(
            "{} is stale: run `LOSSKIT_BLESS=1 cargo test -p losskit-capi --test codegen` and commit the result",
            path.display()
        );
    }
}

/// One test, in order: the header is made from the generated code it checks first.
#[test]
fn generated_code_and_header_are_current() {
    let root = root();
    check_or_bless(&root.join("src/generated.rs"), &codegen::generate());

    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).unwrap();
    let mut header = Vec::new();
    cbindgen::Builder::new()
        .with_crate(&root)
        .with_config(config)
        .generate()
        .unwrap()
        .write(&mut header);
    check_or_bless(
        &root.join("include/losskit.h"),
        &String::from_utf8(header).unwrap(),
    );
}

/// The case data of the C tests and of the firmware.
#[test]
fn generated_cases_are_current() {
    let root = root();
    let vectors = cases::vectors();
    check_or_bless(&root.join("tests/c/cases.h"), &cases::c_cases_h(&vectors));
    check_or_bless(
        &root.join("../embedded/src/pointwise_cases.rs"),
        &cases::firmware_cases(&vectors),
    );
}
