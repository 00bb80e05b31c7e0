//! Ported from tokio's tests/sync_mpsc.rs (tokio 1.54.1), the tests of reserved slots that
//! sync_mpsc.rs (an older port) lacks: `reserve_many`/`try_reserve_many` and their
//! `PermitIterator`, `OwnedPermit`, and how giving reserved slots back wakes a closed
//! receiver. Run in detest mode; tokio's plain `#[test]`s (which poll by hand with
//! tokio-test's mock task) became `#[tokio::test]`s so that they run inside an execution.
//! 27 ported, all passing; `owned_permit_holds_its_sender_and_its_slot` and
//! `replaced_receiver_waker_is_dropped_outside_the_lock` added.
//! `dropping_rx_drops_sender_wakers_outside_lock` uses std's `Wake` for futures' `ArcWake`.
//! Not ported: the `AssertUnwindSafe`/`AssertRefUnwindSafe` impls at the top of tokio's file
//! (detest-tokio's handles are not unwind safe: their state sits in an `UnsafeCell`).
//! Schedule-exploring tests: sync_mpsc_explore.rs.

#![allow(clippy::redundant_clone)]
extern crate detest_tokio as tokio;

mod support;
use support::tokio_test::{self, *};

use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::{TryRecvError, TrySendError};

#[tokio::test]
async fn failed_reserve_many_wakes_closed_receiver() {
    let (tx, mut rx) = mpsc::channel::<()>(2);

    // Hold one of the two slots so the reservation can only take the other one
    // and has to queue for the second.
    let permit = tx.try_reserve().unwrap();

    let mut reserve = tokio_test::task::spawn(tx.reserve_many(2));
    assert_pending!(reserve.poll());

    rx.close();

    let mut recv = tokio_test::task::spawn(rx.recv());
    assert_pending!(recv.poll());

    // One slot is still outstanding, so the channel is not idle and the
    // receiver must not be woken yet.
    drop(permit);
    assert!(!recv.is_woken());

    // The reservation fails on the closed channel and returns the slot it had
    // already acquired, leaving the channel idle. The receiver must be woken.
    assert_ready_err!(reserve.poll());
    assert!(recv.is_woken());
    assert_ready!(recv.poll());
}

#[tokio::test]
async fn cancelled_reserve_many_wakes_closed_receiver() {
    let (tx, mut rx) = mpsc::channel::<()>(2);

    let permit = tx.try_reserve().unwrap();

    let mut reserve = tokio_test::task::spawn(tx.reserve_many(2));
    assert_pending!(reserve.poll());

    rx.close();

    let mut recv = tokio_test::task::spawn(rx.recv());
    assert_pending!(recv.poll());

    drop(permit);
    assert!(!recv.is_woken());

    // Cancelling the reservation returns the slot it had already acquired,
    // leaving the channel idle. The receiver must be woken.
    drop(reserve);
    assert!(recv.is_woken());
    assert_ready!(recv.poll());
}

#[tokio::test]
async fn failed_reserve_wakes_closed_receiver() {
    let (tx, mut rx) = mpsc::channel::<()>(1);

    // Hold the only slot so the reservation below has to queue.
    let permit = tx.try_reserve().unwrap();

    let mut reserve = tokio_test::task::spawn(tx.reserve());
    assert_pending!(reserve.poll());

    // Returning the slot assigns it to the queued reservation, which is woken
    // but not yet polled, so the channel stays non-idle.
    drop(permit);
    assert!(reserve.is_woken());

    rx.close();

    let mut recv = tokio_test::task::spawn(rx.recv());
    assert_pending!(recv.poll());

    // The reservation fails on the closed channel despite holding the
    // assigned slot; returning it leaves the channel idle. The receiver must
    // be woken.
    assert_ready_err!(reserve.poll());
    assert!(recv.is_woken());
    assert_ready!(recv.poll());
}

#[tokio::test]
async fn cancelled_reserve_wakes_closed_receiver() {
    let (tx, mut rx) = mpsc::channel::<()>(1);

    let permit = tx.try_reserve().unwrap();

    let mut reserve = tokio_test::task::spawn(tx.reserve());
    assert_pending!(reserve.poll());

    drop(permit);
    assert!(reserve.is_woken());

    rx.close();

    let mut recv = tokio_test::task::spawn(rx.recv());
    assert_pending!(recv.poll());

    // Cancelling the reservation returns the slot it was assigned, leaving
    // the channel idle. The receiver must be woken.
    drop(reserve);
    assert!(recv.is_woken());
    assert_ready!(recv.poll());
}

