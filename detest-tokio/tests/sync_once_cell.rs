//! Ported from tokio's tests/sync_once_cell.rs (tokio-rs/tokio ea91b33), run in detest mode:
//! every test is a `#[tokio::test]` (an execution) instead of a `#[test]` building a runtime.
//! The `static ONCE` cells became per-test `Arc`s: a static would keep its value from one
//! explored execution to the next. Changed: `get_or_init` and `get_or_try_init` assumed tokio's
//! current-thread order (the first spawned task initializes); here either task may, so they
//! assert what holds on every schedule, and `either_initializer_wins_across_seeds` checks both
//! orders are explored. Not ported: nothing else. Added: `take_empties_the_cell`,
//! `cancelled_initializer_lets_the_next_waiter_init`.

extern crate detest_tokio as tokio;

use detest::{Config, Policy};
use std::collections::BTreeSet;
use std::mem;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;
use tokio::sync::OnceCell;
use tokio::sync::SetError;
use tokio::time;

struct Foo {
    value: Arc<AtomicU32>,
}

impl Drop for Foo {
    fn drop(&mut self) {
        self.value.fetch_add(1, Ordering::Release);
    }
}

impl From<Arc<AtomicU32>> for Foo {
    fn from(value: Arc<AtomicU32>) -> Self {
        Foo { value }
    }
}

#[tokio::test]
async fn drop_cell() {
    let num_drops = Arc::new(AtomicU32::new(0));
    {
        let once_cell = OnceCell::new();
        let prev = once_cell.set(Foo::from(num_drops.clone()));
        assert!(prev.is_ok())
    }
    assert!(num_drops.load(Ordering::Acquire) == 1);
}

#[tokio::test]
async fn drop_cell_new_with() {
    let num_drops = Arc::new(AtomicU32::new(0));
    {
        let once_cell = OnceCell::new_with(Some(Foo::from(num_drops.clone())));
        assert!(once_cell.initialized());
    }
    assert!(num_drops.load(Ordering::Acquire) == 1);
}

#[tokio::test]
async fn drop_into_inner() {
    let num_drops = Arc::new(AtomicU32::new(0));

    let once_cell = OnceCell::new();
    assert!(once_cell.set(Foo::from(num_drops.clone())).is_ok());
    let fooer = once_cell.into_inner();
    let count = num_drops.load(Ordering::Acquire);
    assert!(count == 0);
    drop(fooer);
    let count = num_drops.load(Ordering::Acquire);
    assert!(count == 1);
}

#[tokio::test]
async fn drop_into_inner_new_with() {
    let num_drops = Arc::new(AtomicU32::new(0));
    let fooer = Foo::from(num_drops.clone());

    let once_cell = OnceCell::new_with(Some(fooer));
    let fooer = once_cell.into_inner();
    let count = num_drops.load(Ordering::Acquire);
    assert!(count == 0);
    mem::drop(fooer);
    let count = num_drops.load(Ordering::Acquire);
    assert!(count == 1);
}

#[tokio::test]
async fn from() {
    let cell = OnceCell::from(2);
    assert_eq!(*cell.get().unwrap(), 2);
}

async fn func1() -> u32 {
    5
}

async fn func2() -> u32 {
    time::sleep(Duration::from_millis(1)).await;
    10
}

async fn func_err() -> Result<u32, ()> {
    Err(())
}

async fn func_ok() -> Result<u32, ()> {
    Ok(10)
}

async fn func_panic() -> u32 {
    time::sleep(Duration::from_millis(1)).await;
    panic!();
}

async fn sleep_and_set() -> u32 {
    time::sleep(Duration::from_millis(2)).await;
    5
}

async fn advance_time_and_set(cell: &OnceCell<u32>, v: u32) -> Result<(), SetError<u32>> {
    time::advance(Duration::from_millis(1)).await;
    cell.set(v)
}

/// Both tasks of tokio's `get_or_init` get the one value; which init ran is the schedule's.
async fn get_or_init_body() -> u32 {
    let once = Arc::new(OnceCell::const_new());
    let (o1, o2) = (once.clone(), once.clone());
    let handle1 = tokio::spawn(async move { *o1.get_or_init(func1).await });
    let handle2 = tokio::spawn(async move { *o2.get_or_init(func2).await });

    time::advance(Duration::from_millis(1)).await;
    time::resume();

    let result1 = handle1.await.unwrap();
    let result2 = handle2.await.unwrap();
    assert_eq!(result1, result2);
    assert!(result1 == 5 || result1 == 10);
    result1
}

#[tokio::test(start_paused = true)]
async fn get_or_init() {
    get_or_init_body().await;
}

