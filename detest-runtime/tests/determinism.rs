//! Same seed, same execution; a recorded schedule replays the same failure.

use detest::sync::atomic::{AtomicI32, Ordering};
use detest::sync::{Arc, Mutex};
use detest::{thread, Config, FailureKind, Policy, Schedule};

/// reorder_3: two setters write a=1; b=-1, a checker must never see them half-way.
fn reorder() {
    let a = Arc::new(AtomicI32::new(0));
    let b = Arc::new(AtomicI32::new(0));
    let setters: Vec<_> = (0..2)
        .map(|_| {
            let (a, b) = (a.clone(), b.clone());
            thread::spawn(move || {
                a.store(1, Ordering::SeqCst);
                b.store(-1, Ordering::SeqCst);
            })
        })
        .collect();
    let checker = {
        let (a, b) = (a.clone(), b.clone());
        thread::spawn(move || {
            let ok = (a.load(Ordering::SeqCst) == 0 && b.load(Ordering::SeqCst) == 0)
                || (a.load(Ordering::SeqCst) == 1 && b.load(Ordering::SeqCst) == -1);
            assert!(ok, "checker saw a setter half-way");
        })
    };
    for s in setters {
        s.join().unwrap();
    }
    checker.join().unwrap();
}

#[test]
fn same_seed_same_schedule_100_times() {
    for policy in [
        Policy::Random,
        Policy::Pct { depth: 3 },
        Policy::Pos,
        Policy::Chaos,
    ] {
        let config = Config::new().policy(policy);
        let first = config.run_seed(42, reorder).schedule.encode();
        for _ in 0..100 {
            assert_eq!(
                config.run_seed(42, reorder).schedule.encode(),
                first,
                "{policy}"
            );
        }
    }
}

#[test]
fn different_seeds_explore_different_schedules() {
    let config = Config::new().policy(Policy::Random);
    let schedules: std::collections::HashSet<String> = (0..50)
        .map(|s| config.run_seed(s, reorder).schedule.encode())
        .collect();
    assert!(
        schedules.len() > 10,
        "only {} distinct schedules",
        schedules.len()
    );
}

#[test]
fn replaying_a_failing_schedule_reproduces_it() {
    let report = Config::new()
        .seeds(10_000)
        .policy(Policy::Pct { depth: 3 })
        .run(reorder);
    let failure = report.failures.first().expect("PCT finds reorder_3");
    assert_eq!(failure.kind, FailureKind::Panic);
    assert!(!failure.trace.is_empty(), "failures are traced by replay");

    let text = failure.schedule.encode();
    let schedule = Schedule::decode(&text).unwrap();
    for _ in 0..10 {
        let replay = Config::new().replay(&schedule, reorder);
        let again = replay.failure.expect("replay fails too");
        assert_eq!(again.kind, failure.kind);
        assert_eq!(again.message, failure.message);
        assert_eq!(again.location, failure.location);
        assert_eq!(again.schedule, failure.schedule);
    }
    // The seed alone reproduces it as well, under the policy that found it (a fixed execution
    // of the sweep is seed 0 of its own policy).
    let by_seed = Config::new()
        .policy(failure.policy.parse().unwrap())
        .run_seed(failure.seed, reorder);
    assert_eq!(by_seed.failure.unwrap().message, failure.message);
}

#[test]
fn replay_of_a_changed_program_reports_nondeterminism() {
    let recorded = Config::new().policy(Policy::Random).run_seed(3, || {
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
    });
    assert!(recorded.schedule.choice_count() > 3);
    // The same schedule against a program with a different shape.
    let replay = Config::new().replay(&recorded.schedule, || {
        let t = thread::spawn(|| ());
        t.join().unwrap();
    });
    let failure = replay.failure.expect("divergence is a failure");
    assert_eq!(failure.kind, FailureKind::Nondeterminism);
    // The report names the kind once: `nondeterminism at seed 0 ...: the execution ended ...`.
    assert_eq!(
        failure.to_string().matches("nondeterminism").count(),
        1,
        "{failure}"
    );
}

#[test]
fn a_failure_reports_the_run_that_failed_even_when_state_leaks_between_runs() {
    // A std static survives from one execution to the next, so running the failing seed again
    // would not fail the same way: the report must come from the run that failed.
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let report = Config::new()
        .seeds(10)
        .policy(Policy::Random)
        .trace_failures(false)
        .run(|| {
            let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let t = thread::spawn(|| ());
            t.join().unwrap();
            assert!(n != 2, "failure number {n}");
        });
    let failure = &report.failures[0];
    assert_eq!(failure.message, "failure number 2");
    assert_eq!(failure.seed, 2, "the third execution");
    assert!(
        !failure.schedule.is_empty(),
        "the failing run's own schedule"
    );
}