#[tokio::test]
async fn reserve_many_above_cap() {
    const MAX_PERMITS: usize = tokio::sync::Semaphore::MAX_PERMITS;
    let (tx, _rx) = mpsc::channel::<()>(1);

    assert_err!(tx.reserve_many(2).await);
    assert_err!(tx.reserve_many(MAX_PERMITS + 1).await);
    assert_err!(tx.reserve_many(usize::MAX).await);
}

#[tokio::test]
async fn try_reserve_many_zero() {
    let (tx, rx) = mpsc::channel::<()>(1);

    // Succeeds when not closed.
    assert!(assert_ok!(tx.try_reserve_many(0)).next().is_none());

    // Even when channel is full.
    tx.try_send(()).unwrap();
    assert!(assert_ok!(tx.try_reserve_many(0)).next().is_none());

    drop(rx);

    // Closed error when closed.
    assert_eq!(
        assert_err!(tx.try_reserve_many(0)),
        TrySendError::Closed(())
    );
}

#[tokio::test]
async fn reserve_many_zero() {
    let (tx, rx) = mpsc::channel::<()>(1);

    // Succeeds when not closed.
    assert!(assert_ok!(tx.reserve_many(0).await).next().is_none());

    // Even when channel is full.
    tx.send(()).await.unwrap();
    assert!(assert_ok!(tx.reserve_many(0).await).next().is_none());

    drop(rx);

    // Closed error when closed.
    assert_err!(tx.reserve_many(0).await);
}

#[tokio::test]
async fn try_reserve_many_edge_cases() {
    const MAX_PERMITS: usize = tokio::sync::Semaphore::MAX_PERMITS;

    let (tx, rx) = mpsc::channel::<()>(1);

    let mut permit = assert_ok!(tx.try_reserve_many(0));
    assert!(permit.next().is_none());

    let permit = tx.try_reserve_many(MAX_PERMITS + 1);
    match assert_err!(permit) {
        TrySendError::Full(..) => {}
        _ => panic!(),
    }

    let permit = tx.try_reserve_many(usize::MAX);
    match assert_err!(permit) {
        TrySendError::Full(..) => {}
        _ => panic!(),
    }

    // Dropping the receiver should close the channel
    drop(rx);
    assert_err!(tx.reserve_many(0).await);
}

