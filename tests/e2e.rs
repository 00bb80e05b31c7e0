//! End to end: build the crate in `tests/fixtures/buggy` once, then run its tests the way a user
//! (or `cargo detest`) would, and check what they print, save and replay.
//!
//! Every test keeps its fixtures in its own folder (`DETEST_REGRESSIONS_DIR`), so the tests run
//! in parallel and never write into the source tree.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const PKG: &str = "detest-fixture-buggy";

struct Built {
    dir: PathBuf,
    target_dir: PathBuf,
    races: PathBuf,
}

/// Builds the fixture crate once per run of this test binary.
fn built() -> &'static Built {
    static BUILT: OnceLock<Built> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = root.join("tests/fixtures/buggy");
        // Its own target dir: the outer `cargo test` holds the lock on the main one.
        let target_dir = root.join("target/detest-e2e");
        let out = clean_command(cargo_bin(), &dir, &target_dir)
            .args([
                "test",
                "--no-run",
                "--message-format=json-render-diagnostics",
            ])
            .output()
            .expect("run cargo");
        assert!(
            out.status.success(),
            "building the fixture crate failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut races = None;
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let Ok(v) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            if v["reason"] == "compiler-artifact"
                && v["profile"]["test"] == true
                && v["target"]["name"] == "races"
            {
                races = v["executable"].as_str().map(PathBuf::from);
            }
        }
        Built {
            dir,
            target_dir,
            races: races.expect("the races test executable"),
        }
    })
}

fn cargo_bin() -> PathBuf {
    std::env::var_os("CARGO").map_or_else(|| "cargo".into(), PathBuf::from)
}

/// A command that does not inherit this process's `DETEST_*` settings or cargo's build env.
fn clean_command(program: impl AsRef<std::ffi::OsStr>, dir: &Path, target_dir: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(dir);
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        // What cargo set for this test binary must not leak into the fixture crate's build
        // (rustc would see CARGO_TARGET_TMPDIR, CARGO_PKG_NAME, ... through option_env!).
        let from_outer_cargo = [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
            "CARGO_TARGET_",
            "CARGO_PRIMARY_PACKAGE",
            "CARGO_RUSTC_CURRENT_DIR",
            "OUT_DIR",
        ]
        .iter()
        .any(|p| key.starts_with(p));
        if key.starts_with("DETEST_") || from_outer_cargo || key.ends_with("MAKEFLAGS") {
            cmd.env_remove(&key);
        }
    }
    cmd.env("CARGO_TARGET_DIR", target_dir)
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("RUST_BACKTRACE");
    cmd
}

/// A fresh folder for one test's fixtures.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("e2e-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Run {
    success: bool,
    stdout: String,
    stderr: String,
}

