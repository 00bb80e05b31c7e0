//! Dynamic partial-order reduction against the unreduced search: on every program here the set
//! of outcomes (values the threads saw, final states, failures) that `Config::explore` collects
//! over its whole tree equals the set `explore_unreduced` collects, and sleep sets alone agree
//! too. A reduction that loses an outcome would let buggy code pass, so each program has
//! several outcomes, at least one reachable only through a reordering DPOR must find.

use detest::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use detest::sync::{mpsc, Arc, Barrier, Condvar, Mutex, RwLock};
use detest::{future, rand, thread, Config};
use std::collections::BTreeSet;
use std::fmt::Debug;

/// Outcomes collected across executions (std, outside the model).
struct Outcomes(std::sync::Mutex<BTreeSet<String>>);

impl Outcomes {
    fn new() -> Self {
        Outcomes(std::sync::Mutex::new(BTreeSet::new()))
    }
    fn add(&self, v: impl Debug) {
        self.0.lock().unwrap().insert(format!("{v:?}"));
    }
    fn take(&self) -> BTreeSet<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// Executions each mode needed for the whole tree.
#[derive(Debug)]
struct Counts {
    unreduced: u64,
    sleep_sets: u64,
    dpor: u64,
}

const CAP: u64 = 400_000;

/// Explores `body` completely three ways, not stopping at failures; every outcome `body` adds
/// and every failure's kind and first line must be the same set each time. Returns the set.
fn same_outcomes(seen: &Outcomes, body: impl Fn()) -> (BTreeSet<String>, Counts) {
    same_outcomes_in(Config::new(), seen, body)
}

fn same_outcomes_in(
    config: Config,
    seen: &Outcomes,
    body: impl Fn(),
) -> (BTreeSet<String>, Counts) {
    let config = config.fail_fast(false).trace_failures(false);
    let mut sets = Vec::new();
    let mut counts = Vec::new();
    for mode in 0..3 {
        let run = match mode {
            0 => config.explore_unreduced(u32::MAX, CAP, &body),
            1 => config.explore_sleep_sets(u32::MAX, CAP, &body),
            _ => config.explore(u32::MAX, CAP, &body),
        };
        assert!(
            run.complete,
            "mode {mode}: not complete after {}",
            run.report.executions
        );
        let mut set = seen.take();
        for f in &run.report.failures {
            let first = f.message.lines().next().unwrap_or("");
            set.insert(format!("failure {:?}: {first}", f.kind));
        }
        sets.push(set);
        counts.push(run.report.executions);
    }
    let counts = Counts {
        unreduced: counts[0],
        sleep_sets: counts[1],
        dpor: counts[2],
    };
    assert_eq!(sets[0], sets[1], "sleep sets lost or invented an outcome");
    assert_eq!(sets[0], sets[2], "DPOR lost or invented an outcome");
    eprintln!("{counts:?}");
    assert!(counts.dpor <= counts.unreduced, "{counts:?}");
    (sets.swap_remove(0), counts)
}

fn writers(n: usize, seen: &Outcomes) {
    let cells: Vec<_> = (0..n).map(|_| Arc::new(AtomicUsize::new(0))).collect();
    let hs: Vec<_> = cells
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let c = c.clone();
            thread::spawn(move || {
                c.store(i + 1, SeqCst);
                c.fetch_add(10, SeqCst);
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    seen.add(cells.iter().map(|c| c.load(SeqCst)).collect::<Vec<_>>());
}

#[test]
fn independent_writers_need_one_execution() {
    for n in [2usize, 3] {
        let seen = Outcomes::new();
        let (set, counts) = same_outcomes(&seen, || writers(n, &seen));
        assert_eq!(set.len(), 1);
        assert_eq!(counts.dpor, 1, "{n} threads: {counts:?}");
        assert!(counts.dpor < counts.sleep_sets, "{counts:?}");
    }
    // Six threads: far beyond the unreduced search, still one execution.
    let seen = Outcomes::new();
    let run = Config::new().explore(u32::MAX, 1_000, || writers(6, &seen));
    assert!(run.complete && run.report.passed());
    assert_eq!(run.report.executions, 1);
    let sleep = Config::new().explore_sleep_sets(u32::MAX, 1_000, || writers(6, &seen));
    assert!(sleep.report.executions > 1);
}

#[test]
fn atomics_on_several_locations_with_three_and_four_threads() {
    // Store buffering on x, y plus a reader of both and an independent counter.
    let seen = Outcomes::new();
    let (set, counts) = same_outcomes(&seen, || {
        let x = Arc::new(AtomicUsize::new(0));
        let y = Arc::new(AtomicUsize::new(0));
        let z = Arc::new(AtomicUsize::new(0));
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
        let (x3, y3, z3) = (x.clone(), y.clone(), z.clone());
        let c = thread::spawn(move || {
            z3.fetch_add(1, SeqCst);
            (y3.load(SeqCst), x3.load(SeqCst))
        });
        let r = (a.join().unwrap(), b.join().unwrap(), c.join().unwrap());
        seen.add(r);
    });
    assert!(set.len() > 5, "{set:?}");
    assert!(counts.dpor < counts.unreduced, "{counts:?}");

    // Four threads: independent reads of independent writes (IRIW); under sequential
    // consistency the readers never disagree on the order of the two stores.
    let seen = Outcomes::new();
    let (set, _) = same_outcomes(&seen, || {
        let x = Arc::new(AtomicUsize::new(0));
        let y = Arc::new(AtomicUsize::new(0));
        let x1 = x.clone();
        let a = thread::spawn(move || x1.store(1, SeqCst));
        let y2 = y.clone();
        let b = thread::spawn(move || y2.store(1, SeqCst));
        let (x3, y3) = (x.clone(), y.clone());
        let c = thread::spawn(move || (x3.load(SeqCst), y3.load(SeqCst)));
        // The fourth thread is the body.
        let d = (y.load(SeqCst), x.load(SeqCst));
        a.join().unwrap();
        b.join().unwrap();
        seen.add((c.join().unwrap(), d));
    });
    // Each reader sees each of its four combinations in some execution, and no execution has
    // them disagree: ((1, 0), (1, 0)) would mean x before y for one and y before x for the other.
    assert_eq!(set.len(), 15, "{set:?}");
    assert!(!set.contains("((1, 0), (1, 0))"), "{set:?}");
}

#[test]
fn lock_orders_try_lock_and_a_deadlock() {
    // Three threads append under one lock: all 6 orders.
    let seen = Outcomes::new();
    let (set, counts) = same_outcomes(&seen, || {
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
    assert!(counts.dpor < counts.unreduced, "{counts:?}");

    // Two locks in opposite orders, one side backing off with try_lock: a deadlock is
    // impossible, but the back-off is reachable, and so is each winner.
    let seen = Outcomes::new();
    let (set, _) = same_outcomes(&seen, || {
        let (a, b) = (Arc::new(Mutex::new(0)), Arc::new(Mutex::new(0)));
        let (a2, b2) = (a.clone(), b.clone());
        let t = thread::spawn(move || {
            let _gb = b2.lock().unwrap();
            match a2.try_lock() {
                Ok(mut g) => {
                    *g += 1;
                    "took both"
                }
                Err(_) => "backed off",
            }
        });
        {
            let mut ga = a.lock().unwrap();
            *ga += 10;
            *b.lock().unwrap() += 10;
        }
        let r = t.join().unwrap();
        seen.add((r, *a.lock().unwrap()));
    });
    assert!(set.iter().any(|s| s.contains("backed off")), "{set:?}");
    assert!(set.iter().any(|s| s.contains("took both")), "{set:?}");

    // The plain inversion deadlocks in some schedules and completes in others.
    let seen = Outcomes::new();
    let (set, _) = same_outcomes(&seen, || {
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
        seen.add("done");
    });
    assert!(set.contains("\"done\""));
    assert!(set.iter().any(|s| s.contains("Deadlock")), "{set:?}");
}

#[test]
fn condvars_with_several_waiters() {
    // Two waiters, one notify_one then a notify_all: which waiter wakes first is a pick.
    // (Without spurious wake-ups: with them the unreduced tree is too large to finish.)
    let seen = Outcomes::new();
    let config = Config::new().spurious_wakeups(false);
    let (set, _) = same_outcomes_in(config, &seen, || {
        let pair = Arc::new((Mutex::new((0, Vec::new())), Condvar::new()));
        let hs: Vec<_> = (0..2)
            .map(|i| {
                let pair = pair.clone();
                thread::spawn(move || {
                    let mut g = pair.0.lock().unwrap();
                    while g.0 == 0 {
                        g = pair.1.wait(g).unwrap();
                    }
                    g.1.push(i);
                })
            })
            .collect();
        {
            pair.0.lock().unwrap().0 = 1;
            pair.1.notify_one();
        }
        pair.1.notify_all();
        for h in hs {
            h.join().unwrap();
        }
        seen.add(pair.0.lock().unwrap().1.clone());
    });
    assert_eq!(set.len(), 2, "{set:?}");
}

#[test]
fn a_wait_without_a_loop_through_a_spurious_wake_up() {
    // A wait without a loop: only a spurious wake-up returns with the flag false.
    let seen = Outcomes::new();
    let (set, _) = same_outcomes(&seen, || {
        let pair = Arc::new((Mutex::new(false), Condvar::new()));
        let p2 = pair.clone();
        let t = thread::spawn(move || {
            *p2.0.lock().unwrap() = true;
            p2.1.notify_one();
        });
        let mut g = pair.0.lock().unwrap();
        if !*g {
            g = pair.1.wait(g).unwrap();
        }
        seen.add(*g);
        drop(g);
        t.join().unwrap();
    });
    assert_eq!(set, BTreeSet::from(["false".into(), "true".into()]));
}

#[test]
fn channels_rendezvous_and_try_send() {
    let seen = Outcomes::new();
    let (set, _) = same_outcomes(&seen, || {
        let (tx, rx) = mpsc::channel();
        let tx2 = tx.clone();
        let a = thread::spawn(move || tx.send(1).unwrap());
        let b = thread::spawn(move || tx2.send(2).unwrap());
        let got = (rx.recv().unwrap(), rx.recv().unwrap());
        a.join().unwrap();
        b.join().unwrap();
        seen.add(got);
    });
    assert_eq!(set.len(), 2);

    // A rendezvous channel: try_send succeeds only while the receiver waits.
    let seen = Outcomes::new();
    let (set, _) = same_outcomes(&seen, || {
        let (tx, rx) = mpsc::sync_channel::<u32>(0);
        let flag = Arc::new(AtomicBool::new(false));
        let f2 = flag.clone();
        let t = thread::spawn(move || {
            f2.store(true, SeqCst);
            rx.recv().ok()
        });
        let sent = tx.try_send(7).is_ok();
        drop(tx);
        let got = t.join().unwrap();
        seen.add((sent, got, flag.load(SeqCst)));
    });
    assert!(set.contains("(true, Some(7), true)"), "{set:?}");
    assert!(set.contains("(false, None, true)"), "{set:?}");
}

#[test]
fn rwlock_barrier_and_once() {
    let seen = Outcomes::new();
    let (set, _) = same_outcomes(&seen, || {
        let lock = Arc::new(RwLock::new(Vec::new()));
        let mut hs = Vec::new();
        for i in 0..2 {
            let lock = lock.clone();
            hs.push(thread::spawn(move || lock.read().unwrap().len() * 10 + i));
        }
        let l2 = lock.clone();
        hs.push(thread::spawn(move || {
            l2.write().unwrap().push(1);
            99
        }));
        let r: Vec<_> = hs.into_iter().map(|h| h.join().unwrap()).collect();
        seen.add(r);
    });
    assert_eq!(set.len(), 4, "{set:?}");

    // A barrier: every thread sees every store made before it; the leader is a pick.
    let seen = Outcomes::new();
    let (set, _) = same_outcomes(&seen, || {
        let barrier = Arc::new(Barrier::new(3));
        let x = Arc::new(AtomicUsize::new(0));
        let hs: Vec<_> = (0..2)
            .map(|i| {
                let (barrier, x) = (barrier.clone(), x.clone());
                thread::spawn(move || {
                    let early = x.fetch_add(1 << i, SeqCst);
                    let leader = barrier.wait().is_leader();
                    (early, leader, x.load(SeqCst))
                })
            })
            .collect();
        let leader = barrier.wait().is_leader();
        x.fetch_add(4, SeqCst);
        let r: Vec<_> = hs.into_iter().map(|h| h.join().unwrap()).collect();
        seen.add((r, leader));
    });
    assert!(set.len() > 6, "{set:?}");

    let seen = Outcomes::new();
    same_outcomes(&seen, || {
        let once = Arc::new(std::sync::Mutex::new(0));
        let cell = Arc::new(detest::sync::Once::new());
        let hs: Vec<_> = (1..3)
            .map(|i| {
                let (once, cell) = (once.clone(), cell.clone());
                thread::spawn(move || cell.call_once(|| *once.lock().unwrap() = i))
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        seen.add(*once.lock().unwrap());
    });
}

#[test]
fn spin_waits_parks_draws_and_async_tasks() {
    let seen = Outcomes::new();
    let (set, _) = same_outcomes(&seen, || {
        let (flag, data) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (f2, d2) = (flag.clone(), data.clone());
        let t = thread::spawn(move || {
            d2.store(1, SeqCst);
            f2.store(1, SeqCst);
            d2.store(2, SeqCst);
        });
        while flag.load(SeqCst) == 0 {
            std::hint::spin_loop();
        }
        seen.add(data.load(SeqCst));
        t.join().unwrap();
    });
    assert_eq!(set.len(), 2);

    // park/unpark with a flag, a draw shaping the threads.
    let seen = Outcomes::new();
    let (set, _) = same_outcomes(&seen, || {
        let k = rand::range(1..3usize);
        let flag = Arc::new(AtomicUsize::new(0));
        let me = thread::current();
        let hs: Vec<_> = (0..k)
            .map(|_| {
                let (flag, me) = (flag.clone(), me.clone());
                thread::spawn(move || {
                    flag.fetch_add(1, SeqCst);
                    me.unpark();
                })
            })
            .collect();
        let first = flag.load(SeqCst);
        while flag.load(SeqCst) < k {
            thread::park();
        }
        for h in hs {
            h.join().unwrap();
        }
        seen.add((k, first));
    });
    assert_eq!(set.len(), 5, "{set:?}");

    // Detached async tasks end with the body: whether one ran before it is an outcome.
    let seen = Outcomes::new();
    let (set, _) = same_outcomes(&seen, || {
        let x = Arc::new(AtomicUsize::new(0));
        let x2 = x.clone();
        let seen = &seen;
        let _t = future::spawn(async move {
            x2.fetch_add(1, SeqCst);
        });
        let v = x.load(SeqCst);
        x.store(10, SeqCst);
        seen.add(v);
    });
    assert!(set.contains("0") && set.contains("1"), "{set:?}");
}

#[allow(dead_code)]
mod programs {
    use detest::{future, sync, thread};
    include!("../../detest-bench/src/programs.rs");
    include!("../../detest-bench/src/programs_async.rs");
}

#[test]
fn the_bench_bug_programs_fail_the_same_ways() {
    // Programs whose unreduced tree is small enough to finish; the others are checked for
    // finding their bug in `explore_fidelity`.
    let mut bugs = programs::bug_programs();
    bugs.extend(programs::async_bug_programs());
    let small = [
        "lazy01",
        "deadlock01",
        "long_prefix",
        "lost_signal",
        "check_then_act",
        "twostage",
        "async_lost_wakeup",
        "reorder_3",
    ];
    for p in bugs.into_iter().filter(|p| small.contains(&p.name)) {
        let seen = Outcomes::new();
        let (set, counts) = same_outcomes(&seen, p.body);
        eprintln!("{}: {counts:?}", p.name);
        assert!(set.iter().any(|s| s.starts_with("failure")), "{}", p.name);
    }
}

#[test]
fn detached_threads_mixed_locks_and_atomics_and_draws() {
    // A detached thread that may outlive the body, next to a lock-protected counter read
    // without the lock, and a thread whose work depends on a draw.
    let seen = Outcomes::new();
    let (set, _) = same_outcomes(&seen, || {
        let m = Arc::new(Mutex::new(0));
        let flag = Arc::new(AtomicUsize::new(0));
        let (m2, f2) = (m.clone(), flag.clone());
        thread::spawn(move || {
            *m2.lock().unwrap() += 1;
            f2.store(1, SeqCst);
        });
        let (m3, f3) = (m.clone(), flag.clone());
        let t = thread::spawn(move || {
            if rand::random::<bool>() {
                *m3.lock().unwrap() += 10;
            }
            f3.load(SeqCst)
        });
        let early = flag.load(SeqCst);
        let seen_flag = t.join().unwrap();
        seen.add((early, seen_flag, *m.lock().unwrap()));
    });
    assert!(set.len() >= 8, "{set:?}");

    // Check-then-act on a lock: two threads test a shared value under one lock and set it
    // under another acquisition; the body reads a flag one of them sets.
    let seen = Outcomes::new();
    let (set, _) = same_outcomes(&seen, || {
        let a = Arc::new(Mutex::new(0));
        let flag = Arc::new(AtomicUsize::new(0));
        let hs: Vec<_> = (1..3)
            .map(|i| {
                let (a, flag) = (a.clone(), flag.clone());
                thread::spawn(move || {
                    let v = *a.lock().unwrap();
                    if v == 0 {
                        flag.fetch_add(i, SeqCst);
                        *a.lock().unwrap() = i;
                    }
                })
            })
            .collect();
        let r = flag.load(SeqCst);
        for h in hs {
            h.join().unwrap();
        }
        seen.add((r, *a.lock().unwrap(), flag.load(SeqCst)));
    });
    // Both threads can pass the check (b == 3): the bug is reachable.
    assert!(set.iter().any(|s| s.ends_with(", 3)")), "{set:?}");
}

#[test]
fn virtual_time_sleeps_and_timeouts() {
    use std::time::Duration;
    // A receive with a timeout: the message arrives in time, or the sender sleeps past it.
    // Virtual time moves only when every task waits, and that jump wakes the receiver.
    let seen = Outcomes::new();
    let (set, _) = same_outcomes(&seen, || {
        let (tx, rx) = mpsc::channel();
        let x = Arc::new(AtomicUsize::new(0));
        let x2 = x.clone();
        let t = thread::spawn(move || {
            let got = rx.recv_timeout(Duration::from_millis(10)).ok();
            (got, x2.load(SeqCst))
        });
        if rand::random::<bool>() {
            thread::sleep(Duration::from_millis(20));
        }
        x.store(1, SeqCst);
        let _ = tx.send(5);
        seen.add(t.join().unwrap());
    });
    assert!(set.contains("(None, 0)"), "{set:?}");
    assert!(set.contains("(Some(5), 1)"), "{set:?}");
}

#[test]
fn nested_spawns_scoped_threads_and_once_lock() {
    // A thread spawns another after a store: the child sees it; both race with the body.
    let seen = Outcomes::new();
    let (set, _) = same_outcomes(&seen, || {
        let x = Arc::new(AtomicUsize::new(0));
        let y = Arc::new(AtomicUsize::new(0));
        let (x1, y1) = (x.clone(), y.clone());
        let t = thread::spawn(move || {
            x1.store(1, SeqCst);
            let (x2, y2) = (x1.clone(), y1.clone());
            let c = thread::spawn(move || {
                y2.store(1, SeqCst);
                x2.load(SeqCst)
            });
            c.join().unwrap()
        });
        let early = (y.load(SeqCst), x.load(SeqCst));
        seen.add((t.join().unwrap(), early));
    });
    // The child always sees the store made before it was spawned.
    assert!(set.iter().all(|s| s.starts_with("(1,")), "{set:?}");
    assert_eq!(set.len(), 3, "{set:?}");

    // Scoped threads and a OnceLock initialised by whichever thread comes first.
    let seen = Outcomes::new();
    let (set, _) = same_outcomes(&seen, || {
        let cell = detest::sync::OnceLock::new();
        let hits = AtomicUsize::new(0);
        thread::scope(|s| {
            for i in 1..3 {
                let (cell, hits) = (&cell, &hits);
                s.spawn(move || {
                    hits.fetch_add(1, SeqCst);
                    *cell.get_or_init(|| i)
                });
            }
        });
        seen.add((cell.get().copied(), hits.load(SeqCst)));
    });
    assert_eq!(set.len(), 2, "{set:?}");
}

#[test]
fn timed_condvar_waits_and_a_writer_blocking_a_second_read() {
    use std::time::Duration;
    // A timed wait: notified in time, or timed out (the notifier sleeps first).
    let seen = Outcomes::new();
    let (set, _) = same_outcomes_in(Config::new().spurious_wakeups(false), &seen, || {
        let pair = Arc::new((Mutex::new(false), Condvar::new()));
        let p2 = pair.clone();
        let t = thread::spawn(move || {
            if rand::random::<bool>() {
                thread::sleep(Duration::from_millis(50));
            }
            *p2.0.lock().unwrap() = true;
            p2.1.notify_one();
        });
        let g = pair.0.lock().unwrap();
        let (g, timeout) = pair
            .1
            .wait_timeout_while(g, Duration::from_millis(10), |ready| !*ready)
            .unwrap();
        seen.add((*g, timeout.timed_out()));
        drop(g);
        t.join().unwrap();
    });
    assert!(
        set.contains("(true, false)") && set.contains("(false, true)"),
        "{set:?}"
    );

    // std's RwLock prefers writers: a reader that reads again while a writer waits deadlocks.
    let seen = Outcomes::new();
    let (set, _) = same_outcomes(&seen, || {
        let lock = Arc::new(RwLock::new(0));
        let l2 = lock.clone();
        let w = thread::spawn(move || *l2.write().unwrap() += 1);
        let a = lock.read().unwrap();
        let b = lock.read().unwrap();
        seen.add(*a + *b);
        drop((a, b));
        w.join().unwrap();
    });
    assert!(set.iter().any(|s| s.contains("Deadlock")), "{set:?}");
    assert!(set.contains("0") && set.contains("2"), "{set:?}");
}
