//! PCT and chaos sweeps begin with fixed executions: round-robin (no preemption), rotate (a
//! switch at every choice point) and first-release (one switch, right after the first
//! release), each reported as seed 0 of its own policy.

use detest::sync::atomic::{AtomicUsize, Ordering};
use detest::sync::{Arc, Mutex};
use detest::{thread, Config, FailureKind, Policy};

/// The bug programs of the benchmark (../shared/benchmarks.md and our own), written once.
#[allow(dead_code)]
mod programs {
    use detest::{future, sync, thread};
    include!("../../detest-bench/src/programs.rs");
    include!("../../detest-bench/src/programs_async.rs");
}
use programs::{condvar_if, deadlock01, twostage};

/// Fails only when the spawned thread finishes before main reads: no preemption needed.
fn checker_runs_last() {
    let n = Arc::new(AtomicUsize::new(0));
    let n2 = n.clone();
    let t = thread::spawn(move || n2.store(1, Ordering::SeqCst));
    thread::yield_now();
    assert_eq!(n.load(Ordering::SeqCst), 0, "the thread ran first");
    t.join().unwrap();
}

#[test]
fn first_release_is_the_third() {
    let report = Config::new().policy(Policy::Chaos).seeds(100).run(twostage);
    // The third fails; one more call replays it to trace it.
    assert_eq!(report.executions, 3 + 1, "{report}");
    let failure = &report.failures[0];
    assert_eq!(
        (failure.kind, failure.seed, failure.policy.as_str()),
        (FailureKind::Panic, 0, "first-release")
    );
    let again = Config::new()
        .policy(Policy::FirstRelease)
        .run_seed(0, twostage);
    assert_eq!(
        again.failure.map(|f| f.schedule),
        Some(failure.schedule.clone())
    );
    // Its one preemption is right after A's first unlock: B then runs whole.
    assert_eq!(again.preemptions, 1);
}

#[test]
fn first_release_is_left_out_when_it_would_repeat_round_robin() {
    // Atomics only: no release, so first-release would be round-robin again.
    let atomics_only = || {
        let n = Arc::new(AtomicUsize::new(0));
        let n2 = n.clone();
        let t = thread::spawn(move || n2.fetch_add(1, Ordering::SeqCst));
        n.fetch_add(1, Ordering::SeqCst);
        t.join().unwrap();
    };
    let config = Config::new().policy(Policy::Chaos);
    let fixed = config.fixed_executions(&atomics_only);
    assert_eq!(fixed[0].release_points, 0);
    assert_eq!(fixed.len(), 2);
    assert_eq!(config.seeds(10).run(atomics_only).executions, 12);
}

#[test]
fn rotate_is_the_second_execution_of_a_chaos_sweep() {
    let report = Config::new()
        .policy(Policy::Chaos)
        .seed_start(1000)
        .seeds(100)
        .run(deadlock01);
    // The second fails; one more call replays it to trace it.
    assert_eq!(report.executions, 2 + 1, "{report}");
    let failure = &report.failures[0];
    assert_eq!(
        (failure.kind, failure.seed, failure.policy.as_str()),
        (FailureKind::Deadlock, 0, "rotate")
    );
    // The report's own reproduction: seed 0 under `rotate`, the same schedule.
    let again = Config::new().policy(Policy::Rotate).run_seed(0, deadlock01);
    assert_eq!(
        again.failure.map(|f| f.schedule),
        Some(failure.schedule.clone())
    );
    // And a PCT sweep begins the same way.
    let pct = Config::new()
        .policy(Policy::Pct { depth: 3 })
        .seeds(100)
        .run(deadlock01);
    assert_eq!(
        (pct.executions, pct.failures[0].policy.as_str()),
        (2 + 1, "rotate")
    );
}

