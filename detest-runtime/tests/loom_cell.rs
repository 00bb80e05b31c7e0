//! loom 0.7.2's tests of `loom::cell::UnsafeCell` (tests/unsafe_cell.rs, and the cell tests of
//! tests/fence.rs, tests/mutex.rs and tests/arc.rs), ported: `loom::model` becomes a complete
//! `explore`, and `#[should_panic]` an assertion that the exploration fails as a data race.
//!
//! Where the ports differ: loom's `thread::spawn` takes closures that are not `Send`, detest's
//! (like std's) does not, so the shared values are wrapped in [`Shared`] (what a real data
//! structure built on cells does with `unsafe impl Sync`), and `Rc` becomes `Arc`.
//!
//! Not ported: tests/arc.rs's `sync_in_drop` (and `detect_mem_leak`, about loom's leak check).
//! It reads the cell in the destructor the last `Arc` drop runs, ordered after the writer by
//! loom's `Arc`, whose drops release and whose last drop acquires. `detest::sync::Arc` is
//! std's, whose reference count detest does not see synchronise, so detest reports that read
//! as racing with the write (a false report, until detest has an `Arc` of its own).

use detest::cell::UnsafeCell;
use detest::sync::atomic::{fence, AtomicBool, AtomicUsize};
use detest::sync::{Arc, Mutex};
use detest::{thread, Config, FailureKind};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

/// Shares a value that is not `Sync` between tasks (see the module docs).
struct Shared<T> {
    inner: T,
}

// SAFETY: what these tests check: detest reports the accesses that are not synchronised.
unsafe impl<T> Sync for Shared<T> {}
unsafe impl<T> Send for Shared<T> {}

impl<T> std::ops::Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

fn shared<T>(inner: T) -> Arc<Shared<T>> {
    Arc::new(Shared { inner })
}

/// `loom::model(body)`: every schedule passes.
#[track_caller]
fn model(body: impl Fn()) {
    let run = Config::new().explore(u32::MAX, 100_000, body);
    if let Some(f) = run.report.failures.first() {
        panic!("{f}");
    }
    assert!(run.complete);
}

/// `#[should_panic] loom::model(body)`: some schedule fails as a data race. (loom stops at
/// the first panic, which may be the test's own assertion seeing the race's effect; every
/// schedule runs here, so that the race itself is what is asserted.)
#[track_caller]
fn model_races(body: impl Fn()) {
    let run = Config::new()
        .fail_fast(false)
        .trace_failures(false)
        .explore(u32::MAX, 100_000, body);
    assert!(run.complete);
    let race = run
        .report
        .failures
        .iter()
        .find(|f| f.kind == FailureKind::DataRace)
        .unwrap_or_else(|| panic!("no schedule races: {}", run.report));
    assert!(
        race.message.starts_with("data race on UnsafeCell<"),
        "{race}"
    );
}

struct Chan {
    data: UnsafeCell<usize>,
    guard: AtomicUsize,
}

impl Chan {
    fn set(&self) {
        self.data.with_mut(|v| unsafe { *v += 123 });
        self.guard.store(1, Release);
    }

    /// With `check_guard`, reads only after seeing the guard set (loom's success case).
    fn get(&self, check_guard: bool) {
        if check_guard && 0 == self.guard.load(Acquire) {
            return;
        }
        self.data.with(|v| unsafe { assert_eq!(*v, 123) });
    }
}

fn chan(check_guard: bool) -> impl Fn() {
    move || {
        let chan = shared(Chan {
            data: UnsafeCell::new(0),
            guard: AtomicUsize::new(0),
        });
        let th = {
            let chan = chan.clone();
            thread::spawn(move || chan.set())
        };
        // A scheduling point, which loom has at the spawn: detest's spawn and cell accesses
        // are none, so without it the body would always read first, and the failing case
        // would only ever fail its assertion (which loom's `should_panic` accepts too).
        thread::yield_now();
        // Try getting before joining
        chan.get(check_guard);
        th.join().unwrap();
        chan.get(check_guard);
    }
}

