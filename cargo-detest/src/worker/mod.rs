//! Runs one test binary as a worker over a seed range, with a watchdog, and attributes crashes
//! and hangs to the seed in flight.

mod live;

use crate::plan::SeedRange;
use crate::proc;
use crate::protocol::{
    self, DeterminismResult, FeedChunk, SeedResult, Status, TraceStep, WireFailure,
};
pub use live::{base_command, WorkerPool};
use live::{run_session, Begin, End, InFlight, Reported};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What `DETEST_FIXTURES` tells the worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixturesMode {
    /// Save each failing seed (workers never replay fixtures; an `Only` worker does that).
    Save,
    /// Save nothing (`--fixtures read`).
    Read,
    /// Neither replay nor save (`--no-fixtures`).
    Off,
    /// Replay the saved fixtures and nothing else.
    Only,
}

impl FixturesMode {
    pub fn as_env(self) -> &'static str {
        match self {
            FixturesMode::Save => "on",
            FixturesMode::Read => "read",
            FixturesMode::Off => "off",
            FixturesMode::Only => "only",
        }
    }
}

/// How to start a worker for one test.
#[derive(Clone, Debug)]
pub struct WorkerCommand {
    pub program: PathBuf,
    pub cwd: PathBuf,
    pub test: String,
    /// `DETEST_POLICY`, when the command line overrides the declared policy.
    pub policy: Option<String>,
    /// The policy seeds run with, for failures the supervisor reports itself.
    pub label_policy: String,
    pub watchdog: Duration,
    /// More variables for every run (`DETEST_NO_SHRINK`, `DETEST_CHECK_DETERMINISM`).
    pub env: Vec<(String, String)>,
}

impl WorkerCommand {
    /// The plain command that runs one test of a binary from its package root, with no policy
    /// override and no extra variables (discovery, replay, minimize).
    pub fn for_test(test: &crate::model::TestId, watchdog: Duration) -> Self {
        WorkerCommand {
            program: test.binary.path.clone(),
            cwd: test.binary.package_root.clone(),
            test: test.name.clone(),
            policy: None,
            label_policy: String::new(),
            watchdog,
            env: Vec::new(),
        }
    }
}

/// What a worker is asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    Fixtures,
    /// A chunk of seeds; `first`: the chunk begins the test's sweep, so it also checks the
    /// fixed executions PCT and chaos sweeps begin with (seed 0 of round-robin, rotate and
    /// first-release).
    Seeds {
        range: SeedRange,
        fixtures: FixturesMode,
        first: bool,
    },
}

/// A failing seed (or fixture entry) with what the supervisor knows about it.
#[derive(Clone, Debug)]
pub struct Found {
    pub result: SeedResult,
    /// The worker's output while that seed ran (tail).
    pub output: String,
    /// Where it was saved (`path:index`), by the worker or, for crashes and hangs, by us.
    pub saved: Option<String>,
    /// The failing execution's trace: from the result line, or from a traced replay.
    pub trace: Option<Trace>,
}

/// A failure's trace, as structured steps or (from an older runtime) its report's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trace {
    Steps(Vec<TraceStep>),
    Text(String),
}

impl Found {
    /// A failure as a worker reported it, its trace (if it sent one) moved out of the result.
    pub fn new(mut result: SeedResult, output: &str, saved: Option<String>) -> Self {
        let trace = result
            .trace
            .take()
            .filter(|t| !t.is_empty())
            .map(Trace::Steps);
        Found {
            result,
            output: output.to_string(),
            saved,
            trace,
        }
    }

    pub fn failure(&self) -> &WireFailure {
        self.result
            .failure
            .as_ref()
            .expect("a Found always carries a failure")
    }
}

/// The result of one chunk: possibly several worker processes, restarted after failures.
#[derive(Debug, Default)]
pub struct ChunkOutcome {
    pub seeds_run: u64,
    pub steps: u64,
    /// Failures in the order found (which is seed order).
    pub failures: Vec<Found>,
    /// Whether a failure met the stop rule and ended the chunk early.
    pub stopped: bool,
    pub cancelled: bool,
    /// The worker misbehaved in a way no seed explains (bad protocol, exit before any seed).
    pub error: Option<String>,
    /// `DETEST_CHECK_DETERMINISM`: one entry per seed checked.
    pub determinism: Vec<DeterminismResult>,
}

