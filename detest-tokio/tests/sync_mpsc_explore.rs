//! Schedule-exploring tests of mpsc's weak senders, `recv_many`, owned permits,
//! `reserve_many` and `Sender::closed`: each runs a race over 100 random schedules and asserts the set of outcomes
//! (every outcome tokio allows is reached, no other appears). The ported tokio tests of these
//! APIs are in sync_mpsc_weak.rs, sync_mpsc_recv_many.rs and sync_mpsc_permits.rs.

extern crate detest_tokio as tokio;

use detest::{Config, Policy};
use std::collections::BTreeSet;
use std::sync::Mutex;
use tokio::sync::mpsc::{self, channel, unbounded_channel};

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

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Runtime::new().unwrap().block_on(f)
}

// --- weak senders -----------------------------------------------------------------------------

/// A weak sender's upgrade races the last strong sender's drop: the upgrade either comes
/// first (then the channel stays open until the upgraded sender is done: its value is
/// received before the end) or after (it fails, the receiver sees the end at once). The
/// receiver never sees the end while an upgraded sender lives.
#[test]
fn weak_upgrade_races_the_last_senders_drop() {
    let seen = outcomes(|| {
        block_on(async {
            let (tx, mut rx) = channel::<&str>(1);
            let weak = tx.downgrade();
            let upgrader = tokio::spawn(async move {
                match weak.upgrade() {
                    Some(tx) => {
                        tx.send("via upgrade").await.unwrap();
                        "upgraded"
                    }
                    None => "closed",
                }
            });
            tokio::spawn(async move { drop(tx) });
            let first = rx.recv().await;
            let then = rx.recv().await;
            (upgrader.await.unwrap(), first, then)
        })
    });
    assert_eq!(
        seen,
        BTreeSet::from([
            ("closed", None, None),
            ("upgraded", Some("via upgrade"), None)
        ])
    );
}

/// The same race on an unbounded channel, the weak sender cloned first: clones of a weak
/// sender are weak too (they keep nothing open).
#[test]
fn weak_unbounded_upgrade_races_the_last_senders_drop() {
    let seen = outcomes(|| {
        block_on(async {
            let (tx, mut rx) = unbounded_channel::<u8>();
            let weak = tx.downgrade().clone();
            let upgrader = tokio::spawn(async move { weak.upgrade().map(|tx| tx.send(7)) });
            tokio::spawn(async move { drop(tx) });
            let got = rx.recv().await;
            assert_eq!(rx.recv().await, None);
            (upgrader.await.unwrap().map(|r| r.is_ok()), got)
        })
    });
    assert_eq!(seen, BTreeSet::from([(None, None), (Some(true), Some(7))]));
}

// --- recv_many ----------------------------------------------------------------------------------

/// How `recv_many(_, 2)` batches three values sent by another task: it takes whatever is
/// queued when it runs, never more than the limit, in order, so the batches are every way of
/// writing 3 as parts of at most 2, and the values always come out as sent.
fn batches(bounded: bool) -> BTreeSet<Vec<usize>> {
    outcomes(|| {
        block_on(async {
            let mut buffer = Vec::new();
            let mut sizes = Vec::new();
            if bounded {
                let (tx, mut rx) = mpsc::channel(3);
                tokio::spawn(async move {
                    for i in 0..3 {
                        tx.send(i).await.unwrap();
                    }
                });
                loop {
                    match rx.recv_many(&mut buffer, 2).await {
                        0 => break,
                        n => sizes.push(n),
                    }
                }
            } else {
                let (tx, mut rx) = mpsc::unbounded_channel();
                tokio::spawn(async move {
                    for i in 0..3 {
                        tx.send(i).unwrap();
                    }
                });
                loop {
                    match rx.recv_many(&mut buffer, 2).await {
                        0 => break,
                        n => sizes.push(n),
                    }
                }
            }
            assert_eq!(buffer, [0, 1, 2]);
            sizes
        })
    })
}

#[test]
fn recv_many_takes_what_is_queued_up_to_the_limit() {
    let all = BTreeSet::from([vec![1, 1, 1], vec![1, 2], vec![2, 1]]);
    assert_eq!(batches(true), all);
    assert_eq!(batches(false), all);
}

