//! End-to-end: the real `cargo-detest` binary on the `sweepy` fixture crate (real `#[detest]`
//! tests), built once into a shared target dir. Failing seeds are checked against the same seeds
//! run in-process with `detest::Config`, so these tests know exactly which seeds must fail.

use detest::sync::atomic::{AtomicUsize, Ordering};
use detest::sync::Arc;
use detest::{Config, Policy};
mod common;

use common::{command, run, text};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A fresh folder for one test's saved fixtures.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("e2e-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every stdout line must be a JSON object.
fn json_lines(out: &Output) -> Vec<Value> {
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn test_line<'a>(lines: &'a [Value], name: &str) -> &'a Value {
    lines
        .iter()
        .find(|v| v["type"] == "test" && v["test"] == name)
        .unwrap_or_else(|| panic!("no result for {name} in {lines:#?}"))
}

fn failing_seeds(v: &Value) -> Vec<u64> {
    v["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["seed"].as_u64().unwrap())
        .collect()
}

/// The first failing seed of each chunk, computed in-process: what the sweep must report.
fn expected_per_chunk(
    config: &Config,
    start: u64,
    count: u64,
    chunk: u64,
    body: impl Fn(),
) -> (Vec<u64>, u64) {
    let mut failing = Vec::new();
    let mut ran = 0;
    let mut s = start;
    while s < start + count {
        let n = chunk.min(start + count - s);
        if s == start {
            // The first chunk begins the sweep: it runs the fixed executions too.
            let report = config
                .clone()
                .seed_start(s)
                .seeds(n)
                .fail_fast(true)
                // Executions as a worker runs them: without the replay that traces a failure.
                .trace_failures(false)
                .run(&body);
            ran += report.executions;
            failing.extend(report.failures.iter().map(|f| f.seed));
        } else {
            let estimate = config.estimate_choices(&body);
            for seed in s..s + n {
                ran += 1;
                if let Some(f) = config.run_seed_with_estimate(seed, estimate, &body).failure {
                    failing.push(f.seed);
                    break;
                }
            }
        }
        s += n;
    }
    (failing, ran)
}

fn doomed(modulus: u32, hit: u32) -> impl Fn() {
    move || assert!(detest::rand::range(0..modulus) != hit)
}

fn lost_update() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let t = detest::thread::spawn(move || {
        let v = n2.load(Ordering::SeqCst);
        n2.store(v + 1, Ordering::SeqCst);
    });
    let v = n.load(Ordering::SeqCst);
    n.store(v + 1, Ordering::SeqCst);
    t.join().unwrap();
    assert_eq!(n.load(Ordering::SeqCst), 2, "an increment was lost");
}

fn fixture_kinds(path: &str) -> Vec<(u64, String)> {
    let file = detest::fixture::FixtureFile::load(Path::new(path)).unwrap();
    file.entries
        .iter()
        .map(|e| (e.seed, e.kind.clone()))
        .collect()
}

#[test]
fn crashes_and_hangs_are_attributed_to_their_seeds_and_other_seeds_still_run() {
    let reg = scratch("crashes");
    let out = run(
        None,
        &[
            "crashy",
            "--format",
            "json",
            "--chunk-size",
            "10",
            "--timeout",
            "1500ms",
            "-j",
            "2",
        ],
        &reg,
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(100), "{stderr}");
    let lines = json_lines(&out);

    let cases = [
        ("abort_on_some_seeds", 60, 20, 7, "crash", "SIGABRT"),
        ("segfault_on_some_seeds", 60, 10, 3, "crash", "SIGSEGV"),
        ("spin_on_some_seeds", 24, 8, 5, "hang", "watchdog"),
    ];
    for (name, seeds, modulus, hit, kind, cause) in cases {
        let (expected, ran) =
            expected_per_chunk(&Config::new(), 0, seeds, 10, doomed(modulus, hit));
        assert!(
            !expected.is_empty(),
            "{name}: the fixture must fail on some seed"
        );
        let v = test_line(&lines, name);
        assert_eq!(v["event"], "fail", "{v:#}");
        assert_eq!(failing_seeds(v), expected, "{name}: {v:#}");
        // Seeds after each chunk's failure are skipped; every other seed ran.
        assert_eq!(v["seeds_run"].as_u64(), Some(ran), "{name}: {v:#}");
        for f in v["failures"].as_array().unwrap() {
            assert_eq!(f["kind"], kind, "{f:#}");
            assert!(f["message"].as_str().unwrap().contains(cause), "{f:#}");
            let seed = f["seed"].as_u64().unwrap();
            let replay = f["replay"].as_str().unwrap();
            assert!(
                replay.starts_with(&format!(
                    "cargo detest replay {name} -p sweepy --test crashy"
                )) && replay.ends_with(&format!("--seed {seed}")),
                "{replay}"
            );
            // Saved with the runtime's fixture writer, replayable by seed.
            let saved = f["saved"].as_str().unwrap();
            let (path, _) = saved.rsplit_once(':').unwrap();
            assert!(
                fixture_kinds(path).contains(&(seed, kind.to_string())),
                "{saved}"
            );
        }
        // The human report names the seed and the cause and ends with the replay command.
        assert!(
            stderr.contains(&format!(
                "FAIL sweepy::crashy::{name}: {kind} at seed {}",
                expected[0]
            )),
            "{stderr}"
        );
    }
    assert!(
        stderr.contains("killed by SIGSEGV (segmentation fault)"),
        "{stderr}"
    );
}

#[test]
fn jobs_do_not_change_the_failing_seeds() {
    let reg = scratch("jobs");
    let args = |j: &'static str| {
        vec![
            "races::lost_update",
            "abort_on",
            "--seeds",
            "150",
            "--chunk-size",
            "20",
            "--no-fixtures",
            "--format",
            "json",
            "-j",
            j,
        ]
    };
    let one = json_lines(&run(None, &args("1"), &reg));
    let two = json_lines(&run(None, &args("2"), &reg));
    let (expected, _) = expected_per_chunk(
        &Config::new().policy(Policy::Chaos),
        0,
        150,
        20,
        lost_update,
    );
    assert!(expected.len() > 2, "{expected:?}");
    for lines in [&one, &two] {
        assert_eq!(failing_seeds(test_line(lines, "lost_update")), expected);
    }
    let (aborts, _) = expected_per_chunk(&Config::new(), 0, 150, 20, doomed(20, 7));
    assert_eq!(
        failing_seeds(test_line(&one, "abort_on_some_seeds")),
        aborts
    );
    assert_eq!(
        failing_seeds(test_line(&two, "abort_on_some_seeds")),
        aborts
    );
    // --no-fixtures: nothing was written.
    assert_eq!(std::fs::read_dir(&reg).unwrap().count(), 0);
}

