//! Spinning and yielding (issue 11, items 6b and 10): a correct spin-wait passes under every
//! policy and `explore` ends on it, while a real livelock and a spin nobody ends still fail,
//! and no outcome std allows is lost to the descheduling of spinners.

use detest::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use detest::sync::Arc;
use detest::{future, hint, thread, Config, FailureKind, Policy};
use std::collections::BTreeSet;
use std::time::Duration;

const POLICIES: [Policy; 7] = [
    Policy::RoundRobin,
    Policy::Rotate,
    Policy::FirstRelease,
    Policy::Random,
    Policy::Pct { depth: 3 },
    Policy::Pos,
    Policy::Chaos,
];

/// Small enough that a spinner that is never descheduled fails fast.
const STEPS: u64 = 20_000;

/// How a spin-wait waits between two looks at the flag.
#[derive(Clone, Copy, Debug)]
enum Wait {
    Nothing,
    SpinHint,
    Yield,
}

fn pause(wait: Wait) {
    match wait {
        Wait::Nothing => {}
        Wait::SpinHint => hint::spin_loop(),
        Wait::Yield => thread::yield_now(),
    }
}

const WAITS: [Wait; 3] = [Wait::Nothing, Wait::SpinHint, Wait::Yield];

/// The setter publishes `data` and then the flag; the spinner must see the data.
fn flag_handoff(wait: Wait) {
    let flag = Arc::new(AtomicBool::new(false));
    let data = Arc::new(AtomicUsize::new(0));
    let (f, d) = (flag.clone(), data.clone());
    let setter = thread::spawn(move || {
        d.store(42, Ordering::Relaxed);
        f.store(true, Ordering::Release);
    });
    while !flag.load(Ordering::Acquire) {
        pause(wait);
    }
    assert_eq!(data.load(Ordering::Relaxed), 42);
    setter.join().unwrap();
}

/// Two threads increment a counter under a compare-exchange spinlock.
fn spinlock(wait: Wait) {
    let lock = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicUsize::new(0));
    let worker = {
        let (lock, count) = (lock.clone(), count.clone());
        move || {
            while lock
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
            {
                pause(wait);
            }
            let v = count.load(Ordering::Relaxed);
            count.store(v + 1, Ordering::Relaxed);
            lock.store(false, Ordering::Release);
        }
    };
    let t = thread::spawn(worker.clone());
    worker();
    t.join().unwrap();
    assert_eq!(count.load(Ordering::Relaxed), 2);
}

#[test]
fn a_correct_spin_wait_passes_under_every_policy() {
    for wait in WAITS {
        for policy in POLICIES {
            for (name, body) in [
                ("handoff", flag_handoff as fn(Wait)),
                ("spinlock", spinlock),
            ] {
                let report = Config::new()
                    .seeds(30)
                    .max_steps(STEPS)
                    .policy(policy)
                    .run(|| body(wait));
                assert!(report.passed(), "{name} {wait:?} {policy}: {report}");
            }
        }
    }
}

#[test]
fn explore_completes_on_a_correct_spin_wait() {
    for wait in WAITS {
        for bound in [0, 2, u32::MAX] {
            for (name, body) in [
                ("handoff", flag_handoff as fn(Wait)),
                ("spinlock", spinlock),
            ] {
                let e = Config::new()
                    .max_steps(STEPS)
                    .explore(bound, 20_000, || body(wait));
                assert!(
                    e.report.passed(),
                    "{name} {wait:?} bound {bound}: {}",
                    e.report
                );
                assert!(
                    e.complete,
                    "{name} {wait:?} bound {bound}: {} executions",
                    e.report.executions
                );
            }
        }
    }
}

#[test]
fn an_async_spin_with_future_yield_now_passes_and_explore_completes() {
    let body = || {
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        let setter = thread::spawn(move || f.store(true, Ordering::Release));
        future::block_on(async {
            while !flag.load(Ordering::Acquire) {
                future::yield_now().await;
            }
        });
        setter.join().unwrap();
    };
    for policy in POLICIES {
        let report = Config::new()
            .seeds(30)
            .max_steps(STEPS)
            .policy(policy)
            .run(body);
        assert!(report.passed(), "{policy}: {report}");
    }
    let e = Config::new()
        .max_steps(STEPS)
        .explore(u32::MAX, 20_000, body);
    assert!(e.complete && e.report.passed(), "{}", e.report);
}

#[test]
fn a_spinner_waiting_for_a_sleeper_lets_virtual_time_pass() {
    for wait in WAITS {
        let report = Config::new().max_steps(STEPS).run(|| {
            let flag = Arc::new(AtomicBool::new(false));
            let f = flag.clone();
            let start = detest::time::Instant::now();
            let sleeper = thread::spawn(move || {
                thread::sleep(Duration::from_secs(1));
                f.store(true, Ordering::Release);
            });
            while !flag.load(Ordering::Acquire) {
                pause(wait);
            }
            assert_eq!(start.elapsed(), Duration::from_secs(1));
            sleeper.join().unwrap();
        });
        assert!(report.passed(), "{wait:?}: {report}");
    }
}