// --- owned permits, reserve_many ---------------------------------------------------------------

/// `reserve_owned` waits on a full channel while the receiver takes a value (freeing the
/// slot) and closes: the reservation either gets the slot before the close (its value is
/// then delivered after the close, and the receiver waits for it) or fails (even when the
/// slot was handed to it before the close but it ran after: it gives the slot back and wakes
/// the receiver, which would otherwise wait for that slot forever).
#[test]
fn owned_reservation_racing_close_is_delivered_or_fails() {
    let seen = outcomes(|| {
        block_on(async {
            let (tx, mut rx) = mpsc::channel(1);
            // A second sender keeps the channel open: only the failed reservation's wake-up
            // tells the closed receiver that no reserved slot is left.
            let _tx2 = tx.clone();
            tx.try_send(1).unwrap();
            let reserver = tokio::spawn(async move {
                match tx.reserve_owned().await {
                    Ok(permit) => {
                        drop(permit.send(2));
                        "sent"
                    }
                    Err(_) => "closed",
                }
            });
            assert_eq!(rx.recv().await, Some(1));
            rx.close();
            let mut rest = Vec::new();
            while let Some(v) = rx.recv().await {
                rest.push(v);
            }
            (reserver.await.unwrap(), rest)
        })
    });
    assert_eq!(
        seen,
        BTreeSet::from([("closed", vec![]), ("sent", vec![2])])
    );
}

/// A sender reserves every slot with `reserve_many`, uses one and drops the iterator: the
/// two slots it did not use come back, so a `send` waiting behind it gets in before anything
/// is received. Whichever reserves first sends first; nobody waits forever.
#[test]
fn dropped_permit_iterator_lets_a_waiting_sender_in() {
    let seen = outcomes(|| {
        block_on(async {
            let (tx, mut rx) = mpsc::channel(3);
            let tx2 = tx.clone();
            let many = tokio::spawn(async move {
                let mut permits = tx.reserve_many(3).await.unwrap();
                permits.next().unwrap().send("many");
            });
            let one = tokio::spawn(async move { tx2.send("one").await.unwrap() });
            // (If `one` reserved first, `many` waits for the slot `one` filled.)
            one.await.unwrap();
            let mut got = Vec::new();
            while let Some(v) = rx.recv().await {
                got.push(v);
            }
            many.await.unwrap();
            got
        })
    });
    assert_eq!(
        seen,
        BTreeSet::from([vec!["many", "one"], vec!["one", "many"]])
    );
}

/// `Sender::closed` completes once the receiver closes or goes, whenever that happens relative
/// to the sender starting to wait, and a producer racing it sees either outcome: its value
/// received, or the channel closed (never a lost wake-up: that would be a deadlock here).
#[test]
fn sender_closed_completes_when_the_receiver_closes_or_goes() {
    for (bounded, drop_rx) in [(true, true), (true, false), (false, true), (false, false)] {
        let seen = outcomes(|| {
            block_on(async {
                let (tx, utx, mut rx, mut urx) = {
                    let (tx, rx) = channel::<u8>(1);
                    let (utx, urx) = unbounded_channel::<u8>();
                    (tx, utx, rx, urx)
                };
                let waiter = tokio::spawn(async move {
                    match bounded {
                        true => tx.closed().await,
                        false => utx.closed().await,
                    }
                    "closed"
                });
                tokio::task::yield_now().await;
                match (bounded, drop_rx) {
                    (true, true) => drop(rx),
                    (true, false) => rx.close(),
                    (false, true) => drop(urx),
                    (false, false) => urx.close(),
                }
                waiter.await.unwrap()
            })
        });
        assert_eq!(
            seen,
            BTreeSet::from(["closed"]),
            "bounded {bounded}, drop {drop_rx}"
        );
    }
}

#[tokio::test]
async fn sender_closed_is_ready_at_once_on_a_closed_channel() {
    let (tx, rx) = channel::<u8>(1);
    drop(rx);
    tx.closed().await;
    let (tx, mut rx) = unbounded_channel::<u8>();
    rx.close();
    tx.closed().await;
    assert!(tx.is_closed());
}
