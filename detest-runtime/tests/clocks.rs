//! shuttle's `tests/basic/clocks.rs`, ported: `detest::current::clock()` follows happens-before
//! through every synchronising primitive, with shuttle's semantics (a task's own entry counts
//! its synchronising operations; a spawned task starts with its parent's clock and a zero
//! entry of its own). `check_dfs` became `explore`, `check_pct`/`check_random` a seed sweep.
//!
//! Ported changes: shuttle's `thread::current().id()` is `detest::current::me()` here, and
//! `AtomicU32::try_update` is `fetch_update` (std's name).

use detest::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use detest::sync::mpsc::{channel, sync_channel};
use detest::sync::{Barrier, Condvar, Mutex, Once, RwLock};
use detest::{current, thread, Config, Policy};
use std::collections::HashSet;
use std::sync::Arc;

fn me() -> usize {
    current::me()
}

#[track_caller]
fn check_clock(f: impl Fn(usize, u32) -> bool) {
    for (i, c) in current::clock().iter().enumerate() {
        assert!(
            f(i, c),
            "clock {:?} doesn't satisfy predicate at {}",
            current::clock(),
            i
        );
    }
}

/// shuttle's `check_dfs`: the whole exploration passes (and ends within the cap).
#[track_caller]
fn check_dfs(f: impl Fn(), cap: u64) {
    let run = Config::new().explore(u32::MAX, cap, f);
    if let Some(failure) = run.report.failures.first() {
        panic!("{}", failure.message);
    }
    assert!(
        run.complete,
        "explored {} executions",
        run.report.executions
    );
}

#[track_caller]
fn check_sweep(f: impl Fn(), policy: Policy, seeds: u64) {
    let report = Config::new().seeds(seeds).policy(policy).run(f);
    if let Some(failure) = report.failures.first() {
        panic!("{}", failure.message);
    }
    assert!(
        report.executions >= seeds,
        "ran {} executions",
        report.executions
    );
}

fn check_pct(f: impl Fn(), seeds: u64) {
    check_sweep(f, Policy::Pct { depth: 3 }, seeds)
}

fn clock_mutex(num_threads: usize) {
    let mut set = HashSet::new();
    set.insert(0);
    let set = Arc::new(Mutex::new(set));
    thread::spawn(|| {
        assert_eq!(me(), 1usize);
    });
    let threads = (0..num_threads)
        .map(|_| {
            let set = Arc::clone(&set);
            thread::spawn(move || {
                check_clock(|i, c| (c > 0) == (i == 0));
                let mut set = set.lock().unwrap();
                set.insert(me());
                assert!(!set.contains(&1));
                check_clock(|i, c| (c > 0) == set.contains(&i));
            })
        })
        .collect::<Vec<_>>();
    for thd in threads {
        thd.join().unwrap();
    }
    assert_eq!(set.lock().unwrap().len(), 1 + num_threads);
}

#[test]
fn clock_mutex_dfs() {
    check_dfs(|| clock_mutex(2), 100_000);
}

#[test]
fn clock_mutex_pct() {
    check_pct(|| clock_mutex(20), 1000);
}

fn clock_rwlock(num_writers: usize, num_readers: usize) {
    let set = Arc::new(std::sync::Mutex::new(HashSet::from([0])));
    let lock = Arc::new(RwLock::new(()));
    thread::spawn(|| {
        assert_eq!(me(), 1usize);
    });
    for _ in 0..num_writers {
        let set = Arc::clone(&set);
        let lock = Arc::clone(&lock);
        thread::spawn(move || {
            check_clock(|i, c| (c > 0) == (i == 0));
            let _guard = lock.write().unwrap();
            let mut set = set.lock().unwrap();
            set.insert(me());
            assert!(!set.contains(&1));
            check_clock(|i, c| !set.contains(&i) || (c > 0));
        });
    }
    for _ in 0..num_readers {
        let set = Arc::clone(&set);
        let lock = Arc::clone(&lock);
        thread::spawn(move || {
            check_clock(|i, c| (c > 0) == (i == 0));
            let _guard = lock.read().unwrap();
            let set = set.lock().unwrap();
            assert!(!set.contains(&1));
            check_clock(|i, c| !set.contains(&i) || (c > 0));
        });
    }
}

#[test]
fn clock_rwlock_dfs() {
    check_dfs(|| clock_rwlock(1, 1), 100_000);
}