impl Run {
    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run {
            success: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// `cargo test -q <args>` in the fixture crate, with `env` and fixtures kept in `regressions`.
fn cargo_test(args: &[&str], env: &[(&str, &str)], regressions: &Path) -> Run {
    let b = built();
    let mut cmd = clean_command(cargo_bin(), &b.dir, &b.target_dir);
    cmd.args(["test", "-q"])
        .args(args)
        .env("DETEST_REGRESSIONS_DIR", regressions);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run cargo test").into()
}

/// Runs a command line printed by a report (`VAR=value cargo test ...`) as it is.
fn run_printed(line: &str, env: &[(&str, &str)], regressions: &Path) -> Run {
    let b = built();
    let mut words = line.split_whitespace().peekable();
    let mut vars = Vec::new();
    while let Some((k, v)) = words.peek().and_then(|w| w.split_once('=')) {
        vars.push((k.to_owned(), v.to_owned()));
        words.next();
    }
    assert_eq!(words.next(), Some("cargo"), "{line}");
    let mut cmd = clean_command(cargo_bin(), &b.dir, &b.target_dir);
    cmd.args(words).env("DETEST_REGRESSIONS_DIR", regressions);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run the printed command").into()
}

/// The test binary itself, as `cargo detest` runs it.
fn races_bin(args: &[&str], env: &[(&str, &str)], regressions: &Path) -> Command {
    let b = built();
    let mut cmd = clean_command(&b.races, &b.dir, &b.target_dir);
    cmd.args(args).env("DETEST_REGRESSIONS_DIR", regressions);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// The parts of a failure block the tests look at.
#[derive(Debug)]
struct Block {
    seed: u64,
    schedule: String,
    from: Option<String>,
    fixture: String,
    commands: Vec<String>,
    /// The line printed right after the last command.
    after_commands: Option<String>,
}

fn block(output: &str, test: &str) -> Block {
    let lines: Vec<&str> = output.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with(&format!("detest: test `{test}` failed:")))
        .unwrap_or_else(|| panic!("no failure block for {test} in:\n{output}"));
    let title = lines[start];
    let seed = title
        .split("(seed ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no seed in {title:?}"));
    let field = |name: &str| {
        lines[start..].iter().find_map(|l| {
            l.trim_start()
                .strip_prefix(name)
                .map(|v| v.trim().to_owned())
        })
    };
    let repro = start
        + lines[start..]
            .iter()
            .position(|l| l.trim() == "reproduce with:")
            .unwrap_or_else(|| panic!("no commands in:\n{output}"));
    let commands: Vec<String> = lines[repro + 1..]
        .iter()
        .take_while(|l| l.starts_with("    "))
        .map(|l| l.trim().to_owned())
        .collect();
    Block {
        seed,
        schedule: field("schedule:").expect("schedule line"),
        from: field("from:"),
        fixture: field("fixture:").expect("fixture line"),
        after_commands: lines.get(repro + 1 + commands.len()).map(|l| l.to_string()),
        commands,
    }
}

fn fixture_entries(path: &Path) -> Vec<toml_like::Entry> {
    toml_like::entries(&std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!("{}: {e}", path.display());
    }))
}

/// Just enough of the fixture format to check it from outside, without the runtime's parser.
mod toml_like {
    #[derive(Debug, Default)]
    pub struct Entry {
        pub seed: u64,
        pub kind: String,
        pub schedule: String,
    }

    pub fn entries(text: &str) -> Vec<Entry> {
        let mut out: Vec<Entry> = Vec::new();
        for line in text.lines() {
            if line.trim() == "[[failure]]" {
                out.push(Entry::default());
                continue;
            }
            let Some(entry) = out.last_mut() else {
                continue;
            };
            let Some((k, v)) = line.split_once(" = ") else {
                continue;
            };
            let v = v.trim().trim_matches('"').to_owned();
            match k.trim() {
                "seed" => entry.seed = v.parse().unwrap(),
                "kind" => entry.kind = v,
                "schedule" => entry.schedule = v,
                _ => {}
            }
        }
        out
    }
}

