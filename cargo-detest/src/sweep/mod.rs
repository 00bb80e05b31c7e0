//! The sweep: a pool of `--jobs` worker slots running discovery probes, fixture replays and seed
//! chunks, and the bookkeeping that turns their outcomes into one verdict per test.
//!
//! Results never depend on `--jobs` or timing: chunk boundaries come from the seed range alone,
//! each chunk stops at its own first failure, and where the sweep stops early (the expected
//! outcome was found, `--fail-fast`) only chunks *above* the deciding one are cancelled, so the
//! lowest failing seed is always the one reported.
//!
//! This file holds the options, the per-test state and the scheduler loop; `units` starts the
//! queued units, `planning` plans a test after discovery, `outcome` folds results into verdicts.

mod incremental;
mod outcome;
mod planning;
mod units;

use crate::discover::{self, Scratch};
use crate::model::{PlainRun, TestId, TestKind, TestReport, Verdict};
use crate::plan::{SeedOverrides, SeedRange, Shard};
use crate::protocol::Announce;
use crate::worker::{Found, WorkerCommand, WorkerPool};
use outcome::{absorb, cancel_chunks_above, finish, test_failed};
use planning::after_probe;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use units::{start_unit, stop_others, trace_unit, Msg, Running, Unit, UnitKind};

/// The watchdog when neither the command line nor the test says otherwise.
pub const DEFAULT_WATCHDOG: Duration = Duration::from_secs(60);
/// Added to a test's declared timeout: the runtime reports its own timeouts at the next
/// scheduling point, the watchdog is for code that never reaches one.
const WATCHDOG_GRACE: Duration = Duration::from_secs(5);

#[derive(Clone, Debug)]
pub struct SweepOptions {
    pub jobs: usize,
    pub overrides: SeedOverrides,
    /// Overrides every detest test's policy.
    pub policy: Option<String>,
    pub shard: Shard,
    pub chunk_size: Option<u64>,
    /// Replay saved fixtures (and let workers save new failures, unless `fixture_writes` is off).
    pub fixtures: bool,
    /// Save new failing seeds (`--fixtures read` and `only` turn this off).
    pub fixture_writes: bool,
    /// Replay saved fixtures and run no new seeds (`--fixtures only`).
    pub fixtures_only: bool,
    pub fail_fast: bool,
    pub timeout: Option<Duration>,
    pub skip_plain: bool,
    /// Discover only (for `list`): no fixtures, no seeds, no plain test runs.
    pub probe_only: bool,
    /// Tell workers not to shrink failing schedules (`--no-shrink`).
    pub no_shrink: bool,
    /// `check-determinism --runs N`: run each seed N times and compare, instead of a sweep.
    pub check_determinism: Option<u32>,
    /// The incremental sweep's memory (`None`: every test runs and nothing is remembered).
    pub cache: Option<Arc<crate::cache::Cache>>,
    /// `--force`: rerun tests that passed before with nothing changed.
    pub force: bool,
    /// `--explore`: each test continues its last exploration (`overrides.seed_start` is where
    /// a test that never explored starts).
    pub explore: bool,
}

impl Default for SweepOptions {
    fn default() -> Self {
        SweepOptions {
            jobs: 1,
            overrides: SeedOverrides::default(),
            policy: None,
            shard: Shard::WHOLE,
            chunk_size: None,
            fixtures: true,
            fixture_writes: true,
            fixtures_only: false,
            fail_fast: false,
            timeout: None,
            skip_plain: false,
            probe_only: false,
            no_shrink: false,
            check_determinism: None,
            cache: None,
            force: false,
            explore: false,
        }
    }
}

/// What the sweep tells the reporters as it goes.
pub trait Observer {
    /// A test was discovered and will run this many seeds.
    fn planned(&mut self, _id: &TestId, _seeds: u64) {}
    fn seeds_done(&mut self, _n: u64) {}
    fn finished(&mut self, _report: &TestReport) {}
}

impl Observer for () {}

struct TestState {
    report: TestReport,
    /// When its first unit started and its last one ended: the test's wall time is the span
    /// between, as nextest shows it (not the sum of its workers' times, which overlap).
    first_started: Option<Instant>,
    last_ended: Option<Instant>,
    traced: bool,
    pending: usize,
    done: bool,
    /// Chunks held back until the saved fixtures have been replayed.
    gated: Vec<(u64, SeedRange)>,
    /// Chunks above this index are not worth running (set when a chunk decided the test).
    cancel_above: Option<u64>,
    /// Some unit was stopped before it finished (Ctrl-C, --fail-fast).
    incomplete: bool,
    probed: bool,
    /// Failures tagged with their chunk (`None` for fixture replays) for a stable order.
    found: Vec<(Option<u64>, Found)>,
    cmd: Option<WorkerCommand>,
    /// Its idle workers, kept for its next chunks and ended when it finishes.
    pool: Arc<WorkerPool>,
}

