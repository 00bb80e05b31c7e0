//! tokio's coop budget in detest mode. Ported from tokio 1.54.1: coop_budget.rs's
//! `test_has_budget_remaining` (its UDP test needs `net`), sync_broadcast.rs's
//! `receiver_recv_is_cooperative`, sync_mutex.rs's `mutex_fifo_with_coop_budget` and
//! `mutex_coop_drop_after_take_permit`, sync_watch.rs's five `*_is_cooperative*` tests,
//! io_mem_stream.rs's `duplex_is_cooperative`, rt_common.rs's `coop`, `coop_unconstrained` and
//! `coop_consume_budget` (unstable there, public API here): 13, all passing. Not ported:
//! io_copy.rs's `copy_is_cooperative`/`copy_buf_is_cooperative` (`io::copy` is real tokio's
//! adapter, which asks real tokio's budget: outside a tokio runtime it has none, so it never
//! yields) and task_join_set.rs's `join_set_coop` (a `JoinHandle` is detest's own and does not
//! spend the budget). `futures`' `now_or_never` became a local helper. Added below:
//! `busy_worker_in_a_biased_select_still_sees_its_shutdown` over many schedules.

extern crate detest_tokio as tokio;

mod support;

use detest::{Config, Policy};
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use support::tokio_test::task::spawn;
use support::tokio_test::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{broadcast, mpsc, watch, Mutex};
use tokio::task::coop::{consume_budget, has_budget_remaining};

const BUDGET: usize = 128;

