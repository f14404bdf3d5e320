//! The C boundary's fuzz corpus (`fuzz/corpus/capi/`) and every past finding
//! (`fuzz/regressions/capi/`), replayed as ordinary tests with the fuzz target's own check
//! (`fuzz/src/capi.rs`, mounted here), on a machine without cargo-fuzz.

// The C target draws its own lengths: `Input::len` is unused here.
#[allow(dead_code)]
#[path = "../../fuzz/src/input.rs"]
mod input;

#[path = "../../fuzz/src/capi.rs"]
mod capi;

use std::path::Path;

#[test]
fn capi_corpus_and_regressions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut files = Vec::new();
    for dir in ["corpus/capi", "regressions/capi"] {
        if let Ok(entries) = std::fs::read_dir(root.join(dir)) {
            files.extend(entries.map(|e| e.expect("a directory entry").path()));
        }
    }
    files.sort();
    for path in &files {
        let data = std::fs::read(path).expect("readable");
        if let Err(e) = std::panic::catch_unwind(|| capi::run(&data)) {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("{}: {msg}", path.display());
        }
    }
    println!("capi: {} files replayed", files.len());
    assert!(!files.is_empty(), "no corpus");
}
