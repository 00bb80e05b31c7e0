//! Ported from tokio's tests/task_local_set.rs (tokio 1.54.1), run in detest mode: plain
//! `#[test]`s run one execution (`support::run`), as do the `should_panic` ones (a failing
//! `#[tokio::test]` would be saved as a regression fixture); `futures`' `join_all`/`select!`
//! became a loop of awaits / `tokio::select!`, `with_timeout`'s watchdog thread is gone (detest
//! reports a hang as one).
//!
//! 25 of tokio's 29 tests ported, all pass. Left out: `local_threadpool_blocking_run` (asserts
//! that `spawn_blocking` runs on another OS thread: every task of an execution runs on one),
//! `localset_in_thread_local` (drives a set from a `std::thread`), and the two `tokio_unstable`
//! ones (`unhandled_panic`, the coop budget). Changed: `join_local_future_elsewhere` loses its
//! assertion that a spawned task is on another OS thread (same reason). The `ON_RT_THREAD`
//! checks pass trivially here (one OS thread), kept as tokio wrote them.
//! Added below the ports: tests of what a `LocalSet` promises, each over many seeds.

extern crate detest_tokio as tokio;

mod support;

use detest::{Config, Policy};
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::future::{pending, ready};
use std::rc::Rc;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex as StdMutex;
use std::time::Duration;
use tokio::runtime;
use tokio::sync::{mpsc, oneshot};
use tokio::task::{self, LocalSet};
use tokio::time;