/// Hooks from the sweep into a running chunk.
pub struct Hooks<'a> {
    /// Whether this failure ends the chunk (the first failure of an expected-to-pass test; the
    /// expected outcome of an `expect = ...` test).
    pub stop: &'a dyn Fn(&SeedResult) -> bool,
    /// Saves a crash or hang the worker could not save itself; returns where (`None`: this
    /// test keeps no fixtures), or why it could not.
    pub save: &'a dyn Fn(&SeedResult) -> Result<Option<String>, String>,
    /// Called once per finished seed with its steps (progress).
    pub on_seed: &'a dyn Fn(u64),
    pub cancel: &'a AtomicBool,
    /// The test's idle workers: a seed chunk takes one (or starts one that can be kept), and
    /// gives it back when all its seeds passed. `None`: one process per chunk, as before.
    pub pool: Option<&'a WorkerPool>,
}

/// Runs `job` to completion, restarting the worker after each failing seed that does not stop
/// the chunk, so no state of a failing seed reaches the next one.
pub fn run_chunk(cmd: &WorkerCommand, job: Job, hooks: &Hooks<'_>) -> ChunkOutcome {
    let mut out = ChunkOutcome::default();
    // The seeds of the chunk not run yet (a range, so one ending at u64::MAX works too).
    let (mut rest, mode) = match job {
        Job::Fixtures => (SeedRange::EMPTY, FixturesMode::Only),
        Job::Seeds {
            range, fixtures, ..
        } => (range, fixtures),
    };
    // The chunk that begins a sweep has its first session check the fixed executions.
    let mut fixed_pending = matches!(job, Job::Seeds { first: true, .. });
    // Fixture passes: the entry to start at, and the entry the last crash or hang took down.
    let mut fixture_start: u64 = 0;
    let mut last_crashed_entry: Option<u64> = None;
    loop {
        if hooks.cancel.load(Ordering::SeqCst) {
            out.cancelled = true;
            return out;
        }
        let range = match job {
            Job::Fixtures => None,
            Job::Seeds { .. } => Some(rest),
        };
        let mut last_done: Option<u64> = None;
        let mut last_failed = false;
        let mut any_failed = false;
        let mut fixed_failed = false;
        let mut stop = false;
        let mut env = vec![(protocol::ENV_FIXTURES, mode.as_env().to_string())];
        if let Some(r) = range {
            env.push((protocol::ENV_SEED_START, r.start().to_string()));
            env.push((protocol::ENV_SEEDS, r.count().to_string()));
            if fixed_pending {
                env.push((protocol::ENV_FIXED_RUNS, "1".to_string()));
            }
        }
        let chunk = FeedChunk {
            seed_start: rest.start(),
            seeds: rest.count(),
            fixed_runs: fixed_pending,
        };
        // Only the first session checks them: a restarted one (after a failure or a crash)
        // goes on with the seeds, even when one of them failed.
        fixed_pending = false;
        if job == Job::Fixtures && fixture_start > 0 {
            env.push((protocol::ENV_FIXTURE_START, fixture_start.to_string()));
        }
        // The seed a `determinism` line already counted (a result line may follow it).
        let mut checked: Option<u64> = None;
        let pool = hooks.pool.filter(|_| range.is_some());
        let begin = match pool.and_then(WorkerPool::take) {
            Some(live) => Begin::Feed {
                live,
                chunk,
                env: &env,
            },
            None => Begin::Spawn {
                env: &env,
                feed: pool.is_some(),
            },
        };
        let last_seed = range.and_then(|r| r.last());
        let mut session = run_session(
            cmd,
            begin,
            true,
            last_seed,
            hooks.cancel,
            &mut |event, output| {
                let result = match event {
                    Reported::Determinism(d) => {
                        out.seeds_run += 1;
                        (hooks.on_seed)(0);
                        last_done = Some(d.seed);
                        checked = Some(d.seed);
                        last_failed = !d.deterministic;
                        any_failed |= last_failed;
                        out.determinism.push(d);
                        return;
                    }
                    Reported::Result(r) => r,
                };
                // An older runtime that ignores DETEST_FIXTURE_START replays the entries before it
                // again: they were counted by the session that ran them first.
                if fixture_index(&result.fixture).is_some_and(|i| i < fixture_start) {
                    return;
                }
                if result.fixed.is_some() {
                    // A fixed execution is no seed of the range: it neither counts as one nor
                    // moves the restart point. The worker reports it only when it fails.
                    out.steps += result.steps;
                    if result.status == Status::Fail {
                        fixed_failed = true;
                        any_failed = true;
                        let saved = result.saved.clone();
                        stop |= (hooks.stop)(&result);
                        out.failures.push(Found::new(result, output, saved));
                    }
                    return;
                }
                if checked != Some(result.seed) {
                    out.seeds_run += 1;
                    (hooks.on_seed)(result.steps);
                }
                out.steps += result.steps;
                last_done = Some(result.seed);
                let failed = result.status == Status::Fail;
                last_failed = failed || (checked == Some(result.seed) && last_failed);
                any_failed |= failed;
                if failed {
                    let saved = result.saved.clone();
                    stop |= (hooks.stop)(&result);
                    out.failures.push(Found::new(result, output, saved));
                }
            },
        );
        let in_flight = session.in_flight.clone();
        if let (Some(pool), Some(live)) = (pool, session.idle.take()) {
            // Kept only when it ran the whole chunk (an idle line means every seed passed).
            if range.is_some_and(|r| last_done == r.last()) {
                pool.put(live);
            }
        }
        let problem = match session.end {
            // Every seed reported: below, as a worker that ended after its last seed.
            End::Idle => None,
            End::Cancelled => {
                // Stopped after its last seed reported is no cancelled chunk: all of it ran.
                let all_ran = range.is_some_and(|r| !r.is_empty() && last_done == r.last());
                out.cancelled = !all_ran;
                return out;
            }
            End::SpawnFailed(e) => {
                out.error = Some(format!("could not run {}: {e}", cmd.program.display()));
                return out;
            }
            End::Hung(after) => Some((
                "hang",
                format!(
                    "no result after {} (the watchdog; raise it with --timeout), so the worker's process group was killed",
                    fmt_duration(after)
                ),
            )),
            End::Exited { signal: Some(sig), .. } => Some((
                "crash",
                format!("the process was killed by {}", proc::describe_signal(sig)),
            )),
            End::Exited { code: Some(code), .. } if code != 0 || in_flight.is_some() => Some((
                "crash",
                format!("the process exited with code {code} in the middle of the seed"),
            )),
            End::Exited { .. } => None,
        };
        let attributed = match (problem, &in_flight) {
            (Some(p), Some(_)) => Some(p),
            // Dying after reporting its failing seed is how a worker ends.
            (Some(_), None) if any_failed => None,
            (Some((kind, message)), None) => {
                let what = if kind == "hang" {
                    format!("the worker hung before starting a seed: {message}")
                } else {
                    message.replace(" in the middle of the seed", "")
                        + " before reporting any failing seed"
                };
                out.error = Some(worker_error(&what, &session.output));
                return out;
            }
            (None, _) => None,
        };
        if let (Some((kind, message)), Some(flight)) = (attributed, in_flight) {
            let message = match kind {
                "crash" => with_diagnostic(message, &session.output),
                _ => message,
            };
            {
                let InFlight {
                    seed,
                    fixture,
                    fixed,
                } = flight;
                let result = SeedResult {
                    failure: Some(WireFailure {
                        kind: kind.to_string(),
                        message,
                        location: None,
                        task: None,
                        schedule: String::new(),
                        schedule_len: None,
                        policy: fixed.clone().unwrap_or_else(|| cmd.label_policy.clone()),
                    }),
                    fixture,
                    fixed: fixed.clone(),
                    ..SeedResult::new(seed, Status::Fail)
                };
                if fixed.is_none() {
                    out.seeds_run += 1;
                    (hooks.on_seed)(0);
                } else {
                    fixed_failed = true;
                }
                // A new seed is saved before anything else.
                let mut result = result;
                // A replayed fixture is already saved (the report names it).
                let saved = if result.fixture.is_some() {
                    None
                } else if mode == FixturesMode::Off {
                    result.not_saved = Some(
                        "fixtures are off in this run (--no-fixtures, or a determinism check)"
                            .to_owned(),
                    );
                    None
                } else {
                    match (hooks.save)(&result) {
                        Ok(Some(path)) => Some(path),
                        Ok(None) => {
                            result.not_saved = Some("an expectation test".to_owned());
                            None
                        }
                        Err(e) => {
                            result.not_saved = Some(e);
                            None
                        }
                    }
                };
                stop |= (hooks.stop)(&result);
                let entry = fixture_index(&result.fixture);
                out.failures
                    .push(Found::new(result, &session.output, saved));
                if fixed.is_none() {
                    last_done = Some(seed);
                }
                // A crash or hang in the fixture pass: go on after the entry that caused it,
                // unless the runtime ignored DETEST_FIXTURE_START and went down there again.
                if let Some(i) = entry {
                    // (A fixture pass replays every entry, failing or not.)
                    if job == Job::Fixtures && last_crashed_entry.is_none_or(|c| i > c) {
                        last_crashed_entry = Some(i);
                        out.stopped |= stop;
                        fixture_start = i + 1;
                        continue;
                    }
                }
            }
        }
        if stop {
            out.stopped = true;
            return out;
        }
        // Still true when an earlier session of this fixture pass met the stop rule.
        if out.stopped {
            return out;
        }
        if job == Job::Fixtures {
            return out;
        }
        match last_done {
            // A fixed execution failed (or crashed) before any seed: the seeds from `rest`.
            None if fixed_failed => {}
            Some(seed) if rest.after(seed).is_empty() => return out,
            Some(seed) if last_failed || attributed_restart(&out, seed) => rest = rest.after(seed),
            _ => {
                out.error = Some(worker_error(
                    &format!(
                        "the worker exited after {} of seeds {} without a failure (does the binary speak the detest worker protocol?)",
                        last_done.map_or("none".to_string(), |s| format!("seed {s}")),
                        rest
                    ),
                    &session.output,
                ));
                return out;
            }
        }
    }
}