#[test]
fn shards_together_run_exactly_the_whole_sweep() {
    let reg = scratch("shards");
    let base = [
        "lost_update",
        "tests::counter",
        "--seeds",
        "300",
        "--chunk-size",
        "25",
        "--no-fixtures",
        "--format",
        "json",
        "-j",
        "2",
    ];
    let whole = json_lines(&run(None, &base, &reg));
    let mut union_failing = BTreeSet::new();
    let mut seeds_run = [0u64, 0];
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    for k in 1..=3 {
        let shard = format!("{k}/3");
        let mut args = base.to_vec();
        args.extend(["--shard", &shard]);
        let out = run(None, &args, &reg);
        let lines = json_lines(&out);
        assert_eq!(lines[0]["shard"], shard);
        for (i, name) in ["lost_update", "counter"].iter().enumerate() {
            if let Some(v) = lines
                .iter()
                .find(|v| v["type"] == "test" && v["test"].as_str().unwrap().ends_with(name))
            {
                seeds_run[i] += v["seeds_run"].as_u64().unwrap();
                if i == 0 {
                    union_failing.extend(failing_seeds(v));
                }
                if i == 1 {
                    ranges.push((v["seeds_planned"].as_u64().unwrap(), k));
                }
            }
        }
    }
    let whole_lost = test_line(&whole, "lost_update");
    let whole_counter = test_line(&whole, "tests::counter");
    assert_eq!(
        union_failing.into_iter().collect::<Vec<_>>(),
        failing_seeds(whole_lost)
    );
    assert_eq!(seeds_run[0], whole_lost["seeds_run"].as_u64().unwrap());
    assert_eq!(seeds_run[1], 300);
    assert_eq!(whole_counter["seeds_run"].as_u64(), Some(300));
    // Every shard got a share of the passing test.
    assert_eq!(ranges.len(), 3, "{ranges:?}");
    assert!(ranges.iter().all(|(n, _)| *n > 0), "{ranges:?}");
}

#[test]
fn saved_fixtures_replay_first_and_replay_reproduces_them() {
    let reg = scratch("replay");
    let out = run(
        None,
        &["races::lost_update", "--format", "json", "-j", "2"],
        &reg,
    );
    assert_eq!(out.status.code(), Some(100));
    let lines = json_lines(&out);
    let v = test_line(&lines, "lost_update");
    let first = &v["failures"][0];
    let saved = first["saved"].as_str().unwrap().to_string();
    assert!(saved.contains("lost_update.toml:"), "{saved}");
    let stderr = text(&out.stderr);
    // The failure block carries the trace of a replay and ends with the command.
    assert!(stderr.contains("trace ("), "{stderr}");
    let block_end = stderr
        .lines()
        .skip_while(|l| !l.contains("--- FAIL"))
        .skip_while(|l| l.trim() != "reproduce with:")
        .nth(1);
    assert!(
        block_end.is_some_and(
            |l| l.trim_start().starts_with("cargo detest replay") && l.contains("--seed")
        ),
        "{stderr}"
    );

    // Replaying the saved fixture (by path:index) reproduces the failure with its trace.
    let rep = run(
        Some("replay"),
        &["lost_update", "--fixture", &saved, "--trace"],
        &reg,
    );
    let rep_err = text(&rep.stderr);
    assert_eq!(rep.status.code(), Some(100), "{rep_err}");
    assert!(rep_err.contains("an increment was lost"), "{rep_err}");
    assert!(rep_err.contains("load AtomicUsize"), "{rep_err}");
    // The sweep shrank the failure, so the fixture replays by its shrunk schedule.
    if let Some(shrunk) = first["shrunk"]["schedule"].as_str() {
        assert!(rep_err.contains("by its shrunk schedule"), "{rep_err}");
        assert!(rep_err.contains(shrunk), "{rep_err}");
    }
    // So does the seed, and the schedule, as the one execution asked for: not shrunk.
    // The sweep's first failure may be one of its fixed executions (seed 0 of `rotate`): the
    // reproducing command then names that policy.
    let seed = first["seed"].as_u64().unwrap().to_string();
    let policy = first["policy"].as_str().unwrap();
    let rep = run(
        Some("replay"),
        &[
            "sweepy::races::lost_update",
            "--seed",
            &seed,
            "--policy",
            policy,
        ],
        &reg,
    );
    let rep_err = text(&rep.stderr);
    assert_eq!(rep.status.code(), Some(100), "{rep_err}");
    assert!(!rep_err.contains("shrunk "), "{rep_err}");
    assert!(
        rep_err.contains(first["schedule"].as_str().unwrap()),
        "{rep_err}"
    );
    let schedule = first["schedule"].as_str().unwrap();
    let rep = run(
        Some("replay"),
        &["lost_update", "--schedule", schedule],
        &reg,
    );
    assert_eq!(rep.status.code(), Some(100), "{}", text(&rep.stderr));
    // A passing seed passes.
    let rep = run(Some("replay"), &["tests::counter", "--seed", "3"], &reg);
    assert_eq!(rep.status.code(), Some(0), "{}", text(&rep.stderr));

    // The next sweep replays the saved entries before any new seed, and stops there.
    let again = json_lines(&run(
        None,
        &["races::lost_update", "--format", "json"],
        &reg,
    ));
    let v = test_line(&again, "lost_update");
    assert!(v["fixtures_replayed"].as_u64().unwrap() >= 1, "{v:#}");
    assert_eq!(v["seeds_run"], v["fixtures_replayed"], "{v:#}");
    let f = &v["failures"][0];
    assert!(
        f["fixture"].as_str().unwrap().contains("lost_update.toml:"),
        "{f:#}"
    );
    assert!(f["replay"].as_str().unwrap().contains("--fixture"), "{f:#}");

    // A crash saved by cargo-detest replays (by seed) too.
    let out = json_lines(&run(None, &["abort_on", "--format", "json"], &reg));
    let saved = test_line(&out, "abort_on_some_seeds")["failures"][0]["saved"]
        .as_str()
        .unwrap()
        .to_string();
    let rep = run(
        Some("replay"),
        &["abort_on_some_seeds", "--fixture", &saved],
        &reg,
    );
    let rep_err = text(&rep.stderr);
    assert_eq!(rep.status.code(), Some(100), "{rep_err}");
    assert!(rep_err.contains("SIGABRT"), "{rep_err}");
}

