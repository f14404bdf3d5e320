//! Every pointwise loss of the crate compiles its kernels once, in losskit: each
//! `impl Pointwise for <Type>` in `src/loss/` opens with
//! `crate::shape::pointwise::compiled_once!(<Type>);` (ARCHITECTURE.md, "Kernels compiled
//! once"). Without the line the loss still works, through the trait's generic `pass`, but
//! every caller compiles its kernels again, and the test binaries' memory and time grow
//! with it; nothing else would notice.

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable src/loss") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_pointwise_loss_of_the_crate_compiles_its_kernels_once() {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/loss"),
        &mut files,
    );
    let (mut impls, mut missing) = (0, Vec::new());
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable source");
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
