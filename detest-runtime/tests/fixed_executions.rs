//! PCT and chaos sweeps begin with two fixed executions: round-robin (no preemption) and
//! rotate (a switch at every choice point), each reported as seed 0 of its own policy.

use detest::sync::atomic::{AtomicUsize, Ordering};
use detest::sync::{Arc, Mutex};
use detest::{thread, Config, FailureKind, Policy};

/// Two locks taken in opposite orders.
fn deadlock01() {
    let a = Arc::new(Mutex::new(()));
    let b = Arc::new(Mutex::new(()));
    let (a2, b2) = (a.clone(), b.clone());
    let t = thread::spawn(move || {
        let _b = b2.lock().unwrap();
        let _a = a2.lock().unwrap();
    });
    {
        let _a = a.lock().unwrap();
        let _b = b.lock().unwrap();
    }
    t.join().unwrap();
}

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
fn rotate_is_the_second_execution_of_a_chaos_sweep() {
    let report = Config::new()
        .policy(Policy::Chaos)
        .seed_start(1000)
        .seeds(100)
        .run(deadlock01);
    assert_eq!(report.executions, 2, "{report}");
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
        (2, "rotate")
    );
}

#[test]
fn round_robin_is_the_first_and_a_failure_there_stops_a_fail_fast_sweep() {
    let report = Config::new()
        .policy(Policy::Chaos)
        .seeds(100)
        .run(checker_runs_last);
    assert_eq!(report.executions, 1, "{report}");
    assert_eq!(report.failures[0].policy, "round-robin");
    // Without fail-fast both fixed executions run and report under their own policy.
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
    assert_eq!(fixed.len(), 2);
    assert!(fixed.iter().all(|e| e.failure.is_none() && e.seed == 0));
    // Round-robin never preempts; rotate preempts wherever it can.
    assert_eq!(fixed[0].preemptions, 0);
    assert!(fixed[1].preemptions > 0);
    let counts: Vec<u64> = fixed
        .iter()
        .map(|e| e.schedule.choice_count() as u64)
        .collect();
    let estimate = Config::estimate_from(&fixed);
    assert_eq!(estimate, counts[0].max(counts[1]));
    assert_eq!(config.estimate_choices(&counter), estimate);
    // Policies without fixed executions need no estimate.
    assert_eq!(
        Config::new().policy(Policy::Pos).estimate_choices(&counter),
        0
    );
}
