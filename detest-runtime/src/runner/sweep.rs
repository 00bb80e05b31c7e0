//! Plain `cargo test`: fixtures first, then the seed sweep, then a report that replays.

use super::env::{Env, FixtureMode};
use super::replay::{replay_entry, traced, Estimate};
use super::target::TestInfo;
use super::watchdog::Watchdog;
use super::worker::Results;
use super::{fail_test, Expect, TestSpec};
use crate::fixture::{self, FixtureEntry, FixtureFile, Saved};
use crate::render::{self, ReportOptions};
use crate::{Config, Execution, Failure};
use std::fmt::Write as _;
use std::sync::Arc;

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

    /// The policy to name in repro commands, when it is not the attribute's.
    fn policy_override<'p>(&self, policy: &'p str) -> Option<&'p str> {
        (policy != self.spec.policy.to_string()).then_some(policy)
    }

    /// Saves `failure` if this run writes fixtures; returns the line for the report.
    pub(super) fn save(&self, failure: &Failure) -> (Option<Saved>, String) {
        self.save_entry(&FixtureEntry::from_failure(failure))
    }

    pub(super) fn save_entry(&self, entry: &FixtureEntry) -> (Option<Saved>, String) {
        let path = self.info.fixture_path.display();
        if !self.fixtures.writes() {
            let why = if self.spec.expect != Expect::Pass {
                "an expectation test".to_owned()
            } else {
                format!("DETEST_FIXTURES={}", self.fixtures.as_str())
            };
            return (None, format!("not saved ({why})"));
        }
        match fixture::save_entry(&self.info.fixture_path, &self.info.name, entry) {
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
        let policy = self.config.policy.to_string();
        let repro_policy = self.policy_override(&policy).map(str::to_owned);
        let fixtures = self.fixtures;
        let expect_pass = self.spec.expect == Expect::Pass;
        let timeout = self.config.timeout;
        Watchdog::start(
            timeout,
            Box::new(move |seed, limit| {
                let message = format!(
                    "one execution ran for more than {limit:?} (the timeout of {:?} plus a \
                     margin) without reaching a scheduling point, so it cannot be stopped \
                     in-process",
                    timeout.unwrap_or_default()
                );
                let entry = FixtureEntry::for_seed(seed, &policy, "hang", &message);
                let saved = if fixtures.writes() && expect_pass {
                    match fixture::save_entry(&info.fixture_path, &info.name, &entry) {
                        Ok(s) => format!(
                            "saved to {} (entry {})",
                            info.fixture_path.display(),
                            s.index()
                        ),
                        Err(e) => format!("could not be saved: {e}"),
                    }
                } else {
                    "not saved".to_owned()
                };
                if let Some(results) = &results {
                    results.hang(seed, &entry);
                }
                let mut text = format!(
                    "detest: test `{}` hung at seed {seed} (policy {policy}): {message}; \
                     aborting the process.\n  fixture:  {saved}\n  reproduce with:\n",
                    info.name
                );
                for cmd in info.repro(seed, repro_policy.as_deref()) {
                    let _ = writeln!(text, "    {cmd}");
                }
                // Not `eprint!`: this thread's output is not captured, and must not be lost.
                let _ = std::io::Write::write_all(&mut std::io::stderr(), text.as_bytes());
            }),
        )
    }

    fn report(&self, failure: Failure, origin: Option<String>, fixture: String) -> ! {
        let repro = match (&self.env.replay, &origin) {
            (Some(schedule), _) => self.info.repro_schedule(&schedule.encode(), failure.seed),
            _ => self
                .info
                .repro(failure.seed, self.policy_override(&failure.policy)),
        };
        let block = render::failure_report(
            &failure,
            &ReportOptions {
                test: Some(&self.info.name),
                origin: origin.as_deref(),
                fixture: Some(&fixture),
                repro: &repro,
                full_trace: self.env.trace,
                color: render::stderr_color(),
            },
        );
        fail_test(block)
    }
}