#[test]
fn round_robin_is_the_first_and_a_failure_there_stops_a_fail_fast_sweep() {
    let report = Config::new()
        .policy(Policy::Chaos)
        .seeds(100)
        .run(checker_runs_last);
    // The first fails; one more call replays it to trace it.
    assert_eq!(report.executions, 1 + 1, "{report}");
    assert_eq!(report.failures[0].policy, "round-robin");
    // Without fail-fast every fixed execution runs (two here: no release, so no
    // first-release) and reports under its own policy.
    let all = Config::new()
        .policy(Policy::Chaos)
        .seeds(0)
        .fail_fast(false)
        .run(checker_runs_last);
    assert_eq!(all.executions, 0, "no seeds, no fixed executions");
    let all = Config::new()
        .policy(Policy::Chaos)
        .seeds(1)
        .fail_fast(false)
        .run(checker_runs_last);
    let policies: Vec<_> = all.failures.iter().map(|f| f.policy.as_str()).collect();
    assert_eq!(&policies[..2], ["round-robin", "rotate"], "{all}");
}

#[test]
fn other_policies_run_only_their_seeds() {
    for policy in [
        Policy::RoundRobin,
        Policy::Random,
        Policy::Pos,
        Policy::Rotate,
    ] {
        let report = Config::new()
            .policy(policy)
            .seeds(10)
            .fail_fast(false)
            .run(|| {
                let t = thread::spawn(|| {});
                t.join().unwrap();
            });
        assert_eq!(report.executions, 10, "{policy}");
    }
}

#[test]
fn the_estimate_is_the_larger_choice_count_of_the_two() {
    let counter = || {
        let m = Arc::new(Mutex::new(0));
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let m = m.clone();
                thread::spawn(move || *m.lock().unwrap() += 1)
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(*m.lock().unwrap(), 3);
    };
    let config = Config::new().policy(Policy::Pct { depth: 3 });
    let fixed = config.fixed_executions(&counter);
    assert_eq!(fixed.len(), 3);
    assert!(fixed.iter().all(|e| e.failure.is_none() && e.seed == 0));
    // Round-robin never preempts; rotate preempts wherever it can.
    assert_eq!(fixed[0].preemptions, 0);
    assert!(fixed[1].preemptions > 0);
    let counts: Vec<u64> = fixed
        .iter()
        .map(|e| e.schedule.choice_count() as u64)
        .collect();
    // From the first two only (a fail-fast stop may leave out the third).
    let estimate = Config::estimate_from(&fixed);
    assert_eq!(estimate, Some(counts[0].max(counts[1])));
    assert_eq!(Some(config.estimate_choices(&counter)), estimate);
    assert_eq!(Config::estimate_from(&fixed[..1]), None);
    // Policies without fixed executions need no estimate.
    assert_eq!(
        Config::new().policy(Policy::Pos).estimate_choices(&counter),
        0
    );
}

/// A task spinning with `yield_now` until the one set aside acts: the yield hands it the turn.
#[test]
fn first_release_lets_a_spinning_task_wait_for_the_one_set_aside() {
    let spin_wait = || {
        let m = Arc::new(Mutex::new(()));
        let flag = Arc::new(AtomicUsize::new(0));
        let (m2, flag2) = (m.clone(), flag.clone());
        let setter = thread::spawn(move || {
            drop(m2.lock().unwrap());
            flag2.store(1, Ordering::SeqCst);
        });
        let spinner = thread::spawn(move || {
            while flag.load(Ordering::SeqCst) == 0 {
                thread::yield_now();
            }
        });
        setter.join().unwrap();
        spinner.join().unwrap();
    };
    let exec = Config::new()
        .policy(Policy::FirstRelease)
        .max_steps(10_000)
        .run_seed(0, spin_wait);
    assert!(exec.failure.is_none(), "{:?}", exec.failure);
    let report = Config::new().policy(Policy::Chaos).seeds(50).run(spin_wait);
    assert!(report.passed(), "{report}");
}

/// The task set aside stays below the others for the rest of the execution (PCT's change
/// point, not a one-off switch): a producer that notifies a waiting consumer lets it run at
/// once, so a consumer that waits with `if` instead of `while` finds the item gone.
#[test]
fn first_release_keeps_the_releasing_task_below_the_others() {
    let round_robin = Config::new().run_seed(0, condvar_if);
    assert!(round_robin.failure.is_none());
    let first_release = Config::new()
        .policy(Policy::FirstRelease)
        .run_seed(0, condvar_if);
    let failure = first_release.failure.expect("first-release finds it");
    assert!(failure.message.contains("the item was taken"), "{failure}");
    // Main is set aside at its first unlock, and again wherever anyone else can run.
    assert!(
        first_release.preemptions >= 2,
        "{}",
        first_release.preemptions
    );
}
