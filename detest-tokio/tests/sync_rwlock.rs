//! Ported from tokio's tests/sync_rwlock.rs (tokio-rs/tokio ea91b33), run in detest mode: each
//! `#[tokio::test]` is a detest test, and tokio's plain `#[test]`s (which poll by hand with
//! tokio-test's mock task) became `#[tokio::test]`s so that they run inside an execution.
//! Not ported: multithreaded (8 worker threads, 4000 real tasks) became `contended_writers_and_readers`,
//! a small version explored over seeds. `write_order` awaits async blocks instead of futures'
//! `FutureExt::map` (the same laziness: neither queues until first polled). Added:
//! `downgrade_lets_queued_readers_in`, `try_read_fails_behind_a_queued_writer`,
//! `read_guard_map_keeps_the_permit`.

extern crate detest_tokio as tokio;

mod support;
#[allow(unused_imports)]
use support::tokio_test::{self, *};

use detest::{Config, Policy};
use std::sync::Arc;
use std::task::Poll;
use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use tokio_test::task::spawn;

#[tokio::test]
async fn into_inner() {
    let rwlock = RwLock::new(42);
    assert_eq!(rwlock.into_inner(), 42);
}

// multiple reads should be Ready
#[tokio::test]
async fn read_shared() {
    let rwlock = RwLock::new(100);

    let mut t1 = spawn(rwlock.read());
    let _g1 = assert_ready!(t1.poll());
    let mut t2 = spawn(rwlock.read());
    let _g2 = assert_ready!(t2.poll());
}

// When there is an active shared owner, exclusive access should not be possible
#[tokio::test]
async fn write_shared_pending() {
    let rwlock = RwLock::new(100);
    let mut t1 = spawn(rwlock.read());

    let _g1 = assert_ready!(t1.poll());
    let mut t2 = spawn(rwlock.write());
    assert_pending!(t2.poll());
}

// When there is an active exclusive owner, subsequent exclusive access should not be possible
#[tokio::test]
async fn read_exclusive_pending() {
    let rwlock = RwLock::new(100);
    let mut t1 = spawn(rwlock.write());

    let _g1 = assert_ready!(t1.poll());
    let mut t2 = spawn(rwlock.read());
    assert_pending!(t2.poll());
}

// If the max shared access is reached and subsequent shared access is pending
// should be made available when one of the shared accesses is dropped
// detest-tokio: tokio's is a plain #[test], outside any runtime, so no coop budget applies; in
// an execution the 1024 reads of one poll run unconstrained to match.
#[tokio::test]
async fn exhaust_reading() {
    tokio::task::unconstrained(exhaust_reading_body()).await
}

async fn exhaust_reading_body() {
    let rwlock = RwLock::with_max_readers(100, 1024);
    let mut reads = Vec::new();
    loop {
        let mut t = spawn(rwlock.read());
        match t.poll() {
            Poll::Ready(guard) => reads.push(guard),
            Poll::Pending => break,
        }
    }
    // detest-tokio: the limit itself, which tokio's test only implies.
    assert_eq!(reads.len(), 1024);

    let mut t1 = spawn(rwlock.read());
    assert_pending!(t1.poll());
    let g2 = reads.pop().unwrap();
    drop(g2);
    assert!(t1.is_woken());
    let _g1 = assert_ready!(t1.poll());
}

// detest-tokio: kept plain #[test]s (the panic is in the constructor, no execution needed).
#[test]
#[should_panic(expected = "a RwLock may not be created with 0 readers")]
fn zero_max_readers() {
    RwLock::with_max_readers(100, 0);
}

#[test]
#[should_panic(expected = "a RwLock may not be created with 0 readers")]
fn zero_max_readers_const() {
    RwLock::const_with_max_readers(100, 0);
}

// When there is an active exclusive owner, subsequent exclusive access should not be possible
#[tokio::test]
async fn write_exclusive_pending() {
    let rwlock = RwLock::new(100);
    let mut t1 = spawn(rwlock.write());

    let _g1 = assert_ready!(t1.poll());
    let mut t2 = spawn(rwlock.write());
    assert_pending!(t2.poll());
}

