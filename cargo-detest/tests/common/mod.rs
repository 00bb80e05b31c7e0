//! What the cargo-detest end-to-end test binaries share: the `sweepy` fixture crate, built once
//! into one target dir, and `cargo detest` run over it with a clean environment.
#![allow(dead_code)] // each test binary uses its own part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub fn fixture_manifest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sweepy/Cargo.toml")
}

pub fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-target")
}

/// Builds the fixture crate's tests once for every e2e test (later `cargo test --no-run` calls
/// made by cargo-detest are then no-ops).
pub fn build_fixtures() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let status = Command::new(env!("CARGO"))
            .args(["test", "--no-run", "--quiet", "--manifest-path"])
            .arg(fixture_manifest())
            .arg("--target-dir")
            .arg(target_dir())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the fixture crate failed");
    });
}

pub fn command(sub: Option<&str>, args: &[&str], regressions: &Path) -> Command {
    build_fixtures();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-detest"));
    cmd.arg("detest");
    if let Some(s) = sub {
        cmd.arg(s);
    }
    cmd.args(args)
        .arg("--manifest-path")
        .arg(fixture_manifest())
        .arg("--target-dir")
        .arg(target_dir())
        .args(["--color", "never"]);
    // Whatever DETEST_* the outer `cargo test` runs with must not steer these runs.
    for (var, _) in std::env::vars_os() {
        if var.to_string_lossy().starts_with("DETEST_") {
            cmd.env_remove(var);
        }
    }
    cmd.env("DETEST_REGRESSIONS_DIR", regressions);
    cmd.env("DETEST_CACHE_DIR", cache_dir(regressions));
    cmd
}

/// Where the runs of one test remember what passed: its own folder per regressions folder and
/// test process, so a test's second run sees its first one, and no other test's (nor an
/// earlier `cargo test`'s) runs.
pub fn cache_dir(regressions: &Path) -> PathBuf {
    let name = regressions
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("e2e-cache-{}", std::process::id()))
        .join(name)
}

pub fn run(sub: Option<&str>, args: &[&str], regressions: &Path) -> Output {
    command(sub, args, regressions)
        .output()
        .expect("cargo-detest runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The newest build of the fixture crate's test binary `name` (`trust_protocol`), to run
/// directly in worker mode.
pub fn fixture_test_binary(name: &str) -> PathBuf {
    build_fixtures();
    let deps = target_dir().join("debug/deps");
    let prefix = format!("{name}-");
    std::fs::read_dir(&deps)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            let file = p.file_name().unwrap().to_string_lossy();
            file.starts_with(&prefix) && p.extension().is_none()
        })
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
        .unwrap_or_else(|| panic!("the {name} test binary"))
}
