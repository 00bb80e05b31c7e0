//! What a `#[detest]` test does when it runs: fixture replay, the seed sweep, expectations,
//! failure reports, the `DETEST_*` environment variables ([below](#environment)), and the
//! worker protocol spoken with `cargo detest`. The attribute's arguments are on
//! [`#[detest]`](macro@crate::detest). The items of this module are the macro's expansion's, not an API.
//!
//! # Plain `cargo test`
//!
//! 1. Saved fixture entries (`detest-regressions/<kind>/<target>/<module path>/<fn>.toml`,
//!    `<kind>` being `lib`, `bin` or `test`; see [`crate::fixture`]) replay first, each by its
//!    shrunk schedule, else its schedule, else its seed when the schedules no longer apply (the
//!    replay reports nondeterminism because the code changed); see below. Before each entry,
//!    `detest: replaying fixture <file>:<index> (<kind> at seed S, policy P) by ...` goes to
//!    stderr (uncaptured), so that an entry that hangs or kills the process is named.
//! 2. Then the seeds `seed_start .. seed_start + seeds` run with the attribute's policy. Plain
//!    `cargo test` starts at seed 0, so it is reproducible. A PCT or chaos sweep first runs the
//!    fixed executions ([`crate::Config::fixed_executions`]: seed 0 of `round-robin`, `rotate`
//!    and `first-release`); a failure there is handled like a failing seed of that policy. A single
//!    seed asked for with `DETEST_SEED` skips them (they still measure PCT's estimate).
//! 3. The first failing seed is saved to the fixture file *before* anything else (shrinking,
//!    tracing, printing). Then it is **shrunk** ([`crate::Config::shrink_with`], within the
//!    test's budget: `shrink_executions`, default 2000 candidate runs, and `shrink_time`, default
//!    10 s) and the shrunk schedule is stored in the same entry (`shrunk_schedule`,
//!    `shrunk_steps`, `shrunk_preemptions`; same lock, atomic rename) — or, when
//!    [`crate::fixture::ENTRIES_PER_FAILURE`] other entries already record the same failure
//!    (kind, location, shrunk schedule), the entry just added is removed again and the report's
//!    `fixture:` line says `not kept: entries ... already record this failure`. Then the report is printed
//!    to stderr and the test fails. The report has the `shrunk A → B steps, P → Q preemptions in
//!    T s (N executions)` line, the shrunk run as a timeline (one column per task, `*` where a
//!    task was preempted, `!!` the failing step; the last 40 rows, always with the failing one), the
//!    original `schedule:`, the `shrunk:` schedule, and ends with
//!    `DETEST_SEED=S cargo test -p PKG --test TARGET -- NAME --exact` (`--lib` / `--bin B` for
//!    those targets), `cargo detest replay NAME -p PKG --seed S` and, when shrunk,
//!    `DETEST_REPLAY=<shrunk> DETEST_SEED=S cargo test ...`; when the policy came from
//!    `DETEST_POLICY` (or a fixture saved under another policy) the first two carry it too.
//!    Without a shrunk schedule the report shows the original run's timeline and a
//!    `shrink:` line saying why (`off (shrink = false)`, `off (DETEST_NO_SHRINK)`, ...).
//!
//! A fixture entry replays by its shrunk schedule first; if that passes or no longer applies,
//! by its schedule; if that no longer applies, by its seed. The `from:` line of the report (and
//! the `fixture ...: pass` line) says which: `replayed by shrunk schedule`, `replayed by
//! schedule`, `replayed by schedule (the shrunk schedule passes | no longer applies)`,
//! `replayed by seed: ...`. An entry replayed by its original schedule that fails is shrunk then
//! (if it had no shrunk schedule, or a stale one).
//!
//! With `expect = "panic" | "deadlock" | "data-race" | "fail"`, the test passes at the first
//! seed showing that outcome (and prints which); other failures are noted and the sweep goes
//! on; if no seed shows it, the test fails saying so. Expectation tests neither read nor write fixtures and do not
//! shrink: their failures are the point, not regressions.
//!
//! # Environment
//!
//! | variable | meaning |
//! |---|---|
//! | `DETEST_SEED=S` | run exactly seed S and nothing else: no fixture replay (unless `DETEST_FIXTURES=only`) |
//! | `DETEST_SEEDS=N` | run N seeds (`0`: only the fixtures); the range must end at seed `u64::MAX` or below, else the test fails naming the variables, before anything runs |
//! | `DETEST_SEED_START=S` | first seed; `random` picks one and prints it |
//! | `DETEST_POLICY=pct:3` | policy instead of the attribute's (`round-robin`, `rotate`, `first-release`, `random`, `pct`, `pct:D` or `pctD`, `pos`, `chaos`, `urw`; see [`crate::Policy::parse`]) |
//! | `DETEST_REPLAY=detest1:...` | replay exactly this schedule once (as `DETEST_SEED`, default 0), nothing else |
//! | `DETEST_FIXTURE=<file>:<index>` | replay exactly this saved entry (shrunk schedule, schedule, seed), nothing else |
//! | `DETEST_TRACE=1` | record every execution; failure reports show the whole timeline; a replayed entry, a `DETEST_REPLAY` run and a single passing seed print theirs |
//! | `DETEST_TRACE=json` | the same executions print their trace as JSON lines ([`crate::trace::to_json_lines`]) to stdout between the lines `--- detest trace (json) ---` and `--- end trace ---`, instead of a timeline (a report then has no timeline) |
//! | `DETEST_FIXTURES=on\|read\|off\|only` | replay and save (default) / replay, never write (CI) / ignore / replay only, no new seeds |
//! | `DETEST_FIXTURE_START=K` | replay the fixture entries from index K on (to resume a `DETEST_FIXTURES=only` pass) |
//! | `DETEST_REGRESSIONS_DIR=DIR` | use `DIR` instead of `<package>/detest-regressions` |
//! | `DETEST_NO_SHRINK=1` | do not shrink failures (as `shrink = false`) |
//! | `DETEST_MINIMIZE=1` | shrink one failure on demand, below |
//! | `DETEST_CHECK_DETERMINISM=N` | check every seed of the range N times, below (`0`: off) |
//! | `DETEST_ANNOUNCE`, `DETEST_RESULTS`, `DETEST_FIXED_RUNS`, `DETEST_FOREGROUND` | the `cargo detest` protocol, below |
//! | `DETEST_SPURIOUS_WAKEUPS=0\|1` | whether condvar waits and `park` may return spuriously under the exploring policies, instead of the attribute's `spurious_wakeups` (default 1) |
//! | `DETEST_MEMORY_MODEL=sc\|weak` | `sc`: every atomic load reads the newest store; `weak`: a load may read any store C11/C++20 allows; instead of the attribute's `memory_model` (default `weak`) |
//! | `DETEST_MANIFEST_PATH=M` | the repro commands a report prints carry `--manifest-path M` (set by `cargo detest replay` / `minimize` from theirs) |
//!
//! With `DETEST_TRACE` and a shrunk failure, the trace shown is the shrunk run's;
//! `DETEST_NO_SHRINK=1 DETEST_TRACE=1` shows the original run's. `DETEST_SHARD` is read by
//! `cargo detest` and allowed here; any other `DETEST_*` variable is warned about on stderr. An
//! empty value counts as unset; an invalid value fails the test naming the variable.
//!
//! # Minimize on demand
//!
//! `DETEST_MINIMIZE=1` with `DETEST_SEED=S` (run that seed under the policy), `DETEST_REPLAY=<schedule>`
//! (replay it, as `DETEST_SEED` or 0) or `DETEST_FIXTURE=<file>:<index>` (replay that entry)
//! runs that one failure and nothing else (no fixture replay, no sweep). If it passes, it prints
//! `detest: minimize: ... passes ...: nothing to shrink` and the test passes. If it fails, it is
//! saved (unless `DETEST_FIXTURES=off|read`, or an expectation test) and shrunk even with
//! `shrink = false`; the shrunk schedule replaces the entry's; stdout gets
//! `detest: minimized `NAME` seed S: shrunk A → B steps, ...` and `detest: shrunk schedule:
//! detest1:...`; the failure report (stderr) shows the whole shrunk timeline; the test fails.
//! With `DETEST_RESULTS` it also writes one `start` and one `result` line (as below).
//!
//! # Determinism check
//!
//! `DETEST_CHECK_DETERMINISM=N` runs each seed of the range (`DETEST_SEED`, `DETEST_SEEDS`,
//! `DETEST_SEED_START` apply) N times ([`crate::Config::check_determinism`]) and nothing else (no
//! fixtures, no saving, expectations ignored). All deterministic: one line `detest: test `NAME`
//! is deterministic: ...` and the test passes. Otherwise the failure shows
//! [`crate::DeterminismReport::render`] of the first 3 nondeterministic seeds (histogram, first
//! divergent step, diff, likely cause), one line for each further one, and
//! `detest: test `NAME` is NOT deterministic: ...`. It takes precedence over `DETEST_MINIMIZE`.
//! With `DETEST_RESULTS`, per seed: a `start` line, then
//!
//! ```json
//! {"event":"determinism","seed":3,"runs":20,"histogram":[["9da7b1e9fb6f4a0d",12],["520557679d93b074",8]],
//!  "deterministic":false,"divergence":{"step":8,"index":7,"expected":null,
//!  "actual":"    8  task 0   lock Mutex<u32>#1  at tests/races.rs:109",
//!  "diff":"--- run 1\n+++ diverging run\n...","likely_cause":"near tests/races.rs:109, it reads the real clock ..."}}
//! ```
//!
//! (`histogram`: 16 hex digits → runs, most frequent first; `divergence` is null when
//! deterministic; `expected`/`actual` null when that run had ended). The process fails when any
//! seed is nondeterministic, after all seeds ran.
//!
//! # Protocol with `cargo detest`
//!
//! JSON lines, one `write` per line, each ending in `\n`.
//!
//! **Discovery** — `DETEST_ANNOUNCE=<path>`: as the test binary loads (a static constructor
//! the macro emits, before `main`), every `#[detest]` test in it appends one line describing
//! itself to `<path>`, so `<bin> --list --format terse` with the variable set announces every
//! detest test and runs none, plain or detest; a test that runs anyway with the variable set
//! returns at once. Each line:
//!
//! ```json
//! {"name":"counters::lost_update","seeds":1000,"seed_start":0,"policy":"chaos",
//!  "expect":"pass","expect_message":null,"max_steps":1000000,"timeout_ms":null,
//!  "fixture_file":"/abs/pkg/detest-regressions/test/races/counters/lost_update.toml",
//!  "fixture_count":2,"fixture_error":null,"package":"pkg","target":"races","target_kind":"test"}
//! ```
//!
//! `name` is the libtest name (for `--exact`); `policy` in `DETEST_POLICY` syntax; `expect` is
//! `pass|panic|deadlock|fail`; `target_kind` is `lib|test|bin|example|bench` (fixtures live
//! under `detest-regressions/<target_kind>/<target>/`). A malformed fixture file gives
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
//!   "schedule":"detest1:...","policy":"chaos"},
//!  "shrunk":{"schedule":"detest1:...","steps_before":230,"steps_after":23,
//!   "preemptions_before":9,"preemptions_after":1,"executions":412,"complete":true,
//!   "summary":"shrunk 230 → 23 steps, 9 → 1 preemption in 0.4 s (412 executions)"},
//!  "trace":[{"step":1,"task":0,"op":"spawn","object":null,"location":"tests/x.rs:4:13","preempted_by":null,"time":0,"value":null},...]}
//! ```
//!
//! `status` is `pass` (then `failure`, `saved` and `shrunk` are null) or `fail`. `shrunk` is
//! null when the failure was not shrunk (`shrink = false`, `DETEST_NO_SHRINK`, an expectation
//! test, a fixture replay, or a schedule that does not reproduce). A schedule (of `failure` or
//! `shrunk`) longer than [`crate::SCHEDULE_SHOWN_MAX`] travels abbreviated
//! ([`crate::shown_schedule`]) with `"schedule_len"`, its whole length, set: it is not
//! replayable, the seed replays the same execution, and the fixture stores no such schedule.
//! Reports never print a command carrying one (Linux limits one argument to 128 KiB).
//! `trace` holds the objects of
//! [`crate::trace::to_json_lines`]: of the shrunk run when there is one, else of the failing run
//! (replayed to trace it); for a passing seed it is `[]` unless `DETEST_TRACE` is set. `start` is written and
//! flushed before the seed runs, so a crash is attributed to the seed in flight. On a failing
//! seed the fixture is saved first (unless `DETEST_FIXTURES=off|read`; `saved` says where, as
//! `path:entry index`; null when it was not saved, or was removed again after shrinking because
//! [`crate::fixture::ENTRIES_PER_FAILURE`] other entries record the same failure;
//! `not_saved` then says why, in words), then the result line is written, then the worker stops (no further
//! seeds: leaked state must not reach the next one) and the test fails. So the process fails
//! exactly when its last result line says `fail`. With `DETEST_FIXED_RUNS=1` (the chunk that
//! begins a sweep, unless the attribute says `seed = S`) a PCT or chaos worker first runs the
//! fixed executions, each after a start line of its own,
//! `{"event":"start","seed":0,"policy":"rotate"}`; only a failing one gets a `result` line
//! (seed 0, its policy in `failure.policy`), and the worker then stops as after a failing
//! seed. `cargo detest` goes on with the chunk's seeds in a new worker, without the fixed
//! executions left (the in-process sweep of an expectation test looks at all of them).
//!
//! **Foreground** — `DETEST_RESULTS` with `DETEST_FOREGROUND=1` (`cargo detest replay`): the
//! test runs as plain `cargo test` would (fixtures, `DETEST_SEED`, `DETEST_REPLAY`,
//! `DETEST_FIXTURE`, the full report on stderr), after a `start` line (the seed of
//! `DETEST_SEED`, else 0), and writes one `result` line when the test function ends, passing
//! or failing (`status`, and for a failure it reported, `failure`: its kind and message). A process that ends without it (`std::process::exit` in the body,
//! a signal) did not finish the execution: `cargo detest` reports a crash, as in a sweep.
//!
//! With `expect` other than `pass`, the worker reports raw per-seed outcomes the same way (a
//! deadlock is `status: fail`, kind `deadlock`) and saves no fixture; `cargo detest` judges the
//! expectation from the announced `expect` / `expect_message`.
//!
//! With `DETEST_FIXTURES=only`, the worker replays the saved entries instead of seeds, from
//! entry `DETEST_FIXTURE_START` (default 0): every `start` and `result` line also carries
//! `"fixture":"<path>:<entry index>"`, and each `result` line `"replayed":"shrunk_schedule" |
//! "schedule" | "seed"`; all entries run (no stop at a failure), and the test fails if any
//! failed. Nothing is saved or shrunk in this mode. `DETEST_FIXTURE=<path>:<index>` does the
//! same for that one entry.
//!
//! **Hangs** — with a `timeout`, a watchdog thread aborts the process when one execution overruns
//! it by a margin (the timeout again, at least 1s) without reaching a scheduling point. Before
//! aborting it saves the seed as kind `hang` with an empty schedule (replayed by seed), writes a
//! `fail` result line of kind `hang` in worker mode, and prints the seed and the repro commands to
//! stderr. `cargo detest` saves crashes and hangs it detects itself through
//! [`crate::fixture::save_entry`] with [`crate::fixture::FixtureEntry::for_seed`]. While a
//! failure is shrunk or a seed checked for determinism, the limit applies to each execution
//! (the clock restarts as each one starts); a candidate that spins is then saved as a `hang` of
//! the seed being shrunk.