// When there is an active shared owner, exclusive access should be possible after shared is dropped
#[tokio::test]
async fn write_shared_drop() {
    let rwlock = RwLock::new(100);
    let mut t1 = spawn(rwlock.read());

    let g1 = assert_ready!(t1.poll());
    let mut t2 = spawn(rwlock.write());
    assert_pending!(t2.poll());
    drop(g1);
    assert!(t2.is_woken());
    let _g2 = assert_ready!(t2.poll());
}

// when there is an active shared owner, and exclusive access is triggered,
// subsequent shared access should not be possible as write gathers all the available semaphore permits
#[tokio::test]
async fn write_read_shared_pending() {
    let rwlock = RwLock::new(100);
    let mut t1 = spawn(rwlock.read());
    let _g1 = assert_ready!(t1.poll());

    let mut t2 = spawn(rwlock.read());
    let _g2 = assert_ready!(t2.poll());

    let mut t3 = spawn(rwlock.write());
    assert_pending!(t3.poll());

    let mut t4 = spawn(rwlock.read());
    assert_pending!(t4.poll());
}

// when there is an active shared owner, and exclusive access is triggered,
// reading should be possible after pending exclusive access is dropped
#[tokio::test]
async fn write_read_shared_drop_pending() {
    let rwlock = RwLock::new(100);
    let mut t1 = spawn(rwlock.read());
    let _g1 = assert_ready!(t1.poll());

    let mut t2 = spawn(rwlock.write());
    assert_pending!(t2.poll());

    let mut t3 = spawn(rwlock.read());
    assert_pending!(t3.poll());
    drop(t2);

    assert!(t3.is_woken());
    let _t3 = assert_ready!(t3.poll());
}

// Acquire an RwLock nonexclusively by a single task
#[tokio::test]
async fn read_uncontested() {
    let rwlock = RwLock::new(100);
    let result = *rwlock.read().await;

    assert_eq!(result, 100);
}

// Acquire an uncontested RwLock in exclusive mode
#[tokio::test]
async fn write_uncontested() {
    let rwlock = RwLock::new(100);
    let mut result = rwlock.write().await;
    *result += 50;
    assert_eq!(*result, 150);
}

// RwLocks should be acquired in the order that their Futures are waited upon.
#[tokio::test]
async fn write_order() {
    let rwlock = RwLock::<Vec<u32>>::new(vec![]);
    let fut2 = async { rwlock.write().await.push(2) };
    let fut1 = async { rwlock.write().await.push(1) };
    fut1.await;
    fut2.await;

    let g = rwlock.read().await;
    assert_eq!(*g, vec![1, 2]);
}

#[tokio::test]
async fn try_write() {
    let lock = RwLock::new(0);
    let read_guard = lock.read().await;
    assert!(lock.try_write().is_err());
    drop(read_guard);
    assert!(lock.try_write().is_ok());
}

#[tokio::test]
async fn try_read_try_write() {
    let lock: RwLock<usize> = RwLock::new(15);

    {
        let rg1 = lock.try_read().unwrap();
        assert_eq!(*rg1, 15);

        assert!(lock.try_write().is_err());

        let rg2 = lock.try_read().unwrap();
        assert_eq!(*rg2, 15)
    }

    {
        let mut wg = lock.try_write().unwrap();
        *wg = 1515;

        assert!(lock.try_read().is_err())
    }

    assert_eq!(*lock.try_read().unwrap(), 1515);
}

// detest-tokio: downgrade hands the lock to the queued readers without a writer in between.
#[tokio::test]
async fn downgrade_lets_queued_readers_in() {
    let lock = Arc::new(RwLock::new(1));
    let mut w = lock.write().await;
    *w = 2;
    let mut r = spawn(lock.read());
    assert_pending!(r.poll());
    let d = w.downgrade();
    assert!(r.is_woken());
    assert_eq!(*assert_ready!(r.poll()), 2);
    assert!(lock.try_write().is_err());
    drop(d);

    let w = lock.clone().write_owned().await;
    let mut r = spawn(lock.clone().read_owned());
    assert_pending!(r.poll());
    let d = w.downgrade();
    assert_eq!(*assert_ready!(r.poll()), 2);
    assert_eq!(*d, 2);
    assert!(lock.clone().try_write_owned().is_err());
}

