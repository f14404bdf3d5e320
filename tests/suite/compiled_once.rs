//! Every kernel of the crate is compiled once, in losskit (ARCHITECTURE.md, "Kernels compiled
//! once"): each `impl Pointwise for <Type>` in `src/loss/` opens with
//! `crate::shape::pointwise::compiled_once!(<Type>);`, and every entry to a row driver (a
//! call of `dispatch::task`) is the body of a `compiled_per_precision!` function. Without
//! them the losses still work, through generic functions, but every caller compiles the
//! kernels again, and the test binaries' memory and time grow with it; nothing else would
//! notice.

use std::path::{Path, PathBuf};

/// The Rust files under `dir` of the crate (e.g. `src/loss`), with their text.
fn sources(dir: &str) -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).expect("a readable source directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("readable source");
                out.push((path, text));
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir), &mut out);
    out
}

#[test]
fn every_pointwise_loss_of_the_crate_compiles_its_kernels_once() {
    let (mut impls, mut missing) = (0, Vec::new());
    for (file, text) in &sources("src/loss") {
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            // Generic impls (Barron's α kernel, `impl<const W: bool>`) cannot name a type
            // for the macro's non-generic functions, and keep the generic `pass`.
            let Some(ty) = line
                .strip_prefix("impl Pointwise for ")
                .and_then(|r| r.strip_suffix(" {"))
            else {
                continue;
            };
            impls += 1;
            let want = format!("crate::shape::pointwise::compiled_once!({ty});");
            // Barron's `pass` hands over to its compiled kernel type instead.
            let delegates = lines[i..]
                .iter()
                .take_while(|l| **l != "}")
                .any(|l| l.contains(".kernel().pass::<F, VERB>("));
            if lines.get(i + 1).map(|l| l.trim()) != Some(want.as_str()) && !delegates {
                missing.push(format!("{}: {ty}", file.display()));
            }
        }
    }
    assert!(impls >= 20, "found only {impls} impls of Pointwise");
    assert!(missing.is_empty(), "no compiled_once! line: {missing:?}");
}

#[test]
fn every_row_driver_entry_is_compiled_once_per_precision() {
    let (mut calls, mut outside) = (0, Vec::new());
    for (file, text) in &sources("src") {
        if file.ends_with("shape/dispatch.rs") {
            continue; // where `task` is defined
        }
        // The crate's own unit tests may call `task` directly.
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        // Inside an invocation: the function it declares and the invocation itself each end
        // with a `}` in the first column (the house layout of `fold_inline!` and
        // `compiled_per_precision!` blocks).
        let mut closings_left = 0;
        for (i, line) in text.lines().enumerate() {
            if line.starts_with("crate::shape::dispatch::compiled_per_precision! {") {
                closings_left = 2;
            } else if line == "}" && closings_left > 0 {
                closings_left -= 1;
            }
            let code = line.split("//").next().unwrap_or_default();
            let is_call = code.match_indices("task(").any(|(at, _)| {
                let before = code[..at].chars().next_back();
                !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                    && !code[..at].trim_end().ends_with("fn")
            });
            if is_call {
                calls += 1;
                if closings_left == 0 {
                    outside.push(format!("{}:{}", file.display(), i + 1));
                }
            }
        }
    }
    assert!(calls >= 5, "found only {calls} calls of dispatch::task");
    assert!(
        outside.is_empty(),
        "dispatch::task called outside a compiled_per_precision! function: {outside:?}"
    );
}