#[test]
fn chaos_failure_is_saved_replayed_and_reproduced() {
    let regs = scratch("chaos");
    let fixture = regs.join("races/lost_update.toml");

    // 1. The sweep fails and says how to reproduce it.
    let first = cargo_test(
        &["--test", "races", "--", "lost_update", "--exact"],
        &[],
        &regs,
    );
    assert!(!first.success, "{}", first.all());
    let b = block(&first.stdout, "lost_update");
    assert_eq!(
        b.commands,
        vec![
            format!(
                "DETEST_SEED={} cargo test -p {PKG} --test races -- lost_update --exact",
                b.seed
            ),
            format!("cargo detest replay lost_update -p {PKG} --seed {}", b.seed),
        ]
    );
    assert_eq!(
        b.after_commands.as_deref().map(str::trim),
        Some(""),
        "the block must end with the command"
    );
    assert!(b.from.is_none());
    assert_eq!(
        b.fixture,
        format!("saved to {} (entry 0)", fixture.display())
    );

    // 2. The fixture file is there, with its header and the failing run.
    let text = std::fs::read_to_string(&fixture).unwrap();
    assert!(text.starts_with("# detest regression fixtures for `lost_update`"));
    assert!(text.contains("Commit this file"));
    let entries = fixture_entries(&fixture);
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (
            entries[0].seed,
            entries[0].kind.as_str(),
            &entries[0].schedule
        ),
        (b.seed, "panic", &b.schedule)
    );

    // 3. The printed command, run as printed (without fixtures, so it is the seed that fails),
    //    fails the same way.
    let again = run_printed(&b.commands[0], &[("DETEST_FIXTURES", "off")], &regs);
    assert!(!again.success);
    let b2 = block(&again.stdout, "lost_update");
    assert_eq!((b2.seed, &b2.schedule), (b.seed, &b.schedule));
    assert_eq!(b2.fixture, "not saved (DETEST_FIXTURES=off)");

    // 4. With no new seeds at all, the saved entry replays first and fails, by schedule, and
    //    is not saved twice.
    let replay = cargo_test(
        &["--test", "races", "--", "lost_update", "--exact"],
        &[("DETEST_SEEDS", "0")],
        &regs,
    );
    assert!(!replay.success);
    let b3 = block(&replay.stdout, "lost_update");
    let from = b3.from.expect("a fixture replay names its origin");
    assert!(
        from.starts_with(&format!("fixture {}:0", fixture.display())),
        "{from}"
    );
    assert!(from.ends_with("replayed by schedule"), "{from}");
    assert_eq!(b3.schedule, b.schedule);
    assert_eq!(fixture_entries(&fixture).len(), 1);

    // 5. DETEST_REPLAY replays exactly the printed schedule.
    let by_schedule = cargo_test(
        &["--test", "races", "--", "lost_update", "--exact"],
        &[("DETEST_REPLAY", &b.schedule), ("DETEST_FIXTURES", "off")],
        &regs,
    );
    assert!(!by_schedule.success);
    let b4 = block(&by_schedule.stdout, "lost_update");
    assert_eq!(b4.schedule, b.schedule);
    assert!(b4.commands[0].starts_with(&format!("DETEST_REPLAY={} ", b.schedule)));

    // 6. When the code changed so the schedule no longer applies, the seed is run instead, and
    //    its new schedule is saved beside the stale one.
    let stale = text.replace(&b.schedule, "detest1:JA"); // "task 9 runs": never runnable
    std::fs::write(&fixture, stale).unwrap();
    let fallback = cargo_test(
        &["--test", "races", "--", "lost_update", "--exact"],
        &[("DETEST_SEEDS", "0")],
        &regs,
    );
    assert!(!fallback.success);
    let b5 = block(&fallback.stdout, "lost_update");
    let from = b5.from.unwrap();
    assert!(
        from.contains("replayed by seed: the saved schedule no longer applies"),
        "{from}"
    );
    assert_eq!((b5.seed, &b5.schedule), (b.seed, &b.schedule));
    let entries = fixture_entries(&fixture);
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1].schedule, b.schedule);
}

