//! End to end: build the crate in `tests/fixtures/buggy` once, then run its tests the way a user
//! (or `cargo detest`) would, and check what they print, save and replay.
//!
//! Every test keeps its fixtures in its own folder (`DETEST_REGRESSIONS_DIR`), so the tests run
//! in parallel and never write into the source tree.

mod common;

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
    let mut cmd = common::clean(program);
    cmd.current_dir(dir);
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
    /// The policy of the failing run (`chaos`, or `round-robin` / `rotate` for the fixed
    /// executions a chaos sweep begins with).
    policy: String,
    schedule: String,
    /// The `shrunk:` line: the shrunk schedule.
    shrunk: Option<String>,
    /// The `shrunk A → B steps, ...` summary line.
    summary: Option<String>,
    /// The timeline rows of the trace shown.
    timeline: Vec<String>,
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
    let policy = title
        .split("policy ")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .unwrap_or_else(|| panic!("no policy in {title:?}"))
        .to_owned();
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
    let trace_at = lines[start..repro]
        .iter()
        .position(|l| l.trim_start().starts_with("trace"));
    let timeline = trace_at
        .map(|t| {
            lines[start + t + 1..repro]
                .iter()
                .take_while(|l| l.starts_with("    "))
                .map(|l| l.to_string())
                .collect()
        })
        .unwrap_or_default();
    Block {
        seed,
        policy,
        schedule: field("schedule:").expect("schedule line"),
        shrunk: field("shrunk:"),
        summary: lines[start..repro]
            .iter()
            .map(|l| l.trim())
            .find(|l| l.starts_with("shrunk ") && l.contains(" steps, "))
            .map(str::to_owned),
        timeline,
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
        pub shrunk_schedule: String,
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
                "shrunk_schedule" => entry.shrunk_schedule = v,
                _ => {}
            }
        }
        out
    }
}

#[test]
fn chaos_failure_is_saved_replayed_and_reproduced() {
    let regs = scratch("chaos");
    let fixture = regs.join("test/races/lost_update.toml");

    // 1. The sweep fails and says how to reproduce it.
    let first = cargo_test(
        &["--test", "races", "--", "lost_update", "--exact"],
        &[],
        &regs,
    );
    assert!(!first.success, "{}", first.all());
    let b = block(&first.stdout, "lost_update");
    // The sweep's second fixed execution (a switch at every choice point) splits the two
    // increments, so the failure is seed 0 of `rotate`, and the commands name that policy.
    assert_eq!((b.seed, b.policy.as_str()), (0, "rotate"));
    assert_eq!(
        b.commands,
        vec![
            format!(
                "DETEST_POLICY=rotate DETEST_SEED={} cargo test -p {PKG} --test races -- \
                 lost_update --exact",
                b.seed
            ),
            format!(
                "cargo detest replay lost_update -p {PKG} --test races --seed {} --policy rotate",
                b.seed
            ),
            format!(
                "DETEST_REPLAY={} DETEST_SEED={} cargo test -p {PKG} --test races -- \
                 lost_update --exact",
                b.shrunk.as_deref().expect("a shrunk schedule"),
                b.seed
            ),
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
        format!(
            "saved to {} (entry 0), with its shrunk schedule",
            fixture.display()
        )
    );
    // The report says how much shrinking removed, and shows the shrunk run as a timeline with
    // one column per task, a preemption and the failing step marked.
    let summary = b.summary.clone().expect("a shrink summary line");
    assert!(summary.starts_with("shrunk "), "{summary}");
    assert!(summary.contains(" → 1 preemption in "), "{summary}");
    let shrunk = b.shrunk.clone().unwrap();
    assert_ne!(shrunk, b.schedule);
    assert!(b.timeline[0].contains("| task 0") && b.timeline[0].contains("| task 1"));
    assert_eq!(
        b.timeline
            .iter()
            .filter(|l| l.trim_start().starts_with("!!"))
            .count(),
        1,
        "{:#?}",
        b.timeline
    );
    assert!(
        b.timeline.iter().any(|l| l.contains("|*")),
        "{:#?}",
        b.timeline
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
            &entries[0].schedule,
            &entries[0].shrunk_schedule
        ),
        (b.seed, "panic", &b.schedule, &shrunk)
    );

    // 3. The printed command, run as printed (without fixtures, so it is the seed that fails),
    //    fails the same way.
    let again = run_printed(&b.commands[0], &[("DETEST_FIXTURES", "off")], &regs);
    assert!(!again.success);
    let b2 = block(&again.stdout, "lost_update");
    assert_eq!((b2.seed, &b2.schedule), (b.seed, &b.schedule));
    assert_eq!(b2.fixture, "not saved (DETEST_FIXTURES=off)");

    // 3b. So does the shrunk schedule's command, with the shrunk schedule.
    let short = run_printed(&b.commands[2], &[("DETEST_FIXTURES", "off")], &regs);
    assert!(!short.success);
    assert_eq!(block(&short.stdout, "lost_update").schedule, shrunk);

    // 4. With no new seeds at all, the saved entry replays first and fails, by its shrunk
    //    schedule, and is not saved twice.
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
    assert!(from.ends_with("replayed by shrunk schedule"), "{from}");
    assert_eq!(b3.schedule, shrunk);
    assert!(b3.timeline.iter().any(|l| l.trim_start().starts_with("!!")));
    assert_eq!(fixture_entries(&fixture).len(), 1);

    // 4b. When the shrunk schedule no longer applies, the original schedule replays, and the
    //     report says so.
    std::fs::write(&fixture, text_with_shrunk(&fixture, &shrunk, "detest1:JA")).unwrap();
    let by_original = cargo_test(
        &["--test", "races", "--", "lost_update", "--exact"],
        &[("DETEST_SEEDS", "0"), ("DETEST_FIXTURES", "read")],
        &regs,
    );
    assert!(!by_original.success);
    let b6 = block(&by_original.stdout, "lost_update");
    let from = b6.from.unwrap();
    assert!(
        from.ends_with("replayed by schedule (the shrunk schedule no longer applies)"),
        "{from}"
    );
    assert_eq!(b6.schedule, b.schedule);

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
    // "task 9 runs": never runnable
    let stale =
        text_with_shrunk(&fixture, &shrunk, "detest1:JA").replace(&b.schedule, "detest1:JA");
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
    assert_eq!(entries[1].shrunk_schedule, shrunk);
}