/// The entry index of a `path:index` fixture id.
fn fixture_index(fixture: &Option<String>) -> Option<u64> {
    fixture.as_deref()?.rsplit_once(':')?.1.parse().ok()
}

fn attributed_restart(out: &ChunkOutcome, seed: u64) -> bool {
    out.failures.last().is_some_and(|f| f.result.seed == seed)
}

/// A crash's message: how the process died, then what the runtime said last before it did
/// (`detest: stack overflow in task 1 … — raise the stack size: …`), when it said anything, so
/// that the headline names the cause and not only the signal.
fn with_diagnostic(how: String, output: &str) -> String {
    match last_diagnostic(output) {
        Some(line) => format!("{how}: {line}"),
        None => how,
    }
}

/// The runtime's last `detest: …` line in a worker's output. Its announcements of what is about
/// to run (`detest: replaying fixture …`) say nothing about why the process died.
fn last_diagnostic(output: &str) -> Option<&str> {
    output
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with("detest: ") && !l.starts_with("detest: replaying "))
}

fn worker_error(what: &str, output: &str) -> String {
    let output = output.trim_end();
    if output.is_empty() {
        what.to_string()
    } else {
        format!("{what}\noutput:\n{output}")
    }
}

pub fn fmt_duration(d: Duration) -> String {
    if d.as_millis() % 1000 == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.3}s", d.as_secs_f64())
    }
}