/// Nobody ever sets the flag: the spin can never end (the other task finishes, or loops).
fn unset_flag(wait: Wait, other_finishes: bool) {
    let flag = Arc::new(AtomicBool::new(false));
    let f = flag.clone();
    let other = thread::spawn(move || {
        f.store(false, Ordering::Release);
        while !other_finishes && !f.load(Ordering::Acquire) {
            pause(wait);
        }
    });
    while !flag.load(Ordering::Acquire) {
        pause(wait);
    }
    other.join().unwrap();
}

#[test]
fn a_spin_wait_nobody_ends_never_passes_and_says_why() {
    for wait in WAITS {
        for other_finishes in [true, false] {
            for policy in POLICIES {
                let report = Config::new()
                    .seeds(3)
                    .max_steps(STEPS)
                    .policy(policy)
                    .run(|| unset_flag(wait, other_finishes));
                let what = format!("{wait:?} other_finishes={other_finishes} {policy}");
                let failure = report.failures.first().unwrap_or_else(|| panic!("{what}"));
                assert_eq!(failure.kind, FailureKind::StepLimit, "{what}");
                assert!(
                    failure
                        .message
                        .contains("keeps re-reading values no task changes"),
                    "{what}: {}",
                    failure.message
                );
            }
            let e = Config::new()
                .max_steps(STEPS)
                .explore(u32::MAX, 100, || unset_flag(wait, other_finishes));
            let failure = &e.report.failures[0];
            assert_eq!(failure.kind, FailureKind::StepLimit, "{wait:?}");
        }
    }
}