#[test]
fn clock_rwlock_pct() {
    check_pct(|| clock_rwlock(4, 4), 2_000);
}

#[test]
fn clock_rwlock_random() {
    check_sweep(|| clock_rwlock(4, 4), Policy::Random, 2_000);
}

fn clock_barrier(n: usize) {
    let barrier = Arc::new(Barrier::new(n));
    thread::spawn(|| {
        assert_eq!(me(), 1usize);
    });
    for _ in 0..n - 1 {
        let barrier = Arc::clone(&barrier);
        thread::spawn(move || {
            check_clock(|i, c| (c > 0) == (i == 0));
            barrier.wait();
            check_clock(|i, c| (c > 0) == (i != 1));
        });
    }
    barrier.wait();
    check_clock(|i, c| (c > 0) == (i != 1));
}

#[test]
fn clock_barrier_dfs() {
    check_dfs(|| clock_barrier(4), 100_000);
}

#[test]
fn clock_barrier_pct() {
    check_pct(|| clock_barrier(50), 300);
}

#[test]
fn clock_condvar_single() {
    check_dfs(
        || {
            let lock = Arc::new(Mutex::new(false));
            let cond = Arc::new(Condvar::new());
            {
                let lock = Arc::clone(&lock);
                let cond = Arc::clone(&cond);
                thread::spawn(move || {
                    assert_eq!(me(), 1);
                    *lock.lock().unwrap() = true;
                    cond.notify_one();
                });
            }
            let mut guard = lock.lock().unwrap();
            while !*guard {
                check_clock(|i, c| (c > 0) == (i == 0));
                guard = cond.wait(guard).unwrap();
            }
            check_clock(|i, c| (c > 0) == (i == 0 || i == 1));
        },
        10_000,
    )
}

fn clock_condvar_notify_one(num_notifiers: usize, num_waiters: usize) {
    let lock = Arc::new(Mutex::new(0usize));
    let cond = Arc::new(Condvar::new());
    for _ in 0..num_notifiers {
        let lock = Arc::clone(&lock);
        let cond = Arc::clone(&cond);
        thread::spawn(move || {
            assert!(me() <= num_notifiers);
            *lock.lock().unwrap() = me();
            cond.notify_one();
        });
    }
    for _ in 0..num_waiters {
        let lock = Arc::clone(&lock);
        let cond = Arc::clone(&cond);
        thread::spawn(move || {
            let mut guard = lock.lock().unwrap();
            while *guard == 0 {
                check_clock(|i, c| !(i >= 1 && i <= num_notifiers) || (c == 0));
                guard = cond.wait(guard).unwrap();
            }
            check_clock(|i, c| (i != *guard) || (c > 0));
        });
    }
}

#[test]
fn clock_condvar_notify_one_dfs() {
    check_dfs(|| clock_condvar_notify_one(1, 1), 10_000);
}

#[test]
fn clock_condvar_notify_one_pct() {
    check_pct(|| clock_condvar_notify_one(10, 10), 2_000);
}

fn clock_condvar_notify_all(num_waiters: usize) {
    let lock = Arc::new(Mutex::new(0usize));
    let cond = Arc::new(Condvar::new());
    {
        let lock = Arc::clone(&lock);
        let cond = Arc::clone(&cond);
        thread::spawn(move || {
            assert_eq!(me(), 1);
            *lock.lock().unwrap() = me();
            cond.notify_all();
        });
    }
    for _ in 0..num_waiters {
        let lock = Arc::clone(&lock);
        let cond = Arc::clone(&cond);
        thread::spawn(move || {
            let mut guard = lock.lock().unwrap();
            while *guard == 0 {
                check_clock(|i, c| (i != 1) || (c == 0));
                guard = cond.wait(guard).unwrap();
            }
            check_clock(|i, c| (i != *guard) || (c > 0));
        });
    }
}

#[test]
fn clock_condvar_notify_all_dfs() {
    check_dfs(|| clock_condvar_notify_all(2), 100_000);
}

#[test]
fn clock_condvar_notify_all_pct() {
    check_pct(|| clock_condvar_notify_all(20), 1_000);
}