pub(super) fn run<F: Fn()>(spec: &TestSpec, info: &TestInfo, env: &Env, body: &F) {
    let ctx = Ctx::new(spec, info, env);
    let watchdog = ctx.watchdog(None);
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
            Some(failure) => ctx.report(
                failure,
                Some("the schedule in DETEST_REPLAY".into()),
                "not saved (a DETEST_REPLAY run)".into(),
            ),
            None => {
                println!("detest: replayed the DETEST_REPLAY schedule as seed {seed}: pass");
                print_trace(&exec);
            }
        }
        return;
    }

    if ctx.fixtures.reads() {
        replay_fixtures(&ctx, &watchdog, &mut estimate, body);
    }
    if ctx.fixtures == FixtureMode::Only {
        return;
    }

    let config = &ctx.config;
    let range = config.seed_start..config.seed_start.saturating_add(config.seeds);
    let mut unexpected: Vec<Failure> = Vec::new();
    let mut last: Option<Execution> = None;
    for seed in range {
        let exec = {
            let _running = watchdog.begin(seed);
            let est = estimate.get(config, body);
            config.run_seed_with_estimate(seed, est, body)
        };
        let Some(failure) = exec.failure.clone() else {
            last = Some(exec);
            continue;
        };
        if spec.expect != Expect::Pass {
            if spec.expect.matches(spec.expect_message, &failure) {
                println!(
                    "detest: found the expected {} at seed {seed} (policy {}): {}\n  schedule: {}",
                    expected_what(spec.expect).trim_start_matches("a "),
                    failure.policy,
                    failure.message.lines().next().unwrap_or(""),
                    failure.schedule
                );
                return;
            }
            unexpected.push(failure);
            continue;
        }
        // Saved before tracing or printing, which could still go wrong.
        let (_, saved) = ctx.save(&failure);
        let failure = {
            let _running = watchdog.begin(seed);
            traced(config, failure, body)
        };
        ctx.report(failure, None, saved);
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
        for f in unexpected.iter().take(5) {
            let _ = write!(
                msg,
                "\n  seed {}: {}: {}",
                f.seed,
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
            print_trace(exec);
        }
    }
    drop(watchdog);
}

fn replay_fixtures<F: Fn()>(ctx: &Ctx<'_>, watchdog: &Watchdog, estimate: &mut Estimate, body: &F) {
    let path = &ctx.info.fixture_path;
    let file = match FixtureFile::load(path) {
        Ok(file) => file,
        Err(e) => fail_test(format!("detest: test `{}`: {e}", ctx.info.name)),
    };
    for (index, entry) in file.entries.iter().enumerate() {
        let (exec, how) = {
            let _running = watchdog.begin(entry.seed);
            replay_entry(&ctx.config, entry, estimate, body)
        };
        let origin = format!(
            "fixture {}:{index} (found {}), replayed {}",
            path.display(),
            if entry.found.is_empty() {
                "earlier"
            } else {
                &entry.found
            },
            how.describe()
        );
        match exec.failure {
            None => println!("detest: {origin}: pass"),
            Some(failure) => {
                // A seed rerun produced a new schedule: keep it, so the next replay is exact.
                let fixture_note = if how == super::replay::How::Schedule {
                    format!("from {} (entry {index})", path.display())
                } else {
                    ctx.save(&failure).1
                };
                let failure = {
                    let _running = watchdog.begin(entry.seed);
                    traced(&ctx.config, failure, body)
                };
                ctx.report(failure, Some(origin), fixture_note);
            }
        }
    }
}

fn describe_range(config: &Config) -> String {
    match config.seeds {
        0 => "no new seeds".to_owned(),
        1 => format!("seed {}", config.seed_start),
        n => format!(
            "{n} seeds ({}..{})",
            config.seed_start,
            config.seed_start.saturating_add(n)
        ),
    }
}

fn expected_what(expect: Expect) -> &'static str {
    match expect {
        Expect::Pass => "a pass",
        Expect::Panic => "a panic",
        Expect::Deadlock => "a deadlock",
        Expect::Fail => "a failure",
    }
}

fn print_trace(exec: &Execution) {
    if exec.trace.is_empty() {
        return;
    }
    println!(
        "detest: trace of seed {} ({} steps):",
        exec.seed,
        exec.trace.len()
    );
    for event in &exec.trace {
        println!("    {event}");
    }
}