#[test]
fn json_lines_and_expectations() {
    let reg = scratch("json");
    let out = run(
        None,
        &["races", "tests::", "--format", "json", "--seeds", "60"],
        &reg,
    );
    let lines = json_lines(&out);
    assert_eq!(lines.first().unwrap()["type"], "sweep");
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["success"], false);
    let tests: Vec<&Value> = lines.iter().filter(|v| v["type"] == "test").collect();
    assert_eq!(summary["tests"].as_u64(), Some(tests.len() as u64));
    let inversion = test_line(&lines, "lock_order_inversion");
    assert_eq!(inversion["event"], "pass", "{inversion:#}");
    assert_eq!(inversion["expected"]["kind"], "deadlock");
    let none = test_line(&lines, "no_deadlock_here");
    assert_eq!(none["event"], "fail");
    assert!(
        none["note"]
            .as_str()
            .unwrap()
            .contains("expected a deadlock"),
        "{none:#}"
    );
    assert_eq!(test_line(&lines, "tests::plain_passes")["kind"], "plain");
    assert_eq!(test_line(&lines, "tests::ignored_test")["event"], "skip");
    assert_eq!(test_line(&lines, "tests::counter")["seeds_run"], 60);
}

#[test]
fn junit_is_well_formed_xml() {
    let reg = scratch("junit");
    let out = run(None, &["races", "--format", "junit", "--seeds", "40"], &reg);
    assert_eq!(out.status.code(), Some(100));
    let xml = text(&out.stdout);
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures, mut depth) = (0, 0, 0i32);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(e)) => {
                depth += 1;
                match e.name().as_ref() {
                    b"testcase" => cases += 1,
                    b"failure" => failures += 1,
                    _ => {}
                }
            }
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("malformed XML at {}: {e}\n{xml}", reader.buffer_position()),
        }
    }
    assert_eq!(depth, 0);
    // lost_update and no_deadlock_here fail; lock_order_inversion and
    // deadlock_after_a_fixed_panic show the deadlock they expect.
    assert_eq!(cases, 4, "{xml}");
    assert_eq!(failures, 2, "{xml}");
    assert!(xml.contains("cargo detest replay lost_update"), "{xml}");
}

#[test]
fn list_shows_each_tests_config() {
    let reg = scratch("list");
    let out = run(Some("list"), &["--format", "json"], &reg);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = json_lines(&out);
    let find = |n: &str| {
        lines
            .iter()
            .find(|v| v["test"] == n)
            .unwrap_or_else(|| panic!("{n}"))
    };
    let lost = find("lost_update");
    assert_eq!(lost["kind"], "detest");
    assert_eq!(lost["config"]["seeds"], 200);
    assert_eq!(lost["config"]["policy"], "chaos");
    assert_eq!(find("lock_order_inversion")["config"]["expect"], "deadlock");
    assert_eq!(find("tests::plain_passes")["kind"], "plain");
    assert_eq!(find("tests::ignored_test")["kind"], "ignored");
    let human = run(Some("list"), &["inversion"], &reg);
    let stdout = text(&human.stdout);
    assert!(stdout.contains("sweepy::races::lock_order_inversion  detest  seeds 0..200  policy chaos  expect a deadlock"), "{stdout}");
    assert_eq!(human.status.code(), Some(0));
    // A filter that matches nothing is an error, as for a sweep.
    let none = run(Some("list"), &["no_such_test_anywhere"], &reg);
    assert_eq!(none.status.code(), Some(4), "{}", text(&none.stderr));
}

#[test]
fn bad_flags_are_clap_errors() {
    for args in [
        &["--no-such-flag"][..],
        &["--shard", "4/3"],
        &["--jobs", "0"],
        &["--policy", "pct:0"],
        &["replay"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_cargo-detest"))
            .arg("detest")
            .args(args)
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with("error:"), "{stderr}");
        assert!(
            stderr.contains("Usage: cargo detest") || stderr.contains("try '--help'"),
            "{stderr}"
        );
    }
}