mod check;
mod env;
mod fixture_replay;
mod minimize;
mod replay;
mod sweep;
mod target;
mod watchdog;
mod worker;

use crate::Policy;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

/// What `#[detest(...)]` says about a test, plus where it was compiled. Built by the macro.
#[derive(Clone, Debug)]
#[doc(hidden)]
pub struct TestSpec {
    /// The function's name.
    pub name: &'static str,
    /// `module_path!()` of the test, starting with the crate name.
    pub module_path: &'static str,
    pub file: &'static str,
    pub manifest_dir: Option<&'static str>,
    pub package: Option<&'static str>,
    pub crate_name: Option<&'static str>,
    /// `CARGO_TARGET_TMPDIR`, which cargo sets only for integration tests and benches.
    pub target_tmpdir: Option<&'static str>,
    pub bin_name: Option<&'static str>,
    pub seed_start: u64,
    pub seeds: u64,
    /// `seed = S`: exactly that seed, without the fixed executions a sweep begins with.
    pub exact_seed: bool,
    pub policy: Policy,
    pub expect: Expect,
    pub expect_message: Option<&'static str>,
    pub max_steps: Option<u64>,
    pub timeout_ms: Option<u64>,
    pub stack_size: Option<usize>,
    /// Shrink a saved failure (`shrink = false` turns it off).
    pub shrink: bool,
    /// The shrinking budget: candidate executions (`shrink_executions`).
    pub shrink_executions: Option<u64>,
    /// The shrinking budget: wall-clock time (`shrink_time`).
    pub shrink_time_ms: Option<u64>,
    /// Waits may return spuriously (`spurious_wakeups = false` turns it off).
    pub spurious_wakeups: bool,
    /// Every atomic load reads the newest store (`memory_model = "sc"`).
    pub memory_model_sc: bool,
}