#[tokio::test]
async fn reserve_many_and_send() {
    let (tx, mut rx) = mpsc::channel(100);
    for i in 0..100 {
        for permit in assert_ok!(tx.reserve_many(i).await) {
            permit.send("foo");
            assert_eq!(rx.recv().await, Some("foo"));
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }
}

#[tokio::test]
async fn try_reserve_many_and_send() {
    let (tx, mut rx) = mpsc::channel(100);
    for i in 0..100 {
        for permit in assert_ok!(tx.try_reserve_many(i)) {
            permit.send("foo");
            assert_eq!(rx.recv().await, Some("foo"));
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }
}

#[tokio::test]
async fn reserve_many_on_closed_channel() {
    let (tx, rx) = mpsc::channel::<()>(100);
    drop(rx);
    assert_err!(tx.reserve_many(10).await);
}

#[tokio::test]
async fn try_reserve_many_on_closed_channel() {
    let (tx, rx) = mpsc::channel::<usize>(100);
    drop(rx);
    match assert_err!(tx.try_reserve_many(10)) {
        TrySendError::Closed(()) => {}
        _ => panic!(),
    };
}

#[tokio::test]
async fn try_reserve_many_full() {
    // Reserve n capacity and send k messages
    for n in 1..100 {
        for k in 0..n {
            let (tx, mut rx) = mpsc::channel::<usize>(n);
            let permits = assert_ok!(tx.try_reserve_many(n));

            assert_eq!(permits.len(), n);
            assert_eq!(tx.capacity(), 0);

            match assert_err!(tx.try_reserve_many(1)) {
                TrySendError::Full(..) => {}
                _ => panic!(),
            };

            for permit in permits.take(k) {
                permit.send(0);
            }
            // We only used k permits on the n reserved
            assert_eq!(tx.capacity(), n - k);

            // We can reserve more permits
            assert_ok!(tx.try_reserve_many(1));

            // But not more than the current capacity
            match assert_err!(tx.try_reserve_many(n - k + 1)) {
                TrySendError::Full(..) => {}
                _ => panic!(),
            };

            for _i in 0..k {
                assert_eq!(rx.recv().await, Some(0));
            }

            // Now that we've received everything, capacity should be back to n
            assert_eq!(tx.capacity(), n);
        }
    }
}

#[tokio::test]
async fn drop_permit_iterator_releases_permits() {
    // poll_ready reserves capacity, ensure that the capacity is released if tx
    // is dropped w/o sending a value.
    for n in 1..100 {
        let (tx1, _rx) = mpsc::channel::<i32>(n);
        let tx2 = tx1.clone();

        let permits = assert_ok!(tx1.reserve_many(n).await);

        let mut reserve2 = tokio_test::task::spawn(tx2.reserve_many(n));
        assert_pending!(reserve2.poll());

        drop(permits);

        assert!(reserve2.is_woken());

        let permits = assert_ready_ok!(reserve2.poll());
        drop(permits);

        assert_eq!(tx1.capacity(), n);
    }
}

#[tokio::test]
async fn dropping_last_permit_wakes_closed_receiver() {
    let (tx, mut rx) = mpsc::channel::<()>(100);

    let permit = tx.try_reserve().unwrap();
    rx.close();

    let mut recv = tokio_test::task::spawn(rx.recv());
    assert_pending!(recv.poll());
    drop(permit);
    assert!(recv.is_woken());
    assert_ready!(recv.poll());
}

#[tokio::test]
async fn dropping_last_owned_permit_wakes_closed_receiver() {
    let (tx, mut rx) = mpsc::channel::<()>(100);

    let permit = tx.try_reserve_owned().unwrap();
    rx.close();

    let mut recv = tokio_test::task::spawn(rx.recv());
    assert_pending!(recv.poll());
    drop(permit);
    assert!(recv.is_woken());
    assert_ready!(recv.poll());
}

#[tokio::test]
async fn dropping_last_permit_iterator_wakes_closed_receiver() {
    let (tx, mut rx) = mpsc::channel::<()>(100);

    let permits = tx.try_reserve_many(1).unwrap();
    rx.close();

    let mut recv = tokio_test::task::spawn(rx.recv());
    assert_pending!(recv.poll());
    drop(permits);
    assert!(recv.is_woken());
    assert_ready!(recv.poll());
}

#[tokio::test]
async fn sending_last_permit_wakes_closed_receiver() {
    let (tx, mut rx) = mpsc::channel::<()>(100);

    let permit = tx.try_reserve().unwrap();
    rx.close();

    let mut recv = tokio_test::task::spawn(rx.recv());
    assert_pending!(recv.poll());
    permit.send(());
    assert!(recv.is_woken());
    assert_ready!(recv.poll());
}

#[tokio::test]
async fn sending_last_owned_permit_wakes_closed_receiver() {
    let (tx, mut rx) = mpsc::channel::<()>(100);

    let permit = tx.try_reserve_owned().unwrap();
    rx.close();

    let mut recv = tokio_test::task::spawn(rx.recv());
    assert_pending!(recv.poll());
    permit.send(());
    assert!(recv.is_woken());
    assert_ready!(recv.poll());
}

#[tokio::test]
async fn releasing_last_owned_permit_wakes_closed_receiver() {
    let (tx, mut rx) = mpsc::channel::<()>(100);

    let permit = tx.try_reserve_owned().unwrap();
    rx.close();

    let mut recv = tokio_test::task::spawn(rx.recv());
    assert_pending!(recv.poll());
    let inert_sender = permit.release();
    assert!(recv.is_woken());
    assert_ready!(recv.poll());
    drop(inert_sender);
}

#[tokio::test]
async fn dropping_rx_closes_channel() {
    let (tx, rx) = mpsc::channel(100);

    let msg = Arc::new(());
    assert_ok!(tx.try_send(msg.clone()));

    drop(rx);
    assert_err!(tx.reserve().await);
    assert_err!(tx.reserve_many(10).await);
    assert_eq!(1, Arc::strong_count(&msg));
}

#[tokio::test]
async fn dropping_rx_closes_channel_for_try() {
    let (tx, rx) = mpsc::channel(100);

    let msg = Arc::new(());
    tx.try_send(msg.clone()).unwrap();

    drop(rx);

    assert!(matches!(
        tx.try_send(msg.clone()),
        Err(TrySendError::Closed(_))
    ));
    assert!(matches!(tx.try_reserve(), Err(TrySendError::Closed(_))));
    assert!(matches!(
        tx.try_reserve_owned(),
        Err(TrySendError::Closed(_))
    ));

    assert_eq!(1, Arc::strong_count(&msg));
}

#[tokio::test]
async fn dropping_rx_drops_sender_wakers_outside_lock() {
    // detest-tokio: std's `Wake` and `Waker::noop` for futures' `ArcWake` and `noop_waker_ref`.
    use std::future::Future;
    use std::task::{Context, Poll, Wake, Waker};

    struct PermitInWaker {
        _permit: mpsc::OwnedPermit<i32>,
    }

    impl Wake for PermitInWaker {
        fn wake(self: Arc<Self>) {}
    }

    let (tx, rx) = mpsc::channel(2);
    let permit = tx.clone().try_reserve_owned().unwrap();
    tx.try_send(1).unwrap();

    // The channel is full, so `reserve` waits for capacity.
    let mut reserve = Box::pin(tx.reserve());
    let waker = Waker::from(Arc::new(PermitInWaker { _permit: permit }));
    assert!(reserve
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    drop(waker);

    // Closing the channel wakes `reserve`, which drops the last reference to
    // the waker and releases the permit inside it. This shouldn't deadlock.
    drop(rx);

    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(
        reserve.as_mut().poll(&mut cx),
        Poll::Ready(Err(_))
    ));
}

#[tokio::test]
async fn unconsumed_messages_are_dropped() {
    let msg = Arc::new(());

    let (tx, rx) = mpsc::channel(100);

    tx.try_send(msg.clone()).unwrap();

    assert_eq!(2, Arc::strong_count(&msg));

    drop((tx, rx));

    assert_eq!(1, Arc::strong_count(&msg));
}

#[tokio::test]
async fn ready_close_cancel_bounded() {
    let (tx, mut rx) = mpsc::channel::<()>(100);
    let _tx2 = tx.clone();

    let permit = assert_ok!(tx.reserve().await);

    rx.close();

    let mut recv = tokio_test::task::spawn(rx.recv());
    assert_pending!(recv.poll());

    drop(permit);

    assert!(recv.is_woken());
    let val = assert_ready!(recv.poll());
    assert!(val.is_none());
}

#[tokio::test]
async fn permit_available_not_acquired_close() {
    let (tx1, mut rx) = mpsc::channel::<()>(1);
    let tx2 = tx1.clone();

    let permit1 = assert_ok!(tx1.reserve().await);

    let mut permit2 = tokio_test::task::spawn(tx2.reserve());
    assert_pending!(permit2.poll());

    rx.close();

    drop(permit1);
    assert!(permit2.is_woken());

    drop(permit2);
    assert!(rx.recv().await.is_none());
}

#[tokio::test]
async fn try_recv_after_receiver_close_with_permit() {
    let (tx, mut rx) = mpsc::channel::<()>(5);

    let permit = tx.try_reserve().unwrap();

    assert_eq!(Err(TryRecvError::Empty), rx.try_recv());
    rx.close();
    assert_eq!(Err(TryRecvError::Empty), rx.try_recv());
    drop(permit);
    assert_eq!(Err(TryRecvError::Disconnected), rx.try_recv());
}

// detest-tokio: an owned permit holds its sender (the channel stays open while it lives) and
// its slot until it is used, released or dropped.
#[tokio::test]
async fn owned_permit_holds_its_sender_and_its_slot() {
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    let tx2 = tx.clone();
    let permit = tx.reserve_owned().await.unwrap();
    assert!(permit.same_channel_as_sender(&tx2));
    assert_eq!(tx2.strong_count(), 2);
    assert!(matches!(tx2.try_send(1), Err(TrySendError::Full(1))));
    drop(permit);
    assert_eq!(tx2.strong_count(), 1);
    assert_ok!(tx2.try_send(1));
    assert_eq!(rx.recv().await, Some(1));

    let permit = tx2.try_reserve_owned().unwrap();
    assert!(
        !rx.is_closed(),
        "the permit's sender keeps the channel open"
    );
    let tx = permit.release();
    assert_ok!(tx.try_send(2));
    drop(tx);
    assert_eq!(rx.recv().await, Some(2));
    assert_eq!(rx.recv().await, None);
}

// detest-tokio: the receiver's waker replaced on a later poll is dropped outside the channel's
// critical section: here its drop gives a reserved slot back to the same channel.
#[tokio::test]
async fn replaced_receiver_waker_is_dropped_outside_the_lock() {
    use std::future::Future;
    use std::task::{Context, Wake, Waker};

    struct PermitInWaker {
        _permit: mpsc::OwnedPermit<i32>,
    }

    impl Wake for PermitInWaker {
        fn wake(self: Arc<Self>) {}
    }

    let (tx, mut rx) = mpsc::channel::<i32>(1);
    let permit = tx.clone().try_reserve_owned().unwrap();
    let mut recv = Box::pin(rx.recv());
    let waker = Waker::from(Arc::new(PermitInWaker { _permit: permit }));
    assert!(recv
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    drop(waker);
    let mut cx = Context::from_waker(Waker::noop());
    assert!(recv.as_mut().poll(&mut cx).is_pending());
    drop(recv);
    assert_eq!(tx.capacity(), 1, "the dropped waker's slot came back");
}
