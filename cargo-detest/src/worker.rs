//! Runs one test binary as a worker over a seed range, with a watchdog, and attributes crashes
//! and hangs to the seed in flight.

use crate::plan::SeedRange;
use crate::proc;
use crate::protocol::{
    self, DeterminismResult, SeedResult, Status, TraceStep, WireFailure, WorkerEvent,
};
use std::os::fd::AsRawFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How much of a worker's stdout/stderr to keep for a failure report.
const OUTPUT_TAIL: usize = 32 * 1024;
/// How often a quiet worker is checked for cancellation.
const TICK: Duration = Duration::from_millis(100);
/// The pause after reading a worker's result lines, so the next read gets many at once.
const READ_BATCH: Duration = Duration::from_millis(2);

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
        // Only the first session checks them: a restarted one (after a failure or a crash)
        // goes on with the seeds, even when one of them failed.
        fixed_pending = false;
        if job == Job::Fixtures && fixture_start > 0 {
            env.push((protocol::ENV_FIXTURE_START, fixture_start.to_string()));
        }
        // The seed a `determinism` line already counted (a result line may follow it).
        let mut checked: Option<u64> = None;
        let session = run_session(cmd, &env, true, hooks.cancel, &mut |event, output| {
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
        });
        let in_flight = session.in_flight.clone();
        let problem = match session.end {
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

#[derive(Debug)]
enum End {
    Exited {
        code: Option<i32>,
        signal: Option<i32>,
    },
    Hung(Duration),
    Cancelled,
    SpawnFailed(std::io::Error),
}

/// What a worker reported about one seed.
// Handed on at once, one at a time: boxing the result would buy nothing.
#[allow(clippy::large_enum_variant)]
enum Reported {
    Result(SeedResult),
    Determinism(DeterminismResult),
}

/// The seed (or fixed execution) that started and has no result yet.
#[derive(Clone, Debug)]
struct InFlight {
    seed: u64,
    /// In fixture mode, the entry being replayed.
    fixture: Option<String>,
    /// The policy of a fixed execution.
    fixed: Option<String>,
}

struct Session {
    end: End,
    in_flight: Option<InFlight>,
    /// Output since the last seed started.
    output: String,
}

fn run_session(
    cmd: &WorkerCommand,
    env: &[(&str, String)],
    worker: bool,
    cancel: &AtomicBool,
    on_event: &mut dyn FnMut(Reported, &str),
) -> Session {
    let mut session = Session {
        end: End::Cancelled,
        in_flight: None,
        output: String::new(),
    };
    let (child, results, output) = match spawn(cmd, env, worker) {
        Ok(x) => x,
        Err(e) => {
            session.end = End::SpawnFailed(e);
            return session;
        }
    };
    let mut child = KillOnDrop(child, false);
    let pgid = child.0.id();
    let mut results = Some(results);
    let mut output = Some(output);
    let mut line_buf: Vec<u8> = Vec::new();
    let mut out_buf: Vec<u8> = Vec::new();
    let mut last_event = Instant::now();

    let mut handle_lines = |line_buf: &mut Vec<u8>,
                            out_buf: &mut Vec<u8>,
                            session: &mut Session,
                            last_event: &mut Instant| {
        while let Some(nl) = line_buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = line_buf.drain(..=nl).collect();
            let text = String::from_utf8_lossy(&line);
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            *last_event = Instant::now();
            match serde_json::from_str::<WorkerEvent>(text) {
                Ok(WorkerEvent::Start {
                    seed,
                    fixture,
                    policy,
                }) => {
                    session.in_flight = Some(InFlight {
                        seed,
                        fixture,
                        fixed: policy,
                    });
                    out_buf.clear();
                }
                Ok(WorkerEvent::Result(mut r)) => {
                    if let Some(flight) = &session.in_flight {
                        if r.fixture.is_none() {
                            r.fixture = flight.fixture.clone();
                        }
                        if r.fixed.is_none() {
                            r.fixed = flight.fixed.clone();
                        }
                    }
                    session.in_flight = None;
                    on_event(Reported::Result(r), &String::from_utf8_lossy(out_buf));
                }
                Ok(WorkerEvent::Determinism(d)) => {
                    session.in_flight = None;
                    on_event(Reported::Determinism(d), &String::from_utf8_lossy(out_buf));
                }
                // The worker is alive and working on a failure: `last_event` moved above, so
                // the watchdog judges each execution, not the whole shrinking.
                Ok(WorkerEvent::Progress { .. }) => {}
                Err(e) => {
                    out_buf.extend_from_slice(
                        format!("[cargo-detest: unreadable result line `{text}`: {e}]\n")
                            .as_bytes(),
                    );
                }
            }
        }
    };

    let status = loop {
        if cancel.load(Ordering::SeqCst) {
            proc::kill_group(pgid);
            let _ = child.0.wait();
            child.1 = true;
            session.end = End::Cancelled;
            return session;
        }
        let waited = last_event.elapsed();
        if waited >= cmd.watchdog {
            proc::kill_group(pgid);
            let _ = child.0.wait();
            child.1 = true;
            session.end = End::Hung(cmd.watchdog);
            session.output = tail(&out_buf);
            return session;
        }
        let timeout = (cmd.watchdog - waited).min(TICK);
        let ready = match proc::poll2(results.as_ref(), output.as_ref(), timeout) {
            Ok(r) => r,
            Err(_) => proc::Ready { a: true, b: true },
        };
        if ready.a {
            if let Some(fd) = &results {
                if !proc::read_available(fd, &mut line_buf).unwrap_or(false) {
                    results = None;
                }
            }
            handle_lines(&mut line_buf, &mut out_buf, &mut session, &mut last_event);
            if results.is_some() {
                // Read in batches: woken for every line, this thread and the worker take turns
                // on the CPU twice per seed, which slowed a 20 µs seed by 40%. The lines wait in
                // the pipe meanwhile (a worker that dies leaves them there to read).
                std::thread::sleep(READ_BATCH);
            }
        }
        if ready.b {
            if let Some(fd) = &output {
                if !proc::read_available(fd, &mut out_buf).unwrap_or(false) {
                    output = None;
                }
                trim_front(&mut out_buf);
            }
        }
        if results.is_none() && output.is_none() {
            break child.0.wait();
        }
        // A grandchild may keep the pipes open after the worker itself has gone.
        if let Ok(Some(status)) = child.0.try_wait() {
            if let Some(fd) = &results {
                let _ = proc::read_available(fd, &mut line_buf);
            }
            if let Some(fd) = &output {
                let _ = proc::read_available(fd, &mut out_buf);
            }
            handle_lines(&mut line_buf, &mut out_buf, &mut session, &mut last_event);
            break Ok(status);
        }
    };
    // Whatever the worker left running dies with it.
    proc::kill_group(pgid);
    child.1 = true;
    session.output = tail(&out_buf);
    session.end = match status {
        Ok(s) => End::Exited {
            code: s.code(),
            signal: s.signal(),
        },
        Err(e) => End::SpawnFailed(e),
    };
    session
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
    let session = run_session(cmd, env, false, cancel, &mut |_, _| {});
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

/// Kills and reaps the worker if the supervising thread unwinds.
struct KillOnDrop(Child, bool);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if !self.1 {
            proc::kill_group(self.0.id());
            let _ = self.0.wait();
        }
    }
}

