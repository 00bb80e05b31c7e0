//! Ported from tokio's tests/sync_semaphore.rs (tokio-rs/tokio ea91b33), run in detest mode: each
//! `#[tokio::test]` is a detest test, and tokio's plain `#[test]`s (which poll by hand with
//! tokio-test's mock task) became `#[tokio::test]`s so that they run inside an execution.
//! Not ported: forget_permits, merge, split, blocking_acquire*, the MAX_PERMITS overflow panics, the multi-threaded stress test (tokio's own, with 1000 real tasks).
//! Added (detest-tokio): `close_empties_the_queue`, `acquire_zero_does_not_queue`,
//! `replaced_waker_is_dropped_outside_the_lock`.

extern crate detest_tokio as tokio;

mod support;
#[allow(unused_imports)]
use support::tokio_test::{self, *};

use std::sync::Arc;
use tokio::sync::Semaphore;

#[tokio::test]
async fn no_permits() {
    // this should not panic
    Semaphore::new(0);
}

#[tokio::test]
async fn try_acquire() {
    let sem = Semaphore::new(1);
    {
        let p1 = sem.try_acquire();
        assert!(p1.is_ok());
        let p2 = sem.try_acquire();
        assert!(p2.is_err());
    }
    let p3 = sem.try_acquire();
    assert!(p3.is_ok());
}

#[tokio::test]
async fn acquire() {
    let sem = Arc::new(Semaphore::new(1));
    let p1 = sem.try_acquire().unwrap();
    let sem_clone = sem.clone();
    let j = tokio::spawn(async move {
        let _p2 = sem_clone.acquire().await;
    });
    drop(p1);
    j.await.unwrap();
}

#[tokio::test]
async fn add_permits() {
    let sem = Arc::new(Semaphore::new(0));
    let sem_clone = sem.clone();
    let j = tokio::spawn(async move {
        let _p2 = sem_clone.acquire().await;
    });
    sem.add_permits(1);
    j.await.unwrap();
}

#[tokio::test]
async fn add_permits_open() {
    for size in 0..4 {
        for add in 0..4 {
            let sem = Arc::new(Semaphore::new(size));
            sem.add_permits(add);
            assert_eq!(sem.available_permits(), size + add);
            assert!(!sem.is_closed());
        }
    }
}

#[tokio::test]
async fn add_permits_closed() {
    for size in 0..4 {
        for add in 0..4 {
            let sem = Arc::new(Semaphore::new(size));
            sem.close();
            sem.add_permits(add);
            assert_eq!(sem.available_permits(), size + add);
            assert!(sem.is_closed());
        }
    }
}

#[tokio::test]
async fn forget() {
    let sem = Arc::new(Semaphore::new(1));
    {
        let p = sem.try_acquire().unwrap();
        assert_eq!(sem.available_permits(), 0);
        p.forget();
        assert_eq!(sem.available_permits(), 0);
    }
    assert_eq!(sem.available_permits(), 0);
    assert!(sem.try_acquire().is_err());
}

#[tokio::test]
async fn add_max_amount_permits() {
    let s = tokio::sync::Semaphore::new(0);
    s.add_permits(tokio::sync::Semaphore::MAX_PERMITS);
    assert_eq!(s.available_permits(), tokio::sync::Semaphore::MAX_PERMITS);
}

// detest-tokio: as tokio's, closing takes every waiter out of the queue: permits added after
// the close stay free (none go to a waiter that can only fail), and a waiter served before
// the close but polled after it fails, giving its permits back.
#[tokio::test]
async fn close_empties_the_queue() {
    let sem = Semaphore::new(0);
    let mut a = spawn(sem.acquire());
    assert_pending!(a.poll());
    sem.close();
    sem.add_permits(1);
    assert_eq!(sem.available_permits(), 1);
    assert!(a.is_woken());
    assert_ready_err!(a.poll());
    assert_eq!(sem.available_permits(), 1);

    let sem = Semaphore::new(0);
    let mut a = spawn(sem.acquire());
    assert_pending!(a.poll());
    sem.add_permits(1); // served: `a` has its permit, not yet polled
    assert!(a.is_woken());
    sem.close();
    assert_ready_err!(a.poll());
    assert_eq!(sem.available_permits(), 1);
}

// detest-tokio: zero permits are there at once, even behind a queued waiter (tokio's
// `acquire_many(0)` never waits).
#[tokio::test]
async fn acquire_zero_does_not_queue() {
    let sem = Semaphore::new(0);
    let mut a = spawn(sem.acquire());
    assert_pending!(a.poll());
    let mut zero = spawn(sem.acquire_many(0));
    assert_eq!(assert_ready_ok!(zero.poll()).num_permits(), 0);
}

// detest-tokio: a waiter's waker replaced on a later poll is dropped outside the semaphore's
// critical section: here its drop gives a permit back to the same semaphore.
#[tokio::test]
async fn replaced_waker_is_dropped_outside_the_lock() {
    use std::future::Future;
    use std::task::{Context, Wake, Waker};

    struct PermitInWaker {
        _permit: tokio::sync::OwnedSemaphorePermit,
    }

    impl Wake for PermitInWaker {
        fn wake(self: Arc<Self>) {}
    }

    let sem = Arc::new(Semaphore::new(1));
    let permit = sem.clone().try_acquire_owned().unwrap();
    let mut acquire = Box::pin(sem.acquire());
    let waker = Waker::from(Arc::new(PermitInWaker { _permit: permit }));
    assert!(acquire
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    drop(waker);
    // The new waker replaces the old one, whose drop gives its permit to this very waiter.
    let mut cx = Context::from_waker(Waker::noop());
    assert!(acquire.as_mut().poll(&mut cx).is_pending());
    assert!(acquire.as_mut().poll(&mut cx).is_ready());
}
