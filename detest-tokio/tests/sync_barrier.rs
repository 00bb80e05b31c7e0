//! Ported from tokio's tests/sync_barrier.rs (tokio-rs/tokio ea91b33), run in detest mode:
//! tokio's plain `#[test]`s (which poll by hand with tokio-test's mock task) became
//! `#[tokio::test]`s so that they run inside an execution; `barrier_future_is_send` stays a
//! `#[test]` (it only builds the future). Not ported: nothing. Added:
//! `one_leader_per_group_across_seeds` (tasks instead of hand polling, explored over seeds).

#![allow(clippy::unnecessary_operation)] // tokio's: `IsSend(..)` only type-checks

extern crate detest_tokio as tokio;

mod support;
#[allow(unused_imports)]
use support::tokio_test::{self, *};

use detest::{Config, Policy};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex as StdMutex};
use tokio::sync::Barrier;
use tokio_test::task::spawn;

struct IsSend<T: Send>(T);
#[test]
fn barrier_future_is_send() {
    let b = Barrier::new(0);
    IsSend(b.wait());
}

#[tokio::test]
async fn zero_does_not_block() {
    let b = Barrier::new(0);

    {
        let mut w = spawn(b.wait());
        let wr = assert_ready!(w.poll());
        assert!(wr.is_leader());
    }
    {
        let mut w = spawn(b.wait());
        let wr = assert_ready!(w.poll());
        assert!(wr.is_leader());
    }
}

#[tokio::test]
async fn single() {
    let b = Barrier::new(1);

    {
        let mut w = spawn(b.wait());
        let wr = assert_ready!(w.poll());
        assert!(wr.is_leader());
    }
    {
        let mut w = spawn(b.wait());
        let wr = assert_ready!(w.poll());
        assert!(wr.is_leader());
    }
    {
        let mut w = spawn(b.wait());
        let wr = assert_ready!(w.poll());
        assert!(wr.is_leader());
    }
}

#[tokio::test]
async fn tango() {
    let b = Barrier::new(2);

    let mut w1 = spawn(b.wait());
    assert_pending!(w1.poll());

    let mut w2 = spawn(b.wait());
    let wr2 = assert_ready!(w2.poll());
    let wr1 = assert_ready!(w1.poll());

    assert!(wr1.is_leader() || wr2.is_leader());
    assert!(!(wr1.is_leader() && wr2.is_leader()));
}

#[tokio::test]
async fn lots() {
    let b = Barrier::new(100);

    for _ in 0..10 {
        let mut wait = Vec::new();
        for _ in 0..99 {
            let mut w = spawn(b.wait());
            assert_pending!(w.poll());
            wait.push(w);
        }
        for w in &mut wait {
            assert_pending!(w.poll());
        }

        // pass the barrier
        let mut w = spawn(b.wait());
        let mut found_leader = assert_ready!(w.poll()).is_leader();
        for mut w in wait {
            let wr = assert_ready!(w.poll());
            if wr.is_leader() {
                assert!(!found_leader);
                found_leader = true;
            }
        }
        assert!(found_leader);
    }
}

// detest-tokio: three tasks, two rounds: nobody leaves a round before all three arrived,
// exactly one leader per round, and which task leads depends on the schedule (all three do
// across seeds).
#[test]
fn one_leader_per_group_across_seeds() {
    let leaders = StdMutex::new(BTreeSet::new());
    let report = Config::new().seeds(100).policy(Policy::Random).run(|| {
        let round_leaders = tokio::runtime::Runtime::new().unwrap().block_on(async {
            let barrier = Arc::new(Barrier::new(3));
            let arrived = Arc::new(StdMutex::new([0u32; 2]));
            let tasks: Vec<_> = (0..3)
                .map(|i| {
                    let (barrier, arrived) = (barrier.clone(), arrived.clone());
                    tokio::spawn(async move {
                        let mut led = Vec::new();
                        for round in 0..2 {
                            arrived.lock().unwrap()[round] += 1;
                            let leader = barrier.wait().await.is_leader();
                            assert_eq!(arrived.lock().unwrap()[round], 3, "left too early");
                            if leader {
                                led.push((round, i));
                            }
                        }
                        led
                    })
                })
                .collect();
            let mut all = Vec::new();
            for t in tasks {
                all.extend(t.await.unwrap());
            }
            all.sort();
            assert_eq!(all.iter().map(|l| l.0).collect::<Vec<_>>(), [0, 1]);
            all
        });
        leaders.lock().unwrap().insert(round_leaders[0].1);
    });
    assert!(
        report.failures.is_empty(),
        "{:?}",
        report.failures.first().map(|f| &f.message)
    );
    assert_eq!(leaders.into_inner().unwrap(), BTreeSet::from([0, 1, 2]));
}