// detest-tokio: a small `multithreaded`: writers and readers on tasks, every read sees a
// consistent pair, the final sum is exact, on every explored schedule.
#[test]
fn contended_writers_and_readers() {
    let report = Config::new().seeds(100).policy(Policy::Random).run(|| {
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let lock = Arc::new(RwLock::new((0u32, 0u32)));
            let mut tasks = Vec::new();
            for add in [2u32, 3] {
                let lock = lock.clone();
                tasks.push(tokio::spawn(async move {
                    for _ in 0..2 {
                        let mut g = lock.write().await;
                        g.0 += add;
                        tokio::task::yield_now().await; // the pair is torn while held
                        g.1 += add;
                    }
                }));
            }
            let reader = lock.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..3 {
                    let g = reader.read().await;
                    assert_eq!(g.0, g.1, "a reader saw a torn write");
                }
            }));
            for t in tasks {
                t.await.unwrap();
            }
            assert_eq!(*lock.read().await, (10, 10));
        })
    });
    assert!(
        report.failures.is_empty(),
        "{:?}",
        report.failures.first().map(|f| &f.message)
    );
}

// detest-tokio: fairness for `try_read` too: a queued writer has taken the free permits, so a
// `try_read` fails although only readers hold the lock; once the writer gives up, it succeeds.
#[tokio::test]
async fn try_read_fails_behind_a_queued_writer() {
    let lock = RwLock::new(0);
    let _r = lock.read().await;
    let mut w = spawn(lock.write());
    assert_pending!(w.poll());
    assert!(lock.try_read().is_err());
    drop(w);
    assert!(lock.try_read().is_ok());
}

#[tokio::test]
async fn downgrade_map() {
    let lock = RwLock::new(0);
    let write_guard = lock.write().await;
    let mut read_t = spawn(lock.read());

    // We can't create a read when a write exists
    assert_pending!(read_t.poll());

    // During the call to `f`, `read_t` doesn't have access yet.
    let read_guard1 = RwLockWriteGuard::downgrade_map(write_guard, |v| {
        assert_pending!(read_t.poll());
        v
    });

    // After the downgrade, `read_t` got the lock
    let read_guard2 = assert_ready!(read_t.poll());

    // Ensure they're equal, as we return the original value
    assert_eq!(&*read_guard1 as *const _, &*read_guard2 as *const _);
}

#[tokio::test]
async fn try_downgrade_map() {
    let lock = RwLock::new(0);
    let write_guard = lock.write().await;
    let mut read_t = spawn(lock.read());

    // We can't create a read when a write exists
    assert_pending!(read_t.poll());

    // During the call to `f`, `read_t` doesn't have access yet.
    let write_guard = RwLockWriteGuard::try_downgrade_map(write_guard, |_| {
        assert_pending!(read_t.poll());
        None::<&()>
    })
    .expect_err("downgrade didn't fail");

    // After `f` returns `None`, `read_t` doesn't have access
    assert_pending!(read_t.poll());

    // After `f` returns `Some`, `read_t` does have access
    let read_guard1 = RwLockWriteGuard::try_downgrade_map(write_guard, |v| Some(v))
        .expect("downgrade didn't succeed");
    let read_guard2 = assert_ready!(read_t.poll());

    // Ensure they're equal, as we return the original value
    assert_eq!(&*read_guard1 as *const _, &*read_guard2 as *const _);
}

// detest-tokio: a mapped read guard still holds the read permit until it is dropped.
#[tokio::test]
async fn read_guard_map_keeps_the_permit() {
    let lock = RwLock::new((1, 2));
    let second = RwLockReadGuard::map(lock.read().await, |v| &v.1);
    assert_eq!(*second, 2);
    assert!(lock.try_write().is_err());
    let second = RwLockReadGuard::try_map(second, |_| None::<&u8>).expect_err("f gave None");
    assert!(lock.try_write().is_err());
    drop(second);
    assert!(lock.try_write().is_ok());
}