#[test]
fn build_failures_are_cargos() {
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-detest"))
        .args(["detest", "--manifest-path", "/nonexistent/Cargo.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(101));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("/nonexistent/Cargo.toml"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn sigint_stops_cleanly_and_keeps_the_failing_seeds_found() {
    use std::io::{BufRead, BufReader};
    let reg = scratch("sigint");
    // One job: the abort test fails first, then the spin test hangs under a long watchdog.
    let mut child = command(
        None,
        &[
            "abort_on",
            "spin_on",
            "--format",
            "json",
            "-j",
            "1",
            "--timeout",
            "300s",
        ],
        &reg,
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = Vec::new();
    let mut line = String::new();
    while stdout.read_line(&mut line).unwrap() > 0 {
        let v: Value = serde_json::from_str(&line).unwrap();
        line.clear();
        let done = v["test"] == "abort_on_some_seeds";
        seen.push(v);
        if done {
            break;
        }
    }
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    seen.extend(
        rest.lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()),
    );
    let summary = seen.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["interrupted"], true);
    assert_eq!(test_line(&seen, "abort_on_some_seeds")["event"], "fail");
    assert_eq!(test_line(&seen, "spin_on_some_seeds")["event"], "cancelled");
    assert!(stderr.contains("Summary (interrupted)"), "{stderr}");
    assert!(
        stderr.contains("FAIL sweepy::crashy::abort_on_some_seeds"),
        "{stderr}"
    );
}

/// The lowest seed of `lost_update` (chaos) that fails, computed in-process (a chaos seed, not
/// one of the fixed executions a sweep begins with).
fn first_failing_lost_update() -> u64 {
    let config = Config::new().policy(Policy::Chaos);
    let estimate = config.estimate_choices(&lost_update);
    (0..200)
        .find(|&seed| {
            config
                .run_seed_with_estimate(seed, estimate, &lost_update)
                .failure
                .is_some()
        })
        .expect("lost_update fails")
}

#[test]
fn minimize_shrinks_a_failing_seed_and_ends_with_the_shrunk_replay() {
    let reg = scratch("minimize");
    let seed = first_failing_lost_update().to_string();
    let out = run(Some("minimize"), &["lost_update", "--seed", &seed], &reg);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(100), "{stderr}");
    let all = format!("{}\n{stderr}", text(&out.stdout));
    let summary = stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("Minimized "))
        .unwrap_or_else(|| panic!("no summary in:\n{all}"));
    assert!(summary.starts_with("shrunk "), "{summary}");
    let (before, after) = cargo_detest::minimize::preemptions(summary)
        .unwrap_or_else(|| panic!("no preemption counts in `{summary}`"));
    assert!(after <= before, "{summary}");
    assert!(after >= 1, "a lost update needs a preemption: {summary}");
    // The timeline of the shrunk run is shown.
    assert!(all.contains("task 1"), "{all}");
    // The last line replays the shrunk schedule, and it still fails.
    let last = stderr.lines().last().unwrap().trim();
    assert!(
        last.starts_with("cargo detest replay lost_update -p sweepy --test races"),
        "{stderr}"
    );
    let schedule = last.rsplit_once("--schedule ").expect("a schedule").1;
    assert!(schedule.starts_with("detest1:"), "{last}");
    assert!(
        all.contains(&format!("shrunk schedule: {schedule}")),
        "{all}"
    );
    let rep = run(
        Some("replay"),
        &["lost_update", "--schedule", schedule],
        &reg,
    );
    assert_eq!(rep.status.code(), Some(100), "{}", text(&rep.stderr));

    // A seed that passes has nothing to minimize.
    let out = run(Some("minimize"), &["tests::counter", "--seed", "0"], &reg);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn check_determinism_flags_the_wall_clock_and_passes_a_correct_test() {
    let reg = scratch("determinism");
    let out = run(
        Some("check-determinism"),
        &[
            "determinism::",
            "--runs",
            "6",
            "--format",
            "json",
            "-j",
            "2",
        ],
        &reg,
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(100), "{stderr}");
    let lines = json_lines(&out);
    let seeds_of = |v: &Value| -> Vec<Value> {
        let seeds = v["determinism"]["seeds"].as_array().unwrap().clone();
        assert_eq!(seeds.len(), 3, "{v:#}");
        for s in &seeds {
            assert_eq!(s["runs"], 6, "{s:#}");
            let total: u64 = s["histogram"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h[1].as_u64().unwrap())
                .sum();
            assert_eq!(total, 6, "{s:#}");
        }
        seeds
    };

    let clock = test_line(&lines, "reads_the_wall_clock");
    assert_eq!(clock["event"], "fail", "{clock:#}");
    assert_eq!(clock["determinism"]["deterministic"], false);
    let bad: Vec<Value> = seeds_of(clock)
        .into_iter()
        .filter(|s| s["deterministic"] == false)
        .collect();
    assert!(!bad.is_empty(), "{clock:#}");
    for s in &bad {
        assert!(s["histogram"].as_array().unwrap().len() >= 2, "{s:#}");
        assert!(s["divergence"]["step"].is_u64(), "{s:#}");
        assert!(
            !s["divergence"]["likely_cause"].as_str().unwrap().is_empty(),
            "{s:#}"
        );
    }

    let good = test_line(&lines, "never_reads_the_clock");
    assert_eq!(good["event"], "pass", "{good:#}");
    for s in seeds_of(good) {
        assert_eq!(s["deterministic"], true, "{s:#}");
        assert_eq!(s["histogram"].as_array().unwrap().len(), 1, "{s:#}");
    }

    // The human report: a histogram per seed, the divergence, the cause, and a command.
    let seed = bad[0]["seed"].as_u64().unwrap();
    assert!(
        stderr.contains(&format!("seed {seed}: NONDETERMINISTIC over 6 runs")),
        "{stderr}"
    );
    assert!(stderr.contains("first divergence at step"), "{stderr}");
    assert!(stderr.contains("likely cause:"), "{stderr}");
    assert!(stderr.contains("deterministic over 6 runs"), "{stderr}");
    assert!(
        stderr.contains(
            "cargo detest check-determinism reads_the_wall_clock -p sweepy --test determinism"
        ),
        "{stderr}"
    );
    // A correct test alone passes.
    let out = run(
        Some("check-determinism"),
        &["never_reads_the_clock", "--runs", "4", "--seeds", "5"],
        &reg,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// The saved fixture entry a failure's `saved` (`path:index`) names.
fn saved_entry(f: &Value) -> detest::fixture::FixtureEntry {
    let (path, index) = f["saved"].as_str().unwrap().rsplit_once(':').unwrap();
    let file = detest::fixture::FixtureFile::load(Path::new(path)).unwrap();
    file.entries[index.parse::<usize>().unwrap()].clone()
}

#[test]
fn the_sweep_shrinks_and_traces_failures_unless_told_not_to() {
    let reg = scratch("shrink");
    let out = run(
        None,
        &["races::lost_update", "--format", "json", "-j", "2"],
        &reg,
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(100), "{stderr}");
    let lines = json_lines(&out);
    let f = &test_line(&lines, "lost_update")["failures"][0];
    let shrunk = &f["shrunk"];
    assert!(
        shrunk["schedule"].as_str().unwrap().starts_with("detest1:"),
        "{f:#}"
    );
    assert!(
        shrunk["preemptions_after"].as_u64().unwrap()
            <= shrunk["preemptions_before"].as_u64().unwrap()
    );
    assert!(shrunk["steps_after"].as_u64().unwrap() <= shrunk["steps_before"].as_u64().unwrap());
    let trace = f["trace"].as_array().unwrap();
    assert!(!trace.is_empty(), "{f:#}");
    assert!(trace.iter().all(|s| s["op"].is_string()), "{f:#}");
    // The human block: the shrink summary, the timeline, both replay commands, the reproducer last.
    assert!(stderr.contains("shrunk:   shrunk "), "{stderr}");
    assert!(stderr.contains("trace (of the shrunk schedule"), "{stderr}");
    assert!(
        stderr.contains("replay the shrunk schedule with:"),
        "{stderr}"
    );
    // Stored in the fixture next to the original.
    let entry = saved_entry(f);
    assert_eq!(entry.shrunk_schedule, shrunk["schedule"].as_str().unwrap());
    assert!(!entry.schedule.is_empty());

    let reg = scratch("no-shrink");
    let out = run(
        None,
        &["races::lost_update", "--no-shrink", "--format", "json"],
        &reg,
    );
    assert_eq!(out.status.code(), Some(100), "{}", text(&out.stderr));
    let lines = json_lines(&out);
    let f = &test_line(&lines, "lost_update")["failures"][0];
    assert!(f["shrunk"].is_null(), "{f:#}");
    let entry = saved_entry(f);
    assert!(!entry.schedule.is_empty(), "{entry:?}");
    assert!(entry.shrunk_schedule.is_empty(), "{entry:?}");
    // Shrinking off means no shrink summary in the block either.
    assert!(
        !text(&out.stderr).contains("shrunk:"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn replay_prints_the_trace_as_json_lines() {
    let reg = scratch("trace-json");
    let seed = first_failing_lost_update().to_string();
    let out = run(
        Some("replay"),
        &[
            "lost_update",
            "--seed",
            &seed,
            "--trace",
            "--trace-format",
            "json",
        ],
        &reg,
    );
    assert_eq!(out.status.code(), Some(100), "{}", text(&out.stderr));
    let steps = json_lines(&out);
    assert!(steps.len() >= 4, "{steps:#?}");
    let mut last = None;
    for s in &steps {
        let step = s["step"].as_u64().unwrap_or_else(|| panic!("{s}"));
        // In order (not strictly: the runtime may number two events with the same step).
        assert!(last.is_none_or(|l| step >= l), "{steps:#?}");
        last = Some(step);
        assert!(s["task"].is_u64() && s["op"].is_string(), "{s}");
    }
    assert!(
        steps
            .iter()
            .any(|s| s["op"] == "load" && s["object"]["type"] == "AtomicUsize"),
        "{steps:#?}"
    );
    // Text is the default: a timeline.
    let out = run(
        Some("replay"),
        &["lost_update", "--seed", &seed, "--trace"],
        &reg,
    );
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(100), "{all}");
    assert!(
        all.contains("task 1") && !all.contains("{\"step\""),
        "{all}"
    );
}

#[test]
fn the_fixture_pass_goes_on_after_an_entry_crashes() {
    let reg = scratch("fixture-resume");
    // Saves the first crashing seed of each chunk of 10: several entries, each of which aborts.
    let first = json_lines(&run(
        None,
        &[
            "abort_on",
            "--seeds",
            "200",
            "--chunk-size",
            "20",
            "--format",
            "json",
        ],
        &reg,
    ));
    let saved = failing_seeds(test_line(&first, "abort_on_some_seeds"));
    assert!(saved.len() >= 2, "{saved:?}");
    // Replaying them: each entry crashes its worker, and the pass resumes after it.
    let again = json_lines(&run(None, &["abort_on", "--format", "json"], &reg));
    let v = test_line(&again, "abort_on_some_seeds");
    assert_eq!(
        v["fixtures_replayed"].as_u64(),
        Some(saved.len() as u64),
        "{v:#}"
    );
    // Every entry ran and is reported (entries are in the order chunks saved them, failures in
    // seed order).
    let mut entries: Vec<u64> = v["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let id = f["fixture"].as_str().unwrap();
            id.rsplit(':').next().unwrap().parse().unwrap()
        })
        .collect();
    entries.sort_unstable();
    let all: Vec<u64> = (0..saved.len() as u64).collect();
    assert_eq!(entries, all, "{v:#}");
    assert_eq!(failing_seeds(v), saved, "{v:#}");
}

/// A fixed execution that fails with another kind than an expectation test expects is noted, and
/// the chunk goes on with its seeds, whatever the range: from `--seed-start 5` it used to restart
/// the fixed executions forever.
#[test]
fn a_failing_fixed_execution_does_not_stop_or_repeat_the_sweep() {
    let reg = scratch("fixed-then-seeds");
    for start in ["5", "0"] {
        let mut child = command(
            None,
            &[
                "races::deadlock_after_a_fixed_panic",
                "--seed-start",
                start,
                "--format",
                "json",
            ],
            &reg,
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("cargo detest --seed-start {start} did not finish");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        let mut stdout = String::new();
        std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
        assert!(status.success(), "{stdout}");
        let lines: Vec<Value> = stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let v = test_line(&lines, "deadlock_after_a_fixed_panic");
        assert_eq!(v["event"], "pass", "{v:#}");
        // Round-robin panics (the wrong kind); the deadlock is a chaos seed of the range.
        let expected = &v["expected"];
        assert_eq!(expected["kind"], "deadlock");
        assert_eq!(expected["policy"], "chaos", "{expected:#}");
        let seed = expected["seed"].as_u64().unwrap();
        assert!(seed >= start.parse::<u64>().unwrap(), "{expected:#}");
    }
}

#[test]
fn core_the_top_seed_runs_in_sweeps_chunks_and_replays() {
    let reg = scratch("core-top-seed");
    let test = "fails_at_the_top_seed";
    let top = u64::MAX.to_string();
    let out = run(None, &[test, "--seed", &top, "--format", "json"], &reg);
    assert_eq!(out.status.code(), Some(100), "{}", text(&out.stderr));
    let lines = json_lines(&out);
    assert_eq!(failing_seeds(test_line(&lines, test)), [u64::MAX]);

    // Six seeds up to the top, in chunks of two over two workers: all six run.
    let out = run(
        None,
        &[
            test,
            "--seed-start",
            "18446744073709551610",
            "--seeds",
            "6",
            "--chunk-size",
            "2",
            "-j",
            "2",
            "--no-fixtures",
            "--format",
            "json",
        ],
        &reg,
    );
    assert_eq!(out.status.code(), Some(100), "{}", text(&out.stderr));
    let lines = json_lines(&out);
    let v = test_line(&lines, test);
    assert_eq!(failing_seeds(v), [u64::MAX], "{v:#}");
    assert_eq!(v["seeds_run"], 6, "{v:#}");

    let out = run(Some("replay"), &[test, "--seed", &top], &reg);
    assert!(!out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("ran the top seed")
            || text(&out.stderr).contains("ran the top seed"),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn core_a_seed_range_past_the_top_is_rejected_and_an_empty_sweep_said() {
    let reg = scratch("core-past-top");
    let test = "fails_at_the_top_seed";
    // Both flags: a usage error before anything is built.
    let out = run(
        None,
        &[
            test,
            "--seed-start",
            "18446744073709551610",
            "--seeds",
            "10",
        ],
        &reg,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("at most 6 seeds"),
        "{}",
        text(&out.stderr)
    );
    // The start from the flag, the count (10) from the test: that test fails, naming why.
    let out = run(None, &[test, "--seed-start", "18446744073709551610"], &reg);
    assert_eq!(out.status.code(), Some(100), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("invalid seed range for this test"),
        "{}",
        text(&out.stderr)
    );
    // `--seeds 0` asks for only the saved fixtures: said, and a success.
    let out = run(None, &[test, "--seeds", "0"], &reg);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("ran 0 seeds: --seeds 0 replays only the saved fixtures"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn core_a_destructor_panic_while_unwinding_is_a_crash_that_names_the_first_panic() {
    let reg = scratch("core-destructor-abort");
    let out = command(None, &["aborts_in_a_destructor", "--no-shrink"], &reg)
        .env("SWEEPY_DESTRUCTOR_ABORT", "1")
        .output()
        .expect("cargo-detest runs");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(100), "{stderr}");
    assert!(stderr.contains("SIGABRT"), "{stderr}");
    // The crash's message quotes the runtime's last words: the seed and the first panic.
    let message = stderr
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("message:"))
        .map(str::trim)
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        message.starts_with("the process was killed by SIGABRT")
            && message.contains("detest: aborting at seed ")
            && message.contains("task 1 panicked: the first panic at ")
            && message.contains("a destructor panicked: the destructor's panic"),
        "{stderr}"
    );
}

#[test]
fn core_a_stack_overflow_is_a_crash_that_names_the_stack_size() {
    let reg = scratch("core-overflow");
    let out = command(None, &["overflows_its_stack", "--no-shrink"], &reg)
        .env("SWEEPY_CORE_OVERFLOW", "1")
        .output()
        .expect("cargo-detest runs");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(100), "{stderr}");
    assert!(stderr.contains("SIGSEGV"), "{stderr}");
    let named = "detest: stack overflow in task 0, on its 65536-byte stack — raise the stack \
                 size: #[detest(stack_size = 131072)]";
    assert!(stderr.contains(named), "{stderr}");
    // The message, and the headline (its first line), name the overflow after the signal.
    let message = stderr
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("message:"))
        .map(str::trim);
    assert!(
        message.is_some_and(
            |m| m.starts_with("the process was killed by SIGSEGV") && m.contains(named)
        ),
        "{stderr}"
    );
    let summary = stderr.lines().find(|l| l.trim_start().starts_with("FAIL"));
    assert!(summary.is_some_and(|l| l.contains(named)), "{stderr}");
    let json = command(
        None,
        &["overflows_its_stack", "--no-shrink", "--format", "json"],
        &scratch("core-overflow-json"),
    )
    .env("SWEEPY_CORE_OVERFLOW", "1")
    .output()
    .expect("cargo-detest runs");
    let line = text(&json.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["type"] == "test" && v["failures"][0].is_object())
        .unwrap_or_else(|| panic!("{}", text(&json.stdout)));
    let message = line["failures"][0]["message"].as_str().unwrap_or("");
    assert!(
        message.starts_with("the process was killed by SIGSEGV (segmentation fault): ")
            && message.contains(named),
        "{line}"
    );
}

/// An example is its own target kind (not a bin): its fixtures live under `example/`, the
/// commands printed for it select it with `--example`, and `replay --example` runs it.
#[test]
fn an_example_keeps_its_own_kind_fixtures_and_commands() {
    let reg = scratch("example-kind");
    let out = run(None, &["--example", "ex", "--format", "json"], &reg);
    assert_eq!(out.status.code(), Some(100), "{}", text(&out.stderr));
    let line = text(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["type"] == "test" && v["test"] == "tests::exf")
        .unwrap_or_else(|| panic!("{}", text(&out.stdout)));
    assert_eq!(line["target_kind"], "example", "{line}");
    let f = &line["failures"][0];
    let saved = f["saved"].as_str().unwrap_or_else(|| panic!("{line}"));
    let file = reg.join("example/ex/tests/exf.toml");
    assert!(
        saved.starts_with(&format!("{}:", file.display())),
        "{saved}"
    );
    let replay = f["replay"].as_str().unwrap();
    assert!(replay.contains(" --example ex "), "{replay}");
    // The runtime's own commands (in the worker's report) say `--example` too.
    let human = run(None, &["--example", "ex"], &scratch("example-kind-human"));
    let err = text(&human.stderr);
    let commands: Vec<&str> = err
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("cargo ") || l.contains(" cargo test "))
        .collect();
    assert!(!commands.is_empty(), "{err}");
    for c in &commands {
        assert!(
            c.contains("--example ex") && !c.contains("--bin"),
            "{c}\n{err}"
        );
    }
    let replayed = run(
        Some("replay"),
        &[
            "tests::exf",
            "-p",
            "sweepy",
            "--example",
            "ex",
            "--seed",
            "1",
        ],
        &reg,
    );
    let err = text(&replayed.stderr);
    assert_eq!(replayed.status.code(), Some(100), "{err}");
    assert!(err.contains("panic: the example fails at seed 1"), "{err}");
}

// ---- The fixture store (tests/fixtures/sweepy/tests/trust_fixtures.rs) ----

fn fixture_seeds(path: &Path) -> Vec<u64> {
    detest::fixture::FixtureFile::load(path)
        .unwrap()
        .entries
        .iter()
        .map(|e| e.seed)
        .collect()
}

#[test]
fn workers_save_every_failing_seed_even_with_equal_schedules() {
    let reg = scratch("two-seeds");
    let out = run(
        None,
        &[
            "trust_fixtures::two_bad_seeds",
            "--chunk-size",
            "10",
            "-j",
            "2",
            "--format",
            "json",
        ],
        &reg,
    );
    assert_eq!(out.status.code(), Some(100), "{}", text(&out.stderr));
    let lines = json_lines(&out);
    let v = test_line(&lines, "two_bad_seeds");
    assert_eq!(failing_seeds(v), vec![37, 70], "{v:#}");
    for f in v["failures"].as_array().unwrap() {
        assert_eq!(saved_entry(f).seed, f["seed"].as_u64().unwrap(), "{f:#}");
    }
    let path = reg.join("test/trust_fixtures/two_bad_seeds.toml");
    assert_eq!(fixture_seeds(&path), vec![37, 70]);
}

#[test]
fn one_bug_keeps_a_few_entries_in_seed_order_and_never_claims_a_dropped_one() {
    let reg = scratch("one-bug");
    let out = run(
        None,
        &[
            "trust_fixtures::one_bug_many_seeds",
            "--chunk-size",
            "4",
            "-j",
            "2",
            "--format",
            "json",
        ],
        &reg,
    );
    assert_eq!(out.status.code(), Some(100), "{}", text(&out.stderr));
    let lines = json_lines(&out);
    let v = test_line(&lines, "one_bug_many_seeds");
    let failures = v["failures"].as_array().unwrap();
    assert_eq!(
        failing_seeds(v),
        (0..10).map(|c| c * 4 + 1).collect::<Vec<_>>()
    );
    let path = reg.join("test/trust_fixtures/one_bug_many_seeds.toml");
    let kept = fixture_seeds(&path);
    assert_eq!(kept.len(), detest::fixture::ENTRIES_PER_FAILURE, "{kept:?}");
    assert!(kept.windows(2).all(|w| w[0] < w[1]), "{kept:?}");
    // Exactly the kept seeds are reported as saved, each where it now is.
    let mut saved = Vec::new();
    for f in failures {
        let seed = f["seed"].as_u64().unwrap();
        if f["saved"].is_null() {
            assert!(!kept.contains(&seed), "{f:#}");
        } else {
            assert_eq!(saved_entry(f).seed, seed, "{f:#}");
            saved.push(seed);
        }
    }
    assert_eq!(saved, kept);
    // A rerun replays the saved entries (which still fail) and leaves the file as it was.
    let before = std::fs::read_to_string(&path).unwrap();
    let again = run(
        None,
        &[
            "trust_fixtures::one_bug_many_seeds",
            "--chunk-size",
            "4",
            "--format",
            "json",
        ],
        &reg,
    );
    assert_eq!(again.status.code(), Some(100), "{}", text(&again.stderr));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
}

// ---- cargo-detest's reports: the `cli_reports` programs of the fixture crate ----

/// `cargo detest` over the named `cli_reports` tests only, with `SWEEPY_CLI_FAIL` set so the
/// failing ones fail.
fn cli_run(tests: &[&str], args: &[&str], reg: &Path) -> Output {
    let filters: Vec<String> = tests.iter().map(|t| format!("cli_reports::{t}")).collect();
    let mut all: Vec<&str> = filters.iter().map(String::as_str).collect();
    all.extend_from_slice(args);
    command(None, &all, reg)
        .env("SWEEPY_CLI_FAIL", "1")
        .env_remove("DETEST_FIXTURES")
        .output()
        .expect("cargo-detest runs")
}

#[test]
fn cli_fail_fast_reports_tests_that_never_ran_as_cancelled_in_every_format() {
    let reg = scratch("cli-fail-fast");
    // -j 1: a_fails runs first and fails; b_passes never starts.
    let tests = ["a_fails", "b_passes"];
    let base = ["--fail-fast", "-j", "1"];
    let human = cli_run(&tests, &base, &reg);
    let err = text(&human.stderr);
    assert_eq!(human.status.code(), Some(100), "{err}");
    let b_line = err
        .lines()
        .find(|l| l.contains("sweepy::cli_reports::b_passes"))
        .unwrap_or_else(|| panic!("no status line for b_passes:\n{err}"));
    assert!(b_line.trim_start().starts_with("CANCEL"), "{b_line}");
    assert!(b_line.contains("stopped by --fail-fast"), "{b_line}");
    assert!(!err.contains("PASS"), "{err}");
    assert!(err.contains("1 failed, 1 cancelled"), "{err}");

    let json = cli_run(&tests, &[&base[..], &["--format", "json"]].concat(), &reg);
    let lines = json_lines(&json);
    let b = test_line(&lines, "b_passes");
    assert_eq!(b["event"], "cancelled", "{b:#}");
    assert_eq!(b["seeds_run"], 0, "{b:#}");
    assert_eq!(test_line(&lines, "a_fails")["event"], "fail");
    let summary = lines.last().unwrap();
    assert_eq!(
        (summary["passed"].as_u64(), summary["cancelled"].as_u64()),
        (Some(0), Some(1))
    );

    let junit = cli_run(&tests, &[&base[..], &["--format", "junit"]].concat(), &reg);
    let xml = text(&junit.stdout);
    let case = xml
        .split("<testcase ")
        .find(|c| c.starts_with("name=\"b_passes\""))
        .unwrap_or_else(|| panic!("{xml}"));
    let case = &case[..case.find("</testcase>").unwrap()];
    assert!(
        case.contains("<skipped message=\"stopped by --fail-fast"),
        "{case}"
    );
    assert!(!case.contains("<system-out>"), "{case}");
}

#[test]
fn cli_a_failing_plain_test_shows_its_panic_message() {
    let reg = scratch("cli-plain");
    // A long backtrace pushes the message out of the output's tail: it must still be shown.
    let out = command(None, &["cli_reports::plain_fails"], &reg)
        .env("SWEEPY_CLI_FAIL", "1")
        .env("RUST_BACKTRACE", "full")
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(100), "{err}");
    let block = &err[err
        .find("--- FAIL sweepy::cli_reports::plain_fails")
        .expect(&err)..];
    assert!(
        block.contains("  message:  the plain failure message 5f3a"),
        "{block}"
    );
    assert!(
        block.contains("  location: tests/cli_reports.rs:"),
        "{block}"
    );
    assert!(
        block.contains("cargo test -p sweepy --test cli_reports"),
        "{block}"
    );
    let json = command(
        None,
        &["cli_reports::plain_fails", "--format", "json"],
        &reg,
    )
    .env("SWEEPY_CLI_FAIL", "1")
    .output()
    .unwrap();
    let lines = json_lines(&json);
    let plain = &test_line(&lines, "plain_fails")["plain"];
    assert_eq!(
        plain["message"], "the plain failure message 5f3a",
        "{plain:#}"
    );
}

#[test]
fn plain_test_exiting_0_before_its_result_is_a_crash() {
    let reg = scratch("fix-exit");
    // Without the variable it passes: the verdict below comes from the exit, not the test.
    let ok = run(None, &["fix_exit::plain_exit0"], &reg);
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    let out = command(None, &["fix_exit::plain_exit0"], &reg)
        .env("SWEEPY_FIX_EXIT", "1")
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(100), "{err}");
    assert!(!err.contains("PASS"), "{err}");
    assert!(
        err.contains("--- FAIL sweepy::fix_exit::plain_exit0"),
        "{err}"
    );
    assert!(
        err.contains("the process exited with code 0 before the test reported its result"),
        "{err}"
    );
    let json = command(None, &["fix_exit::plain_exit0", "--format", "json"], &reg)
        .env("SWEEPY_FIX_EXIT", "1")
        .output()
        .unwrap();
    let lines = json_lines(&json);
    let line = test_line(&lines, "plain_exit0");
    assert_ne!(line["event"], "pass", "{line:#}");
}