/// The outcome a test expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[doc(hidden)]
pub enum Expect {
    Pass,
    Panic,
    Deadlock,
    DataRace,
    /// Any failure.
    Fail,
}

impl Expect {
    pub fn as_str(self) -> &'static str {
        match self {
            Expect::Pass => "pass",
            Expect::Panic => "panic",
            Expect::Deadlock => "deadlock",
            Expect::DataRace => "data-race",
            Expect::Fail => "fail",
        }
    }

    /// Whether `failure` is the expected outcome.
    pub fn matches(self, message: Option<&str>, failure: &crate::Failure) -> bool {
        let kind = match self {
            Expect::Pass => false,
            Expect::Panic => failure.kind == crate::FailureKind::Panic,
            Expect::Deadlock => failure.kind == crate::FailureKind::Deadlock,
            Expect::DataRace => failure.kind == crate::FailureKind::DataRace,
            Expect::Fail => true,
        };
        kind && message.is_none_or(|m| failure.message.contains(m))
    }
}

/// What a test function may return: `()` or a `Result` whose `Err` fails the execution.
#[doc(hidden)]
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
#[doc(hidden)]
pub fn run_test<F: Fn()>(spec: &TestSpec, body: F) {
    let env = match env::Env::from_process() {
        Ok(env) => env,
        Err(msg) => fail_test(format!("detest: invalid environment: {msg}")),
    };
    env::warn_unknown(&env);
    let info = target::TestInfo::new(spec, env.regressions_dir.as_deref());
    if env.announce.is_some() {
        // Announced as the binary loaded (`announce_at_load`); discovery runs nothing.
        return;
    }
    let _repro = crate::rt::execution::AbortRepro::set(Box::new({
        let (info, policy) = (info.clone(), env.policy.unwrap_or(spec.policy).to_string());
        move |seed, p| info.repro(seed, (p != policy).then_some(p))
    }));
    if env.check_determinism.is_some() || env.minimize {
        let results = env
            .results
            .as_ref()
            .map(|target| match worker::Results::open(target) {
                Ok(r) => Arc::new(r),
                Err(e) => fail_test(format!("detest: cannot open DETEST_RESULTS: {e}")),
            });
        let ctx = sweep::Ctx::new(spec, &info, &env);
        let watchdog = ctx.watchdog(results.clone());
        let timed = watchdog.timed(&body);
        let progressing = results.as_deref().map(|r| r.progressing(&timed));
        let body = || match &progressing {
            Some(body) => body(),
            None => timed(),
        };
        return match env.check_determinism {
            Some(runs) => check::run(&ctx, runs, results.as_deref(), &watchdog, &body),
            None => minimize::run(&ctx, results.as_deref(), &watchdog, &body),
        };
    }
    if let Some(results) = &env.results {
        if env.foreground {
            return worker::foreground(results, &env, || sweep::run(spec, &info, &env, &body));
        }
        return worker::run(results, spec, &info, &env, &body);
    }
    sweep::run(spec, &info, &env, &body)
}

