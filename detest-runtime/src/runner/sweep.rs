//! Plain `cargo test`: fixtures first, then the seed sweep, then a report that replays.

use super::env::{Env, FixtureMode, TraceMode};
use super::replay::{traced, Estimate};
use super::target::TestInfo;
use super::watchdog::{Running, Watchdog};
use super::worker::Results;
use super::{fail_test, fixture_replay, Expect, TestSpec};
use crate::fixture::{
    self, FixtureEntry, FixtureFile, RecordOptions, Recorded, Saved, ShrunkEntry,
};
use crate::render::{self, ReportOptions};
use crate::trace::TraceEvent;
use crate::{Config, Execution, Failure, Policy, ShrinkBudget, Shrunk};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Where a failure's fixture entry is, or is to be.
pub(super) enum Stored {
    /// Save it as a new entry in the test's fixture file.
    New,
    /// It was replayed from entry `index` of `path`.
    Entry {
        path: PathBuf,
        entry: Box<FixtureEntry>,
        index: usize,
        /// Its shrunk schedule passes or no longer applies: replace it.
        stale_shrunk: bool,
    },
    /// Not saved, for this reason.
    Not(String),
}

/// Whether to shrink a failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum ShrinkMode {
    /// Unless the test or the environment turns shrinking off.
    Auto,
    /// Even then (`DETEST_MINIMIZE`); a stored shrunk schedule is replaced.
    Force,
    /// Not at all, with a note for the report.
    Skip(Option<String>),
}

/// A failure after saving, shrinking and tracing.
pub(super) struct Handled {
    /// Traced when it was not shrunk.
    pub failure: Failure,
    /// Where its entry is: file and entry index.
    pub saved: Option<(PathBuf, usize)>,
    /// The fixture line of the report.
    pub fixture_note: String,
    pub shrunk: Option<Shrunk>,
    /// Why it was not shrunk.
    pub shrink_note: Option<String>,
}

impl Handled {
    /// The trace to show: the shrunk run's when there is one.
    pub(super) fn trace(&self) -> &[TraceEvent] {
        match &self.shrunk {
            Some(s) => &s.failure.trace,
            None => &self.failure.trace,
        }
    }
}

/// What every report of one test run needs.
pub(super) struct Ctx<'a> {
    pub spec: &'a TestSpec,
    pub info: &'a TestInfo,
    pub env: &'a Env,
    pub config: Config,
    pub fixtures: FixtureMode,
}

