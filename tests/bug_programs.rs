//! The bug programs of ../shared/benchmarks.md (and a few of our own beyond the list) as tests
//! with pinned seed ranges: each must be found by PCT(3) and by chaos, with the right failure
//! kind, within a budget. Exploration is deterministic for a seed range, so these never flake;
//! a change that makes a policy miss (or need more than the budget) fails CI.
//!
//! The programs are written once, in detest-bench/src/programs.rs, against `thread` and `sync`
//! names, and shared with the benchmark that runs them on detest, shuttle and loom.

#[allow(dead_code)]
mod programs {
    use detest::{future, sync, thread};
    include!("../detest-bench/src/programs.rs");
    include!("../detest-bench/src/programs_async.rs");
}

use detest::{Config, FailureKind, Policy};

/// Seeds per policy and program. Medians are 1 to 20 executions except reorder_10 (hundreds).
fn budget(program: &str) -> u64 {
    match program {
        "reorder_10" => 5_000,
        _ => 1_000,
    }
}

fn all_programs() -> Vec<programs::BugProgram> {
    let mut all = programs::bug_programs();
    all.extend(programs::async_bug_programs());
    all
}

fn assert_found(policy: Policy) {
    assert_found_only(policy, Sweep::Whole, |_| true);
}

/// What runs for each program: the sweep as `Config::run` does it (fixed executions, then the
/// seeds), or the seeds alone, so that the policy's own sampling is what finds the bug.
#[derive(Clone, Copy, PartialEq)]
enum Sweep {
    Whole,
    SeedsOnly,
}

fn assert_found_only(policy: Policy, sweep: Sweep, wanted: impl Fn(&str) -> bool) {
    let config = Config::new().policy(policy).trace_failures(false);
    let mut missed = Vec::new();
    for p in all_programs().into_iter().filter(|p| wanted(p.name)) {
        let expected = if p.deadlock {
            FailureKind::Deadlock
        } else {
            FailureKind::Panic
        };
        let found = match sweep {
            Sweep::Whole => {
                let report = config.clone().seeds(budget(p.name)).run(p.body);
                report.failures.into_iter().next()
            }
            Sweep::SeedsOnly => {
                let estimate = config.estimate_choices(&p.body);
                (0..budget(p.name)).find_map(|seed| {
                    config
                        .run_seed_with_estimate(seed, estimate, &p.body)
                        .failure
                })
            }
        };
        match found {
            Some(f) if f.kind == expected => {}
            Some(f) => missed.push(format!(
                "{}: expected {expected:?}, found {:?} at seed {} ({}): {}",
                p.name, f.kind, f.seed, f.policy, f.message
            )),
            None => missed.push(format!("{}: not found in {} seeds", p.name, budget(p.name))),
        }
    }
    assert!(missed.is_empty(), "{policy} missed:\n{}", missed.join("\n"));
}

#[test]
fn pct3_finds_every_bug_program() {
    assert_found(Policy::Pct { depth: 3 });
}

#[test]
fn chaos_finds_every_bug_program() {
    assert_found(Policy::Chaos);
}

// Chaos and PCT find several programs in their fixed executions (round-robin, rotate,
// first-release) before any seed. Their sampling must find every program on its own too: a
// bug the fixed executions miss by a little is the seeds' to find.

#[test]
fn pct3_seeds_find_every_bug_program_without_the_fixed_executions() {
    assert_found_only(Policy::Pct { depth: 3 }, Sweep::SeedsOnly, |_| true);
}

#[test]
fn chaos_seeds_find_every_bug_program_without_the_fixed_executions() {
    assert_found_only(Policy::Chaos, Sweep::SeedsOnly, |_| true);
}

#[test]
fn pos_finds_every_bug_program() {
    assert_found(Policy::Pos);
}

#[test]
fn random_walk_finds_every_bug_program_but_long_prefix() {
    // long_prefix needs 20 steps of one thread without a switch: 1 in 2^20 for a random walk
    // (shuttle's finds it in 6 trials of 20 at 10,000 executions).
    assert_found_only(Policy::Random, Sweep::Whole, |name| name != "long_prefix");
}