/// One poll with a no-op waker (`futures`' `FutureExt::now_or_never`).
fn now_or_never<F: Future>(f: F) -> Option<F::Output> {
    match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

#[tokio::test]
async fn test_has_budget_remaining() {
    assert!(has_budget_remaining());

    for _ in 0..BUDGET {
        consume_budget().await;
    }

    assert!(!has_budget_remaining());
}

#[tokio::test]
async fn receiver_recv_is_cooperative() {
    let (tx, mut rx) = broadcast::channel(8);

    tokio::select! {
        biased;
        _ = async {
            loop {
                assert!(tx.send(()).is_ok());
                assert!(rx.recv().await.is_ok());
            }
        } => {},
        _ = tokio::task::yield_now() => {},
    }
}

#[tokio::test]
async fn mutex_fifo_with_coop_budget() {
    let m = Arc::new(Mutex::new(()));

    let mut t0 = spawn(m.clone().lock_owned());
    let g0 = assert_ready!(t0.poll());

    let m_a = Arc::clone(&m);
    let mut t_a = spawn(async move {
        while now_or_never(tokio::task::coop::consume_budget()).is_some() {}
        m_a.lock_owned().await
    });
    assert_pending!(t_a.poll());

    let mut t_b = spawn(m.clone().lock_owned());
    assert_pending!(t_b.poll());

    drop(g0);

    assert!(t_a.is_woken());
    assert!(!t_b.is_woken());
}

#[tokio::test]
async fn mutex_coop_drop_after_take_permit() {
    let m = Arc::new(Mutex::new(()));
    let m_a = Arc::clone(&m);
    let mut t_a = spawn(async move {
        while now_or_never(tokio::task::coop::consume_budget()).is_some() {}
        m_a.lock_owned().await
    });
    assert_pending!(t_a.poll());
    drop(t_a);
    assert!(m.try_lock().is_ok());
}

#[tokio::test]
async fn receiver_changed_is_cooperative() {
    let (tx, mut rx) = watch::channel(());

    drop(tx);

    tokio::select! {
        biased;
        _ = async {
            loop {
                assert!(rx.changed().await.is_err());
            }
        } => {},
        _ = tokio::task::yield_now() => {},
    }
}

#[tokio::test]
async fn receiver_changed_is_cooperative_ok() {
    let (tx, mut rx) = watch::channel(());

    tokio::select! {
        biased;
        _ = async {
            loop {
                assert!(tx.send(()).is_ok());
                assert!(rx.changed().await.is_ok());
            }
        } => {},
        _ = tokio::task::yield_now() => {},
    }
}

#[tokio::test]
async fn receiver_wait_for_is_cooperative() {
    let (tx, mut rx) = watch::channel(0);

    drop(tx);

    tokio::select! {
        biased;
        _ = async {
            loop {
                assert!(rx.wait_for(|val| *val == 1).await.is_err());
            }
        } => {},
        _ = tokio::task::yield_now() => {},
    }
}

#[tokio::test]
async fn receiver_wait_for_is_cooperative_ok() {
    let (tx, mut rx) = watch::channel(0);

    tokio::select! {
        biased;
        _ = async {
            loop {
                assert!(tx.send(1).is_ok());
                assert!(rx.wait_for(|val| *val == 1).await.is_ok());
            }
        } => {},
        _ = tokio::task::yield_now() => {},
    }
}

#[tokio::test]
async fn sender_closed_is_cooperative() {
    let (tx, rx) = watch::channel(());

    drop(rx);

    tokio::select! {
        _ = async {
            loop {
                tx.closed().await;
            }
        } => {},
        _ = tokio::task::yield_now() => {},
    }
}

#[tokio::test]
async fn duplex_is_cooperative() {
    let (mut tx, mut rx) = tokio::io::duplex(1024 * 8);

    tokio::select! {
        biased;

        _ = async {
            loop {
                let buf = [3u8; 4096];
                tx.write_all(&buf).await.unwrap();
                let mut buf = [0u8; 4096];
                let _ = rx.read(&mut buf).await.unwrap();
            }
        } => {},
        _ = tokio::task::yield_now() => {}
    }
}

#[tokio::test]
async fn coop() {
    let (send, mut recv) = mpsc::unbounded_channel();

    // Send a bunch of messages.
    for _ in 0..1_000 {
        send.send(()).unwrap();
    }

    poll_fn(|cx| {
        // At least one response should return pending.
        for _ in 0..1_000 {
            if recv.poll_recv(cx).is_pending() {
                return Poll::Ready(());
            }
        }

        panic!("did not yield");
    })
    .await;
}

#[tokio::test]
async fn coop_unconstrained() {
    let (send, mut recv) = mpsc::unbounded_channel();

    // Send a bunch of messages.
    for _ in 0..1_000 {
        send.send(()).unwrap();
    }

    tokio::task::unconstrained(poll_fn(|cx| {
        // All the responses should be ready.
        for _ in 0..1_000 {
            assert_eq!(recv.poll_recv(cx), Poll::Ready(Some(())));
        }

        Poll::Ready(())
    }))
    .await;
}

#[tokio::test]
async fn coop_consume_budget() {
    poll_fn(|cx| {
        let counter = Arc::new(std::sync::Mutex::new(0));
        let counter_clone = Arc::clone(&counter);
        let mut worker = Box::pin(async move {
            // Consume the budget until a yield happens
            for _ in 0..1000 {
                *counter.lock().unwrap() += 1;
                tokio::task::consume_budget().await
            }
        });
        // Assert that the worker was yielded and it didn't manage
        // to finish the whole work (assuming the total budget of 128)
        assert!(Pin::new(&mut worker).poll(cx).is_pending());
        assert!(*counter_clone.lock().unwrap() < 1000);
        Poll::Ready(())
    })
    .await;
}

use std::pin::Pin;

// detest-tokio: a worker that never runs out of work (its channel is never empty) raced, in a
// `biased;` `select!`, against a shutdown signal another task sends. On tokio the budget
// makes `recv` return `Pending` after 128 values in one poll, so the shutdown branch (a
// `Notify`, which spends no budget) gets polled and the select ends; without the budget it
// never would (here: a step-limit failure). Over many schedules, it always ends.
#[test]
fn busy_worker_in_a_biased_select_still_sees_its_shutdown() {
    let report = Config::new().seeds(50).policy(Policy::Random).run(|| {
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
            tx.send(0).unwrap();
            let stop = Arc::new(tokio::sync::Notify::new());
            let s = stop.clone();
            tokio::spawn(async move { s.notify_one() });
            let mut served = 0;
            tokio::select! {
                biased;
                _ = async {
                    while let Some(v) = rx.recv().await {
                        served += 1;
                        tx.send(v + 1).unwrap(); // always more work
                    }
                } => unreachable!("the channel never closes"),
                _ = stop.notified() => {}
            }
            assert!(served > 0);
        })
    });
    assert!(
        report.failures.is_empty(),
        "{:?}",
        report.failures.first().map(|f| &f.message)
    );
}
