//! End to end: a crate written against tokio (`tests/fixtures/tokio_app`, unchanged tokio code,
//! `tokio` renamed to `detest-tokio` in its Cargo.toml as the README says). `cargo run` must run
//! real tokio; `cargo detest` must fail its buggy `#[tokio::test]`s (a lost update, and a
//! connection pool's lost permit), save and shrink the failing seed, replay it, and pass the
//! correct ones.

mod common;

use common::text;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn manifest() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tokio_app/Cargo.toml")
}

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-target-tokio")
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("tokio-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn clean(mut cmd: Command) -> Command {
    for (var, _) in std::env::vars_os() {
        if var.to_string_lossy().starts_with("DETEST_") {
            cmd.env_remove(var);
        }
    }
    cmd
}

fn detest(args: &[&str], regressions: &Path) -> Output {
    let mut cmd = clean(Command::new(env!("CARGO_BIN_EXE_cargo-detest")));
    cmd.arg("detest")
        .args(args)
        .arg("--manifest-path")
        .arg(manifest())
        .arg("--target-dir")
        .arg(target_dir())
        .args(["--color", "never"])
        .env("DETEST_REGRESSIONS_DIR", regressions)
        .env("DETEST_CACHE_DIR", regressions.join("cache"));
    cmd.output().expect("cargo-detest runs")
}

#[test]
fn cargo_run_uses_real_tokio() {
    let out = clean(Command::new(env!("CARGO")))
        .args(["run", "--quiet", "--manifest-path"])
        .arg(manifest())
        .arg("--target-dir")
        .arg(target_dir())
        .output()
        .expect("cargo runs");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert_eq!(
        stdout.trim(),
        "count = 2 on tokio::runtime::runtime::Runtime",
        "the binary's runtime is tokio's own"
    );
}

#[test]
fn cargo_detest_finds_the_lost_update_and_replays_it() {
    let reg = scratch("sweep");
    let out = detest(&["--seeds", "200", "--policy", "chaos"], &reg);
    let stdout = format!("{}\n{}", text(&out.stdout), text(&out.stderr));
    assert!(
        !out.status.success(),
        "a failing test fails the sweep:\n{stdout}"
    );
    assert!(
        stdout.contains("PASS") && stdout.contains("tokio-app::counter::no_lost_update  200 seeds"),
        "{stdout}"
    );
    let fail = stdout
        .lines()
        .find(|l| l.contains("FAIL") && l.contains("tokio-app::counter::lost_update"))
        .unwrap_or_else(|| panic!("the lost update is found:\n{stdout}"));
    assert!(fail.contains("assertion `left == right` failed"), "{fail}");
    // The pool's lost permit: found, shrunk, saved; the fixed pool passes every seed.
    assert!(
        stdout.contains("PASS")
            && stdout.contains("tokio-app::pool::fixed_pool_gives_every_permit_back  200 seeds"),
        "{stdout}"
    );
    let pool = stdout
        .split("--- FAIL tokio-app::pool::pool_gives_every_permit_back")
        .nth(1)
        .unwrap_or_else(|| panic!("the lost permit is found:\n{stdout}"));
    let pool = pool.split("reproduce with:").next().unwrap();
    assert!(pool.contains("message:  a permit leaked"), "{pool}");
    assert!(pool.contains("shrunk:   shrunk"), "{pool}");
    assert!(pool.contains("saved:"), "{pool}");
    // The printed command reproduces it.
    let replay = stdout
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("cargo detest replay lost_update") && l.contains("--seed"))
        .unwrap_or_else(|| panic!("a replay command:\n{stdout}"));
    // (Run from the fixture's own manifest, which `detest` passes itself.)
    let mut args: Vec<&str> = replay.split_whitespace().skip(2).collect();
    if let Some(i) = args.iter().position(|a| *a == "--manifest-path") {
        args.drain(i..i + 2);
    }
    let out = detest(&args, &reg);
    let again = format!("{}\n{}", text(&out.stdout), text(&out.stderr));
    assert!(!out.status.success(), "the replay fails again:\n{again}");
    assert!(
        again.contains("assertion `left == right` failed"),
        "{again}"
    );
    // A fixture was written for it.
    for test in ["lost_update", "pool_gives_every_permit_back"] {
        let saved = walk(&reg)
            .into_iter()
            .any(|p| p.to_string_lossy().contains(test));
        assert!(saved, "a fixture file for {test} under {}", reg.display());
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
