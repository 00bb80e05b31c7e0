//! Ported from tokio's tests/macros_join.rs (tokio-rs/tokio ea91b33), run in detest mode: `join!` there is
//! this crate's (polling from the next future in turn, as tokio's).
//! Not ported: the coop-budget tests (non_cooperative_task, poor_little_task,
//! *_does_not_allow_tasks_to_starve: tokio's task budget is not modelled), the size tests
//! (future sizes differ), IntoFuture arguments and caller_names_const_count.

extern crate detest_tokio as tokio;

mod support;
#[allow(unused_imports)]
use support::tokio_test::{self, *};

use std::sync::Arc;
use tokio::sync::oneshot;
use tokio_test::task;

#[tokio::test]
async fn sync_one_lit_expr_comma() {
    let foo = tokio::join!(async { 1 },);
    assert_eq!(foo, (1,));

    let foo = tokio::join!(biased; async { 1 },);
    assert_eq!(foo, (1,));
}

#[tokio::test]
async fn sync_one_lit_expr_no_comma() {
    let foo = tokio::join!(async { 1 });
    assert_eq!(foo, (1,));

    let foo = tokio::join!(biased; async { 1 });
    assert_eq!(foo, (1,));
}

#[tokio::test]
async fn sync_two_lit_expr_comma() {
    let foo = tokio::join!(async { 1 }, async { 2 },);
    assert_eq!(foo, (1, 2));

    let foo = tokio::join!(biased; async { 1 }, async { 2 },);
    assert_eq!(foo, (1, 2));
}

#[tokio::test]
async fn sync_two_lit_expr_no_comma() {
    let foo = tokio::join!(async { 1 }, async { 2 });
    assert_eq!(foo, (1, 2));

    let foo = tokio::join!(biased; async { 1 }, async { 2 });
    assert_eq!(foo, (1, 2));
}

#[tokio::test]
async fn two_await() {
    let (tx1, rx1) = oneshot::channel::<&str>();
    let (tx2, rx2) = oneshot::channel::<u32>();

    let mut join = task::spawn(async {
        tokio::join!(async { rx1.await.unwrap() }, async { rx2.await.unwrap() })
    });

    assert_pending!(join.poll());

    tx2.send(123).unwrap();
    assert!(join.is_woken());
    assert_pending!(join.poll());

    tx1.send("hello").unwrap();
    assert!(join.is_woken());
    let res = assert_ready!(join.poll());

    assert_eq!(("hello", 123), res);
}

#[tokio::test]
async fn a_different_future_is_polled_first_every_time_poll_fn_is_polled() {
    let poll_order = Arc::new(std::sync::Mutex::new(vec![]));

    let fut = |x, poll_order: Arc<std::sync::Mutex<Vec<i32>>>| async move {
        for _ in 0..4 {
            {
                let mut guard = poll_order.lock().unwrap();

                guard.push(x);
            }

            tokio::task::yield_now().await;
        }
    };

    tokio::join!(
        fut(1, Arc::clone(&poll_order)),
        fut(2, Arc::clone(&poll_order)),
        fut(3, Arc::clone(&poll_order)),
    );

    // Each time the future created by join! is polled, it should start
    // by polling a different future first.
    assert_eq!(
        vec![1, 2, 3, 2, 3, 1, 3, 1, 2, 1, 2, 3],
        *poll_order.lock().unwrap()
    );
}

#[tokio::test]
async fn futures_are_polled_in_order_in_biased_mode() {
    let poll_order = Arc::new(std::sync::Mutex::new(vec![]));

    let fut = |x, poll_order: Arc<std::sync::Mutex<Vec<i32>>>| async move {
        for _ in 0..4 {
            {
                let mut guard = poll_order.lock().unwrap();

                guard.push(x);
            }

            tokio::task::yield_now().await;
        }
    };

    tokio::join!(
        biased;
        fut(1, Arc::clone(&poll_order)),
        fut(2, Arc::clone(&poll_order)),
        fut(3, Arc::clone(&poll_order)),
    );

    // Each time the future created by join! is polled, it should start
    // by polling in the order as declared in the macro inputs.
    assert_eq!(
        vec![1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3],
        *poll_order.lock().unwrap()
    );
}

#[tokio::test]
#[allow(clippy::unit_cmp)]
async fn empty_join() {
    assert_eq!(tokio::join!(), ());
    assert_eq!(tokio::join!(biased;), ());
}
