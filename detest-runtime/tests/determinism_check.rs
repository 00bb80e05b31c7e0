//! The determinism check catches what leaks in from outside detest and says where.

use detest::sync::{Arc, Mutex};
use detest::{thread, Config, Policy};
use std::collections::HashMap;

#[test]
fn reading_the_real_clock_is_nondeterministic() {
    let report = Config::new()
        .policy(Policy::Random)
        .check_determinism(0, 30, || {
            // std's clock is virtual inside an execution (where detest interposes it): the
            // real one is read through `env::real`, as code that must see it would.
            let real_now = || detest::env::real(std::time::Instant::now);
            let started = real_now();
            while real_now() - started < std::time::Duration::from_micros(20) {}
            let extra = (real_now() - started).subsec_nanos() % 3;
            let handles: Vec<_> = (0..1 + extra).map(|_| thread::spawn(|| ())).collect();
            for h in handles {
                h.join().unwrap();
            }
        });
    assert!(!report.is_deterministic(), "{}", report.render());
    let divergence = report.divergence.as_ref().unwrap();
    assert!(
        divergence.likely_cause.contains("real clock"),
        "{}",
        report.render()
    );
    assert!(
        report.render().contains("first divergence at step"),
        "{}",
        report.render()
    );
}

#[test]
fn iterating_a_std_hashmap_is_nondeterministic() {
    let report = Config::new().check_determinism(0, 30, || {
        let locks: Vec<Mutex<()>> = (0..8).map(|_| Mutex::new(())).collect();
        // Touch the locks in index order first so that their ids follow the index.
        for lock in &locks {
            drop(lock.lock().unwrap());
        }
        let order: HashMap<usize, ()> = (0..8).map(|k| (k, ())).collect();
        for k in order.keys() {
            drop(locks[*k].lock().unwrap());
        }
    });
    assert!(!report.is_deterministic(), "{}", report.render());
    let divergence = report.divergence.as_ref().unwrap();
    assert!(
        divergence.likely_cause.contains("HashMap"),
        "{}",
        report.render()
    );
    assert!(divergence.diff.contains("@@"), "{}", divergence.diff);
    assert!(divergence.expected.is_some() && divergence.actual.is_some());
}

#[test]
fn racing_a_real_thread_is_nondeterministic() {
    let report = Config::new().check_determinism(0, 20, || {
        // A real OS thread counts as fast as it can; what the test sees depends on timing. (A
        // real thread started straight inside an execution fails it: see `std_threads.rs`.)
        let ticks = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (t, s) = (ticks.clone(), stop.clone());
        let real = detest::env::real(|| {
            std::thread::spawn(move || {
                while !s.load(std::sync::atomic::Ordering::Relaxed) {
                    t.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            })
        });
        while ticks.load(std::sync::atomic::Ordering::Relaxed) < 1000 {
            std::hint::spin_loop();
        }
        let seen = ticks.load(std::sync::atomic::Ordering::Relaxed);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        detest::env::real(|| real.join().unwrap());
        let handles: Vec<_> = (0..1 + seen % 3).map(|_| thread::spawn(|| ())).collect();
        for h in handles {
            h.join().unwrap();
        }
    });
    assert!(!report.is_deterministic(), "{}", report.render());
    let cause = &report.divergence.as_ref().unwrap().likely_cause;
    assert!(cause.contains("real OS threads"), "{}", report.render());
}

#[test]
fn detest_programs_are_deterministic() {
    let body = || {
        let m = Arc::new(Mutex::new(Vec::new()));
        let handles: Vec<_> = (0..3)
            .map(|i| {
                let m = m.clone();
                thread::spawn(move || {
                    m.lock().unwrap().push(i);
                    let r: u8 = detest::rand::random();
                    thread::sleep(std::time::Duration::from_millis(u64::from(r % 5)));
                    m.lock().unwrap().push(i + 10);
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    };
    for policy in [
        Policy::RoundRobin,
        Policy::Random,
        Policy::Pct { depth: 3 },
        Policy::Pos,
        Policy::Chaos,
    ] {
        for seed in 0..3 {
            let report = Config::new()
                .policy(policy)
                .check_determinism(seed, 100, body);
            assert!(report.is_deterministic(), "{policy}: {}", report.render());
            assert_eq!(report.histogram[0].1, 100);
        }
    }
}