impl Ctx<'_> {
    pub(super) fn new<'a>(spec: &'a TestSpec, info: &'a TestInfo, env: &'a Env) -> Ctx<'a> {
        // An expectation test's failures are its point, not regressions to keep.
        let fixtures = if spec.expect == Expect::Pass {
            env.fixtures
        } else {
            FixtureMode::Off
        };
        Ctx {
            spec,
            info,
            env,
            config: super::config(spec, env),
            fixtures,
        }
    }

    /// Whether a sweep of this test begins with the fixed executions (`Config::fixed_executions`):
    /// under PCT and chaos, unless exactly one seed is asked for (`seed = S` in the attribute,
    /// `DETEST_SEED`).
    pub(super) fn sweeps_fixed_executions(&self) -> bool {
        !self.spec.exact_seed
            && self.env.seed.is_none()
            && self.config.seeds > 0
            && self.config.policy.has_fixed_executions()
    }

    /// The policy to name in repro commands, when it is not the attribute's.
    fn policy_override<'p>(&self, policy: &'p str) -> Option<&'p str> {
        (policy != self.spec.policy.to_string()).then_some(policy)
    }

    pub(super) fn save_entry(&self, entry: &FixtureEntry) -> (Option<Saved>, String) {
        self.save_entry_to(&self.info.fixture_path, entry)
    }

    fn save_entry_to(&self, file: &Path, entry: &FixtureEntry) -> (Option<Saved>, String) {
        let path = file.display();
        if !self.fixtures.writes() {
            let why = if self.spec.expect != Expect::Pass {
                "an expectation test".to_owned()
            } else {
                format!("DETEST_FIXTURES={}", self.fixtures.as_str())
            };
            return (None, format!("not saved ({why})"));
        }
        match fixture::save_entry(file, &self.info.name, entry) {
            Ok(saved @ Saved::Added { index }) => {
                (Some(saved), format!("saved to {path} (entry {index})"))
            }
            Ok(saved @ Saved::AlreadyPresent { index }) => (
                Some(saved),
                format!("already saved in {path} (entry {index})"),
            ),
            Err(e) => (None, format!("could not be saved: {e}")),
        }
    }

    pub(super) fn watchdog(&self, results: Option<Arc<Results>>) -> Watchdog {
        let info = self.info.clone();
        let own_policy = self.config.policy;
        let spec_policy = self.spec.policy;
        let fixtures = self.fixtures;
        let expect_pass = self.spec.expect == Expect::Pass;
        let timeout = self.config.timeout;
        Watchdog::start(
            timeout,
            Box::new(move |seed, running, limit| {
                // A fixed execution (or its shrinking) hangs under its own policy.
                let policy = running.unwrap_or(own_policy).to_string();
                let repro_policy = (policy != spec_policy.to_string()).then_some(policy.as_str());
                let message = format!(
                    "one execution ran for more than {limit:?} (the timeout of {:?} plus a \
                     margin) without reaching a scheduling point, so it cannot be stopped \
                     in-process",
                    timeout.unwrap_or_default()
                );
                let entry = FixtureEntry::for_seed(seed, &policy, "hang", &message);
                let written = if !expect_pass {
                    Err("an expectation test".to_owned())
                } else if !fixtures.writes() {
                    Err(format!("DETEST_FIXTURES={}", fixtures.as_str()))
                } else {
                    fixture::save_entry(&info.fixture_path, &info.name, &entry)
                        .map(|s| format!("{}:{}", info.fixture_path.display(), s.index()))
                        .map_err(|e| e.to_string())
                };
                let saved = match &written {
                    Ok(at) => format!("saved to {at}"),
                    Err(why) => format!("not saved: {why}"),
                };
                if let Some(results) = &results {
                    results.hang(seed, &entry, written);
                }
                let mut text = format!(
                    "detest: test `{}` hung at seed {seed} (policy {policy}): {message}; \
                     aborting the process.\n  fixture:  {saved}\n  reproduce with:\n",
                    info.name
                );
                for cmd in info.repro(seed, repro_policy) {
                    let _ = writeln!(text, "    {cmd}");
                }
                // Not `eprint!`: this thread's output is not captured, and must not be lost.
                let _ = std::io::Write::write_all(&mut std::io::stderr(), text.as_bytes());
            }),
        )
    }

    /// Why this run does not shrink failures, if it does not.
    pub(super) fn shrink_off(&self) -> Option<String> {
        if self.spec.expect != Expect::Pass {
            Some("not shrunk (an expectation test)".to_owned())
        } else if !self.spec.shrink {
            Some("off (shrink = false)".to_owned())
        } else if self.env.no_shrink {
            Some("off (DETEST_NO_SHRINK)".to_owned())
        } else {
            None
        }
    }

    pub(super) fn budget(&self) -> ShrinkBudget {
        let default = ShrinkBudget::default();
        ShrinkBudget {
            max_executions: self
                .spec
                .shrink_executions
                .unwrap_or(default.max_executions),
            max_time: self
                .spec
                .shrink_time_ms
                .map_or(default.max_time, Duration::from_millis),
        }
    }

    /// Shrinks `failure` within the test's budget. Every candidate execution restarts the
    /// watchdog's clock (the runner's body is [`Watchdog::timed`]), so the budget, not the
    /// timeout, bounds the whole search.
    fn shrink<F: Fn()>(&self, failure: &Failure, watchdog: &Watchdog, body: &F) -> Option<Shrunk> {
        let _running = self.begin_failure(watchdog, failure);
        self.config.shrink_with(failure, self.budget(), body)
    }

    /// Marks the start of work on `failure` (shrinking, tracing) for the watchdog, under the
    /// failure's own policy: a fixed execution's is not the test's.
    fn begin_failure<'w>(&self, watchdog: &'w Watchdog, failure: &Failure) -> Running<'w> {
        let policy = Policy::parse(&failure.policy).unwrap_or(self.config.policy);
        watchdog.begin_as(failure.seed, policy)
    }

    /// Saves `failure` (unless it already is), then shrinks it and stores the shrunk schedule in
    /// the same entry, then traces what the report will show. In that order: a failing seed is
    /// never lost to something going wrong later.
    pub(super) fn handle<F: Fn()>(
        &self,
        failure: Failure,
        stored: Stored,
        mode: ShrinkMode,
        watchdog: &Watchdog,
        body: &F,
    ) -> Handled {
        let replace = mode == ShrinkMode::Force;
        // An entry this run has just added may be dropped again, once shrunk, as redundant.
        let (mut saved, mut fixture_note, record) = match stored {
            Stored::New => {
                let entry = FixtureEntry::from_failure(&failure);
                let (saved, note) = self.save_entry(&entry);
                let record = RecordOptions {
                    replace,
                    drop_redundant: matches!(saved, Some(Saved::Added { .. })),
                };
                (
                    saved.map(|s| (self.info.fixture_path.clone(), entry, s.index())),
                    note,
                    record,
                )
            }
            Stored::Entry {
                path,
                entry,
                index,
                stale_shrunk,
            } => {
                let note = format!("from {} (entry {index})", path.display());
                let record = RecordOptions {
                    replace: replace || stale_shrunk,
                    drop_redundant: false,
                };
                (Some((path, *entry, index)), note, record)
            }
            Stored::Not(note) => (None, note, RecordOptions::default()),
        };
        let mode = match (mode, self.shrink_off()) {
            (ShrinkMode::Auto, Some(why)) => ShrinkMode::Skip(Some(why)),
            (mode, _) => mode,
        };
        let (shrunk, shrink_note) = match &mode {
            ShrinkMode::Skip(note) => (None, note.clone()),
            ShrinkMode::Auto | ShrinkMode::Force => match self.shrink(&failure, watchdog, body) {
                Some(s) => (Some(s), None),
                None => (
                    None,
                    Some(
                        "could not shrink: the failing schedule does not reproduce the same \
                         failure (DETEST_CHECK_DETERMINISM=20 checks the test)"
                            .to_owned(),
                    ),
                ),
            },
        };
        if let (Some(s), Some((path, entry, index))) = (&shrunk, &mut saved) {
            // A shrunk schedule still too long to pass as an argument is not worth storing: the
            // entry replays by seed.
            if self.fixtures.writes() && crate::schedule_fits(&s.schedule.encode()) {
                let shrunk_entry = ShrunkEntry {
                    schedule: s.schedule.encode(),
                    steps: s.steps_after,
                    preemptions: s.preemptions_after,
                };
                match fixture::record_shrunk(path, entry, &shrunk_entry, record) {
                    Ok(Recorded::Stored { index: now }) => {
                        *index = now;
                        fixture_note.push_str(", with its shrunk schedule");
                    }
                    Ok(Recorded::Kept { index: now }) => {
                        *index = now;
                        fixture_note.push_str(", which keeps the shrunk schedule it has");
                    }
                    Ok(Recorded::Dropped { others }) => {
                        // Not saved after all: say so, and name the entries that keep the bug.
                        fixture_note = format!(
                            "not kept: entries {} of {} already record this failure ({} at \
                             {}, shrunk to the same schedule)",
                            others
                                .iter()
                                .map(usize::to_string)
                                .collect::<Vec<_>>()
                                .join(", "),
                            path.display(),
                            failure.kind.as_str(),
                            failure.location.as_deref().unwrap_or("an unknown location"),
                        );
                        saved = None;
                    }
                    Ok(Recorded::NotFound) => {
                        fixture_note
                            .push_str("; the shrunk schedule was not saved: the entry is gone");
                        saved = None;
                    }
                    Err(e) => fixture_note
                        .push_str(&format!("; the shrunk schedule could not be saved: {e}")),
                }
            }
        }
        let failure = if shrunk.is_some() {
            failure
        } else {
            let _running = self.begin_failure(watchdog, &failure);
            traced(&self.config, failure, body)
        };
        Handled {
            failure,
            saved: saved.map(|(path, _, index)| (path, index)),
            fixture_note,
            shrunk,
            shrink_note,
        }
    }

    /// Prints the failure block (and with `DETEST_TRACE=json`, the trace before it) and fails.
    pub(super) fn report(&self, h: Handled, origin: Option<String>, full_trace: bool) -> ! {
        let failure = &h.failure;
        super::worker::note_reported(failure);
        // A schedule above the bound is never printed in a command (it could not run: Linux
        // refuses an environment string over 128 KiB); the seed replays the same execution.
        let by_seed = || {
            self.info
                .repro(failure.seed, self.policy_override(&failure.policy))
        };
        let mut repro = match self.env.replay.as_ref().map(|s| s.encode()) {
            Some(schedule) if crate::schedule_fits(&schedule) => {
                self.info.repro_schedule(&schedule, failure.seed)
            }
            _ => by_seed(),
        };
        if let Some(s) = &h.shrunk {
            let schedule = s.schedule.encode();
            if crate::schedule_fits(&schedule) {
                repro.extend(self.info.repro_schedule(&schedule, failure.seed));
            }
        }
        let json = self.env.trace == TraceMode::Json;
        if json {
            print!("{}", render::json_trace_block(h.trace()));
        }
        let block = render::failure_report(
            failure,
            &ReportOptions {
                test: Some(&self.info.name),
                origin: origin.as_deref(),
                fixture: Some(&h.fixture_note),
                repro: &repro,
                full_trace: full_trace || self.env.trace.on(),
                hide_trace: json,
                shrunk: h.shrunk.as_ref(),
                shrink_note: h.shrink_note.as_deref(),
                color: render::stderr_color(),
            },
        );
        fail_test(block)
    }
}

