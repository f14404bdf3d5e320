//! The fuzz targets' committed corpora (`fuzz/corpus/<target>/`) and every past finding
//! (`fuzz/regressions/<target>/`), replayed as ordinary tests: the same checks as the fuzz
//! targets (`fuzz/src/checks/`, mounted here), on a machine without cargo-fuzz. The C
//! boundary's target is replayed by `capi/tests/fuzz_replay.rs`.
//!
//! A failing file names itself; reproduce it with
//! `cargo test --test suite fuzz_replay -- --nocapture` or, with cargo-fuzz,
//! `cd fuzz && cargo fuzz run <target> <file>`.

#[path = "../../fuzz/src/input.rs"]
mod input;

#[path = "../../fuzz/src/checks/mod.rs"]
mod checks;

use std::path::Path;

/// Runs `check` on every file of the target's corpus and regressions; returns how many.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files = Vec::new();
    for dir in ["corpus", "regressions"] {
        let dir = root.join(dir).join(target);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries {
            let path = e.expect("a directory entry").path();
            if path.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    for path in &files {
        let data = std::fs::read(path).expect("readable");
        let r = std::panic::catch_unwind(|| check(&data));
        if let Err(e) = r {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("{}: {msg}", path.display());
        }
    }
    println!("{target}: {} files replayed", files.len());
    files.len()
}

#[test]
fn pointwise() {
    assert!(replay("pointwise", checks::pointwise::run) > 0, "no corpus");
}

#[test]
fn pointwise_aux() {
    assert!(
        replay("pointwise_aux", checks::pointwise_aux::run) > 0,
        "no corpus"
    );
}

#[test]
fn rows() {
    assert!(replay("rows", checks::rows::run) > 0, "no corpus");
}

#[test]
fn multilabel() {
    assert!(
        replay("multilabel", checks::multilabel::run) > 0,
        "no corpus"
    );
}