/// How a test run outside worker mode ended (discovery, plain tests).
#[derive(Debug)]
pub struct PlainOutcome {
    /// `None` when it passed; otherwise why not.
    pub failure: Option<String>,
    pub cancelled: bool,
    pub output: String,
    pub duration: Duration,
}

/// Runs the test once, like `cargo test` would, under the watchdog.
pub fn run_plain(cmd: &WorkerCommand, env: &[(&str, String)], cancel: &AtomicBool) -> PlainOutcome {
    let started = Instant::now();
    let session = run_session(
        cmd,
        Begin::Spawn { env, feed: false },
        false,
        None,
        cancel,
        &mut |_, _| {},
    );
    let failure = match session.end {
        // Exit status 0 is not a pass: `std::process::exit(0)` in the test exits 0 too. Only
        // libtest's own report of the test's end is.
        End::Exited { code: Some(0), .. } if libtest_passed(&session.output) => None,
        End::Exited { code: Some(0), .. } => {
            Some("the process exited with code 0 before the test reported its result".to_string())
        }
        End::Exited {
            signal: Some(sig), ..
        } => Some(format!("killed by {}", proc::describe_signal(sig))),
        End::Exited { code, .. } => Some(format!("exit code {}", code.unwrap_or(-1))),
        End::Hung(after) => Some(format!(
            "no result after {} (the watchdog; raise it with --timeout)",
            fmt_duration(after)
        )),
        End::SpawnFailed(ref e) => Some(format!("could not run {}: {e}", cmd.program.display())),
        End::Cancelled => None,
        End::Idle => Some("an idle line from a test run outside worker mode".to_string()),
    };
    PlainOutcome {
        failure,
        cancelled: matches!(session.end, End::Cancelled),
        output: session.output,
        duration: started.elapsed(),
    }
}

/// Whether libtest reported the one test run with `--exact NAME` as passed: its summary line
/// (`test result: ok. 1 passed; ...`, printed the same in the pretty and terse formats) comes
/// only after the test returned, so a process that exits from inside the test never prints it.
pub fn libtest_passed(output: &str) -> bool {
    output
        .lines()
        .any(|l| l.trim_start().starts_with("test result: ok. 1 passed;"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crash_names_the_runtimes_last_diagnostic() {
        let output = "detest: replaying fixture f.toml:0 (crash at seed 3) by seed\n\
                      running 1 test\n\
                      \n\
                      detest: stack overflow in task 1, on its 8-byte stack — raise it\n\
                      \n";
        assert_eq!(
            with_diagnostic("the process was killed by SIGSEGV".into(), output),
            "the process was killed by SIGSEGV: detest: stack overflow in task 1, on its \
             8-byte stack — raise it"
        );
        // What is about to run is no diagnostic of why the process died.
        let only_announce = "detest: replaying fixture f.toml:0 (crash at seed 3) by seed\n";
        assert_eq!(with_diagnostic("died".into(), only_announce), "died");
        assert_eq!(with_diagnostic("died".into(), ""), "died");
    }
}