/// Announces a test as its binary loads: called by the static constructor the macro emits for
/// every `#[detest]` test, before `main`. Does nothing unless `DETEST_ANNOUNCE` is set; then
/// appends the test's line (see "Discovery" above). It cannot fail the test (none is running),
/// so a bad environment or an unwritable file ends the process with exit code 101 and the
/// reason on stderr, and the `--list` that discovery runs fails with it.
pub fn announce_at_load(spec: &TestSpec) {
    let Some(path) = std::env::var_os("DETEST_ANNOUNCE").map(std::path::PathBuf::from) else {
        return;
    };
    // A panic must not unwind out of an `extern "C"` constructor (that aborts, reason unseen).
    let written = std::panic::catch_unwind(|| {
        let env = env::Env::from_process().map_err(|m| format!("invalid environment: {m}"))?;
        let info = target::TestInfo::new(spec, env.regressions_dir.as_deref());
        worker::announce(&path, spec, &info, &env)
            .map_err(|e| format!("cannot write to DETEST_ANNOUNCE={}: {e}", path.display()))
    });
    let error = match written {
        Ok(Ok(())) => return,
        Ok(Err(e)) => e,
        Err(panic) => format!("announcing panicked: {}", crate::panic_message(&*panic)),
    };
    eprintln!("detest: {}::{}: {error}", spec.module_path, spec.name);
    std::process::exit(101);
}