#[test]
fn atomic_causality_success() {
    model(chan(true));
}

#[test]
fn atomic_causality_fail() {
    model_races(chan(false));
}

#[derive(Clone)]
struct Data(Arc<Shared<UnsafeCell<usize>>>);

impl Data {
    fn new(v: usize) -> Self {
        Data(shared(UnsafeCell::new(v)))
    }

    fn get(&self) -> usize {
        self.0.with(|v| unsafe { *v })
    }

    fn inc(&self) -> usize {
        self.0.with_mut(|v| unsafe {
            *v += 1;
            *v
        })
    }
}

#[test]
fn unsafe_cell_race_mut_mut_1() {
    model_races(|| {
        let x = Data::new(1);
        let y = x.clone();
        let th1 = thread::spawn(move || x.inc());
        y.inc();
        th1.join().unwrap();
        assert_eq!(4, y.inc());
    });
}

#[test]
fn unsafe_cell_race_mut_mut_2() {
    model_races(|| {
        let x = Data::new(1);
        let y = x.clone();
        let z = x.clone();
        let th1 = thread::spawn(move || x.inc());
        let th2 = thread::spawn(move || y.inc());
        th1.join().unwrap();
        th2.join().unwrap();
        assert_eq!(4, z.inc());
    });
}

#[test]
fn unsafe_cell_race_mut_immut_1() {
    model_races(|| {
        let x = Data::new(1);
        let y = x.clone();
        let th1 = thread::spawn(move || assert_eq!(2, x.inc()));
        y.get();
        th1.join().unwrap();
        assert_eq!(3, y.inc());
    });
}

#[test]
fn unsafe_cell_race_mut_immut_2() {
    model_races(|| {
        let x = Data::new(1);
        let y = x.clone();
        let th1 = thread::spawn(move || x.get());
        assert_eq!(2, y.inc());
        th1.join().unwrap();
        assert_eq!(3, y.inc());
    });
}

#[test]
fn unsafe_cell_race_mut_immut_3() {
    model_races(|| {
        let x = Data::new(1);
        let y = x.clone();
        let z = x.clone();
        let th1 = thread::spawn(move || assert_eq!(2, x.inc()));
        let th2 = thread::spawn(move || y.get());
        th1.join().unwrap();
        th2.join().unwrap();
        assert_eq!(3, z.inc());
    });
}

#[test]
fn unsafe_cell_race_mut_immut_4() {
    model_races(|| {
        let x = Data::new(1);
        let y = x.clone();
        let z = x.clone();
        let th1 = thread::spawn(move || x.get());
        let th2 = thread::spawn(move || assert_eq!(2, y.inc()));
        th1.join().unwrap();
        th2.join().unwrap();
        assert_eq!(3, z.inc());
    });
}

#[test]
fn unsafe_cell_race_mut_immut_5() {
    model_races(|| {
        let x = Data::new(1);
        let y = x.clone();
        let z = x.clone();
        let th1 = thread::spawn(move || x.get());
        let th2 = thread::spawn(move || {
            assert_eq!(1, y.get());
            assert_eq!(2, y.inc());
        });
        th1.join().unwrap();
        th2.join().unwrap();
        assert_eq!(3, z.inc());
    });
}

#[test]
fn unsafe_cell_ok_1() {
    model(|| {
        let x = Data::new(1);
        assert_eq!(2, x.inc());
        let th1 = thread::spawn(move || {
            assert_eq!(3, x.inc());
            x
        });
        let x = th1.join().unwrap();
        assert_eq!(4, x.inc());
    });
}

#[test]
fn unsafe_cell_ok_2() {
    model(|| {
        let x = Data::new(1);
        assert_eq!(1, x.get());
        assert_eq!(2, x.inc());
        let th1 = thread::spawn(move || {
            assert_eq!(2, x.get());
            assert_eq!(3, x.inc());
            x
        });
        let x = th1.join().unwrap();
        assert_eq!(3, x.get());
        assert_eq!(4, x.inc());
    });
}