#[test]
fn a_weak_read_failure_is_saved_and_replays_exactly_from_its_fixture() {
    let regs = scratch("weak");
    let fixture = regs.join("test/weak/relaxed_flag.toml");
    let args = ["--test", "weak", "--", "relaxed_flag", "--exact"];
    let first = cargo_test(&args, &[], &regs);
    assert!(!first.success, "{}", first.all());
    let b = block(&first.stdout, "relaxed_flag");
    let shrunk = b.shrunk.clone().expect("a shrunk schedule");
    // The shrunk run still reads the stale value, and its timeline shows it.
    assert!(
        b.timeline.iter().any(|l| l.contains("→ 0")),
        "{:#?}",
        b.timeline
    );
    let entries = fixture_entries(&fixture);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].shrunk_schedule, shrunk);

    // With no new seeds, the entry replays by its shrunk schedule and fails the same way.
    let replay = cargo_test(&args, &[("DETEST_SEEDS", "0")], &regs);
    assert!(!replay.success);
    let b2 = block(&replay.stdout, "relaxed_flag");
    assert!(b2.from.unwrap().ends_with("replayed by shrunk schedule"));
    assert_eq!(b2.schedule, shrunk);
    assert_eq!(b2.timeline, b.timeline, "the same execution, step for step");
    assert!(replay.stdout.contains("stale data behind the flag"));

    // The printed schedule replays exactly too.
    let by_schedule = cargo_test(
        &args,
        &[("DETEST_REPLAY", &b.schedule), ("DETEST_FIXTURES", "off")],
        &regs,
    );
    assert!(!by_schedule.success);
    assert_eq!(
        block(&by_schedule.stdout, "relaxed_flag").schedule,
        b.schedule
    );

    // Under the SeqCst model no load reads a stale value: the sweep passes.
    let sc = cargo_test(
        &args,
        &[("DETEST_MEMORY_MODEL", "sc"), ("DETEST_FIXTURES", "off")],
        &regs,
    );
    assert!(sc.success, "{}", sc.all());
}

/// The fixture file with its shrunk schedule `from` replaced by `to`.
/// The fixture crate's `lost_update` (tests/fixtures/buggy/tests/races.rs), operation for
/// operation: a schedule depends only on the operations, not on where they are written.
fn lost_update() {
    use detest::sync::atomic::{AtomicUsize, Ordering};
    use detest::sync::Arc;
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let t = detest::thread::spawn(move || {
        let v = n2.load(Ordering::SeqCst);
        n2.store(v + 1, Ordering::SeqCst);
    });
    let v = n.load(Ordering::SeqCst);
    n.store(v + 1, Ordering::SeqCst);
    t.join().unwrap();
    assert_eq!(n.load(Ordering::SeqCst), 2, "lost update");
}

/// The first chaos seed (not a fixed execution) at which `lost_update` fails.
fn first_failing_chaos_seed_of_lost_update() -> u64 {
    let config = detest::Config::new().policy(detest::Policy::Chaos);
    let estimate = config.estimate_choices(&lost_update);
    (0..500)
        .find(|&seed| {
            config
                .run_seed_with_estimate(seed, estimate, &lost_update)
                .failure
                .is_some()
        })
        .expect("lost_update fails")
}