// detest-tokio: the FIFO election across schedules: either task may be first, and both
// outcomes happen (an init never runs twice, or the two results would differ).
#[test]
fn either_initializer_wins_across_seeds() {
    let seen = StdMutex::new(BTreeSet::new());
    let report = Config::new().seeds(64).policy(Policy::Random).run(|| {
        let v = tokio::runtime::Runtime::new().unwrap().block_on(async {
            time::pause();
            get_or_init_body().await
        });
        seen.lock().unwrap().insert(v);
    });
    assert!(
        report.failures.is_empty(),
        "{:?}",
        report.failures.first().map(|f| &f.message)
    );
    assert_eq!(seen.into_inner().unwrap(), BTreeSet::from([5, 10]));
}

// detest-tokio: task 2 only panics when it initializes first; joined, it reports the panic
// (tokio's version relied on task 1 going first, so the panic never happened).
#[tokio::test]
async fn get_or_init_panic() {
    time::pause();
    let once = Arc::new(OnceCell::const_new());
    let (o1, o2) = (once.clone(), once.clone());

    let handle1 = tokio::spawn(async move { *o1.get_or_init(func1).await });
    let handle2 = tokio::spawn(async move { *o2.get_or_init(func_panic).await });

    time::advance(Duration::from_millis(1)).await;

    // Task 1 waits for task 2's init if that began first; the panic gives the permit back.
    let result1 = handle1.await.unwrap();
    assert_eq!(result1, 5);
    match handle2.await {
        Ok(result2) => assert_eq!(result2, 5),
        Err(e) => assert!(e.is_panic()),
    }
    assert_eq!(*once.get().unwrap(), 5);
}

#[tokio::test]
async fn set_and_get() {
    let once = Arc::new(OnceCell::const_new());
    let o = once.clone();
    let _ = tokio::spawn(async move { o.set(5) }).await;
    let value = once.get().unwrap();
    assert_eq!(*value, 5);
}

#[tokio::test]
async fn get_uninit() {
    let once: OnceCell<u32> = OnceCell::const_new();
    let uninit = once.get();
    assert!(uninit.is_none());
}

#[tokio::test]
async fn set_twice() {
    let once: OnceCell<u32> = OnceCell::const_new();

    let first = once.set(5);
    assert_eq!(first, Ok(()));
    let second = once.set(6);
    assert!(second.err().unwrap().is_already_init_err());
}

#[tokio::test]
async fn set_while_initializing() {
    time::pause();
    let once = Arc::new(OnceCell::const_new());
    let (o1, o2) = (once.clone(), once.clone());

    let handle1 = tokio::spawn(async move { *o1.get_or_init(sleep_and_set).await });
    let handle2 = tokio::spawn(async move { advance_time_and_set(&o2, 10).await });

    time::advance(Duration::from_millis(2)).await;

    let result1 = handle1.await.unwrap();
    let result2 = handle2.await.unwrap();

    assert_eq!(result1, 5);
    assert!(result2.err().unwrap().is_initializing_err());
}

#[tokio::test(start_paused = true)]
async fn get_or_try_init() {
    let once = Arc::new(OnceCell::const_new());
    let (o1, o2) = (once.clone(), once.clone());
    let handle1 = tokio::spawn(async move { o1.get_or_try_init(func_err).await.copied() });
    let handle2 = tokio::spawn(async move { o2.get_or_try_init(func_ok).await.copied() });

    time::advance(Duration::from_millis(1)).await;
    time::resume();

    // detest-tokio: task 1 fails only if it tries first (else it finds task 2's value).
    let result1 = handle1.await.unwrap();
    assert!(result1.is_err() || result1 == Ok(10));

    let result2 = handle2.await.unwrap();
    assert_eq!(result2.unwrap(), 10);
}

#[tokio::test]
async fn take_empties_the_cell() {
    let mut cell = OnceCell::new();
    assert_eq!(cell.take(), None);
    cell.set(1).unwrap();
    assert_eq!(cell.take(), Some(1));
    assert!(!cell.initialized());
    cell.set(2).unwrap();
    assert_eq!(cell.get(), Some(&2));
}

#[tokio::test]
async fn cancelled_initializer_lets_the_next_waiter_init() {
    time::pause();
    let once = Arc::new(OnceCell::new());
    let started = Arc::new(AtomicU32::new(0));
    let (o, s) = (once.clone(), started.clone());
    let slow = tokio::spawn(async move {
        *o.get_or_init(|| async move {
            s.store(1, Ordering::SeqCst);
            time::sleep(Duration::from_secs(10)).await;
            1
        })
        .await
    });
    // Let `slow` take the permit and start its init, then cancel it mid-init.
    while started.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    assert!(once.set(0).unwrap_err().is_initializing_err());
    slow.abort();
    assert!(slow.await.unwrap_err().is_cancelled());
    assert!(!once.initialized());
    assert_eq!(*once.get_or_init(|| async { 2 }).await, 2);
}