#[test]
fn clock_mpsc_unbounded() {
    const NUM_MSG: usize = 3;
    check_dfs(
        || {
            let (tx, rx) = channel::<usize>();
            thread::spawn(move || {
                assert_eq!(me(), 1);
                for i in 0..NUM_MSG {
                    tx.send(i).unwrap();
                }
            });
            for _ in 0..NUM_MSG {
                let c1 = current::clock().get(1);
                let _ = rx.recv().unwrap();
                check_clock(|i, c| (i != 1) || (c > c1));
            }
        },
        10_000,
    );
}

#[test]
fn clock_mpsc_bounded() {
    const BOUND: usize = 3;
    check_dfs(
        || {
            let (tx, rx) = sync_channel::<()>(BOUND);
            thread::spawn(move || {
                assert_eq!(me(), 1);
                for _ in 0..BOUND {
                    tx.send(()).unwrap();
                }
                check_clock(|i, c| (c > 0) == (i == 0 || i == 1));
                tx.send(()).unwrap();
                let c1 = current::clock().get(2);
                assert!(c1 > 0);
                tx.send(()).unwrap();
                assert!(current::clock().get(2) > c1);
            });
            thread::spawn(move || {
                assert_eq!(me(), 2);
                check_clock(|i, c| (c > 0) == (i == 0));
                rx.recv().unwrap();
                let c1 = current::clock().get(1);
                assert!(c1 > 0);
                rx.recv().unwrap();
                assert!(current::clock().get(2) > c1);
                for _ in 0..BOUND {
                    rx.recv().unwrap();
                }
            });
        },
        100_000,
    );
}

#[test]
fn clock_mpsc_rendezvous() {
    check_dfs(
        || {
            let (tx, rx) = sync_channel::<()>(0);
            thread::spawn(move || {
                assert_eq!(me(), 1);
                check_clock(|i, c| (c > 0) == (i == 0));
                tx.send(()).unwrap();
                let c1 = current::clock().get(2);
                assert!(c1 > 0);
                tx.send(()).unwrap();
                assert!(current::clock().get(2) > c1);
            });
            thread::spawn(move || {
                assert_eq!(me(), 2);
                check_clock(|i, c| (c > 0) == (i == 0));
                rx.recv().unwrap();
                let c1 = current::clock().get(1);
                assert!(c1 > 0);
                rx.recv().unwrap();
                assert!(current::clock().get(1) > c1);
            });
        },
        100_000,
    );
}

fn clock_threads(num_threads: usize) {
    let flag = Arc::new(AtomicBool::new(false));
    let handles = (1..num_threads + 1)
        .map(|k| {
            let flag = Arc::clone(&flag);
            thread::spawn(move || {
                assert_eq!(me(), k);
                check_clock(|i, c| (c > 0) == (i == 0));
                assert!(!flag.load(Ordering::SeqCst));
                check_clock(|i, c| (c > 0) == (i == 0) || (i == k));
                k
            })
        })
        .collect::<Vec<_>>();
    for handle in handles {
        let k = handle.join().unwrap();
        check_clock(move |i, c| (c > 0) == (i <= k));
    }
}

#[test]
fn clock_threads_dfs() {
    check_dfs(|| clock_threads(2), 10_000);
}

#[test]
fn clock_threads_pct() {
    check_pct(|| clock_threads(20), 2_000);
}

#[test]
fn clock_try_update() {
    check_dfs(
        || {
            let n = Arc::new(AtomicU32::new(0));
            {
                let n = Arc::clone(&n);
                thread::spawn(move || {
                    let _ = n.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |_| None);
                });
            }
            let _ = n.load(Ordering::SeqCst);
            check_clock(|i, c| (c > 0) == (i == 0));
        },
        10_000,
    );
}

fn clock_once(num_threads: usize) {
    let once = Arc::new(Once::new());
    let init = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let threads = (0..num_threads)
        .map(|_| {
            let once = Arc::clone(&once);
            let init = Arc::clone(&init);
            thread::spawn(move || {
                check_clock(|i, c| (c > 0) == (i == 0));
                once.call_once(|| init.store(me(), std::sync::atomic::Ordering::SeqCst));
                let who_inited = init.load(std::sync::atomic::Ordering::SeqCst);
                check_clock(|i, c| !(i == who_inited || i == 0 || i == me()) || c > 0);
            })
        })
        .collect::<Vec<_>>();
    for thd in threads {
        thd.join().unwrap();
    }
}

#[test]
fn clock_once_dfs() {
    check_dfs(|| clock_once(2), 10_000);
}

#[test]
fn clock_once_pct() {
    check_pct(|| clock_once(20), 1_000);
}