#[test]
fn the_fixed_executions_find_what_they_are_for() {
    let first = |body: fn()| {
        let report = Config::new()
            .seeds(1_000)
            .policy(Policy::Chaos)
            .trace_failures(false)
            .run(body);
        let f = report.failures.first().expect("found");
        (report.executions, f.policy.clone())
    };
    // No preemption needed: the plain round-robin run.
    assert_eq!(first(programs::long_prefix), (1, "round-robin".into()));
    assert_eq!(first(programs::lazy01), (1, "round-robin".into()));
    // Opposite lock orders: a switch at every choice point.
    assert_eq!(first(programs::deadlock01), (2, "rotate".into()));
    assert_eq!(first(programs::lock_cycle3), (2, "rotate".into()));
    // Another thread whole between two critical sections.
    assert_eq!(first(programs::twostage), (3, "first-release".into()));
}

#[test]
fn deadlock01_is_a_deadlock_naming_both_locks() {
    let report = Config::new()
        .seeds(1_000)
        .policy(Policy::Chaos)
        .trace_failures(false)
        .run(programs::deadlock01);
    let f = &report.failures[0];
    assert_eq!(f.kind, FailureKind::Deadlock);
    // Each thread waits for the lock the other holds, and the report says which.
    let waits: Vec<&str> = f
        .message
        .lines()
        .filter(|l| l.contains("waits to lock Mutex<") && l.contains("(held by task "))
        .collect();
    assert_eq!(waits.len(), 2, "{}", f.message);
}

#[test]
fn correct_workloads_never_fail() {
    let mut all = programs::workloads();
    all.extend(programs::async_workloads());
    for w in all {
        for policy in [Policy::Random, Policy::Pct { depth: 3 }, Policy::Chaos] {
            let report = Config::new()
                .seeds(20)
                .policy(policy)
                .trace_failures(false)
                .fail_fast(false)
                .run(w.body);
            assert!(
                report.failures.is_empty(),
                "{} failed under {policy}: {}",
                w.name,
                report.failures[0].message
            );
        }
    }
}

/// A task that panics while holding a MutexGuard unlocks in the guard's drop, mid-unwind. That
/// unlock must not be a switch: a coroutine suspended mid-unwind cannot be torn down without
/// aborting the process ("thread caused non-unwinding panic").
#[test]
fn panic_while_holding_a_lock_does_not_abort() {
    use detest::sync::{Arc, Mutex};
    let report = Config::new()
        .seeds(200)
        .policy(Policy::Random)
        .trace_failures(false)
        .fail_fast(false)
        .run(|| {
            let m = Arc::new(Mutex::new(0));
            let m2 = m.clone();
            let _t = detest::thread::spawn(move || {
                let _g = m2.lock().unwrap();
                panic!("t1 panics holding the lock");
            });
            drop(m.lock());
            panic!("main panics too");
        });
    assert_eq!(report.failures.len(), 200);
}

// The same programs as `#[detest]` expectation tests, pinned to the seeds from 0, the way a user
// would keep a known bug from coming back unnoticed: each passes only if its sweep shows the
// expected failure. Under chaos (fixed executions, then the portfolio) and under PCT(3).

macro_rules! expect_bug {
    ($($name:ident: $kind:tt, $seeds:tt;)*) => {
        mod chaos {
            use super::programs;
            use detest::detest;
            $(
                #[detest(seeds = $seeds, chaos, expect = $kind)]
                fn $name() {
                    programs::$name();
                }
            )*
        }
        mod pct {
            use super::programs;
            use detest::detest;
            $(
                #[detest(seeds = $seeds, policy = "pct", depth = 3, expect = $kind)]
                fn $name() {
                    programs::$name();
                }
            )*
        }
    };
}

expect_bug! {
    reorder_3: "panic", 1000;
    reorder_5: "panic", 1000;
    reorder_10: "panic", 5000;
    twostage: "panic", 1000;
    lazy01: "panic", 1000;
    deadlock01: "deadlock", 1000;
    long_prefix: "panic", 1000;
    lost_signal: "deadlock", 1000;
    condvar_if: "panic", 1000;
    check_then_act: "panic", 1000;
    lock_cycle3: "deadlock", 1000;
    async_lost_wakeup: "deadlock", 1000;
}