fn text_with_shrunk(fixture: &Path, from: &str, to: &str) -> String {
    std::fs::read_to_string(fixture).unwrap().replace(
        &format!("shrunk_schedule = \"{from}\""),
        &format!("shrunk_schedule = \"{to}\""),
    )
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
    assert!(!regs.join("test/races").exists());
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
    let fixture = regs.join("test/races/always_fails.toml");
    let seeds: BTreeSet<u64> = fixture_entries(&fixture).iter().map(|e| e.seed).collect();
    assert_eq!(seeds, BTreeSet::from([1, 2, 3, 4]));
    // A fixtures-only pass resumed at entry 2 (after a crash) replays entries 2 and 3 only.
    let only = regs.join("only.jsonl");
    let out = races_bin(
        &["always_fails", "--exact"],
        &[
            ("DETEST_RESULTS", only.to_str().unwrap()),
            ("DETEST_FIXTURES", "only"),
            ("DETEST_FIXTURE_START", "2"),
        ],
        &regs,
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    let tags: Vec<String> = json_lines(&only)
        .iter()
        .filter(|l| l["event"] == "result")
        .map(|l| l["fixture"].as_str().unwrap().to_owned())
        .collect();
    let file = fixture.display();
    assert_eq!(tags, vec![format!("{file}:2"), format!("{file}:3")]);
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
        out.contains("detest: found the expected deadlock in the fixed rotate execution: "),
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
    assert!(!regs.join("test/races").exists());

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
    let fixture = regs.join("test/races/passing.toml");
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
        .join("lib/detest_fixture_buggy/tests/lib_always_fails.toml")
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
    let entries = fixture_entries(&regs.join("test/races/spins_forever.toml"));
    assert_eq!(entries.len(), 1);
    assert_eq!((entries[0].seed, entries[0].kind.as_str()), (0, "hang"));
    assert_eq!(entries[0].schedule, "");
}

/// The lines of a results (or announce) file, without `progress` lines: a worker writes those
/// when its stream has been quiet for a while, so how many there are depends on the machine.
fn json_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .filter(|v| v["event"] != "progress")
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
            "lost_update_unshrunk",
            "passing",
            "reads_the_real_clock",
            // #[ignore]d, yet announced: tests announce as the binary loads (cargo detest
            // knows ignored tests from `--list --ignored`).
            "spins_forever",
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
        "fixture_file": regs.join("test/races/lost_update.toml").display().to_string(),
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

/// `--list` with `DETEST_ANNOUNCE` set: every detest test announces itself exactly once as the
/// binary loads, and no test runs (nothing is listed as run, no fixture is written).
#[test]
fn announce_at_load_lists_every_detest_test_once_and_runs_none() {
    let regs = scratch("announce-at-load");
    let file = regs.join("announce.jsonl");
    let out = races_bin(
        &["--list", "--format", "terse"],
        &[("DETEST_ANNOUNCE", file.to_str().unwrap())],
        &regs,
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<String> = json_lines(&file)
        .iter()
        .map(|l| l["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    let listed: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(str::to_string)
        .collect();
    assert!(!names.is_empty());
    let mut deduped = names.clone();
    deduped.dedup();
    assert_eq!(names, deduped, "a test announced twice");
    for n in &names {
        assert!(
            listed.contains(n),
            "{n} announced but not listed: {listed:?}"
        );
    }
    // Nothing ran: always_fails would have saved a fixture.
    let fixtures: Vec<PathBuf> = files_under(&regs)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    assert_eq!(fixtures, Vec::<PathBuf>::new(), "a test ran while listing");
}

#[test]
fn worker_streams_one_line_per_seed_and_stops_at_a_failure() {
    // The failure plain `cargo test` finds is the sweep's fixed `rotate` execution...
    let fixed_regs = scratch("worker-fixed");
    let sweep = cargo_test(
        &["--test", "races", "--", "lost_update", "--exact"],
        &[("DETEST_FIXTURES", "off")],
        &fixed_regs,
    );
    let fixed = block(&sweep.stdout, "lost_update");
    assert_eq!((fixed.seed, fixed.policy.as_str()), (0, "rotate"));
    // ...which a worker checks only in the chunk that begins the sweep (DETEST_FIXED_RUNS=1),
    // each fixed execution with a start line of its own (and a result line when it fails).
    let results = fixed_regs.join("results.jsonl");
    let out = races_bin(
        &["lost_update", "--exact"],
        &[
            ("DETEST_RESULTS", results.to_str().unwrap()),
            ("DETEST_SEED_START", "0"),
            ("DETEST_SEEDS", "500"),
            ("DETEST_FIXED_RUNS", "1"),
        ],
        &fixed_regs,
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    let lines = json_lines(&results);
    assert_eq!(lines.len(), 3, "{lines:#?}");
    for (line, policy) in lines.iter().zip(["round-robin", "rotate"]) {
        assert_eq!(
            line,
            &serde_json::json!({"event": "start", "seed": 0, "policy": policy})
        );
    }
    assert_eq!(
        (
            &lines[2]["seed"],
            &lines[2]["status"],
            &lines[2]["failure"]["policy"],
            &lines[2]["failure"]["schedule"]
        ),
        (
            &serde_json::json!(0),
            &serde_json::json!("fail"),
            &serde_json::json!("rotate"),
            &serde_json::json!(fixed.schedule)
        )
    );

    // Any other chunk runs chaos seeds only: a pass line for each seed before the first failing
    // one, whose failure is the one plain `cargo test` shows for that seed alone.
    let regs = scratch("worker");
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
    let n = lines.len() / 2;
    assert!(n >= 1, "{lines:#?}");
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
    // The first chaos seed that fails, computed in-process on the same program.
    assert_eq!(n as u64 - 1, first_failing_chaos_seed_of_lost_update());
    let seed = (n - 1).to_string();
    let alone = cargo_test(
        &["--test", "races", "--", "lost_update", "--exact"],
        &[("DETEST_FIXTURES", "off"), ("DETEST_SEED", &seed)],
        &scratch("worker-alone"),
    );
    let expected = block(&alone.stdout, "lost_update");
    assert_eq!(
        (expected.seed, expected.policy.as_str()),
        (n as u64 - 1, "chaos")
    );
    assert_eq!(last["status"], "fail");
    assert_eq!(last["failure"]["kind"], "panic");
    assert_eq!(last["failure"]["policy"], "chaos");
    assert_eq!(last["failure"]["schedule"], expected.schedule.as_str());
    let fixture = regs.join("test/races/lost_update.toml");
    assert_eq!(last["saved"], format!("{}:0", fixture.display()));
    // The failing line carries the shrunk schedule (also saved in the entry) and its trace.
    let shrunk = &last["shrunk"];
    let saved_shrunk = fixture_entries(&fixture)[0].shrunk_schedule.clone();
    assert_eq!(shrunk["schedule"], saved_shrunk.as_str());
    assert_eq!(shrunk["preemptions_after"], 1);
    assert!(shrunk["steps_after"].as_u64().unwrap() <= shrunk["steps_before"].as_u64().unwrap());
    assert!(shrunk["preemptions_before"].as_u64().unwrap() >= 1);
    assert!(shrunk["summary"].as_str().unwrap().starts_with("shrunk "));
    let trace = last["trace"].as_array().unwrap();
    assert_eq!(
        trace.last().unwrap()["step"].as_u64(),
        shrunk["steps_after"].as_u64()
    );
    assert!(trace
        .iter()
        .all(|e| e["op"].is_string() && e["task"].is_u64()));
    assert!(trace.iter().any(|e| e["preempted_by"].is_u64()));
    assert!(lines[..2 * n - 1]
        .iter()
        .filter(|l| l["event"] == "result")
        .all(|l| l["status"] == "pass" && l["failure"].is_null() && l["shrunk"].is_null()));

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
    assert_eq!(lines[1]["replayed"], "shrunk_schedule");
    assert_eq!(lines[1]["failure"]["schedule"], saved_shrunk.as_str());
    assert!(!lines[1]["trace"].as_array().unwrap().is_empty());

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
    let entries = fixture_entries(&regs.join("test/races/spins_forever.toml"));
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
    let fixture = regs.join("test/races/passing.toml");
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

#[test]
fn shrinking_can_be_turned_off_and_run_on_demand() {
    let regs = scratch("no-shrink");
    // `shrink = false` in the attribute...
    let off = cargo_test(
        &["--test", "races", "--", "lost_update_unshrunk", "--exact"],
        &[],
        &regs,
    );
    assert!(!off.success);
    let b = block(&off.stdout, "lost_update_unshrunk");
    assert!(b.summary.is_none() && b.shrunk.is_none(), "{}", off.stdout);
    assert!(
        off.stdout.contains("shrink:   off (shrink = false)"),
        "{}",
        off.stdout
    );
    assert_eq!(b.commands.len(), 2);
    let fixture = regs.join("test/races/lost_update_unshrunk.toml");
    let entries = fixture_entries(&fixture);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].shrunk_schedule, "");
    // ...or DETEST_NO_SHRINK for one run.
    let env_off = cargo_test(
        &["--test", "races", "--", "lost_update", "--exact"],
        &[("DETEST_NO_SHRINK", "1")],
        &regs,
    );
    assert!(!env_off.success);
    assert!(block(&env_off.stdout, "lost_update").summary.is_none());
    assert!(env_off.stdout.contains("shrink:   off (DETEST_NO_SHRINK)"));
    assert_eq!(
        fixture_entries(&regs.join("test/races/lost_update.toml"))[0].shrunk_schedule,
        ""
    );

    // DETEST_MINIMIZE shrinks the seed anyway, prints the summary and the shrunk schedule, fails,
    // and stores the shrunk schedule in the entry saved earlier.
    // (The failure is a fixed execution of the sweep, seed 0 of `rotate`: the policy goes along.)
    let seed = b.seed.to_string();
    let min: Run = races_bin(
        &["lost_update_unshrunk", "--exact"],
        &[
            ("DETEST_MINIMIZE", "1"),
            ("DETEST_SEED", &seed),
            ("DETEST_POLICY", &b.policy),
        ],
        &regs,
    )
    .output()
    .unwrap()
    .into();
    assert!(!min.success, "{}", min.all());
    let out = min.all();
    let summary = out
        .lines()
        .find(|l| l.starts_with("detest: minimized `lost_update_unshrunk`"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(summary.contains(" → 1 preemption in "), "{summary}");
    let entries = fixture_entries(&fixture);
    assert_eq!(entries.len(), 1);
    assert!(entries[0].shrunk_schedule.starts_with("detest1:"));
    assert!(
        out.contains(&format!(
            "detest: shrunk schedule: {}",
            entries[0].shrunk_schedule
        )),
        "{out}"
    );
    let m = block(&out, "lost_update_unshrunk");
    assert_eq!(
        m.shrunk.as_deref(),
        Some(entries[0].shrunk_schedule.as_str())
    );
    assert!(m.timeline.iter().any(|l| l.trim_start().starts_with("!!")));

    // The same on a saved entry, by DETEST_FIXTURE; a passing seed has nothing to shrink.
    let id = format!("{}:0", fixture.display());
    let by_fixture: Run = races_bin(
        &["lost_update_unshrunk", "--exact"],
        &[("DETEST_MINIMIZE", "1"), ("DETEST_FIXTURE", &id)],
        &regs,
    )
    .output()
    .unwrap()
    .into();
    assert!(!by_fixture.success);
    assert!(by_fixture
        .all()
        .contains("detest: minimized `lost_update_unshrunk`"));
    let pass: Run = races_bin(
        &["passing", "--exact", "--nocapture"],
        &[("DETEST_MINIMIZE", "1"), ("DETEST_SEED", "0")],
        &regs,
    )
    .output()
    .unwrap()
    .into();
    assert!(pass.success, "{}", pass.all());
    assert!(pass.stdout.contains("nothing to shrink"), "{}", pass.stdout);
}

#[test]
fn determinism_check_names_the_real_clock_and_passes_correct_tests() {
    let regs = scratch("determinism");
    let bad = cargo_test(
        &["--test", "races", "--", "reads_the_real_clock", "--exact"],
        &[("DETEST_CHECK_DETERMINISM", "20")],
        &regs,
    );
    assert!(!bad.success);
    let out = bad.all();
    assert!(out.contains("NONDETERMINISTIC over 20 runs"), "{out}");
    assert!(out.contains("first divergence at step"), "{out}");
    assert!(out.contains("it reads the real clock (std::time)"), "{out}");
    assert!(
        out.contains("detest: test `reads_the_real_clock` is NOT deterministic"),
        "{out}"
    );
    // It writes no fixture.
    assert!(!regs.join("test/races").exists());

    let good: Run = races_bin(
        &["passing", "--exact", "--nocapture"],
        &[("DETEST_CHECK_DETERMINISM", "20")],
        &regs,
    )
    .output()
    .unwrap()
    .into();
    assert!(good.success, "{}", good.all());
    assert!(
        good.stdout
            .contains("detest: test `passing` is deterministic: 10 seeds (0..10), 20 runs each"),
        "{}",
        good.stdout
    );

    // As a worker: one line per seed, with the histogram.
    let results = regs.join("det.jsonl");
    let out = races_bin(
        &["reads_the_real_clock", "--exact"],
        &[
            ("DETEST_CHECK_DETERMINISM", "20"),
            ("DETEST_RESULTS", results.to_str().unwrap()),
        ],
        &regs,
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    let lines: Vec<Value> = json_lines(&results)
        .into_iter()
        .filter(|l| l["event"] == "determinism")
        .collect();
    assert_eq!(lines.len(), 2);
    for (seed, l) in lines.iter().enumerate() {
        assert_eq!(l["seed"], seed);
        assert_eq!(l["runs"], 20);
        assert_eq!(l["deterministic"], false);
        let histogram = l["histogram"].as_array().unwrap();
        assert!(histogram.len() >= 2);
        let total: u64 = histogram.iter().map(|h| h[1].as_u64().unwrap()).sum();
        assert_eq!(total, 20);
        assert!(histogram.iter().all(|h| h[0].as_str().unwrap().len() == 16));
        assert!(l["divergence"]["likely_cause"]
            .as_str()
            .unwrap()
            .contains("real clock"));
        assert!(l["divergence"]["step"].is_u64());
    }
}

#[test]
fn json_traces_parse_between_markers() {
    let regs = scratch("json-trace");
    let run = cargo_test(
        &["--test", "races", "--", "lost_update", "--exact"],
        &[("DETEST_TRACE", "json"), ("DETEST_FIXTURES", "off")],
        &regs,
    );
    assert!(!run.success);
    let blocks = json_trace_blocks(&run.stdout);
    assert_eq!(blocks.len(), 1, "{}", run.stdout);
    let steps: Vec<u64> = blocks[0]
        .iter()
        .map(|e| e["step"].as_u64().unwrap())
        .collect();
    assert!(!steps.is_empty() && steps.windows(2).all(|w| w[0] <= w[1]));
    assert!(blocks[0].iter().all(|e| e["op"].is_string()));
    // The report leaves the timeline out then.
    assert!(block(&run.stdout, "lost_update").timeline.is_empty());

    // A single passing seed prints its trace the same way; DETEST_TRACE=1 prints a timeline.
    let pass: Run = races_bin(
        &["passing", "--exact", "--nocapture"],
        &[("DETEST_TRACE", "json"), ("DETEST_SEED", "3")],
        &regs,
    )
    .output()
    .unwrap()
    .into();
    assert!(pass.success);
    let blocks = json_trace_blocks(&pass.stdout);
    assert_eq!(blocks.len(), 1);
    assert!(blocks[0].iter().any(|e| e["op"] == "spawn"));
    let timeline: Run = races_bin(
        &["passing", "--exact", "--nocapture"],
        &[("DETEST_TRACE", "1"), ("DETEST_SEED", "3")],
        &regs,
    )
    .output()
    .unwrap()
    .into();
    assert!(
        timeline.stdout.contains("| task 0") && timeline.stdout.contains("| task 1"),
        "{}",
        timeline.stdout
    );
}

/// The JSON lines between `--- detest trace (json) ---` and `--- end trace ---`, per block.
fn json_trace_blocks(output: &str) -> Vec<Vec<Value>> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<Value>> = None;
    for line in output.lines() {
        match (line, &mut current) {
            ("--- detest trace (json) ---", None) => current = Some(Vec::new()),
            ("--- end trace ---", Some(_)) => blocks.push(current.take().unwrap()),
            (l, Some(events)) => events
                .push(serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}"))),
            _ => {}
        }
    }
    assert!(current.is_none(), "unterminated trace block");
    blocks
}

/// `cargo test --test core_seeds <test>` with `env`.
fn core_seeds(test: &str, env: &[(&str, &str)], regressions: &Path) -> Run {
    cargo_test(
        &["--test", "core_seeds", test, "--", "--exact", "--nocapture"],
        env,
        regressions,
    )
}

#[test]
fn core_the_top_seed_runs_from_the_attribute_and_the_environment() {
    let reg = scratch("core-top-seed");
    // `seed = u64::MAX` with `expect = "panic"`: passes only when that seed ran.
    let run = core_seeds("pinned_top_seed_runs", &[], &reg);
    assert!(run.success, "{}", run.all());
    assert!(
        run.all().contains("found the expected panic"),
        "{}",
        run.all()
    );

    let top = u64::MAX.to_string();
    let run = core_seeds("fails_at_the_top_seed", &[("DETEST_SEED", &top)], &reg);
    assert!(!run.success, "{}", run.all());
    assert!(run.all().contains("ran the top seed"), "{}", run.all());

    // Six seeds up to and including the top one.
    let run = core_seeds(
        "fails_at_the_top_seed",
        &[
            ("DETEST_SEED_START", "18446744073709551610"),
            ("DETEST_SEEDS", "6"),
            ("DETEST_FIXTURES", "off"),
        ],
        &reg,
    );
    assert!(!run.success, "{}", run.all());
    assert!(run.all().contains("ran the top seed"), "{}", run.all());
}

#[test]
fn core_a_seed_range_past_the_top_fails_naming_the_variables() {
    let reg = scratch("core-past-top");
    let run = core_seeds(
        "fails_at_the_top_seed",
        &[
            ("DETEST_SEED_START", "18446744073709551610"),
            ("DETEST_SEEDS", "10"),
        ],
        &reg,
    );
    assert!(!run.success, "{}", run.all());
    assert!(
        run.stderr.contains(
            "invalid environment: DETEST_SEED_START=18446744073709551610 with DETEST_SEEDS=10"
        ) && run.stderr.contains("at most 6 seeds"),
        "{}",
        run.all()
    );
    assert!(
        !run.all().contains("ran the top seed"),
        "nothing runs: {}",
        run.all()
    );
    // The count from the attribute (`seeds = 10`) is named as such.
    let run = core_seeds(
        "fails_at_the_top_seed",
        &[("DETEST_SEED_START", "18446744073709551610")],
        &reg,
    );
    assert!(!run.success, "{}", run.all());
    assert!(
        run.stderr
            .contains("DETEST_SEED_START=18446744073709551610 with the attribute's seeds = 10"),
        "{}",
        run.all()
    );
}

// ---- The fixture store (tests/fixtures/buggy/tests/trust_fixtures.rs) ----

fn trust_test(name: &str, env: &[(&str, &str)], regs: &Path) -> Run {
    cargo_test(
        &["--test", "trust_fixtures", "--", name, "--exact"],
        env,
        regs,
    )
}

#[test]
fn distinct_failing_seeds_are_each_saved_and_an_explicit_seed_runs_alone() {
    let regs = scratch("two-seeds");
    let fixture = regs.join("test/trust_fixtures/two_bad_seeds.toml");
    let first = trust_test("two_bad_seeds", &[], &regs);
    assert!(!first.success, "{}", first.all());
    assert_eq!(block(&first.stdout, "two_bad_seeds").seed, 37);
    // `DETEST_SEED=70` runs seed 70, not the saved seed 37 first; and seed 70 has the same
    // schedule as seed 37 but is another run: it gets an entry of its own.
    let second = trust_test("two_bad_seeds", &[("DETEST_SEED", "70")], &regs);
    assert!(!second.success, "{}", second.all());
    assert_eq!(block(&second.stdout, "two_bad_seeds").seed, 70);
    assert!(
        !second.all().contains("replaying fixture"),
        "{}",
        second.all()
    );
    let seeds: Vec<u64> = fixture_entries(&fixture).iter().map(|e| e.seed).collect();
    assert_eq!(seeds, vec![37, 70]);
    // A passing explicit seed passes, whatever the fixtures hold.
    let alone = trust_test("two_bad_seeds", &[("DETEST_SEED", "5")], &regs);
    assert!(alone.success, "{}", alone.all());
    // `DETEST_REPLAY` and `DETEST_FIXTURE` run only what they name, too.
    let schedule = fixture_entries(&fixture)[0].schedule.clone();
    let replay = trust_test(
        "two_bad_seeds",
        &[("DETEST_REPLAY", &schedule), ("DETEST_SEED", "5")],
        &regs,
    );
    assert!(replay.success, "{}", replay.all());
    assert!(
        !replay.all().contains("replaying fixture"),
        "{}",
        replay.all()
    );
    let id = format!("{}:1", fixture.display());
    let one = trust_test("two_bad_seeds", &[("DETEST_FIXTURE", &id)], &regs);
    assert!(!one.success, "{}", one.all());
    assert_eq!(block(&one.stdout, "two_bad_seeds").seed, 70);
    assert!(
        one.stderr.contains(&format!("replaying fixture {id} ")) && !one.stderr.contains(":0 ("),
        "{}",
        one.all()
    );
    // Without one, the saved entries replay first (in order) and the first fails the test.
    let replay = trust_test("two_bad_seeds", &[], &regs);
    assert!(!replay.success, "{}", replay.all());
    assert!(
        replay.stderr.contains(&format!(
            "detest: replaying fixture {}:0 (panic at seed 37, policy round-robin) by",
            fixture.display()
        )),
        "{}",
        replay.all()
    );
}

#[test]
fn a_fixture_entry_that_kills_the_process_is_named_before_it_runs() {
    let regs = scratch("crash-entry");
    let fixture = regs.join("test/trust_fixtures/aborts_on_a_far_seed.toml");
    std::fs::create_dir_all(fixture.parent().unwrap()).unwrap();
    std::fs::write(
        &fixture,
        "[[failure]]\nseed = 1000000\npolicy = \"round-robin\"\nkind = \"crash\"\n\
         message = \"the worker died (SIGABRT)\"\nschedule = \"\"\n",
    )
    .unwrap();
    let run = trust_test("aborts_on_a_far_seed", &[], &regs);
    assert!(!run.success, "{}", run.all());
    assert!(
        run.stderr.contains(&format!(
            "detest: replaying fixture {}:0 (crash at seed 1000000, policy round-robin) by seed \
             (no schedule was saved)",
            fixture.display()
        )),
        "{}",
        run.all()
    );
}

#[test]
fn a_bin_does_not_replay_the_fixtures_of_a_lib_with_its_name() {
    let regs = scratch("lib-and-bin");
    let lib = cargo_test(
        &["--lib", "--", "tests::lib_always_fails", "--exact"],
        &[],
        &regs,
    );
    assert!(!lib.success, "{}", lib.all());
    let lib_file = regs.join("lib/detest_fixture_buggy/tests/lib_always_fails.toml");
    assert_eq!(fixture_entries(&lib_file).len(), 1);
    let bin = cargo_test(
        &[
            "--bin",
            "detest_fixture_buggy",
            "--",
            "tests::lib_always_fails",
            "--exact",
        ],
        &[],
        &regs,
    );
    assert!(bin.success, "{}", bin.all());
    assert!(!bin.all().contains("replaying fixture"), "{}", bin.all());
    assert!(!regs.join("bin").exists());
}

#[test]
fn an_example_and_a_bin_of_one_name_keep_separate_fixtures_and_commands() {
    let regs = scratch("example-and-bin");
    let test = ["--", "tests::lib_always_fails", "--exact"];
    let example = cargo_test(
        &[&["--example", "detest_fixture_buggy"][..], &test].concat(),
        &[],
        &regs,
    );
    assert!(!example.success, "{}", example.all());
    assert!(
        example.all().contains("the example fails"),
        "{}",
        example.all()
    );
    let example_file = regs.join("example/detest_fixture_buggy/tests/lib_always_fails.toml");
    assert_eq!(fixture_entries(&example_file).len(), 1, "{}", example.all());
    // Every printed command selects the example, and pasted, reruns the example's failure.
    let output = example.all();
    let commands: Vec<&str> = output
        .lines()
        .map(str::trim)
        .filter(|l| l.contains("cargo test ") || l.contains("cargo detest "))
        .collect();
    assert!(!commands.is_empty(), "{output}");
    for command in &commands {
        assert!(
            command.contains("--example detest_fixture_buggy") && !command.contains("--bin"),
            "{command}\n{}",
            example.all()
        );
    }
    let plain = commands
        .iter()
        .find(|c| c.contains("DETEST_SEED=") && c.contains("cargo test "))
        .expect("a cargo test command");
    let plain = &plain[plain.find("DETEST_SEED=").unwrap()..];
    let rerun = run_printed(plain, &[], &regs);
    assert!(
        !rerun.success && rerun.all().contains("the example fails"),
        "{plain}\n{}",
        rerun.all()
    );
    // The bin's test of that path passes and replays nothing of the example's.
    let bin = cargo_test(
        &[&["--bin", "detest_fixture_buggy"][..], &test].concat(),
        &[],
        &regs,
    );
    assert!(bin.success, "{}", bin.all());
    assert!(!bin.all().contains("replaying fixture"), "{}", bin.all());
    assert!(!regs.join("bin").exists());
}

#[test]
fn a_fixture_file_at_the_old_place_is_not_replayed_but_warned_about() {
    let regs = scratch("legacy-place");
    // Where fixtures were before paths were keyed by target kind.
    let old = regs.join("trust_fixtures/aborts_on_a_far_seed.toml");
    std::fs::create_dir_all(old.parent().unwrap()).unwrap();
    std::fs::write(
        &old,
        "[[failure]]\nseed = 1000000\npolicy = \"round-robin\"\nkind = \"crash\"\n",
    )
    .unwrap();
    let run = trust_test("aborts_on_a_far_seed", &[], &regs);
    assert!(run.success, "{}", run.all());
    let new = regs.join("test/trust_fixtures/aborts_on_a_far_seed.toml");
    assert!(
        run.stderr.contains(&format!(
            "detest: warning: {} is where detest kept fixtures before",
            old.display()
        )) && run
            .stderr
            .contains(&format!("Move it to {}", new.display())),
        "{}",
        run.all()
    );
}

#[test]
fn no_seeds_is_said_past_the_capture_of_a_passing_test() {
    let regs = scratch("no-seeds");
    let run = cargo_test(
        &["--test", "races", "--", "passing", "--exact"],
        &[("DETEST_SEEDS", "0")],
        &regs,
    );
    assert!(run.success, "{}", run.all());
    assert!(
        run.all().contains(
            "detest: `passing` ran no seeds (DETEST_SEEDS=0): only its saved fixtures replayed"
        ),
        "{}",
        run.all()
    );
}

/// Every file below `dir` (none when it does not exist): a negative check that does not depend
/// on where a fixture would be written.
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