/// The fixture entries this run replays: the one `DETEST_FIXTURE` names, or the test's file
/// from `DETEST_FIXTURE_START`. Fails the test when they cannot be read.
pub(super) fn selected_entries(ctx: &Ctx<'_>) -> (PathBuf, Vec<(usize, FixtureEntry)>) {
    let (path, only) = match &ctx.env.fixture {
        Some((path, index)) => (absolute(path), Some(*index)),
        None => (ctx.info.fixture_path.clone(), None),
    };
    let file = match FixtureFile::load(&path) {
        Ok(file) => file,
        Err(e) => fail_test(format!("detest: test `{}`: {e}", ctx.info.name)),
    };
    let entries: Vec<(usize, FixtureEntry)> = file.entries.into_iter().enumerate().collect();
    match only {
        Some(index) => match entries.into_iter().nth(index) {
            Some(e) => (path, vec![e]),
            None => fail_test(format!(
                "detest: test `{}`: DETEST_FIXTURE: {} has no entry {index}",
                ctx.info.name,
                path.display()
            )),
        },
        None => (
            path,
            entries.into_iter().skip(ctx.env.fixture_start).collect(),
        ),
    }
}

pub(super) fn absolute(path: &Path) -> PathBuf {
    if path.is_relative() {
        std::env::current_dir()
            .map(|cwd| cwd.join(path))
            .unwrap_or_else(|_| path.to_owned())
    } else {
        path.to_owned()
    }
}