/// Runs the whole sweep and returns one report per test, in discovery order.
pub fn run(
    tests: Vec<(TestId, bool)>,
    opts: &SweepOptions,
    scratch: &Scratch,
    interrupt: &AtomicBool,
    obs: &mut dyn Observer,
) -> (Vec<TestReport>, bool) {
    let mut states: Vec<TestState> = Vec::new();
    let mut queue: VecDeque<Unit> = VecDeque::new();
    let announced = announce_binaries(&tests, scratch);
    for (id, ignored) in tests {
        let listed = announced
            .get(&id.binary.id)
            .map(|r| r.as_ref().map(|m| m.get(&id.name)));
        let kind = match listed {
            Some(Err(e)) => TestKind::Plain(PlainRun {
                passed: false,
                reason: format!("listing its detest tests failed: {e}"),
                ..PlainRun::default()
            }),
            Some(Ok(a)) => discover::kind_of(ignored, a),
            None => discover::kind_of(ignored, None),
        };
        let mut st = TestState {
            report: TestReport::new(id, kind.clone()),
            first_started: None,
            last_ended: None,
            traced: false,
            pending: 0,
            done: false,
            gated: Vec::new(),
            cancel_above: None,
            incomplete: false,
            probed: ignored,
            found: Vec::new(),
            cmd: None,
            pool: Arc::default(),
        };
        let test = states.len();
        match kind {
            TestKind::Ignored => {
                st.report.verdict = Verdict::Skip;
                st.report.note = Some("ignored".into());
            }
            TestKind::Detest(a) => {
                st.probed = true;
                let units = after_probe(test, &mut st, a, opts, obs);
                queue.extend(units);
            }
            TestKind::Plain(run) if !run.reason.is_empty() => {
                // Its binary could not be listed: nothing of it can run.
                st.probed = true;
                st.report.verdict = Verdict::Fail;
            }
            TestKind::Plain(_) => {
                let full = st.report.id.full_name();
                if !opts.shard.is_home_of(&full) {
                    st.probed = true;
                    st.report.verdict = Verdict::Skip;
                    st.report.note = Some(NOT_HOME.into());
                } else if opts.probe_only || opts.skip_plain {
                    // Listed, not run (`list`, `--skip-plain`).
                    st.probed = true;
                    st.report.verdict = Verdict::Skip;
                    st.report.note = Some("not run".into());
                } else {
                    st.pending = 1;
                    queue.push_back(Unit {
                        test,
                        kind: UnitKind::Plain,
                    });
                }
            }
        }
        states.push(st);
    }

    let (tx, rx) = mpsc::channel::<Msg>();
    let mut running: HashMap<u64, Running> = HashMap::new();
    let mut next_unit_id = 0u64;
    let mut interrupted = false;
    let mut fail_fast_hit = false;
    // Seeds the workers have finished, and how many of them the observer has been told of.
    let seeds_done = Arc::new(AtomicU64::new(0));
    let mut seeds_told = 0u64;

    loop {
        if interrupt.load(Ordering::SeqCst) && !interrupted {
            interrupted = true;
            for unit in queue.drain(..) {
                states[unit.test].pending -= 1;
                states[unit.test].incomplete = true;
            }
            for r in running.values() {
                r.cancel.store(true, Ordering::SeqCst);
            }
        }
        while running.len() < opts.jobs.max(1) {
            // Probes first (they size the progress bar), then whole tests in order, so status
            // lines arrive steadily instead of all at the end.
            let next = queue
                .iter()
                .enumerate()
                .min_by_key(|(_, u)| u.priority())
                .map(|(i, _)| i);
            let Some(unit) = next.and_then(|i| queue.remove(i)) else {
                break;
            };
            let st = &mut states[unit.test];
            if let UnitKind::Chunk(index, _) = unit.kind {
                if st.cancel_above.is_some_and(|c| index > c) {
                    st.pending -= 1;
                    continue;
                }
            }
            let cancel = Arc::new(AtomicBool::new(false));
            let chunk = match unit.kind {
                UnitKind::Chunk(i, _) => Some(i),
                _ => None,
            };
            running.insert(
                next_unit_id,
                Running {
                    test: unit.test,
                    chunk,
                    cancel: cancel.clone(),
                },
            );
            st.first_started.get_or_insert_with(Instant::now);
            start_unit(
                next_unit_id,
                unit,
                st,
                opts,
                cancel,
                tx.clone(),
                seeds_done.clone(),
            );
            next_unit_id += 1;
        }
        for (i, st) in states.iter_mut().enumerate() {
            if !st.done && st.pending == 0 {
                if !interrupted && !fail_fast_hit {
                    if let Some(unit) = trace_unit(i, st) {
                        queue.push_back(unit);
                        continue;
                    }
                }
                finish(st, interrupted, opts, obs);
            }
        }
        if running.is_empty() && queue.is_empty() {
            break;
        }
        let msg = rx.recv_timeout(PROGRESS_TICK);
        let done = seeds_done.load(Ordering::Relaxed);
        if done > seeds_told {
            obs.seeds_done(done - seeds_told);
            seeds_told = done;
        }
        let msg = match msg {
            Ok(m) => m,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        let (unit_id, test) = match &msg {
            Msg::Plain(u, _) | Msg::Chunk(u, _, _) | Msg::Traced(u, _) => {
                (*u as u64, running.get(&(*u as u64)).map(|r| r.test))
            }
        };
        running.remove(&unit_id);
        let Some(test) = test else {
            continue;
        };
        states[test].pending -= 1;
        states[test].last_ended = Some(Instant::now());
        match msg {
            Msg::Plain(_, None) => states[test].incomplete = true,
            Msg::Traced(_, trace) => {
                if let Some((_, first)) = states[test].found.first_mut() {
                    first.trace = trace;
                }
            }
            Msg::Plain(_, Some(run)) => {
                let st = &mut states[test];
                st.probed = true;
                st.report.duration = run.duration;
                st.report.verdict = if run.passed {
                    Verdict::Pass
                } else {
                    Verdict::Fail
                };
                st.report.kind = TestKind::Plain(run);
            }
            Msg::Chunk(_, chunk, outcome) => {
                let decided = absorb(&mut states[test], chunk, outcome, &mut queue, test);
                let expects_pass =
                    matches!(&states[test].report.kind, TestKind::Detest(a) if a.expects_pass());
                if let Some(index) = decided {
                    // An expected outcome settles the test; a failure only with --fail-fast.
                    if !expects_pass || opts.fail_fast {
                        cancel_chunks_above(&mut states[test], index, &running, test);
                    }
                }
            }
        }
        if opts.fail_fast && !fail_fast_hit && test_failed(&states[test]) {
            fail_fast_hit = true;
            stop_others(test, &mut states, &mut queue, &running);
        }
    }
    for st in states.iter_mut().filter(|s| !s.done) {
        finish(st, interrupted, opts, obs);
    }
    let reports = states
        .into_iter()
        .map(|s| s.report)
        .filter(|r| !(opts.skip_plain && matches!(r.kind, TestKind::Plain(_))))
        .filter(|r| r.note.as_deref() != Some(NOT_HOME))
        .collect();
    (reports, interrupted)
}

/// How often the progress bar hears of finished seeds.
const PROGRESS_TICK: Duration = Duration::from_millis(50);

/// Plain tests are run and reported by one shard only.
const NOT_HOME: &str = "reported by another shard";

/// Lists each binary of `tests` with `DETEST_ANNOUNCE` set: its detest tests by name (none of
/// its tests runs), or why that failed.
fn announce_binaries(
    tests: &[(TestId, bool)],
    scratch: &Scratch,
) -> HashMap<String, Result<HashMap<String, Announce>, String>> {
    let mut out = HashMap::new();
    for (id, _) in tests {
        if !out.contains_key(&id.binary.id) {
            let found =
                discover::announced(&id.binary, &scratch.file()).map_err(|e| format!("{e:#}"));
            out.insert(id.binary.id.clone(), found);
        }
    }
    out
}

/// The trace section of the runtime's failure report (from its `trace` or `last N of M steps`
/// line up to the schedule line).
pub fn extract_trace(output: &str) -> Option<String> {
    let lines: Vec<&str> = output.lines().collect();
    let start = lines.iter().position(|l| {
        let t = l.trim_start();
        t.starts_with("trace") || (t.starts_with("last ") && t.contains(" steps"))
    })?;
    let end = lines[start..]
        .iter()
        .position(|l| l.trim_start().starts_with("schedule:"))
        .map_or(lines.len(), |e| start + e);
    let text = lines[start..end].join("\n");
    (!text.trim().is_empty()).then_some(text)
}

/// `a deadlock`, `a panic with "overflow"`.
pub fn expectation(a: &Announce) -> String {
    let what = match a.expect.as_str() {
        "fail" => "a failure".to_string(),
        k => format!("a {k}"),
    };
    match &a.expect_message {
        Some(m) => format!("{what} with message containing {m:?}"),
        None => what,
    }
}
