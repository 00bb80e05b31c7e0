//! `Config::explore` as an exhaustive search: random draws are enumerated, not sampled (so a
//! program whose shape depends on one is neither half-explored nor called nondeterministic),
//! and sleep-set reduction prunes reorderings of independent steps without losing an outcome.

use detest::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use detest::sync::{mpsc, Arc, Condvar, Mutex};
use detest::{rand, thread, Config};
use std::collections::BTreeSet;

/// Outcomes collected across executions (std, outside the model).
struct Outcomes<T>(std::sync::Mutex<BTreeSet<T>>);

impl<T: Ord + Clone> Outcomes<T> {
    fn new() -> Self {
        Outcomes(std::sync::Mutex::new(BTreeSet::new()))
    }
    fn add(&self, v: T) {
        self.0.lock().unwrap().insert(v);
    }
    fn take(&self) -> BTreeSet<T> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

#[test]
fn a_random_shape_is_enumerated_completely_and_deterministically() {
    let seen = Outcomes::new();
    let run = Config::new().explore(u32::MAX, 10_000, || {
        let k = rand::range(0..3usize);
        let counter = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..k)
            .map(|_| {
                let c = counter.clone();
                thread::spawn(move || {
                    c.fetch_add(1, SeqCst);
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        seen.add((k, counter.load(SeqCst)));
    });
    assert!(run.complete, "{:?}", run.report.failures);
    assert!(run.report.passed(), "{:?}", run.report.failures);
    // Every value is reached, and nothing outside the range ever is.
    assert_eq!(seen.take(), BTreeSet::from([(0, 0), (1, 1), (2, 2)]));
}

#[test]
fn choose_shuffle_and_bool_reach_every_value_and_only_those() {
    let seen = Outcomes::new();
    let run = Config::new().explore(0, 10_000, || {
        let mut items = [1, 2, 3];
        rand::shuffle(&mut items);
        let pick = *rand::choose(&[10, 20]).unwrap();
        let coin: bool = rand::random();
        let die = rand::range(1..=6u8);
        seen.add((items, pick, coin, die));
    });
    assert!(run.complete && run.report.passed());
    let seen = seen.take();
    assert_eq!(run.report.executions, 6 * 2 * 2 * 6);
    assert_eq!(seen.len(), 6 * 2 * 2 * 6);
    let perms: BTreeSet<_> = seen.iter().map(|o| o.0).collect();
    assert_eq!(perms.len(), 6);
    assert!(seen
        .iter()
        .all(|o| (1..=6).contains(&o.3) && [10, 20].contains(&o.1)));
}

#[test]
fn wide_draws_are_fixed_per_position_so_the_tree_is_consistent() {
    let seen = Outcomes::new();
    let run = Config::new().explore(u32::MAX, 1_000, || {
        let a = rand::next_u64();
        let b = rand::range(0..1_000_000u32);
        let flag = Arc::new(AtomicUsize::new(0));
        let f = flag.clone();
        let t = thread::spawn(move || f.store(1, SeqCst));
        let v = flag.load(SeqCst);
        t.join().unwrap();
        seen.add((a, b, v));
    });
    // Several schedules, one value per draw: not reported as nondeterministic.
    assert!(
        run.complete && run.report.passed(),
        "{:?}",
        run.report.failures
    );
    let seen = seen.take();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen.iter()
            .map(|o| (o.0, o.1))
            .collect::<BTreeSet<_>>()
            .len(),
        1
    );
}

#[test]
fn a_sampled_run_still_draws_seeded_values() {
    let seen = Outcomes::new();
    let report = Config::new()
        .seeds(64)
        .run(|| seen.add(rand::range(0..1000u32)));
    assert!(report.passed());
    assert!(seen.take().len() > 10, "seeds draw different values");
}

/// Explores `body` with and without reduction; both must be complete and see the same
/// outcomes. Returns (outcomes, reduced executions, unreduced executions).
fn compare<T: Ord + Clone + std::fmt::Debug>(
    seen: &Outcomes<T>,
    body: impl Fn(),
) -> (BTreeSet<T>, u64, u64) {
    let full = Config::new().explore_unreduced(u32::MAX, 200_000, &body);
    assert!(
        full.complete && full.report.passed(),
        "{:?}",
        full.report.failures
    );
    let full_set = seen.take();
    let reduced = Config::new().explore(u32::MAX, 200_000, &body);
    assert!(
        reduced.complete && reduced.report.passed(),
        "{:?}",
        reduced.report.failures
    );
    let reduced_set = seen.take();
    assert_eq!(
        full_set, reduced_set,
        "reduction lost or invented an outcome"
    );
    eprintln!(
        "executions: reduced {} full {}",
        reduced.report.executions, full.report.executions
    );
    assert!(reduced.report.executions <= full.report.executions);
    (full_set, reduced.report.executions, full.report.executions)
}

#[test]
fn reduction_keeps_every_outcome_of_atomics_and_prunes_independent_ones() {
    let seen = Outcomes::new();
    // Store buffering plus a third thread on its own object.
    let (set, reduced, full) = compare(&seen, || {
        let (x, y, z) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
        );
        let (x1, y1) = (x.clone(), y.clone());
        let a = thread::spawn(move || {
            x1.store(1, SeqCst);
            y1.load(SeqCst)
        });
        let (x2, y2) = (x.clone(), y.clone());
        let b = thread::spawn(move || {
            y2.store(1, SeqCst);
            x2.load(SeqCst)
        });
        let z1 = z.clone();
        let c = thread::spawn(move || {
            z1.fetch_add(1, SeqCst);
            z1.fetch_add(1, SeqCst);
        });
        let r = (a.join().unwrap(), b.join().unwrap());
        c.join().unwrap();
        seen.add(r);
    });
    assert_eq!(set, BTreeSet::from([(0, 1), (1, 0), (1, 1)]));
    assert!(reduced < full, "{reduced} vs {full}");
}

#[test]
fn reduction_keeps_every_outcome_of_locks_condvars_and_channels() {
    let seen = Outcomes::new();
    // Lock-protected appends: every order of the three threads.
    let (set, reduced, full) = compare(&seen, || {
        let log = Arc::new(Mutex::new(Vec::new()));
        let hs: Vec<_> = (0..3)
            .map(|i| {
                let log = log.clone();
                thread::spawn(move || log.lock().unwrap().push(i))
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        seen.add(log.lock().unwrap().clone());
    });
    assert_eq!(set.len(), 6);
    assert!(reduced <= full);

    // A condvar handshake next to an independent counter.
    let seen = Outcomes::new();
    compare(&seen, || {
        let pair = Arc::new((Mutex::new(0), Condvar::new()));
        let n = Arc::new(AtomicUsize::new(0));
        let (p2, n2) = (pair.clone(), n.clone());
        let t = thread::spawn(move || {
            n2.fetch_add(1, SeqCst);
            *p2.0.lock().unwrap() = 1;
            p2.1.notify_one();
        });
        let seen_n = n.load(SeqCst);
        let mut g = pair.0.lock().unwrap();
        while *g == 0 {
            g = pair.1.wait(g).unwrap();
        }
        drop(g);
        t.join().unwrap();
        seen.add(seen_n);
    });

    // Two senders, one receiver: both arrival orders.
    let seen = Outcomes::new();
    let (set, _, _) = compare(&seen, || {
        let (tx, rx) = mpsc::channel();
        let tx2 = tx.clone();
        let a = thread::spawn(move || tx.send(1).unwrap());
        let b = thread::spawn(move || tx2.send(2).unwrap());
        let got = (rx.recv().unwrap(), rx.recv().unwrap());
        a.join().unwrap();
        b.join().unwrap();
        seen.add(got);
    });
    assert_eq!(set, BTreeSet::from([(1, 2), (2, 1)]));
}

#[test]
fn reduction_with_a_random_shape_gives_the_same_outcomes_with_fewer_executions() {
    let seen = Outcomes::new();
    let (set, reduced, full) = compare(&seen, || {
        let k = rand::range(1..4usize);
        let cells: Vec<_> = (0..k).map(|_| Arc::new(AtomicUsize::new(0))).collect();
        let hs: Vec<_> = cells
            .iter()
            .map(|c| {
                let c = c.clone();
                thread::spawn(move || {
                    c.store(1, SeqCst);
                    c.store(2, SeqCst);
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        seen.add((k, cells.iter().map(|c| c.load(SeqCst)).sum::<usize>()));
    });
    assert_eq!(set, BTreeSet::from([(1, 2), (2, 4), (3, 6)]));
    assert!(reduced < full, "{reduced} vs {full}");
}

#[test]
fn a_bug_that_needs_a_preemption_is_still_found_with_reduction() {
    // Lost update: both threads read before either writes.
    let lost_update = || {
        let x = Arc::new(AtomicUsize::new(0));
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let x = x.clone();
                thread::spawn(move || {
                    let v = x.load(SeqCst);
                    x.store(v + 1, SeqCst);
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(x.load(SeqCst), 2, "lost update");
    };
    let found = Config::new().explore(u32::MAX, 100_000, lost_update);
    assert!(!found.report.passed());
    assert!(found.report.failures[0].message.contains("lost update"));

    // Lock-order inversion: deadlocks only with a preemption between the two locks.
    let inversion = || {
        let (a, b) = (Arc::new(Mutex::new(())), Arc::new(Mutex::new(())));
        let (a2, b2) = (a.clone(), b.clone());
        let t = thread::spawn(move || {
            let _x = b2.lock();
            let _y = a2.lock();
        });
        {
            let _x = a.lock();
            let _y = b.lock();
        }
        t.join().unwrap();
    };
    assert!(!Config::new()
        .explore(u32::MAX, 100_000, inversion)
        .report
        .passed());
    // The same without a way to preempt: nothing to find, and the search says it is complete.
    let none = Config::new().explore(0, 100_000, inversion);
    assert!(none.complete && none.report.passed());
}

#[allow(dead_code)]
mod programs {
    use detest::{future, sync, thread};
    include!("../../detest-bench/src/programs.rs");
    include!("../../detest-bench/src/programs_async.rs");
}

#[test]
fn reduced_explore_finds_the_bench_bug_programs() {
    use detest::FailureKind;
    let mut bugs = programs::bug_programs();
    bugs.extend(programs::async_bug_programs());
    for p in bugs {
        if FOUND_ONLY_DEEP.contains(&p.name) {
            continue;
        }
        let run = Config::new()
            .trace_failures(false)
            .explore(u32::MAX, 10_000, p.body);
        let kind = run.report.failures.first().map(|f| f.kind);
        let expected = if p.deadlock {
            FailureKind::Deadlock
        } else {
            FailureKind::Panic
        };
        assert_eq!(kind, Some(expected), "{}", p.name);
    }
}

/// Bug programs that depth-first search does not reach within its budget, with or without
/// reduction or a bound (more than 20,000 executions; loom cannot run it: over 4 threads).
/// reorder_5 needs about 2,400 with DPOR (more than 20,000 without).
const FOUND_ONLY_DEEP: &[&str] = &["reorder_10"];

#[test]
fn a_failure_found_through_a_draw_replays_with_the_same_value() {
    let body = || {
        let x = Arc::new(AtomicUsize::new(0));
        let x2 = x.clone();
        let t = thread::spawn(move || x2.store(rand::range(1..4usize), SeqCst));
        let seen = x.load(SeqCst);
        t.join().unwrap();
        assert!(seen != 3, "saw the third value");
    };
    let run = Config::new().explore(u32::MAX, 10_000, body);
    let failure = run.report.failures.first().expect("the value 3 is reached");
    assert!(failure.message.contains("third value"));
    let replayed = Config::new().replay(&failure.schedule, body);
    let again = replayed.failure.expect("the replay fails the same way");
    assert!(again.message.contains("third value"), "{}", again.message);
    // With only values that pass, the tree is complete and clean.
    let clean = Config::new().explore(u32::MAX, 10_000, || {
        assert!(rand::range(0..3u8) < 3);
    });
    assert!(clean.complete && clean.report.passed() && clean.report.executions == 3);
}

#[test]
fn explore_finds_a_wait_without_a_loop_through_a_spurious_wake_up_and_ends_on_a_loop() {
    // `if !ready { wait }`: only a spurious wake-up (or a notify before the flag, impossible
    // here) returns with `ready` false. The unbounded search must find it and must end on the
    // correct `while` version (one spurious wake-up per execution keeps the tree finite).
    let body = |with_loop: bool| {
        move || {
            let pair = Arc::new((Mutex::new(false), Condvar::new()));
            let p2 = pair.clone();
            let t = thread::spawn(move || {
                *p2.0.lock().unwrap() = true;
                p2.1.notify_one();
            });
            let mut g = pair.0.lock().unwrap();
            if with_loop {
                while !*g {
                    g = pair.1.wait(g).unwrap();
                }
            } else if !*g {
                g = pair.1.wait(g).unwrap();
            }
            assert!(*g, "woke up with the flag still false");
            drop(g);
            t.join().unwrap();
        }
    };
    let buggy = Config::new().explore(u32::MAX, 100_000, body(false));
    let failure = buggy
        .report
        .failures
        .first()
        .expect("the spurious wake-up is found");
    assert!(
        failure.message.contains("flag still false"),
        "{}",
        failure.message
    );
    // The plain order (bound 0: no spurious wake-up) never fails.
    let plain = Config::new().explore(0, 100_000, body(false));
    assert!(plain.complete && plain.report.passed());
    let correct = Config::new().explore(u32::MAX, 100_000, body(true));
    assert!(
        correct.complete && correct.report.passed(),
        "{:?}",
        correct.report.failures
    );
    // And with spurious wake-ups off, the buggy version passes a complete search.
    let off = Config::new()
        .spurious_wakeups(false)
        .explore(u32::MAX, 100_000, body(false));
    assert!(off.complete && off.report.passed());
}

#[test]
fn reduction_keeps_every_outcome_of_a_spin_wait() {
    // Spinning tasks are taken out of the offered set until something changes; reduction must
    // still see every value the spinner can observe and every final state.
    let seen = Outcomes::new();
    let (set, _, _) = compare(&seen, || {
        let (flag, data) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (f2, d2) = (flag.clone(), data.clone());
        let t = thread::spawn(move || {
            d2.store(1, SeqCst);
            f2.store(1, SeqCst);
            d2.store(2, SeqCst);
        });
        while flag.load(SeqCst) == 0 {
            thread::yield_now();
        }
        let seen_data = data.load(SeqCst);
        t.join().unwrap();
        seen.add(seen_data);
    });
    assert_eq!(set, BTreeSet::from([1, 2]));
}