/// Prints the trace of a replayed or single passing execution, as `DETEST_TRACE` asks.
pub(super) fn print_trace(mode: TraceMode, what: &str, events: &[TraceEvent]) {
    if events.is_empty() {
        return;
    }
    match mode {
        TraceMode::Off => {}
        TraceMode::Json => print!("{}", render::json_trace_block(events)),
        TraceMode::Timeline => {
            let (heading, rows) = render::timeline_section(events, None, what, true);
            println!("detest: {heading}");
            for row in rows.lines() {
                println!("    {row}");
            }
        }
    }
}

/// Runs one seed of a sweep under the watchdog, measuring PCT's estimate first if no fixed
/// execution gave it.
pub(super) fn run_seed<F: Fn()>(
    config: &Config,
    estimate: &mut Estimate,
    watchdog: &Watchdog,
    seed: u64,
    body: &F,
) -> Execution {
    let _running = watchdog.begin(seed);
    let est = estimate.get(config, body);
    let events = estimate.events(config, body);
    config.run_seed_with_estimates(seed, est, &events, body)
}

pub(super) fn run<F: Fn()>(spec: &TestSpec, info: &TestInfo, env: &Env, body: &F) {
    let ctx = Ctx::new(spec, info, env);
    let watchdog = ctx.watchdog(None);
    let body = &watchdog.timed(body);
    let mut estimate = Estimate::default();

    if let Some(schedule) = &env.replay {
        let seed = ctx.config.seed_start;
        let exec = {
            let _running = watchdog.begin(seed);
            ctx.config.replay_seed(schedule, seed, body)
        };
        match exec.failure {
            Some(failure) if spec.expect.matches(spec.expect_message, &failure) => {
                println!(
                    "detest: the DETEST_REPLAY schedule shows the expected {}: {}",
                    spec.expect.as_str(),
                    failure.message.lines().next().unwrap_or("")
                );
            }
            Some(failure) => {
                let h = ctx.handle(
                    failure,
                    Stored::Not("not saved (a DETEST_REPLAY run)".into()),
                    ShrinkMode::Skip(None),
                    &watchdog,
                    body,
                );
                ctx.report(h, Some("the schedule in DETEST_REPLAY".into()), false)
            }
            None => {
                println!("detest: replayed the DETEST_REPLAY schedule as seed {seed}: pass");
                print_trace(env.trace, &format!("trace of seed {seed}"), &exec.trace);
            }
        }
        return;
    }

    if env.fixture.is_some() {
        fixture_replay::replay(&ctx, &watchdog, &mut estimate, body);
        return;
    }
    // `DETEST_SEED=S` asks for that seed, not for the fixtures before it.
    if ctx.fixtures.reads() && (env.seed.is_none() || ctx.fixtures == FixtureMode::Only) {
        fixture_replay::replay(&ctx, &watchdog, &mut estimate, body);
    }
    if ctx.fixtures == FixtureMode::Only {
        return;
    }

    let config = &ctx.config;
    let range = config.checked_range();
    if range.is_empty() && spec.expect == Expect::Pass {
        // libtest will print `ok` all the same: say, past its capture, that no seed ran. (An
        // expectation test keeps no fixtures: with no seeds it found nothing, and fails below.)
        let line = format!(
            "detest: `{}` ran no seeds (DETEST_SEEDS=0): only its saved fixtures replayed\n",
            info.name
        );
        let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
        return;
    }
    let mut unexpected: Vec<(bool, Failure)> = Vec::new();
    let mut last: Option<Execution> = None;
    let fixed = if ctx.sweeps_fixed_executions() {
        let _running = watchdog.begin(0);
        // A test expecting a failure looks at every fixed execution, as at every seed.
        let fixed = config
            .clone()
            .fail_fast(spec.expect == Expect::Pass)
            .fixed_executions_with(body, &mut |policy| watchdog.relabel(0, policy));
        estimate.set(Config::estimate_from(&fixed));
        fixed
    } else {
        Vec::new()
    };
    // The fixed executions (already run, for the estimate), then the seeds.
    let runs = fixed
        .into_iter()
        .map(|e| (true, e))
        .chain(range.iter().map(|seed| {
            (
                false,
                run_seed(config, &mut estimate, &watchdog, seed, body),
            )
        }));
    for (is_fixed, exec) in runs {
        let Some(failure) = exec.failure.clone() else {
            last = Some(exec);
            continue;
        };
        if spec.expect != Expect::Pass {
            if spec.expect.matches(spec.expect_message, &failure) {
                println!(
                    "detest: found the expected {} in {}: {}\n  schedule: {}",
                    expected_what(spec.expect).trim_start_matches("a "),
                    run_name(is_fixed, &failure),
                    failure.message.lines().next().unwrap_or(""),
                    crate::shown_schedule(&failure.schedule.encode())
                );
                return;
            }
            unexpected.push((is_fixed, failure));
            continue;
        }
        // Saved before shrinking, tracing or printing, which could still go wrong.
        let h = ctx.handle(failure, Stored::New, ShrinkMode::Auto, &watchdog, body);
        ctx.report(h, None, false);
    }

    let seeds = describe_range(config);
    if spec.expect != Expect::Pass {
        let mut msg = format!(
            "detest: test `{}` expected {}{} within {seeds} (policy {}), but {}",
            info.name,
            expected_what(spec.expect),
            spec.expect_message
                .map(|m| format!(" with a message containing {m:?}"))
                .unwrap_or_default(),
            config.policy,
            if unexpected.is_empty() {
                "every seed passed".to_owned()
            } else {
                "found only other failures:".to_owned()
            },
        );
        for (is_fixed, f) in unexpected.iter().take(5) {
            let _ = write!(
                msg,
                "\n  {}: {}: {}",
                run_name(*is_fixed, f),
                f.kind,
                f.message.lines().next().unwrap_or("")
            );
        }
        if unexpected.len() > 5 {
            let _ = write!(msg, "\n  ... and {} more", unexpected.len() - 5);
        }
        let _ = write!(
            msg,
            "\n  (more seeds or another policy may find it: DETEST_SEEDS=N, DETEST_POLICY=...)"
        );
        fail_test(msg);
    }
    println!("detest: {seeds} passed (policy {})", config.policy);
    if config.seeds == 1 {
        if let Some(exec) = &last {
            print_trace(
                env.trace,
                &format!("trace of seed {}", exec.seed),
                &exec.trace,
            );
        }
    }
}