#[test]
fn cli_list_runs_no_plain_test() {
    let reg = scratch("cli-list");
    let marker = reg.join("marker");
    let list = command(Some("list"), &["cli_reports", "--format", "json"], &reg)
        .env("SWEEPY_MARKER", &marker)
        .output()
        .unwrap();
    assert!(list.status.success(), "{}", text(&list.stderr));
    let lines = json_lines(&list);
    let kind = |n: &str| {
        lines
            .iter()
            .find(|v| v["test"] == n)
            .map(|v| v["kind"].clone())
    };
    assert_eq!(kind("writes_a_marker"), Some("plain".into()));
    assert_eq!(kind("b_passes"), Some("detest".into()));
    assert!(!marker.exists(), "cargo detest list ran a plain test");
    // The marker test does write it when it runs, so the check above can fail.
    let sweep = command(None, &["cli_reports::writes_a_marker"], &reg)
        .env("SWEEPY_MARKER", &marker)
        .output()
        .unwrap();
    assert!(sweep.status.success(), "{}", text(&sweep.stderr));
    assert!(marker.exists(), "the sweep did not run the plain test");
}

#[test]
fn cli_fixtures_read_replays_and_saves_nothing() {
    let reg = scratch("cli-read");
    let file = reg.join("test/cli_reports/a_fails.toml");
    // A new failure in read mode: reported, not saved, and the report says why.
    let read = cli_run(&["a_fails"], &["--fixtures", "read"], &reg);
    let err = text(&read.stderr);
    assert_eq!(read.status.code(), Some(100), "{err}");
    assert!(err.contains("  not saved: --fixtures read"), "{err}");
    assert!(!err.contains("  saved:"), "{err}");
    assert!(!file.exists(), "--fixtures read wrote {}", file.display());
    // A crash, which cargo-detest itself would save: not saved either (DETEST_FIXTURES=read).
    let crash = command(
        None,
        &["crashy::abort_on_some_seeds", "--format", "json"],
        &reg,
    )
    .env("DETEST_FIXTURES", "read")
    .output()
    .unwrap();
    let lines = json_lines(&crash);
    let abort = test_line(&lines, "abort_on_some_seeds");
    assert_eq!(abort["event"], "fail", "{abort:#}");
    let f = &abort["failures"][0];
    assert_eq!(
        (f["kind"].as_str(), &f["saved"]),
        (Some("crash"), &Value::Null),
        "{f:#}"
    );
    assert_eq!(f["not_saved"], "--fixtures read", "{f:#}");
    assert_eq!(
        files_under(&reg),
        Vec::<PathBuf>::new(),
        "--fixtures read saved something"
    );
    // --no-fixtures names itself as the reason, not the variable the workers were given.
    let off = cli_run(&["a_fails"], &["--no-fixtures"], &reg);
    let err = text(&off.stderr);
    assert!(
        err.contains("  not saved: --fixtures off (--no-fixtures)"),
        "{err}"
    );
    // Saved once in the default mode, the failure is then replayed in read mode, unchanged.
    let on = cli_run(&["a_fails"], &[], &reg);
    assert_eq!(on.status.code(), Some(100));
    let saved = std::fs::read(&file).expect("the default mode saves");
    let again = cli_run(
        &["a_fails"],
        &["--fixtures", "read", "--format", "json"],
        &reg,
    );
    let lines = json_lines(&again);
    let a = test_line(&lines, "a_fails");
    assert_eq!(a["fixtures_replayed"], 1, "{a:#}");
    assert_eq!(a["event"], "fail", "{a:#}");
    assert_eq!(
        std::fs::read(&file).unwrap(),
        saved,
        "read mode changed the fixture file"
    );
    // `--fixtures only`: the saved entry replays, and no new seed runs.
    let only = cli_run(
        &["a_fails"],
        &["--fixtures", "only", "--format", "json"],
        &reg,
    );
    let lines = json_lines(&only);
    let a = test_line(&lines, "a_fails");
    assert_eq!(
        (a["fixtures_replayed"].as_u64(), a["seeds_planned"].as_u64()),
        (Some(1), Some(0)),
        "{a:#}"
    );
    assert_eq!(a["event"], "fail", "{a:#}");
    // With nothing saved, `only` runs nothing: skipped, not passed.
    let none = cli_run(
        &["b_passes"],
        &["--fixtures", "only", "--format", "json"],
        &reg,
    );
    let b = test_line(&json_lines(&none), "b_passes").clone();
    assert_eq!(
        (b["event"].as_str(), b["seeds_run"].as_u64()),
        (Some("skip"), Some(0)),
        "{b:#}"
    );
    // `DETEST_FIXTURES` and `--no-fixtures` together are a usage error.
    let both = command(None, &["cli_reports::a_fails", "--no-fixtures"], &reg)
        .env("DETEST_FIXTURES", "read")
        .output()
        .unwrap();
    assert_eq!(both.status.code(), Some(2), "{}", text(&both.stderr));
}

#[test]
fn cli_a_tests_time_is_wall_time_not_worker_time() {
    let reg = scratch("cli-wall");
    // Two workers run its chunks side by side: the sum of their times is about twice the wall
    // time, which no test's time may exceed.
    let out = run(
        None,
        &[
            "cli_reports::b_passes",
            "--seeds",
            "1200",
            "--chunk-size",
            "30",
            "-j",
            "2",
            "--format",
            "json",
        ],
        &reg,
    );
    let lines = json_lines(&out);
    let b = test_line(&lines, "b_passes");
    assert_eq!(b["event"], "pass", "{b:#}");
    let test_ms = b["duration_ms"].as_u64().unwrap();
    let sweep_ms = lines.last().unwrap()["duration_ms"].as_u64().unwrap();
    assert!(
        test_ms <= sweep_ms,
        "test {test_ms} ms > sweep {sweep_ms} ms"
    );
}

/// Every file below `dir` (none when it does not exist).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}
