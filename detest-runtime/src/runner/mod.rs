//! The test entry point behind `#[detest]`: environment overrides, fixture replay, the seed
//! sweep, expectations, failure reports, and the worker protocol spoken with `cargo detest`.
//!
//! # Plain `cargo test`
//!
//! 1. Saved fixture entries (`detest-regressions/<target>/<module path>/<fn>.toml`, see
//!    [`crate::fixture`]) replay first, each by its schedule, or by its seed when the schedule
//!    no longer applies (the replay reports nondeterminism because the code changed).
//! 2. Then the seeds `seed_start .. seed_start + seeds` run with the attribute's policy. Plain
//!    `cargo test` starts at seed 0, so it is reproducible.
//! 3. The first failing seed is saved to the fixture file *before* anything else (tracing,
//!    printing), then the report is printed to stderr and the test fails. The report ends with
//!    `DETEST_SEED=S cargo test -p PKG --test TARGET -- NAME --exact` (`--lib` / `--bin B` for
//!    those targets) and `cargo detest replay NAME -p PKG --seed S`; when the policy came from
//!    `DETEST_POLICY` (or a fixture saved under another policy) both carry it too.
//!
//! With `expect = "panic" | "deadlock" | "fail"`, the test passes at the first seed showing that
//! outcome (and prints which); other failures are noted and the sweep goes on; if no seed shows
//! it, the test fails saying so. Expectation tests neither read nor write fixtures: their
//! failures are the point, not regressions.
//!
//! # Environment
//!
//! | variable | meaning |
//! |---|---|
//! | `DETEST_SEED=S` | run exactly seed S (after the fixtures) |
//! | `DETEST_SEEDS=N` | run N seeds (`0`: only the fixtures) |
//! | `DETEST_SEED_START=S` | first seed; `random` picks one and prints it |
//! | `DETEST_POLICY=pct:3` | policy instead of the attribute's (`round-robin`, `random`, `pct[:D]`, `pos`, `chaos`) |
//! | `DETEST_REPLAY=detest1:...` | replay exactly this schedule once (as `DETEST_SEED`, default 0), nothing else |
//! | `DETEST_TRACE=1` | record every execution; reports show the whole trace; a single passing seed prints its trace |
//! | `DETEST_FIXTURES=on\|read\|off\|only` | replay and save (default) / replay, never write (CI) / ignore / replay only, no new seeds |
//! | `DETEST_REGRESSIONS_DIR=DIR` | use `DIR` instead of `<package>/detest-regressions` |
//! | `DETEST_ANNOUNCE`, `DETEST_RESULTS` | the `cargo detest` protocol, below |
//!
//! `DETEST_SHARD`, `DETEST_CHECK_DETERMINISM` and `DETEST_NO_SHRINK` are read by `cargo detest`
//! and allowed here; any other `DETEST_*` variable is warned about on stderr. An empty value
//! counts as unset; an invalid value fails the test naming the variable.
//!
//! # Protocol with `cargo detest`
//!
//! JSON lines, one `write` per line, each ending in `\n`.
//!
//! **Discovery** — `DETEST_ANNOUNCE=<path>`: run nothing; append one line describing the test to
//! `<path>` and pass:
//!
//! ```json
//! {"name":"counters::lost_update","seeds":1000,"seed_start":0,"policy":"chaos",
//!  "expect":"pass","expect_message":null,"max_steps":1000000,"timeout_ms":null,
//!  "fixture_file":"/abs/pkg/detest-regressions/races/counters/lost_update.toml",
//!  "fixture_count":2,"fixture_error":null,"package":"pkg","target":"races","target_kind":"test"}
//! ```
//!
//! `name` is the libtest name (for `--exact`); `policy` in `DETEST_POLICY` syntax; `expect` is
//! `pass|panic|deadlock|fail`; `target_kind` is `lib|test|bin`. A malformed fixture file gives
//! `fixture_count: 0` and its `path:line:col: message` in `fixture_error`. The environment
//! overrides apply to what is announced (`DETEST_SEEDS` changes `seeds`).
//!
//! **Worker** — `DETEST_RESULTS=<path>` (opened for append) or `DETEST_RESULTS=fd:N` (an
//! inherited descriptor, left open): run exactly the seeds `DETEST_SEED_START ..
//! +DETEST_SEEDS` (or `DETEST_SEED`; each defaults to the attribute's), with `DETEST_POLICY` or
//! the attribute's policy. Fixtures are not replayed. Per seed:
//!
//! ```json
//! {"event":"start","seed":17}
//! {"event":"result","seed":17,"status":"fail","steps":230,"saved":"/abs/...toml:0","failure":
//!  {"kind":"panic","message":"...","location":"tests/x.rs:9:5","task":"task 1",
//!   "schedule":"detest1:...","policy":"chaos"}}
//! ```
//!
//! `status` is `pass` (then `failure` and `saved` are null) or `fail`. `start` is written and
//! flushed before the seed runs, so a crash is attributed to the seed in flight. On a failing
//! seed the fixture is saved first (unless `DETEST_FIXTURES=off|read`; `saved` says where, as
//! `path:entry index`), then the result line is written, then the worker stops (no further
//! seeds: leaked state must not reach the next one) and the test fails. So the process fails
//! exactly when its last result line says `fail`.
//!
//! With `expect` other than `pass`, the worker reports raw per-seed outcomes the same way (a
//! deadlock is `status: fail`, kind `deadlock`) and saves no fixture; `cargo detest` judges the
//! expectation from the announced `expect` / `expect_message`.
//!
//! With `DETEST_FIXTURES=only`, the worker replays the saved entries instead of seeds: every
//! `start` and `result` line also carries `"fixture":"<path>:<entry index>"`, all entries run
//! (no stop at a failure), and the test fails if any failed. Nothing is saved in this mode.
//!
//! **Hangs** — with a `timeout`, a watchdog thread aborts the process when one execution overruns
//! it by a margin (the timeout again, at least 1s) without reaching a scheduling point. Before
//! aborting it saves the seed as kind `hang` with an empty schedule (replayed by seed), writes a
//! `fail` result line of kind `hang` in worker mode, and prints the seed and the repro commands to
//! stderr. `cargo detest` saves crashes and hangs it detects itself through
//! [`crate::fixture::save_entry`] with [`crate::fixture::FixtureEntry::for_seed`].

