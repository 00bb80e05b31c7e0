//! End-to-end: the incremental sweep (a rerun with nothing changed skips what passed) and
//! `--explore` continuing where the last exploration stopped, with the real `cargo-detest` on
//! the `sweepy` fixture crate. Each test has its own cache folder (see `common::cache_dir`).

mod common;

use cargo_detest::model::Verdict;
use common::{command, text};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("incr-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(common::cache_dir(&dir));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `cargo detest` with `a_fails` armed to fail every seed (`b_passes` always passes).
fn sweep(reg: &Path, args: &[&str]) -> Output {
    command(None, args, reg)
        .env("SWEEPY_CLI_FAIL", "1")
        .output()
        .expect("cargo-detest runs")
}

fn json_lines(out: &Output) -> Vec<Value> {
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn line<'a>(lines: &'a [Value], test: &str) -> &'a Value {
    lines
        .iter()
        .find(|v| v["type"] == "test" && v["test"] == test)
        .unwrap_or_else(|| panic!("no line for {test} in {lines:#?}"))
}

fn summary(lines: &[Value]) -> &Value {
    lines.last().filter(|v| v["type"] == "summary").unwrap()
}

const BOTH: [&str; 2] = ["cli_reports::a_fails", "cli_reports::b_passes"];

fn args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v: Vec<&str> = BOTH.to_vec();
    v.extend_from_slice(&["-j", "2", "--format", "json"]);
    if !extra.contains(&"--seeds") {
        v.extend_from_slice(&["--seeds", "40"]);
    }
    v.extend_from_slice(extra);
    v
}

#[test]
fn a_rerun_skips_what_passed_and_reruns_failures_and_anything_changed() {
    let reg = scratch("rerun");
    let unchanged = Verdict::Unchanged.as_str();

    let first = sweep(&reg, &args(&[]));
    assert_eq!(first.status.code(), Some(100), "{}", text(&first.stderr));
    let lines = json_lines(&first);
    assert_eq!(line(&lines, "b_passes")["event"], "pass");
    assert_eq!(line(&lines, "a_fails")["event"], "fail");
    let saved = line(&lines, "a_fails")["failures"][0]["saved"]
        .as_str()
        .expect("the failure was saved")
        .to_owned();
    let (fixture, _) = saved.rsplit_once(':').unwrap();
    assert!(Path::new(fixture).exists(), "{saved}");

    // Nothing changed: the pass is skipped and said to be, the failure runs again (its saved
    // fixture first, which still fails) and is still reported with its replay command.
    let second = sweep(&reg, &args(&[]));
    assert_eq!(second.status.code(), Some(100), "{}", text(&second.stderr));
    let lines = json_lines(&second);
    let b = line(&lines, "b_passes");
    assert_eq!(b["event"], unchanged, "{b:#}");
    assert_eq!(b["seeds_run"], 0, "{b:#}");
    assert!(
        b["unchanged_since"].as_u64().unwrap() > 1_700_000_000,
        "{b:#}"
    );
    let a = line(&lines, "a_fails");
    assert_eq!(a["event"], "fail", "{a:#}");
    assert!(a["seeds_run"].as_u64().unwrap() > 0, "{a:#}");
    assert_eq!(a["failures"][0]["fixture"].as_str(), Some(saved.as_str()));
    assert!(Path::new(fixture).exists(), "the fixture stays: {saved}");
    let s = summary(&lines);
    assert_eq!(
        (&s["passed"], &s["unchanged"]),
        (&0.into(), &1.into()),
        "{s}"
    );
    assert_eq!(s["failed"], 1, "{s}");

    // The human report: SKIP with the date, counted apart from the passes.
    let human = sweep(
        &reg,
        &BOTH
            .iter()
            .copied()
            .chain(["--seeds", "40"])
            .collect::<Vec<_>>(),
    );
    let err = text(&human.stderr);
    let skip = err
        .lines()
        .find(|l| l.contains("sweepy::cli_reports::b_passes"))
        .unwrap_or_else(|| panic!("no line for b_passes:\n{err}"));
    assert!(
        skip.trim_start().starts_with("SKIP [unchanged since 20"),
        "{skip}"
    );
    assert!(skip.contains("UTC]"), "{skip}");
    assert!(skip.contains("--force reruns it"), "{skip}");
    assert!(
        err.contains("0 passed, 1 failed, 1 skipped as unchanged"),
        "{err}"
    );
    assert!(!err.contains("PASS"), "{err}");

    // --force reruns it (and remembers the pass again).
    let forced = json_lines(&sweep(&reg, &args(&["--force"])));
    let b = line(&forced, "b_passes");
    assert_eq!(b["event"], "pass", "{b:#}");
    assert!(b["seeds_run"].as_u64().unwrap() >= 40, "{b:#}");
    // Other seeds, another policy, another first seed: each reruns it once, then is skipped.
    for changed in [
        &["--seeds", "41"][..],
        &["--policy", "pct"],
        &["--seed-start", "5"],
    ] {
        let a = args(changed);
        let rerun = json_lines(&sweep(&reg, &a));
        assert_eq!(line(&rerun, "b_passes")["event"], "pass", "{changed:?}");
        let again = json_lines(&sweep(&reg, &a));
        assert_eq!(line(&again, "b_passes")["event"], unchanged, "{changed:?}");
        assert_eq!(line(&again, "a_fails")["event"], "fail", "{changed:?}");
    }
}

