//! End to end, on glibc Linux: a test whose control flow depends on `Instant::now`,
//! `SystemTime::now`, `std::thread::sleep` and libc's `getrandom`, with no detest type for any
//! of them (tests/fixtures/buggy/tests/std_env.rs), passes `cargo detest check-determinism
//! --runs 100`, and a failure of such a test replays exactly from its saved fixture.
#![cfg(all(target_os = "linux", target_env = "gnu"))]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Where the fixture crate and cargo-detest are built: not the main target dir, whose lock
/// the outer `cargo test` holds (the same one as tests/e2e.rs).
fn target_dir() -> PathBuf {
    root().join("target/detest-e2e")
}

fn fixture_manifest() -> PathBuf {
    root().join("tests/fixtures/buggy/Cargo.toml")
}

/// A command with none of this process's `DETEST_*` or cargo build settings.
fn clean(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = common::clean(program);
    cmd.env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("RUST_BACKTRACE");
    cmd
}

fn cargo() -> Command {
    clean(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// cargo-detest, built from this workspace once per run of this test binary.
fn cargo_detest() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let out = cargo()
                .current_dir(root())
                .args(["build", "-q", "-p", "cargo-detest"])
                .output()
                .expect("run cargo");
            assert!(out.status.success(), "{}", text(&out));
            target_dir().join("debug/cargo-detest")
        })
        .clone()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("std-env-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_test_steered_by_std_time_sleep_and_randomness_passes_check_determinism() {
    let regs = scratch("check");
    let out = clean(cargo_detest())
        .args([
            "detest",
            "check-determinism",
            "steered_by_std_time_and_randomness",
        ])
        .args([
            "--runs", "100", "--test", "std_env", "--color", "never", "-j", "2",
        ])
        .args(["--format", "json"])
        .arg("--manifest-path")
        .arg(fixture_manifest())
        .env("DETEST_REGRESSIONS_DIR", &regs)
        .output()
        .expect("run cargo-detest");
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    let line: serde_json::Value = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["determinism"].is_object())
        .unwrap_or_else(|| panic!("no determinism line in:\n{all}"));
    // Every seed the test declares, each run 100 times to one and the same trace and outcome.
    let seeds = line["determinism"]["seeds"].as_array().unwrap();
    assert_eq!(seeds.len(), 20, "{line:#}");
    for s in seeds {
        assert_eq!(s["runs"], 100, "{s:#}");
        let histogram = s["histogram"].as_array().unwrap();
        assert_eq!(histogram.len(), 1, "{s:#}");
        assert_eq!(histogram[0][1], 100, "{s:#}");
    }
}

/// `cargo test` of the fixture's failing test, keeping its fixtures in `regs`.
fn std_env_bug(regs: &Path, env: &[(&str, &str)]) -> String {
    let mut cmd = cargo();
    cmd.current_dir(root().join("tests/fixtures/buggy"))
        .args([
            "test",
            "-q",
            "--test",
            "std_env",
            "--",
            "std_env_bug",
            "--exact",
        ])
        .env("DETEST_REGRESSIONS_DIR", regs)
        .env("DETEST_NO_SHRINK", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run cargo test");
    assert!(!out.status.success(), "{}", text(&out));
    text(&out)
}

fn field<'a>(out: &'a str, name: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.trim_start().strip_prefix(name))
        .unwrap_or_else(|| panic!("no {name} in:\n{out}"))
        .trim()
}

#[test]
fn a_failure_steered_by_std_replays_exactly_from_its_fixture() {
    let regs = scratch("replay");
    let fixture = regs.join("test/std_env/std_env_bug.toml");
    let first = std_env_bug(&regs, &[]);
    let message = field(&first, "message:").to_owned();
    // Every value std's clock and randomness produced is in the message.
    assert!(
        message.starts_with("worker 2 first, after waiting "),
        "{first}"
    );
    let schedule = field(&first, "schedule:").to_owned();
    assert!(fixture.is_file(), "{first}");
    assert!(field(&first, "fixture:").starts_with("saved to"), "{first}");

    // No new seeds: the saved entry replays by its schedule, with every value the same.
    let replay = std_env_bug(&regs, &[("DETEST_SEEDS", "0")]);
    assert!(
        field(&replay, "from:").contains("replayed by schedule"),
        "{replay}"
    );
    assert_eq!(field(&replay, "message:"), message, "{replay}");
    assert_eq!(field(&replay, "schedule:"), schedule, "{replay}");

    // The seed alone, without fixtures, fails the same way too.
    let seed = first
        .lines()
        .find_map(|l| l.split("(seed ").nth(1))
        .and_then(|s| s.split(',').next())
        .unwrap_or_else(|| panic!("no seed in:\n{first}"))
        .to_owned();
    let again = std_env_bug(&regs, &[("DETEST_SEED", &seed), ("DETEST_FIXTURES", "off")]);
    assert_eq!(field(&again, "message:"), message, "{again}");
    assert_eq!(field(&again, "schedule:"), schedule, "{again}");
}