mod env;
mod replay;
mod sweep;
mod target;
mod watchdog;
mod worker;

use crate::Policy;
use std::fmt::Debug;
use std::time::Duration;

/// What `#[detest(...)]` says about a test, plus where it was compiled. Built by the macro.
#[derive(Clone, Debug)]
pub struct TestSpec {
    /// The function's name.
    pub name: &'static str,
    /// `module_path!()` of the test, starting with the crate name.
    pub module_path: &'static str,
    pub file: &'static str,
    pub manifest_dir: Option<&'static str>,
    pub package: Option<&'static str>,
    pub crate_name: Option<&'static str>,
    /// `CARGO_TARGET_TMPDIR`, which cargo sets only for integration tests.
    pub target_tmpdir: Option<&'static str>,
    pub bin_name: Option<&'static str>,
    pub seed_start: u64,
    pub seeds: u64,
    pub policy: Policy,
    pub expect: Expect,
    pub expect_message: Option<&'static str>,
    pub max_steps: Option<u64>,
    pub timeout_ms: Option<u64>,
    pub stack_size: Option<usize>,
}

/// The outcome a test expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    Pass,
    Panic,
    Deadlock,
    /// Any failure.
    Fail,
}

impl Expect {
    pub fn as_str(self) -> &'static str {
        match self {
            Expect::Pass => "pass",
            Expect::Panic => "panic",
            Expect::Deadlock => "deadlock",
            Expect::Fail => "fail",
        }
    }

    /// Whether `failure` is the expected outcome.
    pub fn matches(self, message: Option<&str>, failure: &crate::Failure) -> bool {
        let kind = match self {
            Expect::Pass => false,
            Expect::Panic => failure.kind == crate::FailureKind::Panic,
            Expect::Deadlock => failure.kind == crate::FailureKind::Deadlock,
            Expect::Fail => true,
        };
        kind && message.is_none_or(|m| failure.message.contains(m))
    }
}

/// What a test function may return: `()` or a `Result` whose `Err` fails the execution.
pub trait TestReturn {
    fn check(self);
}

impl TestReturn for () {
    fn check(self) {}
}

impl<E: Debug> TestReturn for Result<(), E> {
    #[track_caller]
    fn check(self) {
        if let Err(e) = self {
            panic!("the test returned Err({e:?})");
        }
    }
}

/// Runs a `#[detest]` test. Called by the macro's expansion.
pub fn run_test<F: Fn()>(spec: &TestSpec, body: F) {
    let env = match env::Env::from_process() {
        Ok(env) => env,
        Err(msg) => fail_test(format!("detest: invalid environment: {msg}")),
    };
    env::warn_unknown(&env);
    let info = target::TestInfo::new(spec, env.regressions_dir.as_deref());
    if let Some(path) = &env.announce {
        if let Err(e) = worker::announce(path, spec, &info, &env) {
            fail_test(format!(
                "detest: cannot write to DETEST_ANNOUNCE={}: {e}",
                path.display()
            ));
        }
        return;
    }
    if let Some(results) = &env.results {
        return worker::run(results, spec, &info, &env, &body);
    }
    sweep::run(spec, &info, &env, &body)
}

/// The configuration for this run: the attribute, then the environment.
fn config(spec: &TestSpec, env: &env::Env) -> crate::Config {
    let mut config = crate::Config::new()
        .policy(env.policy.unwrap_or(spec.policy))
        .trace(env.trace)
        // Failures are saved before they are traced, so tracing is the runner's job.
        .trace_failures(false);
    if let Some(n) = spec.max_steps {
        config = config.max_steps(n);
    }
    if let Some(n) = spec.stack_size {
        config = config.stack_size(n);
    }
    if let Some(ms) = spec.timeout_ms {
        config = config.timeout(Duration::from_millis(ms));
    }
    let (start, seeds) = match env.seed {
        Some(seed) => (seed, 1),
        None => (
            match env.seed_start {
                Some(env::SeedStart::Fixed(s)) => s,
                Some(env::SeedStart::Random) => random_start(),
                None => spec.seed_start,
            },
            env.seeds.unwrap_or(spec.seeds),
        ),
    };
    config.seed_start(start).seeds(seeds)
}

fn random_start() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded from the OS; keep seeds short enough to read and type.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    let start = h.finish() % 1_000_000_000;
    eprintln!("detest: DETEST_SEED_START=random picked seed start {start}");
    start
}

/// Fails the test with `text` as the last thing printed: the panic hook is bypassed, so the
/// report (which ends with the repro command) is not followed by a `panicked at` line.
fn fail_test(text: String) -> ! {
    let text = if text.ends_with('\n') {
        text
    } else {
        text + "\n"
    };
    eprint!("{text}");
    std::panic::resume_unwind(Box::new(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_returns_fail_on_err() {
        ().check();
        Ok::<(), String>(()).check();
        let err = std::panic::catch_unwind(|| Err::<(), _>("bad").check()).unwrap_err();
        assert_eq!(
            crate::panic_message(&*err),
            "the test returned Err(\"bad\")"
        );
    }
}