#[test]
fn read_mode_replays_but_never_writes() {
    let regs = scratch("read-mode");
    let run = cargo_test(
        &["--test", "races", "--", "lost_update", "--exact"],
        &[("DETEST_FIXTURES", "read"), ("DETEST_SEEED", "1")],
        &regs,
    );
    assert!(!run.success);
    assert_eq!(
        block(&run.stdout, "lost_update").fixture,
        "not saved (DETEST_FIXTURES=read)"
    );
    assert!(!regs.join("races").exists());
    // A misspelt variable is pointed out rather than silently ignored.
    assert!(
        run.stderr.contains(
            "detest: warning: unknown environment variable DETEST_SEEED is ignored (did you \
             mean DETEST_SEED?)"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn concurrent_saves_keep_every_entry() {
    let regs = scratch("concurrent");
    // Several workers (which, unlike plain runs, do not replay saved entries first) find
    // different failing seeds of one test at the same moment.
    let children: Vec<_> = (1..=4)
        .map(|seed| {
            let results = regs.join(format!("results-{seed}.jsonl"));
            races_bin(
                &["always_fails", "--exact"],
                &[
                    ("DETEST_SEED", &seed.to_string()),
                    ("DETEST_RESULTS", results.to_str().unwrap()),
                ],
                &regs,
            )
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(!child.wait().unwrap().success());
    }
    let fixture = regs.join("races/always_fails.toml");
    let seeds: BTreeSet<u64> = fixture_entries(&fixture).iter().map(|e| e.seed).collect();
    assert_eq!(seeds, BTreeSet::from([1, 2, 3, 4]));
    // Rerunning a saved seed replays its entry first and adds nothing.
    let again: Run = races_bin(&["always_fails", "--exact"], &[("DETEST_SEED", "2")], &regs)
        .output()
        .unwrap()
        .into();
    assert!(!again.success);
    assert_eq!(fixture_entries(&fixture).len(), 4);
}

#[test]
fn expect_deadlock_passes_on_deadlock01_and_fails_on_a_correct_program() {
    let regs = scratch("expect");
    let run = cargo_test(
        &[
            "--test",
            "races",
            "--",
            "deadlock01",
            "correct_expect_deadlock",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ],
        &[],
        &regs,
    );
    let out = run.all();
    assert!(!run.success);
    assert!(out.contains("1 passed; 1 failed"), "{out}");
    assert!(
        out.contains("failures:\n    correct_expect_deadlock\n"),
        "{out}"
    );
    assert!(
        out.contains("detest: found the expected deadlock at seed"),
        "{out}"
    );
    assert!(
        out.contains(
            "detest: test `correct_expect_deadlock` expected a deadlock within 200 seeds \
             (0..200) (policy chaos), but every seed passed"
        ),
        "{out}"
    );
    // Expectation tests keep no fixtures.
    assert!(!regs.join("races").exists());

    // The schedule it printed replays the expected deadlock.
    let schedule = out
        .lines()
        .skip_while(|l| !l.starts_with("detest: found the expected deadlock"))
        .find_map(|l| l.trim().strip_prefix("schedule: "))
        .expect("the schedule of the deadlock");
    let replay: Run = races_bin(
        &["deadlock01", "--exact", "--nocapture"],
        &[("DETEST_REPLAY", schedule)],
        &regs,
    )
    .output()
    .unwrap()
    .into();
    assert!(replay.success, "{}", replay.all());
    assert!(
        replay
            .stdout
            .contains("detest: the DETEST_REPLAY schedule shows the expected deadlock"),
        "{}",
        replay.stdout
    );
}

#[test]
fn corrupt_fixture_fails_with_file_and_line_and_is_kept() {
    let regs = scratch("corrupt");
    let fixture = regs.join("races/passing.toml");
    std::fs::create_dir_all(fixture.parent().unwrap()).unwrap();
    let text = "# hand-edited\n[[failure]]\nseed = 3\npolicy = \"chaos\"\nkind = \"panic\"\n\
                schedule = \"not a schedule\"\n";
    std::fs::write(&fixture, text).unwrap();
    let run = cargo_test(&["--test", "races", "--", "passing", "--exact"], &[], &regs);
    assert!(!run.success);
    assert!(
        run.stdout.contains(&format!(
            "{}:6:12: malformed detest fixture file",
            fixture.display()
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("a schedule starts with `detest1:`"),
        "{}",
        run.stdout
    );
    assert_eq!(std::fs::read_to_string(&fixture).unwrap(), text);
}

#[test]
fn lib_unit_tests_reproduce_with_lib() {
    let regs = scratch("lib");
    let run = cargo_test(
        &["--lib", "--", "tests::lib_always_fails", "--exact"],
        &[],
        &regs,
    );
    assert!(!run.success);
    let b = block(&run.stdout, "tests::lib_always_fails");
    assert_eq!(
        b.commands[0],
        format!(
            "DETEST_SEED={} cargo test -p {PKG} --lib -- tests::lib_always_fails --exact",
            b.seed
        )
    );
    assert!(regs
        .join("detest_fixture_buggy/tests/lib_always_fails.toml")
        .exists());
    let again = run_printed(&b.commands[0], &[("DETEST_FIXTURES", "off")], &regs);
    assert_eq!(
        block(&again.stdout, "tests::lib_always_fails").schedule,
        b.schedule
    );
}

#[test]
fn watchdog_aborts_a_spinning_execution_and_saves_the_seed() {
    let regs = scratch("hang");
    let run = cargo_test(
        &[
            "--test",
            "races",
            "--",
            "spins_forever",
            "--exact",
            "--ignored",
        ],
        &[],
        &regs,
    );
    assert!(!run.success);
    let out = run.all();
    assert!(
        out.contains("detest: test `spins_forever` hung at seed 0"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "DETEST_SEED=0 cargo test -p {PKG} --test races -- spins_forever --exact"
        )),
        "{out}"
    );
    let entries = fixture_entries(&regs.join("races/spins_forever.toml"));
    assert_eq!(entries.len(), 1);
    assert_eq!((entries[0].seed, entries[0].kind.as_str()), (0, "hang"));
    assert_eq!(entries[0].schedule, "");
}

fn json_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

#[test]
fn announce_describes_every_test() {
    let regs = scratch("announce");
    let file = regs.join("announce.jsonl");
    let out = races_bin(&[], &[("DETEST_ANNOUNCE", file.to_str().unwrap())], &regs)
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines = json_lines(&file);
    let names: BTreeSet<&str> = lines.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "always_fails",
            "correct_expect_deadlock",
            "deadlock01",
            "lost_update",
            "passing"
        ])
    );
    let lost = lines.iter().find(|l| l["name"] == "lost_update").unwrap();
    let expected = serde_json::json!({
        "name": "lost_update",
        "seeds": 500,
        "seed_start": 0,
        "policy": "chaos",
        "expect": "pass",
        "expect_message": null,
        "max_steps": 1_000_000,
        "timeout_ms": null,
        "fixture_file": regs.join("races/lost_update.toml").display().to_string(),
        "fixture_count": 0,
        "fixture_error": null,
        "package": PKG,
        "target": "races",
        "target_kind": "test",
    });
    assert_eq!(lost, &expected);
    let dl = lines.iter().find(|l| l["name"] == "deadlock01").unwrap();
    assert_eq!(dl["expect"], "deadlock");
}

#[test]
fn worker_streams_one_line_per_seed_and_stops_at_a_failure() {
    let regs = scratch("worker");
    // The failing seed that plain `cargo test` finds...
    let sweep = cargo_test(
        &["--test", "races", "--", "lost_update", "--exact"],
        &[("DETEST_FIXTURES", "off")],
        &regs,
    );
    let expected = block(&sweep.stdout, "lost_update");

    // ...is the one a worker over the same range reports, after a pass line for each earlier seed.
    let results = regs.join("results.jsonl");
    let out = races_bin(
        &["lost_update", "--exact"],
        &[
            ("DETEST_RESULTS", results.to_str().unwrap()),
            ("DETEST_SEED_START", "0"),
            ("DETEST_SEEDS", "500"),
        ],
        &regs,
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    let lines = json_lines(&results);
    let n = expected.seed as usize + 1;
    assert_eq!(lines.len(), 2 * n, "{lines:#?}");
    for seed in 0..n {
        assert_eq!(
            lines[2 * seed],
            serde_json::json!({"event": "start", "seed": seed})
        );
        assert_eq!(lines[2 * seed + 1]["event"], "result");
        assert_eq!(lines[2 * seed + 1]["seed"], seed);
    }
    let last = &lines[2 * n - 1];
    assert_eq!(last["status"], "fail");
    assert_eq!(last["failure"]["kind"], "panic");
    assert_eq!(last["failure"]["policy"], "chaos");
    assert_eq!(last["failure"]["schedule"], expected.schedule.as_str());
    let fixture = regs.join("races/lost_update.toml");
    assert_eq!(last["saved"], format!("{}:0", fixture.display()));
    assert!(lines[..2 * n - 1]
        .iter()
        .filter(|l| l["event"] == "result")
        .all(|l| l["status"] == "pass" && l["failure"].is_null()));

    // Fixture-only mode replays the saved entry and tags its lines.
    let only = regs.join("only.jsonl");
    let out = races_bin(
        &["lost_update", "--exact"],
        &[
            ("DETEST_RESULTS", only.to_str().unwrap()),
            ("DETEST_FIXTURES", "only"),
        ],
        &regs,
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    let lines = json_lines(&only);
    let tag = format!("{}:0", fixture.display());
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["fixture"], tag.as_str());
    assert_eq!(lines[1]["fixture"], tag.as_str());
    assert_eq!(lines[1]["status"], "fail");
    assert_eq!(lines[1]["failure"]["schedule"], expected.schedule.as_str());

    // A passing range passes, with one pass line per seed.
    let pass = regs.join("pass.jsonl");
    let out = races_bin(
        &["passing", "--exact"],
        &[
            ("DETEST_RESULTS", pass.to_str().unwrap()),
            ("DETEST_SEED_START", "5"),
            ("DETEST_SEEDS", "3"),
        ],
        &regs,
    )
    .output()
    .unwrap();
    assert!(out.status.success());
    let seeds: Vec<u64> = json_lines(&pass)
        .iter()
        .filter(|l| l["event"] == "result" && l["status"] == "pass")
        .map(|l| l["seed"].as_u64().unwrap())
        .collect();
    assert_eq!(seeds, vec![5, 6, 7]);
}

#[test]
fn worker_reports_a_hang_before_the_watchdog_aborts() {
    let regs = scratch("worker-hang");
    let results = regs.join("results.jsonl");
    let out = races_bin(
        &["spins_forever", "--exact", "--ignored"],
        &[
            ("DETEST_RESULTS", results.to_str().unwrap()),
            ("DETEST_SEED", "7"),
        ],
        &regs,
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    let lines = json_lines(&results);
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert_eq!(lines[0], serde_json::json!({"event": "start", "seed": 7}));
    assert_eq!(lines[1]["status"], "fail");
    assert_eq!(lines[1]["failure"]["kind"], "hang");
    assert_eq!(lines[1]["failure"]["schedule"], "");
    let entries = fixture_entries(&regs.join("races/spins_forever.toml"));
    assert_eq!((entries[0].seed, entries[0].kind.as_str()), (7, "hang"));
}

#[test]
fn policy_and_trace_overrides_carry_into_the_report() {
    let regs = scratch("overrides");
    let run = cargo_test(
        &["--test", "races", "--", "lost_update", "--exact"],
        &[
            ("DETEST_POLICY", "random"),
            ("DETEST_TRACE", "1"),
            ("DETEST_FIXTURES", "off"),
        ],
        &regs,
    );
    assert!(!run.success);
    let b = block(&run.stdout, "lost_update");
    assert!(
        b.commands[0].starts_with(&format!("DETEST_POLICY=random DETEST_SEED={} ", b.seed)),
        "{:?}",
        b.commands
    );
    assert!(
        b.commands[1].ends_with("--policy random"),
        "{:?}",
        b.commands
    );
    assert!(run.stdout.contains("policy random)"));
    // The printed command reproduces the run under the overridden policy.
    let again = run_printed(&b.commands[0], &[("DETEST_FIXTURES", "off")], &regs);
    assert_eq!(block(&again.stdout, "lost_update").schedule, b.schedule);

    // A single passing seed prints its trace with DETEST_TRACE=1.
    let out: Run = races_bin(
        &["passing", "--exact", "--nocapture"],
        &[("DETEST_TRACE", "1"), ("DETEST_SEED", "0")],
        &regs,
    )
    .output()
    .unwrap()
    .into();
    assert!(out.success);
    assert!(
        out.stdout.contains("detest: trace of seed 0 ("),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(" spawn "), "{}", out.stdout);
}

#[test]
fn fixtures_of_fixed_bugs_pass_and_are_kept() {
    let regs = scratch("fixed");
    let fixture = regs.join("races/passing.toml");
    std::fs::create_dir_all(fixture.parent().unwrap()).unwrap();
    // Two entries as a since-fixed bug would have left them: one by schedule, one seed-only.
    let text = "[[failure]]\nseed = 3\npolicy = \"chaos\"\nkind = \"panic\"\n\
                schedule = \"detest1:AA\"\n\n[[failure]]\nseed = 4\npolicy = \"pct:2\"\n\
                kind = \"crash\"\n";
    std::fs::write(&fixture, text).unwrap();
    let out: Run = races_bin(&["passing", "--exact", "--nocapture"], &[], &regs)
        .output()
        .unwrap()
        .into();
    assert!(out.success, "{}", out.all());
    let prefix = format!("detest: fixture {}", fixture.display());
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with(&format!("{prefix}:0 "))
                && l.ends_with("replayed by schedule: pass")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with(&format!("{prefix}:1 "))
                && l.ends_with("replayed by seed (no schedule was saved): pass")),
        "{}",
        out.stdout
    );
    // Fixtures run before the sweep.
    let first_fixture = out.stdout.find(&prefix).unwrap();
    let sweep = out.stdout.find("detest: 10 seeds (0..10) passed").unwrap();
    assert!(first_fixture < sweep);
    assert_eq!(std::fs::read_to_string(&fixture).unwrap(), text);
}