pub(super) fn describe_range(config: &Config) -> String {
    let range = config.checked_range();
    match range.count() {
        0 => "no new seeds".to_owned(),
        1 => format!("seed {}", range.start()),
        n => format!("{n} seeds ({range})"),
    }
}

/// Which execution found `failure`: `seed 7 (policy pct:3)`, or, for one of the fixed executions
/// that come before the seeds (whose seed is no seed of the sweep), `the fixed rotate execution`.
fn run_name(is_fixed: bool, failure: &Failure) -> String {
    if is_fixed {
        format!("the fixed {} execution", failure.policy)
    } else {
        format!("seed {} (policy {})", failure.seed, failure.policy)
    }
}

fn expected_what(expect: Expect) -> &'static str {
    match expect {
        Expect::Pass => "a pass",
        Expect::Panic => "a panic",
        Expect::Deadlock => "a deadlock",
        Expect::DataRace => "a data race",
        Expect::Fail => "a failure",
    }
}

#[cfg(test)]
mod tests {
    use super::run_name;
    use crate::{Failure, FailureKind, Schedule};

    /// A fixed execution runs before the seeds and is no seed of the sweep: its report names it
    /// as what it is, never `seed 0`.
    #[test]
    fn a_fixed_execution_is_named_as_one() {
        let failure = Failure {
            seed: 0,
            policy: "rotate".into(),
            kind: FailureKind::Deadlock,
            message: "every task is blocked".into(),
            location: None,
            task: None,
            schedule: Schedule::new(),
            steps: 4,
            trace: Vec::new(),
        };
        assert_eq!(run_name(true, &failure), "the fixed rotate execution");
        assert_eq!(run_name(false, &failure), "seed 0 (policy rotate)");
    }
}