/// The configuration for this run: the attribute, then the environment.
fn config(spec: &TestSpec, env: &env::Env) -> crate::Config {
    let mut config = crate::Config::new()
        .policy(env.policy.unwrap_or(spec.policy))
        .trace(env.trace.on())
        .spurious_wakeups(env.spurious_wakeups.unwrap_or(spec.spurious_wakeups))
        .memory_model(env.memory_model.unwrap_or(if spec.memory_model_sc {
            crate::MemoryModel::SeqCst
        } else {
            crate::MemoryModel::Weak
        }))
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
    let config = config.seed_start(start).seeds(seeds);
    if let Err(e) = config.seed_range() {
        // Rejected before anything runs: a range cut short at u64::MAX would pass seeds that
        // never ran.
        fail_test(format!(
            "detest: invalid environment: {}: {e}",
            range_origin(spec, env, start, seeds)
        ));
    }
    config
}

/// Where a seed range came from, naming each `DETEST_*` variable (or attribute argument).
fn range_origin(spec: &TestSpec, env: &env::Env, start: u64, seeds: u64) -> String {
    let start = match env.seed_start {
        Some(_) => format!("DETEST_SEED_START={start}"),
        None if spec.exact_seed => format!("the attribute's seed = {start}"),
        None => format!("seed start {start}"),
    };
    let seeds = match env.seeds {
        Some(_) => format!("DETEST_SEEDS={seeds}"),
        None => format!("the attribute's seeds = {seeds}"),
    };
    format!("{start} with {seeds}")
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
