//! End-to-end tests of the seam between the runtime's worker mode and cargo-detest: bounded
//! result lines, shrinking under the watchdog, crashes seen by replay, signals to replay, "not
//! saved" reasons, replay's commands and exit codes. The programs are in the `sweepy` fixture
//! crate, `tests/trust_protocol.rs`; every test here names the tests it runs exactly.

mod common;

use common::{command, fixture_manifest, run, target_dir, text};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A fresh folder for one test's saved fixtures.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("trust-protocol-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn both(out: &Output) -> String {
    format!(
        "--- stdout\n{}\n--- stderr\n{}",
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// The `type: test` line of `name` in `--format json` output.
fn test_line(out: &Output, name: &str) -> Value {
    text(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["type"] == "test" && v["test"] == name)
        .unwrap_or_else(|| panic!("no result for {name}:\n{}", both(out)))
}

/// The fixture crate's `trust_protocol` test binary.
fn test_binary() -> PathBuf {
    common::fixture_test_binary("trust_protocol")
}

/// Item 7: a livelock's failure carries only the tail of its million-step trace, so its result
/// line stays small and the sweep reports it as what it is.
#[test]
fn a_livelock_is_a_step_limit_with_a_small_result_line() {
    let dir = scratch("livelock-line");
    let results = dir.join("results.jsonl");
    let out = Command::new(test_binary())
        .args([
            "--exact",
            "livelock_spin",
            "--nocapture",
            "--test-threads=1",
        ])
        .current_dir(fixture_manifest().parent().unwrap())
        .env("DETEST_RESULTS", &results)
        .env("DETEST_SEED_START", "0")
        .env("DETEST_SEEDS", "4")
        .env("DETEST_FIXTURES", "off")
        .env("DETEST_REGRESSIONS_DIR", &dir)
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", both(&out));
    let lines = std::fs::read_to_string(&results).unwrap();
    let result = lines
        .lines()
        .find(|l| l.contains(r#""event":"result""#))
        .unwrap_or_else(|| panic!("no result line in {lines}"));
    assert!(
        result.len() < 16 * 1024,
        "a result line of {} bytes",
        result.len()
    );
    let v: Value = serde_json::from_str(result).unwrap();
    assert_eq!(v["failure"]["kind"], "step-limit", "{result}");
    let trace = v["trace"].as_array().unwrap();
    assert_eq!(trace.len(), 40, "{result}");
    let total = v["trace_len"].as_u64().unwrap();
    assert!(total >= 1_000_000, "{result}");
    assert_eq!(v["trace_from"].as_u64().unwrap(), total - 40);

    // The sweep, on two workers: step-limit, not hang.
    let out = run(
        None,
        &["trust_protocol::livelock_spin", "-j2", "--format", "json"],
        &scratch("livelock-sweep"),
    );
    let t = test_line(&out, "livelock_spin");
    let kinds: Vec<&str> = t["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert!(!kinds.is_empty(), "{}", both(&out));
    assert!(kinds.iter().all(|k| *k == "step-limit"), "{kinds:?}");
}

/// Every line of `out` is under twice the schedule bound (a schedule of 266 K characters
/// would otherwise be printed whole).
fn assert_lines_bounded(what: &str, out: &str) {
    for l in out.lines() {
        assert!(
            l.len() < 2 * detest::SCHEDULE_SHOWN_MAX,
            "{what}: a line of {} bytes: {}…",
            l.len(),
            &l[..200.min(l.len())]
        );
    }
}

/// The arguments of a printed `cargo detest replay ...` command, without its `--manifest-path`
/// (`command` adds it, with the e2e target dir).
fn replay_args(printed: &str) -> Vec<String> {
    let words: Vec<&str> = printed.split_whitespace().collect();
    assert_eq!(&words[..3], ["cargo", "detest", "replay"], "{printed}");
    let mut args = Vec::new();
    let mut rest = words[3..].iter();
    while let Some(w) = rest.next() {
        if *w == "--manifest-path" {
            rest.next();
        } else {
            args.push(w.trim_matches('\'').to_string());
        }
    }
    args
}

/// A two-task livelock's schedule (266 K characters) is above the bound: reports show it
/// abbreviated, no printed command carries it, JSON flags it, the fixture stores none, and the
/// printed command and the fixture both replay the failure.
#[test]
fn a_schedule_too_long_for_an_argument_is_abbreviated_and_replays_by_seed() {
    let dir = scratch("huge-schedule");
    let out = run(
        None,
        &["trust_protocol::livelock_two", "--format", "json"],
        &dir,
    );
    assert_lines_bounded("the JSON report", &text(&out.stdout));
    let t = test_line(&out, "livelock_two");
    let f = &t["failures"][0];
    assert_eq!(f["kind"], "step-limit", "{f:#}");
    assert_eq!(f["schedule_abbreviated"], true, "{f:#}");
    assert!(f["schedule_len"].as_u64().unwrap() > 128 * 1024, "{f:#}");
    assert!(f["replay_shrunk"].is_null(), "{f:#}");
    assert!(
        !f["replay"].as_str().unwrap().contains("--schedule"),
        "{f:#}"
    );
    let fixture = dir.join("test/trust_protocol/livelock_two.toml");
    let stored = std::fs::read_to_string(&fixture).unwrap();
    assert!(
        stored.len() < detest::SCHEDULE_SHOWN_MAX,
        "{}",
        stored.len()
    );

    let dir = scratch("huge-schedule-human");
    let out = run(None, &["trust_protocol::livelock_two"], &dir);
    let err = text(&out.stderr);
    assert_lines_bounded("the human report", &err);
    assert!(err.contains("chars; replay by seed)"), "{err}");
    assert!(!err.contains("--schedule detest1:"), "{err}");
    let printed = err
        .lines()
        .skip_while(|l| !l.contains("reproduce with:"))
        .nth(1)
        .unwrap_or_else(|| panic!("no command in {err}"))
        .trim();
    // The printed command runs, and reproduces the livelock.
    let args = replay_args(printed);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let replay = run(Some("replay"), &args, &dir);
    assert_eq!(replay.status.code(), Some(100), "{}", both(&replay));
    assert!(
        both(&replay).contains("step limit of 200000"),
        "{}",
        both(&replay)
    );
    assert_lines_bounded("the replay", &both(&replay));
    // So does the saved fixture entry (it holds no schedule: it replays by seed).
    let entry = format!(
        "{}:0",
        dir.join("test/trust_protocol/livelock_two.toml").display()
    );
    let replay = run(
        Some("replay"),
        &[
            "livelock_two",
            "--test",
            "trust_protocol",
            "--fixture",
            &entry,
        ],
        &dir,
    );
    assert_eq!(replay.status.code(), Some(100), "{}", both(&replay));
    assert!(
        both(&replay).contains("step limit of 200000"),
        "{}",
        both(&replay)
    );

    // The runtime's own report (`cargo test`) prints no command carrying the schedule either.
    let out = Command::new(test_binary())
        .args(["--exact", "livelock_two", "--nocapture", "--test-threads=1"])
        .current_dir(fixture_manifest().parent().unwrap())
        .env("DETEST_FIXTURES", "off")
        .env("DETEST_REGRESSIONS_DIR", &dir)
        .output()
        .unwrap();
    let all = both(&out);
    assert!(!out.status.success(), "{all}");
    assert_lines_bounded("cargo test", &all);
    assert!(all.contains("chars; replay by seed)"), "{all}");
    assert!(!all.contains("DETEST_REPLAY=detest1:"), "{all}");
    assert!(all.contains("DETEST_SEED=0"), "{all}");
}

/// Item 8: executions of 300 ms under a 1 s watchdog, shrinking far longer: the worker shows
/// it is alive, so the failure is one panic with its shrunk schedule stored, and no hang.
#[test]
fn shrinking_longer_than_the_watchdog_is_not_a_hang() {
    let dir = scratch("slow-shrink");
    let out = run(
        None,
        &[
            "trust_protocol::slow_lost_update",
            "--format",
            "json",
            "--timeout",
            "1s",
        ],
        &dir,
    );
    let t = test_line(&out, "slow_lost_update");
    let failures = t["failures"].as_array().unwrap();
    let kinds: Vec<&str> = failures
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["panic"], "{}", both(&out));
    let shrunk = &failures[0]["shrunk"];
    assert!(shrunk["schedule"].is_string(), "{}", both(&out));
    assert!(
        shrunk["executions"].as_u64().unwrap() > 4,
        "shrinking ran more than the watchdog's worth of executions: {shrunk}"
    );
    let file = dir.join("test/trust_protocol/slow_lost_update.toml");
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(saved.contains("shrunk_schedule"), "{saved}");
    assert!(!saved.contains("\"hang\""), "{saved}");
}

/// Item 6: `replay` of the seed the sweep reports as a crash (`std::process::exit(0)` at seed
/// 3) is a crash too, not a pass; so is `minimize`.
#[test]
fn replay_and_minimize_see_an_exit_mid_execution_as_a_crash() {
    let dir = scratch("exit-replay");
    let out = run(
        None,
        &["trust_protocol::exits_at_seed_3", "--format", "json"],
        &dir,
    );
    let t = test_line(&out, "exits_at_seed_3");
    assert_eq!(t["failures"][0]["kind"], "crash", "{}", both(&out));
    assert_eq!(t["failures"][0]["seed"], 3);

    for sub in ["replay", "minimize"] {
        let out = run(Some(sub), &["exits_at_seed_3", "--seed", "3"], &dir);
        assert_eq!(out.status.code(), Some(100), "{sub}: {}", both(&out));
        let err = text(&out.stderr);
        assert!(
            err.contains("crash") && err.contains("before the execution reported its end"),
            "{sub}: {err}"
        );
        assert!(!err.contains("PASS"), "{sub}: {err}");
    }
    // A seed that does finish still passes.
    let out = run(Some("replay"), &["exits_at_seed_3", "--seed", "2"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
}

/// The live processes whose parent is `pid`.
fn children(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().filter_map(|e| e.ok()) {
        let Ok(child) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`; comm may hold spaces, so split after its `)`.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.get(1).and_then(|p| p.parse::<u32>().ok()) == Some(pid) {
            found.push(child);
        }
    }
    found
}

/// Whether `pid` is still running (a zombie has finished).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// Polls `done` every 20 ms for up to `limit` (a generous bound, so a failure cannot hang).
fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

/// Item 9: SIGTERM to `cargo detest replay` of a test that spins takes the test down too.
#[test]
fn sigterm_to_replay_leaves_no_orphan() {
    let dir = scratch("sigterm");
    let binary = test_binary();
    for sub in ["replay", "minimize"] {
        let mut replay = command(Some(sub), &["spins_without_yielding", "--seed", "0"], &dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let pid = replay.id();
        // The spinning test: cargo-detest's child running the fixture binary.
        let mut test = None;
        assert!(
            eventually(Duration::from_secs(120), || {
                test = children(pid).into_iter().find(|c| {
                    std::fs::read_link(format!("/proc/{c}/exe")).is_ok_and(|exe| exe == binary)
                });
                test.is_some()
            }),
            "{sub}: the test process never started"
        );
        let test = test.unwrap();
        // SAFETY: a plain kill(2) of the process we spawned.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
        let status = replay.wait().unwrap();
        assert!(!status.success(), "{sub}: {status:?}");
        assert!(
            eventually(Duration::from_secs(30), || !alive(test)),
            "{sub}: the test process {test} outlived cargo-detest"
        );
    }
}

/// Item 2: a failure whose fixture cannot be written says so, with why, in every format,
/// and never claims a path. `/proc` reads as empty but refuses every write, even root's.
#[test]
fn an_unsaved_failure_says_not_saved_in_every_format() {
    let nowhere = Path::new("/proc/detest-cannot-write");
    for test in ["panics_at_seed_4", "exits_at_seed_3"] {
        let filter = format!("trust_protocol::{test}");
        let human = run(None, &[&filter], nowhere);
        let err = text(&human.stderr) + &text(&human.stdout);
        assert!(err.contains("not saved: "), "{test}: {err}");
        assert!(err.contains("/proc/detest-cannot-write"), "{test}: {err}");
        assert!(
            !err.lines().any(|l| l.trim_start().starts_with("saved:")),
            "{test}: {err}"
        );

        let json = run(None, &[&filter, "--format", "json"], nowhere);
        let t = test_line(&json, test);
        let f = &t["failures"][0];
        assert!(f["saved"].is_null(), "{f}");
        assert!(
            f["not_saved"]
                .as_str()
                .is_some_and(|w| w.contains("/proc/detest-cannot-write")),
            "{f}"
        );

        let junit = run(None, &[&filter, "--format", "junit"], nowhere);
        let xml = text(&junit.stdout);
        assert!(xml.contains("not saved: "), "{test}: {xml}");
        assert!(!xml.contains("  saved:"), "{test}: {xml}");
    }

    // check-determinism writes nothing, and says so.
    let out = run(
        Some("check-determinism"),
        &["trust_protocol::exits_at_seed_3", "--seeds", "5"],
        &scratch("check-not-saved"),
    );
    let err = text(&out.stderr) + &text(&out.stdout);
    assert!(err.contains("not saved: "), "{err}");
    assert!(
        !err.lines().any(|l| l.trim_start().starts_with("saved:")),
        "{err}"
    );
}

/// Replay's own repro lines keep the `--manifest-path` it was given; usage errors exit 2, a
/// replay that matches no test exits 4.
#[test]
fn replay_prints_commands_that_work_and_exits_as_documented() {
    let dir = scratch("replay-commands");
    let out = run(Some("replay"), &["panics_at_seed_4", "--seed", "4"], &dir);
    assert_eq!(out.status.code(), Some(100), "{}", both(&out));
    let err = text(&out.stderr);
    // The verdict names the failure's kind and message, as the result line gave them.
    let verdict = err.lines().find(|l| l.trim_start().starts_with("FAIL"));
    assert!(
        verdict.is_some_and(|v| v.ends_with(
            "failed with seed 4: panic: assertion `left != right` failed: seed 4 is bad"
        )),
        "{err}"
    );
    let manifest = fixture_manifest().display().to_string();
    let commands: Vec<&str> = err
        .lines()
        .map(str::trim)
        .filter(|l| l.contains("cargo detest replay") || l.contains("cargo test"))
        .collect();
    assert!(!commands.is_empty(), "{err}");
    for c in &commands {
        assert!(c.contains(&format!("--manifest-path {manifest}")), "{c}");
    }

    let out = run(Some("replay"), &["panics_at_seed_4"], &dir);
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    let out = run(
        Some("replay"),
        &["no_such_test_anywhere", "--seed", "1"],
        &dir,
    );
    assert_eq!(out.status.code(), Some(4), "{}", both(&out));
    let out = run(
        Some("replay"),
        &["panics_at_seed_4", "--schedule", "not-a-schedule"],
        &dir,
    );
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
}

/// Item 11: a failure of a fixed execution is named as one, never as "seed 0", and the command
/// printed for it replays it (with its policy), where `--seed 0` alone would pass.
#[test]
fn a_fixed_execution_is_named_and_its_command_replays_it() {
    let dir = scratch("fixed-named");
    let human = run(None, &["trust_protocol::opposite_lock_orders"], &dir);
    let err = text(&human.stderr) + &text(&human.stdout);
    assert!(err.contains("fixed execution rotate: deadlock"), "{err}");
    assert!(!err.contains("seed 0:"), "{err}");
    let json = run(
        None,
        &["trust_protocol::opposite_lock_orders", "--format", "json"],
        &scratch("fixed-named-json"),
    );
    let f = &test_line(&json, "opposite_lock_orders")["failures"][0];
    assert_eq!(f["fixed"], "rotate", "{f}");
    let replay = f["replay"].as_str().unwrap();
    assert!(replay.ends_with("--seed 0 --policy rotate"), "{replay}");
    // The printed command, run: the same deadlock.
    let words: Vec<&str> = replay.split_whitespace().collect();
    assert_eq!(words[..3], ["cargo", "detest", "replay"], "{replay}");
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-detest"))
        .args(&words[1..])
        .args(["--target-dir"])
        .arg(target_dir())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(100), "{}", both(&out));
    assert!(
        text(&out.stderr).contains(": deadlock: every task is blocked"),
        "{}",
        both(&out)
    );

    // The saved entry, replayed by the next sweep, is still that fixed execution in the
    // headline, the summary and the JUnit message: never "seed 0".
    let junit = dir.join("junit.xml");
    let again = run(
        None,
        &[
            "trust_protocol::opposite_lock_orders",
            "--junit",
            junit.to_str().unwrap(),
        ],
        &dir,
    );
    let out = text(&again.stderr) + &text(&again.stdout);
    assert!(
        out.contains("at fixed execution rotate (saved fixture)"),
        "{out}"
    );
    assert!(
        out.contains("fixed execution rotate (saved fixture): deadlock"),
        "{out}"
    );
    assert!(out.contains("--fixture "), "{out}");
    assert!(!out.contains("seed 0"), "{out}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("fixed execution rotate (saved fixture)"),
        "{xml}"
    );
    assert!(!xml.contains("seed 0"), "{xml}");
    let json = run(
        None,
        &["trust_protocol::opposite_lock_orders", "--format", "json"],
        &dir,
    );
    let f = &test_line(&json, "opposite_lock_orders")["failures"][0];
    assert!(f["fixture"].is_string(), "{f}");
    assert_eq!(f["fixed"], "rotate", "{f}");
}

/// Item 11: `cargo detest --seed 0`, the README's CI gate, passes a correct suite: an
/// expectation test keeps its own seeds (its outcome is at seed 7), a test expected to pass
/// runs exactly seed 0.
#[test]
fn the_seed_gate_passes_expectation_tests() {
    let dir = scratch("seed-gate");
    let out = run(
        None,
        &[
            "trust_protocol::expected_panic_at_seed_7",
            "trust_protocol::panics_at_seed_4",
            "--seed",
            "0",
            "--format",
            "json",
        ],
        &dir,
    );
    assert_eq!(out.status.code(), Some(0), "{}", both(&out));
    let expect = test_line(&out, "expected_panic_at_seed_7");
    assert_eq!(expect["event"], "pass", "{expect}");
    assert_eq!(expect["expected"]["seed"], 7, "{expect}");
    let pinned = test_line(&out, "panics_at_seed_4");
    assert_eq!(pinned["event"], "pass", "{pinned}");
    assert_eq!(pinned["seeds_run"], 1, "{pinned}");
}