#[tokio::test(flavor = "current_thread")]
async fn local_current_thread_scheduler() {
    LocalSet::new()
        .run_until(async {
            task::spawn_local(async {}).await.unwrap();
        })
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn local_threadpool() {
    thread_local! {
        static ON_RT_THREAD: Cell<bool> = const { Cell::new(false) };
    }

    ON_RT_THREAD.with(|cell| cell.set(true));

    LocalSet::new()
        .run_until(async {
            assert!(ON_RT_THREAD.with(|cell| cell.get()));
            task::spawn_local(async {
                assert!(ON_RT_THREAD.with(|cell| cell.get()));
            })
            .await
            .unwrap();
        })
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn localset_future_threadpool() {
    thread_local! {
        static ON_LOCAL_THREAD: Cell<bool> = const { Cell::new(false) };
    }

    ON_LOCAL_THREAD.with(|cell| cell.set(true));

    let local = LocalSet::new();
    local.spawn_local(async move {
        assert!(ON_LOCAL_THREAD.with(|cell| cell.get()));
    });
    local.await;
}

#[tokio::test(flavor = "multi_thread")]
async fn localset_future_timers() {
    static RAN1: AtomicBool = AtomicBool::new(false);
    static RAN2: AtomicBool = AtomicBool::new(false);

    let local = LocalSet::new();
    local.spawn_local(async move {
        time::sleep(Duration::from_millis(5)).await;
        RAN1.store(true, Ordering::SeqCst);
    });
    local.spawn_local(async move {
        time::sleep(Duration::from_millis(10)).await;
        RAN2.store(true, Ordering::SeqCst);
    });
    local.await;
    assert!(RAN1.load(Ordering::SeqCst));
    assert!(RAN2.load(Ordering::SeqCst));
}

#[tokio::test]
async fn localset_future_drives_all_local_futs() {
    static RAN1: AtomicBool = AtomicBool::new(false);
    static RAN2: AtomicBool = AtomicBool::new(false);
    static RAN3: AtomicBool = AtomicBool::new(false);

    let local = LocalSet::new();
    local.spawn_local(async move {
        task::spawn_local(async {
            task::yield_now().await;
            RAN3.store(true, Ordering::SeqCst);
        });
        task::yield_now().await;
        RAN1.store(true, Ordering::SeqCst);
    });
    local.spawn_local(async move {
        task::yield_now().await;
        RAN2.store(true, Ordering::SeqCst);
    });
    local.await;
    assert!(RAN1.load(Ordering::SeqCst));
    assert!(RAN2.load(Ordering::SeqCst));
    assert!(RAN3.load(Ordering::SeqCst));
}

#[tokio::test(flavor = "multi_thread")]
async fn local_threadpool_timer() {
    // This test ensures that runtime services like the timer are properly
    // set for the local task set.
    thread_local! {
        static ON_RT_THREAD: Cell<bool> = const { Cell::new(false) };
    }

    ON_RT_THREAD.with(|cell| cell.set(true));

    LocalSet::new()
        .run_until(async {
            assert!(ON_RT_THREAD.with(|cell| cell.get()));
            let join = task::spawn_local(async move {
                assert!(ON_RT_THREAD.with(|cell| cell.get()));
                time::sleep(Duration::from_millis(10)).await;
                assert!(ON_RT_THREAD.with(|cell| cell.get()));
            });
            join.await.unwrap();
        })
        .await;
}

#[test]
fn enter_guard_spawn() {
    support::run(|| {
        let local = LocalSet::new();
        let _guard = local.enter();
        // Run the local task set.

        let join = task::spawn_local(async { true });
        let rt = runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        local.block_on(&rt, async move {
            assert!(join.await.unwrap());
        });
    });
}

mod block_in_place_cases {
    use super::*;
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    struct BlockInPlaceOnDrop;
    impl Future for BlockInPlaceOnDrop {
        type Output = ();

        fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
            Poll::Pending
        }
    }
    impl Drop for BlockInPlaceOnDrop {
        fn drop(&mut self) {
            tokio::task::block_in_place(|| {});
        }
    }

    async fn complete(jh: tokio::task::JoinHandle<()>) {
        match jh.await {
            Ok(()) => {}
            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            Err(err) if err.is_cancelled() => panic!("task cancelled"),
            Err(err) => panic!("{err:?}"),
        }
    }

    /// `#[tokio::test(flavor = ...)]` as one execution, for the `should_panic` tests.
    fn on<F: Future>(multi_thread: bool, body: impl Fn() -> F) {
        support::run(|| {
            let rt = match multi_thread {
                true => runtime::Builder::new_multi_thread().build().unwrap(),
                false => runtime::Builder::new_current_thread().build().unwrap(),
            };
            rt.block_on(body());
        });
    }

    #[test]
    #[should_panic = "can call blocking only when running on the multi-threaded runtime"]
    fn local_threadpool_blocking_in_place() {
        thread_local! {
            static ON_RT_THREAD: Cell<bool> = const { Cell::new(false) };
        }

        support::run(|| {
            ON_RT_THREAD.with(|cell| cell.set(true));

            let rt = runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            LocalSet::new().block_on(&rt, async {
                assert!(ON_RT_THREAD.with(|cell| cell.get()));
                let join = task::spawn_local(async move {
                    assert!(ON_RT_THREAD.with(|cell| cell.get()));
                    task::block_in_place(|| {});
                    assert!(ON_RT_THREAD.with(|cell| cell.get()));
                });
                complete(join).await;
            });
        });
    }

    #[test]
    #[should_panic = "can call blocking only when running on the multi-threaded runtime"]
    fn block_in_place_in_run_until_mt() {
        on(true, || async {
            let local_set = LocalSet::new();
            local_set
                .run_until(async {
                    tokio::task::block_in_place(|| {});
                })
                .await;
        });
    }

    #[test]
    #[should_panic = "can call blocking only when running on the multi-threaded runtime"]
    fn block_in_place_in_spawn_local_mt() {
        on(true, || async {
            let local_set = LocalSet::new();
            let jh = local_set.spawn_local(async {
                tokio::task::block_in_place(|| {});
            });
            local_set.await;
            complete(jh).await;
        });
    }

    #[test]
    #[should_panic = "can call blocking only when running on the multi-threaded runtime"]
    fn block_in_place_in_spawn_local_drop_mt() {
        on(true, || async {
            let local_set = LocalSet::new();
            let jh = local_set.spawn_local(BlockInPlaceOnDrop);
            local_set.run_until(tokio::task::yield_now()).await;
            drop(local_set);
            complete(jh).await;
        });
    }

    #[test]
    #[should_panic = "can call blocking only when running on the multi-threaded runtime"]
    fn block_in_place_in_run_until_ct() {
        on(false, || async {
            let local_set = LocalSet::new();
            local_set
                .run_until(async {
                    tokio::task::block_in_place(|| {});
                })
                .await;
        });
    }

    #[test]
    #[should_panic = "can call blocking only when running on the multi-threaded runtime"]
    fn block_in_place_in_spawn_local_ct() {
        on(false, || async {
            let local_set = LocalSet::new();
            let jh = local_set.spawn_local(async {
                tokio::task::block_in_place(|| {});
            });
            local_set.await;
            complete(jh).await;
        });
    }

    #[test]
    #[should_panic = "can call blocking only when running on the multi-threaded runtime"]
    fn block_in_place_in_spawn_local_drop_ct() {
        on(false, || async {
            let local_set = LocalSet::new();
            let jh = local_set.spawn_local(BlockInPlaceOnDrop);
            local_set.run_until(tokio::task::yield_now()).await;
            drop(local_set);
            complete(jh).await;
        });
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn all_spawns_are_local() {
    thread_local! {
        static ON_RT_THREAD: Cell<bool> = const { Cell::new(false) };
    }

    ON_RT_THREAD.with(|cell| cell.set(true));

    LocalSet::new()
        .run_until(async {
            assert!(ON_RT_THREAD.with(|cell| cell.get()));
            let handles = (0..128)
                .map(|_| {
                    task::spawn_local(async {
                        assert!(ON_RT_THREAD.with(|cell| cell.get()));
                    })
                })
                .collect::<Vec<_>>();
            for joined in handles {
                joined.await.unwrap();
            }
        })
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn nested_spawn_is_local() {
    thread_local! {
        static ON_RT_THREAD: Cell<bool> = const { Cell::new(false) };
    }

    ON_RT_THREAD.with(|cell| cell.set(true));

    LocalSet::new()
        .run_until(async {
            assert!(ON_RT_THREAD.with(|cell| cell.get()));
            task::spawn_local(async {
                assert!(ON_RT_THREAD.with(|cell| cell.get()));
                task::spawn_local(async {
                    assert!(ON_RT_THREAD.with(|cell| cell.get()));
                    task::spawn_local(async {
                        assert!(ON_RT_THREAD.with(|cell| cell.get()));
                        task::spawn_local(async {
                            assert!(ON_RT_THREAD.with(|cell| cell.get()));
                        })
                        .await
                        .unwrap();
                    })
                    .await
                    .unwrap();
                })
                .await
                .unwrap();
            })
            .await
            .unwrap();
        })
        .await;
}

#[test]
fn join_local_future_elsewhere() {
    thread_local! {
        static ON_RT_THREAD: Cell<bool> = const { Cell::new(false) };
    }

    support::run(|| {
        ON_RT_THREAD.with(|cell| cell.set(true));

        let rt = runtime::Runtime::new().unwrap();
        let local = LocalSet::new();
        local.block_on(&rt, async move {
            let (tx, rx) = oneshot::channel();
            let join = task::spawn_local(async move {
                assert!(
                    ON_RT_THREAD.with(|cell| cell.get()),
                    "local task must run on local thread, no matter where it is awaited"
                );
                rx.await.unwrap();

                "hello world"
            });
            let join2 = task::spawn(async move {
                // detest-tokio: tokio asserts here that this task is on another OS thread.
                tx.send(()).expect("task shouldn't have ended yet");

                join.await.expect("task should complete successfully");
            });
            join2.await.unwrap()
        });
    });
}

#[test]
#[allow(clippy::drop_non_drop)] // as tokio wrote it (its Runtime has a destructor)
fn drop_cancels_tasks() {
    support::run(|| {
        // This test reproduces issue #1842
        let rt = rt();
        let rc1 = Rc::new(());
        let rc2 = rc1.clone();

        let (started_tx, started_rx) = oneshot::channel();

        let local = LocalSet::new();
        local.spawn_local(async move {
            // Move this in
            let _rc2 = rc2;

            started_tx.send(()).unwrap();
            pending::<()>().await;
        });

        local.block_on(&rt, async {
            started_rx.await.unwrap();
        });
        drop(local);
        drop(rt);

        assert_eq!(1, Rc::strong_count(&rc1));
    });
}

#[test]
fn drop_cancels_remote_tasks() {
    // This test reproduces issue #1885.
    support::run(|| {
        let (tx, mut rx) = mpsc::channel::<()>(1024);

        let rt = rt();

        let local = LocalSet::new();
        local.spawn_local(async move { while rx.recv().await.is_some() {} });
        local.block_on(&rt, async {
            time::sleep(Duration::from_millis(1)).await;
        });

        drop(tx);

        // This enters an infinite loop if the remote notified tasks are not
        // properly cancelled.
        drop(local);
    });
}

#[test]
fn local_tasks_wake_join_all() {
    // This test reproduces issue #2460.
    support::run(|| {
        let rt = rt();
        let set = LocalSet::new();
        let mut handles = Vec::new();

        for _ in 1..=128 {
            handles.push(set.spawn_local(async move {
                tokio::task::spawn_local(async move {}).await.unwrap();
            }));
        }

        rt.block_on(set.run_until(async {
            for handle in handles {
                handle.await.unwrap();
            }
        }));
    });
}

#[test]
fn local_tasks_are_polled_after_tick() {
    // tokio runs this up to five times (it depends on timing there); one execution here.
    support::run(|| {
        runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(local_tasks_are_polled_after_tick_inner())
    });
}

async fn local_tasks_are_polled_after_tick_inner() {
    // Reproduces issues #1899 and #1900

    static RX1: AtomicUsize = AtomicUsize::new(0);
    static RX2: AtomicUsize = AtomicUsize::new(0);
    const EXPECTED: usize = 500;

    RX1.store(0, SeqCst);
    RX2.store(0, SeqCst);

    let (tx, mut rx) = mpsc::unbounded_channel();

    let local = LocalSet::new();

    local
        .run_until(async {
            let task2 = task::spawn(async move {
                // Wait a bit
                time::sleep(Duration::from_millis(10)).await;

                let mut oneshots = Vec::with_capacity(EXPECTED);

                // Send values
                for _ in 0..EXPECTED {
                    let (oneshot_tx, oneshot_rx) = oneshot::channel();
                    oneshots.push(oneshot_tx);
                    tx.send(oneshot_rx).unwrap();
                }

                time::sleep(Duration::from_millis(10)).await;

                for tx in oneshots.drain(..) {
                    tx.send(()).unwrap();
                }

                loop {
                    time::sleep(Duration::from_millis(20)).await;
                    let rx1 = RX1.load(SeqCst);
                    let rx2 = RX2.load(SeqCst);

                    if rx1 == EXPECTED && rx2 == EXPECTED {
                        break;
                    }
                }
            });

            while let Some(oneshot) = rx.recv().await {
                RX1.fetch_add(1, SeqCst);

                task::spawn_local(async move {
                    oneshot.await.unwrap();
                    RX2.fetch_add(1, SeqCst);
                });
            }

            task2.await.unwrap();
        })
        .await;
}

#[tokio::test]
async fn acquire_mutex_in_drop() {
    let (tx1, rx1) = oneshot::channel();
    let (tx2, rx2) = oneshot::channel();
    let local = LocalSet::new();

    local.spawn_local(async move {
        let _ = rx2.await;
        unreachable!();
    });

    local.spawn_local(async move {
        let _ = rx1.await;
        tx2.send(()).unwrap();
        unreachable!();
    });

    // Spawn a task that will never notify
    local.spawn_local(async move {
        pending::<()>().await;
        tx1.send(()).unwrap();
    });

    // Tick the loop
    local
        .run_until(async {
            task::yield_now().await;
        })
        .await;

    // Drop the LocalSet
    drop(local);
}

#[tokio::test]
async fn spawn_wakes_localset() {
    let local = LocalSet::new();
    tokio::select! {
        _ = local.run_until(pending::<()>()) => unreachable!(),
        ret = async { local.spawn_local(ready(())).await.unwrap()} => ret
    }
}

/// Checks that the task wakes up with `enter`.
/// Reproduces <https://github.com/tokio-rs/tokio/issues/5020>.
#[tokio::test]
async fn sleep_with_local_enter_guard() {
    let local = LocalSet::new();
    let _guard = local.enter();

    let (tx, rx) = oneshot::channel();

    local
        .run_until(async move {
            tokio::task::spawn_local(async move {
                time::sleep(Duration::ZERO).await;

                tx.send(()).expect("failed to send");
            });
            assert_eq!(rx.await, Ok(()));
        })
        .await;
}

#[test]
fn store_local_set_in_thread_local_with_runtime() {
    use tokio::runtime::Runtime;

    thread_local! {
        static CURRENT: RtAndLocalSet = RtAndLocalSet::new();
    }

    struct RtAndLocalSet {
        rt: Runtime,
        local: LocalSet,
    }

    impl RtAndLocalSet {
        fn new() -> RtAndLocalSet {
            RtAndLocalSet {
                rt: tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap(),
                local: LocalSet::new(),
            }
        }

        async fn inner_method(&self) {
            self.local
                .run_until(async move {
                    tokio::task::spawn_local(async {});
                })
                .await
        }

        fn method(&self) {
            self.rt.block_on(self.inner_method());
        }
    }

    support::run(|| {
        CURRENT.with(|f| {
            f.method();
        });
    });
}

fn rt() -> runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

// Added for detest: what a `LocalSet` promises, checked over many seeds.

/// The outcomes of `body` over `seeds` random schedules.
fn outcomes<T: Ord + Send + 'static>(seeds: u64, body: impl Fn() -> T) -> BTreeSet<T> {
    let seen = StdMutex::new(BTreeSet::new());
    let report = Config::new().seeds(seeds).policy(Policy::Random).run(|| {
        let out = body();
        seen.lock().unwrap().insert(out);
    });
    assert!(
        report.failures.is_empty(),
        "{:?}",
        report.failures.first().map(|f| &f.message)
    );
    seen.into_inner().unwrap()
}

fn on_current_thread<F: std::future::Future>(future: F) -> F::Output {
    rt().block_on(future)
}

/// Code between two awaits of a local task is never interleaved with another local task's,
/// even across a scheduling point inside it (a `try_send`): tokio runs a set on one thread.
/// As plain tasks, the two read-modify-writes of the `Cell` would lose updates.
#[test]
fn local_tasks_do_not_interleave_between_awaits() {
    let counts = outcomes(200, || {
        on_current_thread(async {
            let local = LocalSet::new();
            let count = Rc::new(Cell::new(0));
            let (tx, mut rx) = mpsc::channel::<()>(16);
            for _ in 0..2 {
                let (count, tx) = (count.clone(), tx.clone());
                local.spawn_local(async move {
                    for _ in 0..2 {
                        let seen = count.get();
                        tx.try_send(()).unwrap(); // a scheduling point, no await
                        count.set(seen + 1);
                        task::yield_now().await;
                    }
                });
            }
            drop(tx);
            local
                .run_until(async { while rx.recv().await.is_some() {} })
                .await;
            local.await;
            count.get()
        })
    });
    assert_eq!(counts, BTreeSet::from([4]));
}

/// A local task runs only while its set is driven: never before `run_until`, never after it
/// returned, whatever the schedule; while driven, it does run.
#[test]
fn local_tasks_run_only_while_driven() {
    let seen = outcomes(100, || {
        on_current_thread(async {
            let local = LocalSet::new();
            let ran = Rc::new(Cell::new(0));
            let r = ran.clone();
            local.spawn_local(async move {
                r.set(r.get() + 1);
                task::yield_now().await;
                r.set(r.get() + 1);
            });
            // Not driven: other tasks and timers come and go, the local task waits.
            tokio::spawn(async {}).await.unwrap();
            time::sleep(Duration::from_millis(1)).await;
            let before = ran.get();
            local.run_until(time::sleep(Duration::from_millis(1))).await;
            let driven = ran.get();
            tokio::spawn(async {}).await.unwrap();
            (before, driven, ran.get())
        })
    });
    assert_eq!(seen, BTreeSet::from([(0, 2, 2)]));
}

/// Which ready local task a tick polls first is the schedule's choice (tokio promises no
/// order): both orders are reached, and replay.
#[test]
fn order_of_ready_local_tasks_is_explored() {
    let orders = outcomes(100, || {
        on_current_thread(async {
            let local = LocalSet::new();
            let order = Rc::new(RefCell::new(Vec::new()));
            for i in 0..2 {
                let order = order.clone();
                local.spawn_local(async move { order.borrow_mut().push(i) });
            }
            local.await;
            Rc::try_unwrap(order).unwrap().into_inner()
        })
    });
    assert_eq!(orders, BTreeSet::from([vec![0, 1], vec![1, 0]]));
}

/// Dropping the set drops its tasks' futures before `drop` returns (tokio's `drop_cancels_tasks`
/// over many schedules), and their handles report the cancellation.
#[test]
fn dropping_the_set_drops_its_tasks_at_once() {
    let seen = outcomes(100, || {
        on_current_thread(async {
            let local = LocalSet::new();
            let held = Rc::new(());
            let (started_tx, started_rx) = oneshot::channel();
            let h = held.clone();
            let handle = local.spawn_local(async move {
                let _held = h;
                started_tx.send(()).unwrap();
                pending::<()>().await;
            });
            local.run_until(started_rx).await.unwrap();
            drop(local);
            (
                Rc::strong_count(&held),
                handle.await.unwrap_err().is_cancelled(),
            )
        })
    });
    assert_eq!(seen, BTreeSet::from([(1, true)]));
}

/// `block_in_place` runs on a multi-thread runtime, and in a `spawn_blocking` task of a
/// current-thread one; elsewhere on a current-thread one it panics (the should_panic ports
/// above), as tokio's.
#[tokio::test(flavor = "multi_thread")]
async fn block_in_place_on_multi_thread() {
    assert_eq!(task::block_in_place(|| 1), 1);
    let local = tokio::spawn(async { task::block_in_place(|| 2) });
    assert_eq!(local.await.unwrap(), 2);
}

#[tokio::test(flavor = "current_thread")]
async fn block_in_place_in_blocking_task_on_current_thread() {
    let out = task::spawn_blocking(|| task::block_in_place(|| 3)).await;
    assert_eq!(out.unwrap(), 3);
}

#[test]
#[should_panic = "can call blocking only when running on the multi-threaded runtime"]
fn block_in_place_in_spawned_task_on_current_thread() {
    support::run(|| {
        on_current_thread(async {
            let task = tokio::spawn(async { task::block_in_place(|| ()) });
            if let Err(e) = task.await {
                std::panic::resume_unwind(e.into_panic());
            }
        })
    });
}