#[test]
fn a_sweep_of_only_unchanged_tests_succeeds_without_running_a_seed() {
    let reg = scratch("only-unchanged");
    let args = ["cli_reports::b_passes", "--seeds", "30", "--format", "json"];
    let first = sweep(&reg, &args);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let second = sweep(&reg, &args);
    // Not "ran 0 seeds" (that fails a sweep): nothing needed to run.
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    let lines = json_lines(&second);
    let s = summary(&lines);
    assert_eq!(
        (&s["seeds"], &s["unchanged"]),
        (&0.into(), &1.into()),
        "{s}"
    );
    assert_eq!(s["success"], true, "{s}");
    // Another DETEST_* setting the workers inherit is another key.
    let other = command(None, &args, &reg)
        .env("DETEST_SOME_SETTING", "1")
        .output()
        .unwrap();
    assert_eq!(line(&json_lines(&other), "b_passes")["event"], "pass");
}

fn range(v: &Value) -> (u64, u64) {
    let r = v["seed_range"].as_array().unwrap();
    (r[0].as_u64().unwrap(), r[1].as_u64().unwrap())
}

#[test]
fn explore_continues_where_the_last_exploration_stopped() {
    let reg = scratch("explore");
    let explore = |test: &str| {
        let out = command(
            None,
            &[
                test,
                "--explore",
                "--seeds",
                "30",
                "--no-fixtures",
                "--format",
                "json",
            ],
            &reg,
        )
        .output()
        .unwrap();
        (json_lines(&out), text(&out.stderr))
    };
    let (one, _) = explore("cli_reports::b_passes");
    let (two, err) = explore("cli_reports::b_passes");
    let (b1, b2) = (line(&one, "b_passes"), line(&two, "b_passes"));
    let (r1, r2) = (range(b1), range(b2));
    assert_eq!(r1.1 - r1.0, 30, "{b1:#}");
    // The second draws the 30 seeds after the first's: disjoint, and nothing skipped over.
    assert_eq!(r2, (r1.1, r1.1 + 30), "{b1:#}\n{b2:#}");
    assert_eq!(b2["event"], "pass", "{b2:#}");
    assert_eq!(
        (&b1["explored_before"], &b1["explored_total"]),
        (&0.into(), &30.into())
    );
    assert_eq!(
        (&b2["explored_before"], &b2["explored_total"]),
        (&30.into(), &60.into())
    );
    assert!(
        err.contains("Explored sweepy::cli_reports::b_passes: 60 seeds explored in total"),
        "{err}"
    );
    assert!(
        err.contains(&format!("explored seeds {}..{}", r2.0, r2.1)),
        "{err}"
    );

    // A failing test too: each run's failing seeds lie in its own range, and each failure
    // prints the command that replays exactly it.
    let (f1, _) = explore("races::lost_update");
    let (f2, _) = explore("races::lost_update");
    let (l1, l2) = (line(&f1, "lost_update"), line(&f2, "lost_update"));
    let (r1, r2) = (range(l1), range(l2));
    assert_eq!(r2.0, r1.1, "{l1:#}\n{l2:#}");
    for (l, r) in [(l1, r1), (l2, r2)] {
        assert_eq!(l["event"], "fail", "{l:#}");
        for f in l["failures"].as_array().unwrap() {
            let seed = f["seed"].as_u64().unwrap();
            let replay = f["replay"].as_str().unwrap();
            if f["fixed"].is_null() {
                assert!((r.0..r.1).contains(&seed), "{seed} not in {r:?}");
                assert!(replay.ends_with(&format!("--seed {seed}")), "{replay}");
            }
        }
    }
}

