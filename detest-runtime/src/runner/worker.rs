//! The `cargo detest` side of the runner: announcing a test, and running a seed range as a worker
//! that streams one JSON line per event (see the protocol in the module above).

use super::env::{Env, FixtureMode, ResultsTarget};
use super::replay::{replay_entry, Estimate, How};
use super::sweep::{run_seed, selected_entries, Ctx, Handled, ShrinkMode, Stored};
use super::target::TestInfo;
use super::watchdog::Watchdog;
use super::{fail_test, TestSpec};
use crate::fixture::{FixtureEntry, FixtureFile};
use crate::protocol::{
    self, Announce, DeterminismResult, Divergence, SeedResult, Status, TraceStep, WireFailure,
    WorkerEvent,
};
use crate::trace::TraceEvent;
use crate::{DeterminismReport, Execution, Failure, Shrunk};
use serde::Serialize;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::mem::ManuallyDrop;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

/// Appends the test's description to the announce file.
pub(super) fn announce(path: &Path, spec: &TestSpec, info: &TestInfo, env: &Env) -> io::Result<()> {
    let config = super::config(spec, env);
    let (count, error) = match FixtureFile::load(&info.fixture_path) {
        Ok(file) => (file.entries.len(), None),
        Err(e) => (0, Some(e.to_string())),
    };
    let line = Announce {
        name: info.name.clone(),
        seeds: config.seeds,
        seed_start: config.seed_start,
        policy: config.policy.to_string(),
        expect: spec.expect.as_str().to_owned(),
        expect_message: spec.expect_message.map(str::to_owned),
        max_steps: Some(config.max_steps),
        timeout_ms: spec.timeout_ms,
        fixture_file: Some(info.fixture_path.display().to_string()),
        fixture_count: count as u64,
        fixture_error: error,
        package: Some(info.package.clone()),
        target: Some(info.target.clone()),
        target_kind: Some(info.kind.as_str().to_owned()),
    };
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    write_line(&file, &line)
}

/// One `write` per line: with `O_APPEND`, lines from concurrent writers never interleave.
fn write_line(file: &File, value: &impl Serialize) -> io::Result<()> {
    write_after(file, Vec::new(), value)
}

/// `value`'s line after the lines in `before`, in one `write`.
fn write_after(mut file: &File, mut before: Vec<u8>, value: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut before, value).map_err(io::Error::other)?;
    before.push(b'\n');
    file.write_all(&before)?;
    file.flush()
}

/// The result stream.
pub(super) struct Results {
    // Left open on drop when it is an inherited descriptor the worker does not own.
    file: ManuallyDrop<File>,
    owned: bool,
    /// The seed of the last `start` line, for `progress` lines.
    seed: AtomicU64,
    /// Executions of the body so far (see [`Results::progressing`]).
    executions: AtomicU64,
    /// When the last line was written.
    last_line: Mutex<Instant>,
    /// The result line of the seed that passed last, not written yet: it goes out with the
    /// next line (the next seed's start, the idle line), one `write` and one wake-up of the
    /// supervisor per seed instead of two. Nothing runs between the two lines, so a crash
    /// or hang is still blamed on the seed in flight, whose start line is out first.
    held: Mutex<Vec<u8>>,
}

impl Drop for Results {
    fn drop(&mut self) {
        // Normally written already (see `flush`); a drop must not panic, so errors are let be.
        let _ = (&*self.file).write_all(&self.take_held());
        if self.owned {
            // SAFETY: dropped once, here, and never used again.
            unsafe { ManuallyDrop::drop(&mut self.file) }
        }
    }
}

