//! The sweep: a pool of `--jobs` worker slots running discovery probes, fixture replays and seed
//! chunks, and the bookkeeping that turns their outcomes into one verdict per test.
//!
//! Results never depend on `--jobs` or timing: chunk boundaries come from the seed range alone,
//! each chunk stops at its own first failure, and where the sweep stops early (the expected
//! outcome was found, `--fail-fast`) only chunks *above* the deciding one are cancelled, so the
//! lowest failing seed is always the one reported.

use crate::discover::{self, Scratch};
use crate::model::{PlainRun, TestId, TestKind, TestReport, Verdict};
use crate::plan::{self, SeedOverrides, SeedRange, Shard};
use crate::protocol::{self, Announce, SeedResult};
use crate::verdict::{cancel_note, detest_verdict, Ran};
use crate::worker::{self, ChunkOutcome, FixturesMode, Found, Hooks, Job, Trace, WorkerCommand};
use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

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

enum UnitKind {
    /// Runs a plain `#[test]` once.
    Plain,
    Fixtures,
    Chunk(u64, SeedRange),
    /// Replays the lowest failure once more with tracing on, for the report.
    Trace(Box<Found>),
}

impl Unit {
    fn priority(&self) -> (bool, usize, u64) {
        match self.kind {
            UnitKind::Plain => (false, self.test, 0),
            UnitKind::Fixtures | UnitKind::Trace(_) => (true, self.test, 0),
            UnitKind::Chunk(i, _) => (true, self.test, i + 1),
        }
    }
}

struct Unit {
    test: usize,
    kind: UnitKind,
}

enum Msg {
    Seed,
    Traced(usize, Option<Trace>),
    Plain(usize, Option<PlainRun>),
    Chunk(usize, Option<u64>, ChunkOutcome),
}