fn spawn(
    cmd: &WorkerCommand,
    env: &[(&str, String)],
    worker: bool,
) -> std::io::Result<(Child, std::os::fd::OwnedFd, std::os::fd::OwnedFd)> {
    let (results_r, results_w) = proc::pipe()?;
    let (output_r, output_w) = proc::pipe()?;
    proc::set_nonblocking(&results_r)?;
    proc::set_nonblocking(&output_r)?;
    let results_fd = results_w.as_raw_fd();
    let mut command = base_command(cmd);
    if worker {
        command.env(protocol::ENV_RESULTS, format!("fd:{results_fd}"));
    }
    command.envs(env.iter().map(|(k, v)| (k, v)));
    command
        .stdin(Stdio::null())
        .stdout(Stdio::from(output_w.try_clone()?))
        .stderr(Stdio::from(output_w))
        // Its own process group: the watchdog kills everything it started, and a Ctrl-C at the
        // terminal reaches cargo-detest (which stops cleanly) rather than every worker.
        .process_group(0);
    // SAFETY: child_setup only makes async-signal-safe calls.
    unsafe {
        command.pre_exec(move || proc::child_setup(results_fd));
    }
    let child = command.spawn()?;
    // The parent's copies of the write ends must close, or EOF never arrives.
    drop(command);
    drop(results_w);
    Ok((child, results_r, output_r))
}

/// `<bin> --exact NAME --nocapture --test-threads=1` from the package root, with any DETEST_*
/// overrides of the parent's own environment removed.
pub fn base_command(cmd: &WorkerCommand) -> Command {
    let mut command = Command::new(&cmd.program);
    command
        .args(["--exact", &cmd.test, "--nocapture", "--test-threads=1"])
        .current_dir(&cmd.cwd);
    for var in protocol::INHERITED_OVERRIDES {
        command.env_remove(var);
    }
    if let Some(p) = &cmd.policy {
        command.env(protocol::ENV_POLICY, p);
    }
    command.envs(cmd.env.iter().map(|(k, v)| (k, v)));
    command
}

fn trim_front(buf: &mut Vec<u8>) {
    if buf.len() > 2 * OUTPUT_TAIL {
        let cut = buf.len() - OUTPUT_TAIL;
        buf.drain(..cut);
    }
}

fn tail(buf: &[u8]) -> String {
    let start = buf.len().saturating_sub(OUTPUT_TAIL);
    String::from_utf8_lossy(&buf[start..]).into_owned()
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
