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

/// The message of a caught panic.
fn message(e: &(dyn std::any::Any + Send)) -> String {
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

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
            panic!("{}: {}", path.display(), message(&*e));
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

/// Triage of a fuzz run's findings against the current code and checks: every file under
/// `$LOSSKIT_FUZZ_TRIAGE/<target>/` (e.g. `fuzz/artifacts`) is checked, and each failing
/// one is printed with the first line of its message, then the test fails; the accuracy
/// the checks accepted over those files is printed as a table (`checks::tally`). A tool, so
/// ignored by default:
/// `LOSSKIT_FUZZ_TRIAGE=fuzz/artifacts cargo test --test suite fuzz_replay::triage -- --ignored --nocapture`.
#[test]
#[ignore = "a tool: set LOSSKIT_FUZZ_TRIAGE to a directory of findings"]
fn triage() {
    let root = std::env::var("LOSSKIT_FUZZ_TRIAGE").expect("LOSSKIT_FUZZ_TRIAGE=<dir>");
    type Check = fn(&[u8]);
    let targets: [(&str, Check); 4] = [
        ("pointwise", checks::pointwise::run),
        ("pointwise_aux", checks::pointwise_aux::run),
        ("rows", checks::rows::run),
        ("multilabel", checks::multilabel::run),
    ];
    std::panic::set_hook(Box::new(|_| {}));
    let (mut checked, mut failed) = (0, 0);
    for (target, check) in targets {
        let Ok(entries) = std::fs::read_dir(Path::new(&root).join(target)) else {
            continue;
        };
        let mut files: Vec<_> = entries.map(|e| e.expect("an entry").path()).collect();
        files.sort();
        for path in files.iter().filter(|p| p.is_file()) {
            checked += 1;
            let data = std::fs::read(path).expect("readable");
            if let Err(e) = std::panic::catch_unwind(|| check(&data)) {
                failed += 1;
                // One line per finding; its inputs follow, indented, with
                // LOSSKIT_FUZZ_TRIAGE_VERBOSE set.
                let msg = message(&*e);
                let mut lines = msg.lines();
                let first = lines.next().unwrap_or("");
                println!("{target}\t{}\t{first}", path.display());
                if std::env::var_os("LOSSKIT_FUZZ_TRIAGE_VERBOSE").is_some() {
                    for l in lines {
                        println!("\t{l}");
                    }
                }
            }
        }
    }
    let _ = std::panic::take_hook();
    println!("{checked} files checked, {failed} failing");
    println!(
        "accuracy at the edges (ε of max(|want|, parts), beyond the absolute floor):\n{}",
        checks::tally::table()
    );
    assert_eq!(failed, 0, "findings still failing");
}