/// A crate of one test whose code the test edits, built into the fixture crate's target dir
/// (its dependencies are built there already).
fn edited_crate(dir: &Path, limit: u32) {
    std::fs::create_dir_all(dir.join("tests")).unwrap();
    let runtime = Path::new(env!("CARGO_MANIFEST_DIR")).join("../detest-runtime");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"edited\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [workspace]\n\n[dependencies]\ndetest-runtime = {{ path = {:?} }}\n",
            runtime.display().to_string()
        ),
    )
    .unwrap();
    let lock = common::fixture_manifest().with_file_name("Cargo.lock");
    let lock = std::fs::read_to_string(lock).unwrap();
    std::fs::write(
        dir.join("Cargo.lock"),
        lock.replace("\"sweepy\"", "\"edited\""),
    )
    .unwrap();
    std::fs::write(
        dir.join("tests/edited.rs"),
        format!(
            "#[detest::detest(seeds = 20)]\nfn under_the_limit() {{\n    \
             assert!(detest::rand::range(0..10u32) < {limit}, \"over the limit\");\n}}\n"
        ),
    )
    .unwrap();
}

#[test]
fn a_rebuild_with_a_code_change_reruns_the_test() {
    let reg = scratch("rebuild");
    let krate = Path::new(env!("CARGO_TARGET_TMPDIR")).join("incr-edited");
    let _ = std::fs::remove_dir_all(&krate);
    let manifest = krate.join("Cargo.toml");
    let run = |limit: u32| {
        edited_crate(&krate, limit);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-detest"))
            .args([
                "detest",
                "--format",
                "json",
                "--offline",
                "--color",
                "never",
            ])
            .arg("--manifest-path")
            .arg(&manifest)
            .arg("--target-dir")
            .arg(common::target_dir())
            .env("DETEST_REGRESSIONS_DIR", &reg)
            .env("DETEST_CACHE_DIR", common::cache_dir(&reg))
            .output()
            .unwrap();
        let lines = json_lines(&out);
        assert!(!lines.is_empty(), "{}", text(&out.stderr));
        line(&lines, "under_the_limit")["event"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let unchanged = Verdict::Unchanged.as_str();
    assert_eq!(run(10), "pass");
    assert_eq!(run(10), unchanged);
    // Another program that still passes: rebuilt, so run again.
    assert_eq!(run(11), "pass");
    assert_eq!(run(11), unchanged);
    // A bug: it fails, and on every run after (never remembered as passed).
    assert_eq!(run(5), "fail");
    assert_eq!(run(5), "fail");
    // Fixed again: the saved fixture replays and passes, then the test is remembered.
    assert_eq!(run(10), "pass");
    assert_eq!(run(10), unchanged);
}
