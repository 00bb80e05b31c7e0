//! Spin-waits under the weak memory model: C++ requires a store to become visible to loads in
//! finite time, so a correct spin-wait ends under every policy and `explore` ends on it (a
//! task that re-reads with nothing changed reads the newest store; a run of stale reads of one
//! location is bounded). None of these may fail with a step limit.

use detest::sync::atomic::{fence, AtomicBool, AtomicU32, AtomicUsize, Ordering::*};
use detest::sync::Arc;
use detest::{hint, thread, Config, Policy};

/// A relaxed flag polled in a bare loop, the data published through fences.
fn relaxed_spin_wait() {
    let data = Arc::new(AtomicU32::new(0));
    let flag = Arc::new(AtomicBool::new(false));
    let (d, f) = (data.clone(), flag.clone());
    let t = thread::spawn(move || {
        d.store(7, Relaxed);
        fence(Release);
        f.store(true, Relaxed);
    });
    while !flag.load(Relaxed) {}
    fence(Acquire);
    assert_eq!(data.load(Relaxed), 7);
    t.join().unwrap();
}

/// The spinner waits while another task keeps changing something else: every change lets it
/// read a stale flag again, up to the bound.
fn spin_beside_a_busy_task() {
    let flag = Arc::new(AtomicBool::new(false));
    let noise = Arc::new(AtomicUsize::new(0));
    let (f, n) = (flag.clone(), noise.clone());
    let busy = thread::spawn(move || {
        for i in 0..20 {
            n.store(i, Relaxed);
            if i == 3 {
                f.store(true, Release);
            }
        }
    });
    while !flag.load(Acquire) {
        hint::spin_loop();
    }
    busy.join().unwrap();
}

/// Two tasks hand a token back and forth through relaxed flags, each spinning for its turn.
fn ping_pong() {
    let turn = Arc::new(AtomicU32::new(0));
    let t2 = turn.clone();
    let other = thread::spawn(move || {
        for round in 0..3 {
            while t2.load(Relaxed) != 2 * round + 1 {
                thread::yield_now();
            }
            t2.store(2 * round + 2, Relaxed);
        }
    });
    for round in 0..3 {
        while turn.load(Relaxed) != 2 * round {
            thread::yield_now();
        }
        turn.store(2 * round + 1, Relaxed);
    }
    other.join().unwrap();
    assert_eq!(turn.load(Relaxed), 6);
}

#[test]
fn spin_waits_end_under_every_exploring_policy() {
    for body in [relaxed_spin_wait, spin_beside_a_busy_task, ping_pong] {
        for policy in [
            Policy::Random,
            Policy::Pct { depth: 3 },
            Policy::Pos,
            Policy::Chaos,
        ] {
            let report = Config::new()
                .seeds(300)
                .max_steps(20_000)
                .policy(policy)
                .run(body);
            assert!(report.passed(), "{policy}: {:?}", report.failures.first());
        }
    }
}

#[test]
fn explore_ends_on_spin_waits() {
    for (body, bound) in [
        (relaxed_spin_wait as fn(), u32::MAX),
        (spin_beside_a_busy_task, 2),
        (ping_pong, 2),
    ] {
        let e = Config::new()
            .max_steps(20_000)
            .explore(bound, 500_000, body);
        assert!(e.report.passed(), "{:?}", e.report.failures.first());
        assert!(e.complete, "{} executions", e.report.executions);
    }
}