#[test]
fn unsafe_cell_ok_3() {
    model(|| {
        let x = Data::new(1);
        let y = x.clone();
        let th1 = thread::spawn(move || {
            assert_eq!(1, x.get());
            let z = x.clone();
            let th2 = thread::spawn(move || {
                assert_eq!(1, z.get());
            });
            assert_eq!(1, x.get());
            th2.join().unwrap();
        });
        assert_eq!(1, y.get());
        th1.join().unwrap();
        assert_eq!(2, y.inc());
    });
}

#[test]
fn unsafe_cell_access_after_sync() {
    model_races(|| {
        let s1 = shared((AtomicUsize::new(0), UnsafeCell::new(0)));
        let s2 = s1.clone();
        thread::spawn(move || {
            s1.0.store(1, Release);
            s1.1.with_mut(|ptr| unsafe { *ptr = 1 });
        });
        if 1 == s2.0.load(Acquire) {
            s2.1.with_mut(|ptr| unsafe { *ptr = 2 });
        }
    });
}

// tests/fence.rs

/// The writer writes, then publishes a flag (`release_fence`: a release fence and a relaxed
/// store; otherwise a release store); the body reads after seeing it (`acquire_fence`: a
/// relaxed load and an acquire fence; otherwise an acquire load).
fn fenced(release_fence: bool, acquire_fence: bool) -> impl Fn() {
    move || {
        let data = shared(UnsafeCell::new(0));
        let flag = Arc::new(AtomicBool::new(false));
        let th = {
            let (data, flag) = (data.clone(), flag.clone());
            thread::spawn(move || {
                data.with_mut(|ptr| unsafe { *ptr = 42 });
                if release_fence {
                    fence(Release);
                    flag.store(true, Relaxed);
                } else {
                    flag.store(true, Release);
                }
            })
        };
        let seen = if acquire_fence {
            let seen = flag.load(Relaxed);
            if seen {
                fence(Acquire);
            }
            seen
        } else {
            flag.load(Acquire)
        };
        if seen {
            assert_eq!(42, data.with_mut(|ptr| unsafe { *ptr }));
        }
        th.join().unwrap();
    }
}

#[test]
fn fence_sw_base() {
    model(fenced(true, true));
}

#[test]
fn fence_sw_collapsed_store() {
    model(fenced(false, true));
}

#[test]
fn fence_sw_collapsed_load() {
    model(fenced(true, false));
}

// tests/mutex.rs

#[test]
fn mutex_establishes_seq_cst() {
    struct Data {
        cell: UnsafeCell<usize>,
        flag: Mutex<bool>,
    }
    model(|| {
        let data = shared(Data {
            cell: UnsafeCell::new(0),
            flag: Mutex::new(false),
        });
        {
            let data = data.clone();
            thread::spawn(move || {
                data.cell.with_mut(|v| unsafe { *v = 1 });
                *data.flag.lock().unwrap() = true;
            });
        }
        let flag = *data.flag.lock().unwrap();
        if flag {
            let v = data.cell.with(|v| unsafe { *v });
            assert_eq!(v, 1);
        }
    });
}

// tests/arc.rs

struct State {
    data: UnsafeCell<usize>,
    guard: AtomicBool,
}

// SAFETY: see `Shared`.
unsafe impl Sync for State {}

impl Drop for State {
    fn drop(&mut self) {
        self.data.with(|ptr| unsafe {
            assert_eq!(1, *ptr);
        });
    }
}

#[test]
fn arc_basic_usage() {
    model(|| {
        let num = Arc::new(State {
            data: UnsafeCell::new(0),
            guard: AtomicBool::new(false),
        });
        let num2 = num.clone();
        thread::spawn(move || {
            num2.data.with_mut(|ptr| unsafe { *ptr = 1 });
            num2.guard.store(true, Release);
        });
        loop {
            if num.guard.load(Acquire) {
                num.data.with(|ptr| unsafe {
                    assert_eq!(1, *ptr);
                });
                break;
            }
            thread::yield_now();
        }
    });
}
