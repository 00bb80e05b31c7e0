//! Mapped write guards (`RwLockWriteGuard::map`/`try_map`/`into_mapped`,
//! `RwLockMappedWriteGuard`, and the owned ones) and the owned read guard's `map`, run in
//! detest mode. tokio 1.54.1 has no tests of these in tests/sync_rwlock.rs; ported instead are
//! the examples of their docs (src/sync/rwlock/*_guard*.rs): 14 distinct ones, all passing
//! (the mapped guards' `map`/`try_map` docs repeat the write guards' examples, ported once).
//! Each example is a test named after the method it documents. Added after them: the mapped
//! guards hold the write lock until dropped (checked with tokio-test's mock task), and
//! schedule-exploring tests of readers racing a writer that holds a mapped guard.

extern crate detest_tokio as tokio;

mod support;
#[allow(unused_imports)]
use support::tokio_test::{self, *};

use std::sync::Arc;
use tokio::sync::{
    OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock,
    RwLockMappedWriteGuard, RwLockWriteGuard,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Foo(u32);

// --- tokio's doc examples ---------------------------------------------------------------------

#[tokio::test]
async fn write_guard_map() {
    let lock = RwLock::new(Foo(1));

    {
        let mut mapped = RwLockWriteGuard::map(lock.write().await, |f| &mut f.0);
        *mapped = 2;
    }

    assert_eq!(Foo(2), *lock.read().await);
}

#[tokio::test]
async fn write_guard_downgrade_map() {
    let lock = RwLock::new(Foo(1));

    let mapped = RwLockWriteGuard::downgrade_map(lock.write().await, |f| &f.0);
    let foo = lock.read().await;
    assert_eq!(foo.0, *mapped);
}

#[tokio::test]
async fn write_guard_try_map() {
    let lock = RwLock::new(Foo(1));

    {
        let guard = lock.write().await;
        let mut guard =
            RwLockWriteGuard::try_map(guard, |f| Some(&mut f.0)).expect("should not fail");
        *guard = 2;
    }

    assert_eq!(Foo(2), *lock.read().await);
}

#[tokio::test]
async fn write_guard_try_downgrade_map() {
    let lock = RwLock::new(Foo(1));

    let guard = RwLockWriteGuard::try_downgrade_map(lock.write().await, |f| Some(&f.0))
        .expect("should not fail");
    let foo = lock.read().await;
    assert_eq!(foo.0, *guard);
}

#[tokio::test]
async fn owned_write_guard_map() {
    let lock = Arc::new(RwLock::new(Foo(1)));

    {
        let lock = Arc::clone(&lock);
        let mut mapped = OwnedRwLockWriteGuard::map(lock.write_owned().await, |f| &mut f.0);
        *mapped = 2;
    }

    assert_eq!(Foo(2), *lock.read().await);
}

#[tokio::test]
async fn owned_write_guard_downgrade_map() {
    let lock = Arc::new(RwLock::new(Foo(1)));

    let guard = Arc::clone(&lock).write_owned().await;
    let mapped = OwnedRwLockWriteGuard::downgrade_map(guard, |f| &f.0);
    let foo = lock.read_owned().await;
    assert_eq!(foo.0, *mapped);
}

#[tokio::test]
async fn owned_write_guard_try_map() {
    let lock = Arc::new(RwLock::new(Foo(1)));

    {
        let guard = Arc::clone(&lock).write_owned().await;
        let mut guard =
            OwnedRwLockWriteGuard::try_map(guard, |f| Some(&mut f.0)).expect("should not fail");
        *guard = 2;
    }

    assert_eq!(Foo(2), *lock.read().await);
}

#[tokio::test]
async fn owned_write_guard_try_downgrade_map() {
    let lock = Arc::new(RwLock::new(Foo(1)));

    let guard = Arc::clone(&lock).write_owned().await;
    let guard =
        OwnedRwLockWriteGuard::try_downgrade_map(guard, |f| Some(&f.0)).expect("should not fail");
    let foo = lock.read_owned().await;
    assert_eq!(foo.0, *guard);
}

#[tokio::test]
async fn owned_write_guard_downgrade() {
    let lock = Arc::new(RwLock::new(1));

    let n = lock.clone().write_owned().await;

    let cloned_lock = lock.clone();
    let handle = tokio::spawn(async move {
        *cloned_lock.write_owned().await = 2;
    });

    let n = n.downgrade();
    assert_eq!(*n, 1, "downgrade is atomic");

    drop(n);
    handle.await.unwrap();
    assert_eq!(*lock.read().await, 2, "second writer obtained write lock");
}

#[tokio::test]
async fn owned_write_guard_rwlock() {
    let lock = Arc::new(RwLock::new(1));

    let guard = lock.clone().write_owned().await;
    assert!(Arc::ptr_eq(&lock, OwnedRwLockWriteGuard::rwlock(&guard)));
}

#[tokio::test]
async fn owned_mapped_write_guard_rwlock() {
    let lock = Arc::new(RwLock::new(1));

    let guard = lock.clone().write_owned().await;
    let guard = OwnedRwLockWriteGuard::map(guard, |x| x);
    assert!(Arc::ptr_eq(
        &lock,
        OwnedRwLockMappedWriteGuard::rwlock(&guard)
    ));
}

#[tokio::test]
async fn owned_read_guard_map() {
    let lock = Arc::new(RwLock::new(Foo(1)));

    let guard = lock.read_owned().await;
    let guard = OwnedRwLockReadGuard::map(guard, |f| &f.0);

    assert_eq!(1, *guard);
}

#[tokio::test]
async fn owned_read_guard_try_map() {
    let lock = Arc::new(RwLock::new(Foo(1)));

    let guard = lock.read_owned().await;
    let guard = OwnedRwLockReadGuard::try_map(guard, |f| Some(&f.0)).expect("should not fail");

    assert_eq!(1, *guard);
}

#[tokio::test]
async fn owned_read_guard_rwlock() {
    let lock = Arc::new(RwLock::new(Foo(1)));

    let guard = lock.clone().read_owned().await;
    assert!(Arc::ptr_eq(&lock, OwnedRwLockReadGuard::rwlock(&guard)));

    let guard = OwnedRwLockReadGuard::map(guard, |f| &f.0);
    assert!(Arc::ptr_eq(&lock, OwnedRwLockReadGuard::rwlock(&guard)));
}

// --- detest-tokio: a mapped write guard is the write lock ---------------------------------------

#[derive(Debug, Default)]
struct Pair {
    a: u32,
    b: Option<u32>,
}

// Mapping (twice), a failed `try_map` and `into_mapped` keep the write lock: nobody reads or
// writes until the mapped guard drops, and then a queued reader is woken and gets in.
#[tokio::test]
async fn mapped_write_guard_holds_the_write_lock() {
    let lock = RwLock::new(Pair::default());
    let guard = RwLockWriteGuard::into_mapped(lock.write().await);
    let guard = RwLockMappedWriteGuard::map(guard, |p| p);
    let guard = RwLockMappedWriteGuard::try_map(guard, |p| p.b.as_mut()).expect_err("b is None");
    let mut a = RwLockMappedWriteGuard::map(guard, |p| &mut p.a);
    *a = 5;
    assert!(lock.try_read().is_err());
    assert!(lock.try_write().is_err());
    let mut reader = spawn(lock.read());
    assert_pending!(reader.poll());
    drop(a);
    assert!(reader.is_woken());
    drop(reader);

    let w = lock.write().await;
    let w = RwLockWriteGuard::try_map(w, |p| p.b.as_mut()).expect_err("b is None");
    assert!(
        lock.try_read().is_err(),
        "a failed map keeps the write guard"
    );
    let mut a = RwLockWriteGuard::map(w, |p| &mut p.a);
    *a += 1;
    assert!(lock.try_read().is_err());
    assert!(lock.try_write().is_err());
    let mut reader = spawn(lock.read());
    assert_pending!(reader.poll());
    assert_eq!(format!("{a:?} {a}"), "6 6");
    drop(a);
    assert!(reader.is_woken());
    assert_eq!(assert_ready!(reader.poll()).a, 6);
}

#[tokio::test]
async fn owned_mapped_write_guard_holds_the_write_lock() {
    let lock = Arc::new(RwLock::new(Pair::default()));
    let w = lock.clone().write_owned().await;
    let w = OwnedRwLockWriteGuard::try_map(w, |p| p.b.as_mut()).expect_err("b is None");
    let w = OwnedRwLockWriteGuard::try_downgrade_map(w, |p| p.b.as_ref()).expect_err("None");
    assert!(
        lock.try_read().is_err(),
        "a failed map keeps the write guard"
    );
    let guard = OwnedRwLockWriteGuard::into_mapped(w);
    let guard =
        OwnedRwLockMappedWriteGuard::try_map(guard, |p| p.b.as_mut()).expect_err("b is None");
    let mut a = OwnedRwLockMappedWriteGuard::map(guard, |p| &mut p.a);
    *a = 5;
    assert!(lock.try_read().is_err());
    assert!(lock.try_write().is_err());
    let mut reader = spawn(lock.clone().read_owned());
    assert_pending!(reader.poll());
    assert_eq!(format!("{a:?} {a}"), "5 5");
    drop(a);
    assert!(reader.is_woken());
    let r = OwnedRwLockReadGuard::map(assert_ready!(reader.poll()), |p| &p.a);
    assert_eq!(*r, 5);
    let r = OwnedRwLockReadGuard::try_map(r, |_| None::<&u8>).expect_err("f gave None");
    assert!(
        lock.try_write().is_err(),
        "a mapped read guard keeps its permit"
    );
    drop(r);
    assert!(lock.try_write().is_ok());
}

// --- detest-tokio: schedule exploration -------------------------------------------------------

use detest::{Config, Policy};
use std::collections::BTreeSet;
use std::sync::Mutex;

/// Runs `body` over 100 random schedules, failing on any failed execution; returns the set of
/// outcomes seen.
fn outcomes<O: Ord + Send>(body: impl Fn() -> O) -> BTreeSet<O> {
    let seen = Mutex::new(BTreeSet::new());
    let report = Config::new().seeds(100).policy(Policy::Random).run(|| {
        let outcome = body();
        seen.lock().unwrap().insert(outcome);
    });
    assert!(
        report.failures.is_empty(),
        "{:?}",
        report.failures.first().map(|f| &f.message)
    );
    seen.into_inner().unwrap()
}

#[derive(Default)]
struct State {
    pair: (u32, u32),
    _other: String,
}

/// A writer updates a pair through a mapped write guard (mapped twice), yielding half-way; a
/// reader races it. The reader sees the pair before or after the update, as the schedule
/// decides, never half-updated: the mapped guard excludes readers until it drops.
fn reader_sees(owned: bool) -> BTreeSet<(u32, u32)> {
    outcomes(|| {
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let lock = Arc::new(RwLock::new(State::default()));
            let writer = {
                let lock = lock.clone();
                tokio::spawn(async move {
                    if owned {
                        let g = OwnedRwLockWriteGuard::map(lock.write_owned().await, |s| s);
                        let mut g = OwnedRwLockMappedWriteGuard::map(g, |s| &mut s.pair);
                        g.0 = 1;
                        tokio::task::yield_now().await;
                        g.1 = 1;
                    } else {
                        let g = RwLockWriteGuard::map(lock.write().await, |s| s);
                        let mut g = RwLockMappedWriteGuard::map(g, |s| &mut s.pair);
                        g.0 = 1;
                        tokio::task::yield_now().await;
                        g.1 = 1;
                    }
                })
            };
            let reader = tokio::spawn(async move { lock.read().await.pair });
            writer.await.unwrap();
            reader.await.unwrap()
        })
    })
}

#[test]
fn mapped_write_guard_excludes_a_racing_reader() {
    assert_eq!(reader_sees(false), BTreeSet::from([(0, 0), (1, 1)]));
}

#[test]
fn owned_mapped_write_guard_excludes_a_racing_reader() {
    assert_eq!(reader_sees(true), BTreeSet::from([(0, 0), (1, 1)]));
}