#[test]
fn a_real_livelock_still_hits_the_step_limit() {
    // Two tasks bumping counters forever: always changing state, never descheduled for it.
    let counters = || {
        let n = Arc::new(AtomicUsize::new(0));
        let n2 = n.clone();
        thread::spawn(move || loop {
            n2.fetch_add(1, Ordering::Relaxed);
        });
        loop {
            n.fetch_add(1, Ordering::Relaxed);
        }
    };
    // A compare-exchange that keeps failing because the other keeps writing.
    let cas = || {
        let n = Arc::new(AtomicUsize::new(0));
        let n2 = n.clone();
        thread::spawn(move || loop {
            n2.fetch_add(2, Ordering::Relaxed);
        });
        while n
            .compare_exchange(1, 0, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {}
    };
    for (name, body) in [("counters", &counters as &dyn Fn()), ("cas", &cas)] {
        for policy in POLICIES {
            let report = Config::new()
                .seeds(3)
                .max_steps(STEPS)
                .policy(policy)
                .run(body);
            let failure = report.failures.first().unwrap_or_else(|| panic!("{name}"));
            assert_eq!(failure.kind, FailureKind::StepLimit, "{name} {policy}");
            assert!(
                !failure.message.contains("re-reading"),
                "{name} {policy}: {}",
                failure.message
            );
        }
    }
    // Polite threads: each raises its flag, sees the other's, lowers it and retries. Under
    // preemptive round-robin they do so in lockstep forever (every step changes a flag).
    let polite = || {
        let flags = Arc::new([AtomicBool::new(false), AtomicBool::new(false)]);
        let enter = |flags: &[AtomicBool; 2], me: usize| loop {
            flags[me].store(true, Ordering::SeqCst);
            if !flags[1 - me].load(Ordering::SeqCst) {
                break;
            }
            flags[me].store(false, Ordering::SeqCst);
        };
        let f2 = flags.clone();
        let t = thread::spawn(move || enter(&f2, 1));
        enter(&flags, 0);
        t.join().unwrap();
    };
    let report = Config::new()
        .max_steps(STEPS)
        .policy(Policy::Rotate)
        .run(polite);
    assert_eq!(report.failures[0].kind, FailureKind::StepLimit, "{report}");
}

#[test]
fn a_spin_failure_replays_exactly() {
    // A broken handoff: the flag is raised before the data is written.
    let body = || {
        let flag = Arc::new(AtomicBool::new(false));
        let data = Arc::new(AtomicUsize::new(0));
        let (f, d) = (flag.clone(), data.clone());
        let setter = thread::spawn(move || {
            f.store(true, Ordering::Release);
            d.store(42, Ordering::Relaxed);
        });
        while !flag.load(Ordering::Acquire) {
            hint::spin_loop();
        }
        assert_eq!(data.load(Ordering::Relaxed), 42, "read before written");
        setter.join().unwrap();
    };
    let report = Config::new()
        .seeds(200)
        .max_steps(STEPS)
        .policy(Policy::Chaos)
        .run(body);
    let failure = &report.failures[0];
    assert_eq!(failure.kind, FailureKind::Panic);
    for _ in 0..5 {
        let replay = Config::new()
            .max_steps(STEPS)
            .replay(&failure.schedule, body);
        let again = replay.failure.expect("replayed failure");
        assert_eq!(again.message, failure.message);
    }
}

#[test]
fn explore_finds_every_interleaving_of_writes_around_yields() {
    // Two tasks, each: write, yield, write. std allows all 6 orders of the four writes that
    // keep each task's own order; a yield is only a hint, so the yielder may also go on.
    for wait in [Wait::Yield, Wait::SpinHint] {
        let seen = std::sync::Mutex::new(BTreeSet::new());
        let e = Config::new().explore(u32::MAX, 10_000, || {
            let next = Arc::new(AtomicUsize::new(0));
            let order = Arc::new(std::sync::Mutex::new(['?'; 4]));
            let task = {
                let (next, order) = (next.clone(), order.clone());
                move |names: [char; 2]| {
                    for (i, name) in names.into_iter().enumerate() {
                        let at = next.fetch_add(1, Ordering::SeqCst);
                        order.lock().unwrap()[at] = name;
                        if i == 0 {
                            pause(wait);
                        }
                    }
                }
            };
            let t2 = task.clone();
            let t = thread::spawn(move || t2(['c', 'd']));
            task(['a', 'b']);
            t.join().unwrap();
            let order: String = order.lock().unwrap().iter().collect();
            seen.lock().unwrap().insert(order);
        });
        assert!(e.complete && e.report.passed(), "{}", e.report);
        let seen = seen.into_inner().unwrap();
        let all: BTreeSet<String> = ["abcd", "acbd", "acdb", "cabd", "cadb", "cdab"]
            .into_iter()
            .map(String::from)
            .collect();
        assert_eq!(seen, all, "{wait:?}");
    }
}

#[test]
fn re_reading_in_straight_line_code_is_no_spin() {
    // The same atomic read twice (once through a helper, so at one place in the code), then
    // another read: nothing spins, and the other task's store may land before or after it.
    fn get(a: &AtomicUsize) -> usize {
        a.load(Ordering::SeqCst)
    }
    let seen = std::sync::Mutex::new(BTreeSet::new());
    let e = Config::new().explore(u32::MAX, 10_000, || {
        let (f, g) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let g2 = g.clone();
        let t = thread::spawn(move || g2.store(1, Ordering::SeqCst));
        get(&f);
        get(&f);
        let z = g.load(Ordering::SeqCst);
        t.join().unwrap();
        seen.lock().unwrap().insert(z);
    });
    assert!(e.complete && e.report.passed(), "{}", e.report);
    assert_eq!(seen.into_inner().unwrap(), BTreeSet::from([0, 1]));
}

#[test]
fn a_spinner_observes_every_value_written_while_it_spins() {
    // The spinner reads 1 and 2 on the way to 3: every intermediate value must be observable
    // (it is offered again after each change), and the final one always is.
    let seen = std::sync::Mutex::new(BTreeSet::new());
    let e = Config::new().explore(u32::MAX, 10_000, || {
        let x = Arc::new(AtomicUsize::new(0));
        let x2 = x.clone();
        let t = thread::spawn(move || {
            for v in 1..=3 {
                x2.store(v, Ordering::SeqCst);
            }
        });
        let mut values = Vec::new();
        loop {
            let v = x.load(Ordering::SeqCst);
            if values.last() != Some(&v) {
                values.push(v);
            }
            if v == 3 {
                break;
            }
        }
        t.join().unwrap();
        seen.lock().unwrap().insert(values);
    });
    assert!(e.complete && e.report.passed(), "{}", e.report);
    let seen = seen.into_inner().unwrap();
    // Every subsequence of 0, 1, 2 followed by 3 (0 only if the spinner ran first).
    assert_eq!(seen.len(), 8, "{seen:?}");
    assert!(seen.iter().all(|v| v.last() == Some(&3)));
}

#[test]
fn explore_completes_on_a_yield_loop_waiting_for_a_thread_to_finish() {
    let e = Config::new().max_steps(STEPS).explore(u32::MAX, 1_000, || {
        let x = Arc::new(AtomicUsize::new(0));
        let x2 = x.clone();
        let t = thread::spawn(move || x2.store(1, Ordering::SeqCst));
        while !t.is_finished() {
            thread::yield_now();
        }
        assert_eq!(x.load(Ordering::SeqCst), 1);
    });
    assert!(e.complete && e.report.passed(), "{}", e.report);
}

// Ported from loom's tests/yield.rs.
#[test]
fn loom_yield_completes() {
    let e = Config::new().explore(u32::MAX, 1_000, || {
        let inc = Arc::new(AtomicUsize::new(0));
        {
            let inc = inc.clone();
            thread::spawn(move || {
                inc.store(1, Ordering::Relaxed);
            });
        }
        loop {
            if 1 == inc.load(Ordering::Relaxed) {
                return;
            }
            thread::yield_now();
        }
    });
    assert!(e.complete && e.report.passed(), "{}", e.report);
}