struct Running {
    test: usize,
    chunk: Option<u64>,
    cancel: Arc<AtomicBool>,
}

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
            start_unit(next_unit_id, unit, st, opts, cancel, tx.clone());
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
        let msg = match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(m) => m,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        let (unit_id, test) = match &msg {
            Msg::Seed => {
                obs.seeds_done(1);
                continue;
            }
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
            Msg::Seed => unreachable!(),
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

/// `--fail-fast`: `test` failed, so every other test's units are dropped or cancelled (those
/// tests end cancelled), and so are its own chunks above the one that decided it.
fn stop_others(
    test: usize,
    states: &mut [TestState],
    queue: &mut VecDeque<Unit>,
    running: &HashMap<u64, Running>,
) {
    let keep = states[test].cancel_above;
    queue.retain(|u| {
        let same = u.test == test;
        if !same {
            states[u.test].pending -= 1;
            states[u.test].incomplete = true;
        }
        same
    });
    for r in running.values() {
        if r.test != test {
            r.cancel.store(true, Ordering::SeqCst);
        } else if let (Some(c), Some(k)) = (r.chunk, keep) {
            if c > k {
                r.cancel.store(true, Ordering::SeqCst);
            }
        }
    }
}

/// Plain tests are run and reported by one shard only.
const NOT_HOME: &str = "reported by another shard";

/// Fixtures first, then by seed: the lowest failing seed leads, whatever order chunks ran in.
fn sort_found(st: &mut TestState) {
    st.found
        .sort_by_key(|(chunk, f)| (chunk.is_some(), f.result.seed));
}

/// A trace replay of the failure the report leads with, when it has a schedule to replay.
fn trace_unit(test: usize, st: &mut TestState) -> Option<Unit> {
    if st.traced {
        return None;
    }
    st.traced = true;
    match &st.report.kind {
        TestKind::Detest(a) if a.expects_pass() && st.report.determinism_runs.is_none() => {}
        _ => return None,
    }
    sort_found(st);
    let (_, first) = st.found.first()?;
    // The worker sent the trace with the result (a current runtime always does).
    if first.trace.is_some() || first.failure().replay_schedule().is_none() {
        return None;
    }
    st.pending += 1;
    Some(Unit {
        test,
        kind: UnitKind::Trace(Box::new(first.clone())),
    })
}

fn start_unit(
    unit_id: u64,
    unit: Unit,
    st: &TestState,
    opts: &SweepOptions,
    cancel: Arc<AtomicBool>,
    tx: mpsc::Sender<Msg>,
) {
    let id = st.report.id.clone();
    let uid = unit_id as usize;
    match unit.kind {
        UnitKind::Plain => {
            let watchdog = opts.timeout.unwrap_or(DEFAULT_WATCHDOG);
            std::thread::spawn(move || {
                let run = discover::run_plain(&id, watchdog, &cancel);
                let _ = tx.send(Msg::Plain(uid, run));
            });
        }
        UnitKind::Trace(found) => {
            let mut cmd = st.cmd.clone().expect("detest tests have a worker command");
            cmd.policy = Some(found.failure().policy.clone());
            std::thread::spawn(move || {
                let _ = tx.send(Msg::Traced(uid, traced_replay(&cmd, &found, &cancel)));
            });
        }
        UnitKind::Fixtures | UnitKind::Chunk(..) => {
            let cmd = st.cmd.clone().expect("detest tests have a worker command");
            let announce = match &st.report.kind {
                TestKind::Detest(a) => a.clone(),
                _ => unreachable!("only detest tests have chunks"),
            };
            let checking = opts.check_determinism.is_some();
            let (job, chunk) = match unit.kind {
                UnitKind::Chunk(i, r) => {
                    let mode = match (opts.fixtures && !checking, opts.fixture_writes) {
                        (true, true) => FixturesMode::Save,
                        (true, false) => FixturesMode::Read,
                        (false, _) => FixturesMode::Off,
                    };
                    let job = Job::Seeds {
                        range: r,
                        fixtures: mode,
                        // `--seed S` asks for exactly that seed: no fixed executions (an
                        // expectation test keeps its own range, fixed executions included).
                        first: i == 0 && !pins_seed(opts, &announce),
                    };
                    (job, Some(i))
                }
                _ => (Job::Fixtures, None),
            };
            let writes = opts.fixture_writes;
            std::thread::spawn(move || {
                let seed_tx = tx.clone();
                let stop = |r: &SeedResult| stops_chunk(&announce, r, checking);
                // `--fixtures read`: nothing is written (the report says why, once per test).
                let save = |r: &SeedResult| match writes {
                    true => save_fixture(&announce, &id, r),
                    false => Ok(None),
                };
                let on_seed = move |_steps: u64| {
                    let _ = seed_tx.send(Msg::Seed);
                };
                let hooks = Hooks {
                    stop: &stop,
                    save: &save,
                    on_seed: &on_seed,
                    cancel: &cancel,
                };
                let outcome = worker::run_chunk(&cmd, job, &hooks);
                let _ = tx.send(Msg::Chunk(uid, chunk, outcome));
            });
        }
    }
}

/// Replays a failure's schedule with tracing on: as JSON steps (`DETEST_TRACE=json`), or, from a
/// runtime that does not know that, the trace section of its text report.
fn traced_replay(cmd: &WorkerCommand, found: &Found, cancel: &AtomicBool) -> Option<Trace> {
    let replay = |trace: &str| {
        let env = [
            (protocol::ENV_SEED, found.result.seed.to_string()),
            (protocol::ENV_REPLAY, found.failure().schedule.clone()),
            (protocol::ENV_FIXTURES, "off".to_string()),
            (protocol::ENV_TRACE, trace.to_string()),
        ];
        worker::run_plain(cmd, &env, cancel).output
    };
    if let Some(steps) = protocol::parse_json_trace(&replay("json")) {
        if !steps.is_empty() {
            return Some(Trace::Steps(steps));
        }
    }
    extract_trace(&replay("1")).map(Trace::Text)
}

/// Whether `--seed S` pins this test to seed S. A test expected to pass is pinned (the CI gate:
/// reproducible, and fast); an `expect = ...` test is not: one seed rarely shows its outcome, and
/// its declared range is as reproducible as a single seed, so it keeps it.
fn pins_seed(opts: &SweepOptions, a: &Announce) -> bool {
    opts.overrides.seed.is_some() && a.expects_pass()
}

/// A failure ends its chunk when it decides the test: any failure of a test expected to pass,
/// or the expected outcome of an `expect = ...` test. A determinism check never stops early.
fn stops_chunk(a: &Announce, r: &SeedResult, checking: bool) -> bool {
    let Some(f) = &r.failure else { return false };
    !checking && (a.expects_pass() || a.is_expected(&f.kind, &f.message))
}

/// Saves a crash or hang with the runtime's fixture writer (the worker died before it could).
fn save_fixture(a: &Announce, id: &TestId, r: &SeedResult) -> Result<Option<String>, String> {
    if !a.expects_pass() {
        // Like the runtime: failures of an `expect` test are its point, not regressions.
        return Ok(None);
    }
    let path = a
        .fixture_file
        .as_deref()
        .ok_or_else(|| "the test did not announce a fixture file".to_string())?;
    let f = r.failure.as_ref().ok_or("no failure")?;
    let entry = detest::fixture::FixtureEntry::for_seed(r.seed, &f.policy, &f.kind, &f.message);
    detest::fixture::save_entry(Path::new(path), &id.name, &entry)
        .map(|saved| Some(format!("{path}:{}", saved.index())))
        .map_err(|e| e.to_string())
}

/// The units of a detest test, from its announcement: the fixture pass, then its seed chunks.
fn after_probe(
    test: usize,
    st: &mut TestState,
    a: Announce,
    opts: &SweepOptions,
    obs: &mut dyn Observer,
) -> Vec<Unit> {
    let full = st.report.id.full_name();
    // Why nothing of this test is saved, in the words the user chose (the workers only know
    // the DETEST_FIXTURES they were given).
    st.report.not_saved = if opts.check_determinism.is_some() {
        None
    } else if !opts.fixtures {
        Some("--fixtures off (--no-fixtures)".into())
    } else if !opts.fixture_writes {
        Some("--fixtures read".into())
    } else {
        None
    };
    if let Some(e) = &a.fixture_error {
        st.report
            .errors
            .push(format!("cannot read the saved fixtures: {e}"));
        return Vec::new();
    }
    let policy = opts.policy.clone().unwrap_or_else(|| a.policy.clone());
    let range = if opts.overrides.seed.is_some() && !pins_seed(opts, &a) {
        st.report.note = Some("an expectation test keeps its own seeds under --seed".into());
        SeedRange::new(a.seed_start, a.seeds)
    } else {
        opts.overrides.range_for(a.seed_start, a.seeds)
    };
    let range = match range {
        Ok(range) => range,
        Err(e) => {
            // Before any worker starts: a range cut short would pass seeds that never ran.
            st.report
                .errors
                .push(format!("invalid seed range for this test: {e}"));
            return Vec::new();
        }
    };
    st.report.range = Some(range);
    st.report.policy = Some(policy.clone());
    st.report.determinism_runs = opts.check_determinism;
    let mut env = Vec::new();
    if opts.no_shrink {
        env.push((protocol::ENV_NO_SHRINK.to_string(), "1".to_string()));
    }
    if let Some(runs) = opts.check_determinism {
        env.push((
            protocol::ENV_CHECK_DETERMINISM.to_string(),
            runs.to_string(),
        ));
    }
    // A seed's result arrives after all its runs.
    let runs = opts.check_determinism.unwrap_or(1).max(1);
    st.cmd = Some(WorkerCommand {
        program: st.report.id.binary.path.clone(),
        cwd: st.report.id.binary.package_root.clone(),
        test: st.report.id.name.clone(),
        policy: opts.policy.clone(),
        label_policy: policy,
        watchdog: opts
            .timeout
            .unwrap_or_else(|| {
                a.timeout_ms
                    .map(|ms| Duration::from_millis(ms) + WATCHDOG_GRACE)
                    .unwrap_or(DEFAULT_WATCHDOG)
            })
            .checked_mul(runs)
            .unwrap_or(Duration::MAX),
        env,
    });
    if opts.probe_only {
        return Vec::new();
    }
    let size = plan::chunk_size(opts.chunk_size, range.count());
    let chunks = if opts.fixtures_only {
        Vec::new()
    } else {
        plan::shard_chunks(&full, range, size, opts.shard)
    };
    st.report.seeds_planned = chunks.iter().map(|(_, c)| c.count()).sum();
    let saved = if opts.fixtures && opts.check_determinism.is_none() && opts.shard.is_home_of(&full)
    {
        fixture_count(&a)
    } else {
        0
    };
    obs.planned(&st.report.id, st.report.seeds_planned + saved);
    if saved > 0 {
        st.gated = chunks;
        st.pending += 1;
        return vec![Unit {
            test,
            kind: UnitKind::Fixtures,
        }];
    }
    if chunks.is_empty() {
        st.report.verdict = Verdict::Skip;
        st.report.note = Some(if opts.fixtures_only {
            "no saved fixtures to replay (--fixtures only)".into()
        } else {
            format!("no seeds of {range} in shard {}", opts.shard)
        });
    }
    st.pending += chunks.len();
    chunks
        .into_iter()
        .map(|(i, r)| Unit {
            test,
            kind: UnitKind::Chunk(i, r),
        })
        .collect()
}

/// Entries in the test's fixture file (the announce's count may be stale by now).
fn fixture_count(a: &Announce) -> u64 {
    let Some(path) = a.fixture_file.as_deref() else {
        return a.fixture_count;
    };
    match detest::fixture::FixtureFile::load(Path::new(path)) {
        Ok(f) => f.entries.len() as u64,
        // A broken file is the worker's to report, so let it try.
        Err(_) => a.fixture_count.max(1),
    }
}

/// Folds a finished unit into its test. Returns the chunk index that decided the test, if any.
fn absorb(
    st: &mut TestState,
    chunk: Option<u64>,
    outcome: ChunkOutcome,
    queue: &mut VecDeque<Unit>,
    test: usize,
) -> Option<u64> {
    let a = match &st.report.kind {
        TestKind::Detest(a) => a.clone(),
        _ => return None,
    };
    st.report.seeds_run += outcome.seeds_run;
    st.report.steps += outcome.steps;
    if chunk.is_none() {
        st.report.fixtures_replayed += outcome.seeds_run;
    }
    if outcome.cancelled {
        st.incomplete = true;
    }
    if let Some(e) = outcome.error {
        st.report.errors.push(e);
    }
    st.report.determinism.extend(outcome.determinism);
    let decided_here = outcome.stopped;
    st.found
        .extend(outcome.failures.into_iter().map(|f| (chunk, f)));
    if chunk.is_none() {
        // A saved fixture that still fails (or already shows the expected outcome) decides the
        // test: new seeds would only pile more fixtures onto the same bug.
        let gated = std::mem::take(&mut st.gated);
        if !decided_here && st.report.errors.is_empty() {
            st.pending += gated.len();
            if gated.is_empty() && st.report.seeds_planned == 0 {
                st.report.note = Some("only saved fixtures ran in this shard".into());
            }
            queue.extend(gated.into_iter().map(|(i, r)| Unit {
                test,
                kind: UnitKind::Chunk(i, r),
            }));
        } else if !a.expects_pass() || decided_here {
            st.report.note = Some(if a.expects_pass() {
                "a saved fixture still fails, so no new seeds ran".into()
            } else {
                "a saved fixture shows the expected outcome, so no new seeds ran".into()
            });
        }
        return None;
    }
    if decided_here {
        return chunk;
    }
    None
}

fn cancel_chunks_above(
    st: &mut TestState,
    index: u64,
    running: &HashMap<u64, Running>,
    test: usize,
) {
    let above = st.cancel_above.map_or(index, |c| c.min(index));
    st.cancel_above = Some(above);
    for r in running.values() {
        if r.test == test && r.chunk.is_some_and(|c| c > above) {
            r.cancel.store(true, Ordering::SeqCst);
        }
    }
}

fn test_failed(st: &TestState) -> bool {
    match &st.report.kind {
        TestKind::Detest(_) if st.report.determinism_runs.is_some() => {
            !st.report.errors.is_empty()
                || st.report.nondeterministic().next().is_some()
                || st.found.iter().any(|(_, f)| is_crash(f))
        }
        TestKind::Detest(a) => {
            !st.report.errors.is_empty()
                || (a.expects_pass() && !st.found.is_empty())
                || st.found.iter().any(|(_, f)| is_fatal(a, f))
        }
        TestKind::Plain(run) => !run.passed,
        TestKind::Ignored => false,
    }
}

fn is_crash(f: &Found) -> bool {
    matches!(f.failure().kind.as_str(), "crash" | "hang")
}

/// A determinism check fails on a seed whose runs disagree, or that crashed or hung a worker; a
/// seed that fails the same way every time is deterministic (the sweep is what reports it).
fn finish_check(st: &mut TestState, interrupted: bool) {
    let report = &mut st.report;
    report.determinism.sort_by_key(|d| d.seed);
    let (crashes, failing): (Vec<Found>, Vec<Found>) =
        st.found.drain(..).map(|(_, f)| f).partition(is_crash);
    report.failures = crashes;
    if !failing.is_empty() && report.note.is_none() {
        let seeds: Vec<String> = failing
            .iter()
            .take(8)
            .map(|f| format!("{} ({})", f.result.seed, f.failure().kind))
            .collect();
        report.note = Some(format!(
            "fails on {} {}{} (the same way on every run)",
            crate::output::words::noun_for(failing.len() as u64, "seed"),
            seeds.join(", "),
            if failing.len() > 8 { ", ..." } else { "" }
        ));
    }
    report.verdict = if !report.errors.is_empty()
        || !report.failures.is_empty()
        || report.nondeterministic().next().is_some()
    {
        Verdict::Fail
    } else if st.incomplete && interrupted {
        Verdict::Cancelled
    } else if report.seeds_run == 0 {
        Verdict::Skip
    } else {
        Verdict::Pass
    };
}

/// Crashes and hangs fail any test, except one that expects some failure.
fn is_fatal(a: &Announce, f: &Found) -> bool {
    let kind = f.failure().kind.as_str();
    (kind == "crash" || kind == "hang")
        && a.expect != "fail"
        && !a.is_expected(kind, &f.failure().message)
}

/// The runtime keeps fixture entries sorted, so an entry saved early in the sweep may have moved
/// down since: name where it is now (kept as reported when it cannot be found).
fn relocate_saved(f: &mut Found) {
    let (Some((path, _)), Some(w)) = (
        f.saved.as_deref().and_then(|s| s.rsplit_once(':')),
        f.result.failure.as_ref(),
    ) else {
        return;
    };
    let entry = detest::fixture::FixtureEntry {
        // (An abbreviated schedule was stored as none.)
        schedule: w.replay_schedule().unwrap_or_default().to_owned(),
        ..detest::fixture::FixtureEntry::for_seed(f.result.seed, &w.policy, &w.kind, &w.message)
    };
    if let Ok(Some(index)) = detest::fixture::locate(Path::new(path), &entry) {
        f.saved = Some(format!("{path}:{index}"));
    }
}

fn finish(st: &mut TestState, interrupted: bool, opts: &SweepOptions, obs: &mut dyn Observer) {
    st.done = true;
    if st.report.is_detest() {
        st.report.duration = match (st.first_started, st.last_ended) {
            (Some(a), Some(b)) => b.saturating_duration_since(a),
            _ => Duration::ZERO,
        };
    }
    sort_found(st);
    let failed_now = test_failed(st);
    if st.report.is_detest() && st.report.determinism_runs.is_some() {
        finish_check(st, interrupted);
        if !opts.probe_only {
            obs.finished(&st.report);
        }
        return;
    }
    let report = &mut st.report;
    if let TestKind::Detest(a) = &report.kind {
        let a = a.clone();
        if a.expects_pass() {
            report.failures = st.found.drain(..).map(|(_, f)| f).collect();
            report.failures.iter_mut().for_each(relocate_saved);
        } else {
            let pos = st
                .found
                .iter()
                .position(|(_, f)| a.is_expected(&f.failure().kind, &f.failure().message));
            report.expected = pos.map(|p| st.found[p].1.clone());
            report.failures = st
                .found
                .drain(..)
                .map(|(_, f)| f)
                .filter(|f| is_fatal(&a, f))
                .collect();
            if report.expected.is_none() && !st.incomplete && report.note.is_none() {
                let range = report.range.map(|r| r.to_string()).unwrap_or_default();
                report.note = Some(format!(
                    "expected {} in seeds {range}{}, but every seed passed",
                    expectation(&a),
                    if opts.shard.total > 1 {
                        format!(" (shard {})", opts.shard)
                    } else {
                        String::new()
                    }
                ));
            }
        }
        report.verdict = detest_verdict(&Ran {
            failed: failed_now || !report.failures.is_empty() || !report.errors.is_empty(),
            expects_pass: a.expects_pass(),
            expected_found: report.expected.is_some(),
            incomplete: st.incomplete,
            interrupted,
            no_seeds_here: report.verdict == Verdict::Skip,
            executions: report.seeds_run,
        });
        if report.verdict == Verdict::Cancelled && report.note.is_none() {
            report.note = Some(cancel_note(report, interrupted));
        }
    } else if !st.probed {
        report.verdict = Verdict::Cancelled;
        report.note = Some(cancel_note(report, interrupted));
    }
    let hidden = (opts.skip_plain && matches!(report.kind, TestKind::Plain(_)))
        || report.note.as_deref() == Some(NOT_HOME);
    if !opts.probe_only && !hidden {
        obs.finished(report);
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use detest::fixture::{save_entry, FixtureEntry};

    #[test]
    fn a_saved_entry_is_named_where_it_is_when_the_test_finishes() {
        let dir = std::env::temp_dir().join(format!("detest-relocate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("t.toml");
        let entry = |seed| FixtureEntry::for_seed(seed, "round-robin", "panic", "m");
        // A worker saves seed 70 as entry 0; another then saves seed 37, which sorts first.
        assert_eq!(save_entry(&path, "t", &entry(70)).unwrap().index(), 0);
        assert_eq!(save_entry(&path, "t", &entry(37)).unwrap().index(), 0);
        let result: SeedResult = serde_json::from_str(
            r#"{"seed":70,"status":"fail","steps":1,"failure":{"kind":"panic","message":"m",
                "schedule":"","policy":"round-robin"}}"#,
        )
        .unwrap();
        let mut found = Found::new(result, "", Some(format!("{}:0", path.display())));
        relocate_saved(&mut found);
        assert_eq!(found.saved, Some(format!("{}:1", path.display())));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
