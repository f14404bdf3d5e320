//! Compiles the C programs in `tests/c/` with the system C compiler (`$CC`, default `cc`) as
//! C99 with `-Wall -Wextra -Werror -pedantic`, and again as C++ (`$CXX`, default `c++`),
//! links them against the static library this test build produced, runs them, and requires
//! their `N passed, 0 failed` line; `values.c` and `rows.c` print `case <loss> ...` for each
//! loss they run, and every registered loss must be among them.

use losskit::registry::{LOSSES, Shape};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The staticlib `cargo test` built next to this test binary (`deps/liblosskit_capi-*.a`;
/// it is not uplifted to `target/<profile>/` under `cargo test`). The newest one wins.
fn staticlib() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    std::fs::read_dir(deps)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("liblosskit_capi") && name.ends_with(".a")
        })
        .max_by_key(|p| p.metadata().unwrap().modified().unwrap())
        .expect("liblosskit_capi*.a not found next to the test binary")
}

/// Compiles `src` (as C or C++) against the header and the static library, runs it, checks
/// its closing line, and returns its output.
fn build_and_run(src: &str, cplusplus: bool) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let stdout = compile_and_run(&root.join("tests/c").join(src), cplusplus, &[]);
    assert!(
        stdout.lines().any(|l| l.ends_with(" 0 failed")),
        "{src} printed no pass line:\n{stdout}"
    );
    stdout
}

/// Every registered loss whose shape `keep` selects printed a `case <loss> ...` line in
/// `stdout` (the C program ran it).
fn every_loss_ran(src: &str, stdout: &str, keep: impl Fn(&Shape) -> bool) {
    let ran: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("case "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    let missing: Vec<&str> = LOSSES
        .iter()
        .filter(|l| keep(&l.shape) && !ran.contains(&l.name))
        .map(|l| l.name)
        .collect();
    assert!(
        missing.is_empty(),
        "registered losses that {src} does not run: {missing:?}"
    );
}

/// Compiles one C file against the header and the static library, runs it with `args`,
/// requires exit status 0, and returns its standard output.
fn compile_and_run(src: &Path, cplusplus: bool, args: &[&Path]) -> String {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c_api");
    std::fs::create_dir_all(&dir).unwrap();
    let stem = Path::new(src)
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let exe = dir.join(format!("{stem}{}", if cplusplus { "_cpp" } else { "_c" }));
    let mut cmd = if cplusplus {
        let mut c = Command::new(std::env::var("CXX").unwrap_or_else(|_| "c++".into()));
        c.args(["-x", "c++", "-std=c++11"]);
        c
    } else {
        let mut c = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()));
        c.arg("-std=c99");
        c
    };
    cmd.args(["-Wall", "-Wextra", "-Werror", "-pedantic", "-O1"])
        .arg("-I")
        .arg(root.join("include"))
        .arg(src);
    if cplusplus {
        // Back to object/library inputs after `-x c++`.
        cmd.args(["-x", "none"]);
    }
    cmd.arg(staticlib())
        .args(["-lm", "-lpthread", "-ldl"])
        .arg("-o")
        .arg(&exe);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "compiling {} failed: {cmd:?}\n{}{}",
        src.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new(&exe).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    print!("{stdout}");
    assert!(
        run.status.success(),
        "{} failed:\n{stdout}{}",
        src.display(),
        String::from_utf8_lossy(&run.stderr)
    );
    stdout
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn c_values() {
    let out = build_and_run("values.c", false);
    every_loss_ran("values.c", &out, |s| {
        matches!(s, Shape::Pointwise { .. } | Shape::PointwiseAux { .. })
    });
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn c_statuses() {
    build_and_run("statuses.c", false);
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn c_rows() {
    let out = build_and_run("rows.c", false);
    every_loss_ran("rows.c", &out, |s| {
        matches!(s, Shape::Rows { .. } | Shape::MultiLabel { .. })
    });
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn cplusplus_values_and_statuses() {
    build_and_run("values.c", true);
    build_and_run("statuses.c", true);
    build_and_run("rows.c", true);
}

/// The C example (`examples/c/`) builds warning-free and its robust fit beats MSE.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn c_example() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let out = compile_and_run(
        &repo.join("examples/c/huber_regression.c"),
        false,
        &[&repo.join("examples/data")],
    );
    assert!(
        out.contains("mean absolute error on the clean targets"),
        "{out}"
    );
}
