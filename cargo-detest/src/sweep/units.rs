//! The units the scheduler queues and runs (plain runs, fixture replays, seed chunks, trace
//! replays) and how each is started on its own thread: kept apart from the loop in `mod.rs`.

use super::outcome::sort_found;
use super::planning::{pins_seed, save_fixture, stops_chunk};
use super::{extract_trace, SweepOptions, TestState, DEFAULT_WATCHDOG};
use crate::discover;
use crate::model::{PlainRun, TestKind};
use crate::plan::SeedRange;
use crate::protocol::{self, SeedResult};
use crate::worker::{self, ChunkOutcome, FixturesMode, Found, Hooks, Job, Trace, WorkerCommand};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;

pub(super) enum UnitKind {
    /// Runs a plain `#[test]` once.
    Plain,
    Fixtures,
    Chunk(u64, SeedRange),
    /// Replays the lowest failure once more with tracing on, for the report.
    Trace(Box<Found>),
}

impl Unit {
    pub(super) fn priority(&self) -> (bool, usize, u64) {
        match self.kind {
            UnitKind::Plain => (false, self.test, 0),
            UnitKind::Fixtures | UnitKind::Trace(_) => (true, self.test, 0),
            UnitKind::Chunk(i, _) => (true, self.test, i + 1),
        }
    }
}

pub(super) struct Unit {
    pub(super) test: usize,
    pub(super) kind: UnitKind,
}

pub(super) enum Msg {
    Traced(usize, Option<Trace>),
    Plain(usize, Option<PlainRun>),
    Chunk(usize, Option<u64>, ChunkOutcome),
}

pub(super) struct Running {
    pub(super) test: usize,
    pub(super) chunk: Option<u64>,
    pub(super) cancel: Arc<AtomicBool>,
}

/// `--fail-fast`: `test` failed, so every other test's units are dropped or cancelled (those
/// tests end cancelled), and so are its own chunks above the one that decided it.
pub(super) fn stop_others(
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

/// A trace replay of the failure the report leads with, when it has a schedule to replay.
pub(super) fn trace_unit(test: usize, st: &mut TestState) -> Option<Unit> {
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

pub(super) fn start_unit(
    unit_id: u64,
    unit: Unit,
    st: &TestState,
    opts: &SweepOptions,
    cancel: Arc<AtomicBool>,
    tx: mpsc::Sender<Msg>,
    seeds_done: Arc<AtomicU64>,
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
            let pool = st.pool.clone();
            std::thread::spawn(move || {
                let stop = |r: &SeedResult| stops_chunk(&announce, r, checking);
                // `--fixtures read`: nothing is written (the report says why, once per test).
                let save = |r: &SeedResult| match writes {
                    true => save_fixture(&announce, &id, r),
                    false => Ok(None),
                };
                // Counted, not sent: a message per seed would wake the scheduler tens of
                // thousands of times a second for a fast test; it reads the count as it goes.
                let on_seed = move |_steps: u64| {
                    seeds_done.fetch_add(1, Ordering::Relaxed);
                };
                let hooks = Hooks {
                    stop: &stop,
                    save: &save,
                    on_seed: &on_seed,
                    cancel: &cancel,
                    pool: Some(&pool),
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