impl Results {
    pub(super) fn open(target: &ResultsTarget) -> io::Result<Results> {
        match target {
            ResultsTarget::Path(path) => Ok(Results::new(
                OpenOptions::new().create(true).append(true).open(path)?,
                true,
            )),
            #[cfg(unix)]
            ResultsTarget::Fd(fd) => {
                use std::os::unix::io::FromRawFd;
                // SAFETY: `cargo detest` hands this descriptor to the worker for this purpose;
                // it is never closed here.
                let file = unsafe { File::from_raw_fd(*fd) };
                Ok(Results::new(file, false))
            }
            #[cfg(not(unix))]
            ResultsTarget::Fd(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "DETEST_RESULTS=fd:N needs a unix platform; pass a path",
            )),
        }
    }

    fn new(file: File, owned: bool) -> Results {
        Results {
            file: ManuallyDrop::new(file),
            owned,
            seed: AtomicU64::new(0),
            executions: AtomicU64::new(0),
            last_line: Mutex::new(crate::env::real_now()),
            held: Mutex::new(Vec::new()),
        }
    }

    /// `body`, writing a `progress` line as an execution starts when the stream has been quiet
    /// for [`protocol::PROGRESS_INTERVAL`]: shrinking one failure may take far longer than any
    /// execution, and a supervisor watching for silence must see the worker is alive.
    pub(super) fn progressing<'a, F: Fn()>(&'a self, body: &'a F) -> impl Fn() + 'a {
        move || {
            let executions = self.executions.fetch_add(1, Ordering::Relaxed) + 1;
            let last = *self
                .last_line
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            // Real time: this runs inside the execution, where `Instant::now()` is virtual.
            let quiet = crate::env::real_now().saturating_duration_since(last)
                >= protocol::PROGRESS_INTERVAL;
            if quiet {
                self.line(WorkerEvent::Progress {
                    seed: self.seed.load(Ordering::Relaxed),
                    executions,
                });
            }
            body()
        }
    }

    fn line(&self, event: WorkerEvent) {
        *self
            .last_line
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = crate::env::real_now();
        let held = self.take_held();
        if let Err(e) = write_after(&self.file, held, &event) {
            // Without its result stream, a worker's work is lost: stop rather than go on blind.
            fail_test(format!("detest: cannot write to DETEST_RESULTS: {e}"));
        }
    }

    fn take_held(&self) -> Vec<u8> {
        std::mem::take(&mut *self.held.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Writes the held result line, if any (the worker is about to end).
    pub(super) fn flush(&self) {
        let held = self.take_held();
        if !held.is_empty() {
            if let Err(e) = (&*self.file).write_all(&held) {
                fail_test(format!("detest: cannot write to DETEST_RESULTS: {e}"));
            }
        }
    }

    /// The result line of a seed of the sweep that passed, held for the next line.
    pub(super) fn passed(&self, exec: &Execution) {
        let r = result_of(exec, None, None);
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = serde_json::to_writer(&mut *held, &WorkerEvent::Result(r)) {
            fail_test(format!("detest: cannot write to DETEST_RESULTS: {e}"));
        }
        held.push(b'\n');
    }

    pub(super) fn start(&self, seed: u64, fixture: Option<&str>) {
        self.seed.store(seed, Ordering::Relaxed);
        self.line(WorkerEvent::Start {
            seed,
            fixture: fixture.map(str::to_owned),
            policy: None,
        });
    }

    /// The start line of a fixed execution: seed 0 of its own policy.
    pub(super) fn start_fixed(&self, policy: crate::Policy) {
        self.seed.store(0, Ordering::Relaxed);
        self.line(WorkerEvent::Start {
            seed: 0,
            fixture: None,
            policy: Some(policy.to_string()),
        });
    }

    /// The result line of one execution; `handled` is its failure after saving, shrinking and
    /// tracing; `fixture` the entry it replayed and how.
    pub(super) fn result(
        &self,
        exec: &Execution,
        handled: Option<&Handled>,
        fixture: Option<(&str, &How)>,
    ) {
        self.line(WorkerEvent::Result(result_of(exec, handled, fixture)));
    }

    /// One seed of a determinism check.
    pub(super) fn determinism(&self, report: &DeterminismReport) {
        self.line(WorkerEvent::Determinism(DeterminismResult {
            seed: report.seed,
            runs: report.runs.into(),
            histogram: report
                .histogram
                .iter()
                .map(|(hash, count)| (format!("{hash:016x}"), u64::from(*count)))
                .collect(),
            deterministic: report.is_deterministic(),
            divergence: report.divergence.as_ref().map(|d| Divergence {
                step: d.step,
                index: d.index as u64,
                expected: d.expected.clone(),
                actual: d.actual.clone(),
                diff: d.diff.clone(),
                likely_cause: d.likely_cause.clone(),
            }),
        }));
    }

    /// The result line the watchdog writes before it aborts the process.
    /// `saved`: where the entry was written (`path:index`), or why it was not.
    pub(super) fn hang(&self, seed: u64, entry: &FixtureEntry, saved: Result<String, String>) {
        let mut r = SeedResult::new(seed, Status::Fail);
        match saved {
            Ok(at) => r.saved = Some(at),
            Err(why) => r.not_saved = Some(why),
        }
        r.failure = Some(WireFailure {
            kind: entry.kind.clone(),
            message: entry.message.clone(),
            location: None,
            task: None,
            schedule: String::new(),
            schedule_len: None,
            policy: entry.policy.clone(),
        });
        let _ = write_after(&self.file, self.take_held(), &WorkerEvent::Result(r));
    }
}

/// The result line of one execution; `handled` is its failure after saving, shrinking and
/// tracing; `fixture` the entry it replayed and how.
fn result_of(exec: &Execution, handled: Option<&Handled>, fixture: Option<(&str, &How)>) -> SeedResult {
    let failure = handled.map(|h| &h.failure).or(exec.failure.as_ref());
    let trace: &[TraceEvent] = handled.map_or(&exec.trace, Handled::trace);
    let status = if failure.is_some() {
        Status::Fail
    } else {
        Status::Pass
    };
    let mut r = SeedResult::new(exec.seed, status);
    r.steps = exec.steps;
    r.saved = handled
        .and_then(|h| h.saved.as_ref())
        .map(|(path, index)| format!("{}:{index}", path.display()));
    if let (Some(h), None, None) = (handled, &r.saved, fixture) {
        r.not_saved = Some(why_not_saved(&h.fixture_note));
    }
    r.failure = failure.map(wire_failure);
    r.shrunk = handled.and_then(|h| h.shrunk.as_ref()).map(wire_shrunk);
    // Only the tail goes on the wire (a livelock has a million steps); a replay with
    // `DETEST_TRACE=json` gives the whole trace.
    let from = trace.len().saturating_sub(protocol::TRACE_TAIL);
    if !trace.is_empty() {
        r.set_trace(trace_steps(&trace[from..]));
    }
    if from > 0 {
        r.trace_len = Some(trace.len() as u64);
        r.trace_from = Some(from as u64);
    }
    if let Some((id, how)) = fixture {
        r.fixture = Some(id.to_owned());
        r.replayed = Some(how.as_str().to_owned());
    }
    r
}


/// The reason in a report's fixture note (`not saved (DETEST_FIXTURES=off)`, `could not be
/// saved: ...`), without the words around it.
fn why_not_saved(note: &str) -> String {
    let why = note
        .strip_prefix("not saved (")
        .and_then(|w| w.strip_suffix(')'))
        .or_else(|| note.strip_prefix("could not be saved: "))
        .unwrap_or(note);
    if why.is_empty() {
        "the runner did not say why".to_owned()
    } else {
        why.to_owned()
    }
}

fn wire_shrunk(s: &Shrunk) -> protocol::Shrunk {
    let (schedule, schedule_len) = protocol::wire_schedule(s.schedule.encode());
    protocol::Shrunk {
        schedule,
        schedule_len,
        steps_before: s.steps_before,
        steps_after: s.steps_after,
        preemptions_before: s.preemptions_before.into(),
        preemptions_after: s.preemptions_after.into(),
        executions: s.executions,
        complete: s.complete,
        summary: s.summary(),
    }
}

/// The objects of [`crate::trace::to_json_lines`], as steps.
fn trace_steps(events: &[TraceEvent]) -> Vec<TraceStep> {
    crate::trace::to_json_lines(events)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn wire_failure(f: &Failure) -> WireFailure {
    let (schedule, schedule_len) = protocol::wire_schedule(f.schedule.encode());
    WireFailure {
        kind: f.kind.as_str().to_owned(),
        message: f.message.clone(),
        location: f.location.clone(),
        task: f.task.as_ref().map(|t| t.to_string()),
        schedule,
        schedule_len,
        policy: f.policy.clone(),
    }
}

std::thread_local! {
    /// The failure the plain run on this thread reported last, for foreground mode's result
    /// line (which then names its kind and message, as a worker's does).
    static REPORTED: std::cell::RefCell<Option<WireFailure>> = const { std::cell::RefCell::new(None) };
}

/// Notes the failure a plain run is about to report (see [`foreground`]).
pub(super) fn note_reported(f: &Failure) {
    REPORTED.with(|r| *r.borrow_mut() = Some(wire_failure(f)));
}

/// Foreground mode (`DETEST_FOREGROUND=1`): `run` is the plain test; a start line before it
/// and a result line after it (also when it fails) let `cargo detest` tell a finished execution
/// from a process that ended in the middle of one.
pub(super) fn foreground(target: &ResultsTarget, env: &Env, run: impl FnOnce()) {
    let results = match Results::open(target) {
        Ok(r) => r,
        Err(e) => fail_test(format!("detest: cannot open DETEST_RESULTS: {e}")),
    };
    let seed = env.seed.unwrap_or(0);
    let fixture = env
        .fixture
        .as_ref()
        .map(|(path, index)| format!("{}:{index}", path.display()));
    results.start(seed, fixture.as_deref());
    REPORTED.with(|r| r.borrow_mut().take());
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run));
    let failure = REPORTED
        .with(|r| r.borrow_mut().take())
        .filter(|_| outcome.is_err());
    let status = if outcome.is_ok() {
        Status::Pass
    } else {
        Status::Fail
    };
    results.line(WorkerEvent::Result(SeedResult {
        fixture,
        failure,
        ..SeedResult::new(seed, status)
    }));
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Worker mode: exactly the given seeds (or the saved fixtures), one result line each.
pub(super) fn run<F: Fn()>(
    target: &ResultsTarget,
    spec: &TestSpec,
    info: &TestInfo,
    env: &Env,
    body: &F,
) {
    let results = match Results::open(target) {
        Ok(r) => Arc::new(r),
        Err(e) => fail_test(format!("detest: cannot open DETEST_RESULTS: {e}")),
    };
    let mut ctx = Ctx::new(spec, info, env);
    let watchdog = ctx.watchdog(Some(results.clone()));
    let timed = watchdog.timed(body);
    let body = &results.progressing(&timed);
    let mut estimate = Estimate::default();

    if env.fixtures == FixtureMode::Only || env.fixture.is_some() {
        let (path, entries) = selected_entries(&ctx);
        let mut failed = Vec::new();
        for (index, entry) in entries {
            let id = format!("{}:{index}", path.display());
            results.start(entry.seed, Some(&id));
            let (exec, how) = {
                let _running = watchdog.begin(entry.seed);
                replay_entry(&ctx.config, &entry, &mut estimate, body)
            };
            let handled = exec.failure.clone().map(|f| {
                ctx.handle(
                    f,
                    Stored::Not(String::new()),
                    ShrinkMode::Skip(None),
                    &watchdog,
                    body,
                )
            });
            results.result(&exec, handled.as_ref(), Some((&id, &how)));
            if exec.failure.is_some() {
                failed.push(id);
            }
        }
        if !failed.is_empty() {
            fail_test(format!(
                "detest: test `{}`: saved fixture entries fail: {}",
                info.name,
                failed.join(", ")
            ));
        }
        return;
    }

    let mut feed = env.feed.and_then(Feed::open);
    let mut fixed_runs = env.fixed_runs;
    loop {
        let config = &ctx.config;
        let seeds = config.checked_range();
        // The chunk that begins a sweep checks the fixed executions (seed 0 of `round-robin`,
        // `rotate` and `first-release`); the others only take the estimate from them.
        if fixed_runs && ctx.sweeps_fixed_executions() {
            // Each has a start line of its own, so that a crash or hang in it is blamed on it.
            let fixed = {
                let _running = watchdog.begin(0);
                config.fixed_executions_with(body, &mut |policy| {
                    results.start_fixed(policy);
                    watchdog.relabel(0, policy);
                })
            };
            estimate.set(crate::Config::estimate_from(&fixed));
            if let Some(exec) = fixed.into_iter().find(|e| e.failure.is_some()) {
                report_and_exit(&ctx, &results, &watchdog, exec, body);
            }
        }
        for seed in seeds {
            // Written before the estimate probe too, so that a crash in it has a seed to blame.
            results.start(seed, None);
            let exec = run_seed(config, &mut estimate, &watchdog, seed, body);
            if exec.failure.is_none() {
                results.passed(&exec);
                continue;
            }
            report_and_exit(&ctx, &results, &watchdog, exec, body);
        }
        // Every seed passed: with a feed, the same process takes the next chunk (no state of a
        // failing seed can reach it: a failure ends the worker above).
        let Some(next) = feed.as_mut().and_then(|f| f.next(&results)) else {
            results.flush();
            return;
        };
        ctx.config = ctx
            .config
            .clone()
            .seed_start(next.seed_start)
            .seeds(next.seeds);
        fixed_runs = next.fixed_runs;
        // Each chunk measures its estimate afresh, exactly as a new worker would, so what a
        // seed does never depends on which chunks its worker ran before.
        estimate = Estimate::default();
    }
}

/// `DETEST_FEED`: where a worker that finished its chunk reads the next one.
struct Feed(io::BufReader<File>);

impl Feed {
    #[cfg(unix)]
    fn open(fd: i32) -> Option<Feed> {
        use std::os::unix::io::FromRawFd;
        // SAFETY: `cargo detest` hands this descriptor to the worker for this purpose alone.
        Some(Feed(io::BufReader::new(unsafe { File::from_raw_fd(fd) })))
    }

    /// Without descriptors to inherit, a worker ends after its chunk, as without a feed.
    #[cfg(not(unix))]
    fn open(_fd: i32) -> Option<Feed> {
        None
    }

    /// Says the worker is idle, then waits for the next chunk; `None` at end of file (the sweep
    /// needs no more of this worker) or on a line that is no chunk.
    fn next(&mut self, results: &Results) -> Option<protocol::FeedChunk> {
        use std::io::BufRead;
        results.line(WorkerEvent::Idle);
        let mut line = String::new();
        match self.0.read_line(&mut line) {
            Ok(n) if n > 0 => protocol::FeedChunk::parse(&line),
            _ => None,
        }
    }
}

/// A failing execution in a worker: saved first, then shrunk into the same entry, then
/// reported; the worker then ends.
fn report_and_exit<F: Fn()>(
    ctx: &Ctx<'_>,
    results: &Results,
    watchdog: &Watchdog,
    exec: Execution,
    body: &F,
) -> ! {
    let seed = exec.seed;
    let failure = exec.failure.clone().expect("a failing execution");
    let handled = ctx.handle(failure, Stored::New, ShrinkMode::Auto, watchdog, body);
    results.result(&exec, Some(&handled), None);
    fail_test(format!(
        "detest: test `{}` failed at seed {seed} (policy {}): {}{}",
        ctx.info.name,
        handled.failure.policy,
        handled.failure,
        handled
            .shrunk
            .as_ref()
            .map(|s| format!("\n{}", s.summary()))
            .unwrap_or_default()
    ));
}
