//! End to end: the README's "Library code" pattern, on the crate in `tests/fixtures/library`
//! (detest as a normal dependency with `default-features = false`, and as a dev-dependency with
//! `features = ["model"]`). Its `cargo build` must compile `detest::sync` & co. as std's, with
//! none of the executor built; its `cargo test` must run the same library code on the model,
//! where `#[detest]` finds the library's bug, and a plain `#[test]` runs it on real threads.

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/library")
}

/// `cargo <args>` in the fixture crate, not inheriting this process's `DETEST_*` settings or
/// cargo's build env (as `tests/e2e.rs` runs its fixture crate), in a target dir of its own:
/// the outer `cargo test` holds the lock on the main one.
fn cargo(args: &[&str], regressions: &Path) -> std::process::Output {
    let cargo = std::env::var_os("CARGO").map_or_else(|| "cargo".into(), PathBuf::from);
    let mut cmd = common::clean(cargo);
    cmd.current_dir(fixture()).args(args);
    let target_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/detest-e2e-library");
    cmd.env("CARGO_TARGET_DIR", target_dir)
        .env("CARGO_TERM_COLOR", "never")
        .env("DETEST_REGRESSIONS_DIR", regressions)
        .env_remove("RUST_BACKTRACE");
    cmd.output().expect("run cargo")
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("library-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_normal_build_compiles_detest_as_std() {
    let regressions = scratch("build");
    let out = cargo(
        &["build", "--message-format=json-render-diagnostics"],
        &regressions,
    );
    assert!(
        out.status.success(),
        "cargo build failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut built = Vec::new();
    let mut binary = None;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if v["reason"] != "compiler-artifact" {
            continue;
        }
        let name = v["target"]["name"].as_str().unwrap_or_default().to_owned();
        if name == "detest-fixture-library" && v["target"]["kind"][0] == "bin" {
            binary = v["executable"].as_str().map(PathBuf::from);
        }
        built.push(name);
    }
    // The runtime is built, and nothing of the executor: no coroutines, no macro, no serde.
    assert!(built.iter().any(|n| n == "detest"), "{built:?}");
    for model_only in ["corosensei", "detest_macros", "serde_json", "toml"] {
        assert!(
            !built.iter().any(|n| n == model_only),
            "{model_only} built for a std build: {built:?}"
        );
    }
    // The binary uses the library outside any execution, on real threads and std's locks.
    let run = Command::new(binary.expect("the fixture's binary"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}");
    assert!(stdout.contains("std primitives: true"), "{stdout}");
    assert!(stdout.contains("balance 6100"), "{stdout}");
    assert!(
        stdout.contains("other paths: 2 true true 42 hello 1"),
        "{stdout}"
    );
}

#[test]
fn a_test_build_runs_the_library_on_the_model() {
    let regressions = scratch("test");
    let out = cargo(
        &["test", "-q", "--test", "withdraw", "--", "--nocapture"],
        &regressions,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "cargo test failed:\n{stdout}\n{stderr}"
    );
    // Four tests passed: the model is on (`test_builds_get_the_model`), a plain test ran the
    // library on real threads, the other paths (cell, rand, time, future, lazy_static,
    // thread_local) ran outside and inside an execution, and `#[detest]` found the lost
    // withdrawal it expects.
    assert!(
        stdout.contains("test result: ok. 4 passed"),
        "{stdout}\n{stderr}"
    );
    let all = format!("{stdout}\n{stderr}");
    assert!(
        all.contains("detest: found the expected panic")
            && all.contains("money was created: withdrew 110"),
        "{all}"
    );
}
