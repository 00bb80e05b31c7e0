//! Task cancellation (`JoinHandle::abort`, `AbortHandle`) and async sleeps on the virtual
//! clock, in `detest::future`.

use detest::future::{block_on, sleep, spawn, yield_now};
use detest::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use detest::sync::Arc;
use detest::time::Instant;
use detest::{Config, Policy};
use std::collections::BTreeSet;
use std::time::Duration;

#[test]
fn abort_before_first_poll_never_runs_the_task() {
    detest::check(|| {
        block_on(async {
            let ran = Arc::new(AtomicBool::new(false));
            let r = ran.clone();
            let task = spawn(async move { r.store(true, Ordering::SeqCst) });
            task.abort();
            let err = task.await.unwrap_err();
            assert!(err.is_cancelled() && !err.is_panic());
            assert!(!ran.load(Ordering::SeqCst));
            // tokio's wording, with the detest task id (the body is task 0, this one task 1).
            assert_eq!(format!("{err}"), "task 1 was cancelled");
            assert_eq!(format!("{err:?}"), "JoinError::Cancelled(Id(1))");
        })
    });
}

/// Dropping the cancelled future runs its destructors in the task, as tokio does.
#[test]
fn abort_drops_a_pending_future_and_wakes_the_joiner() {
    struct SetOnDrop(Arc<AtomicBool>);
    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    detest::check(|| {
        block_on(async {
            let dropped = Arc::new(AtomicBool::new(false));
            let guard = SetOnDrop(dropped.clone());
            let task = spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await
            });
            // Let it start and park in `pending`.
            for _ in 0..3 {
                yield_now().await;
            }
            assert!(!task.is_finished());
            let abort = task.abort_handle();
            abort.abort();
            assert!(task.await.unwrap_err().is_cancelled());
            assert!(dropped.load(Ordering::SeqCst));
            assert!(abort.is_finished());
        })
    });
}

/// Abort races the task's own completion: across seeds both outcomes occur, and a finished
/// task keeps its output.
#[test]
fn abort_races_completion_both_ways() {
    let outcomes = std::sync::Mutex::new(BTreeSet::new());
    let report = Config::new().seeds(200).policy(Policy::Random).run(|| {
        let out = block_on(async {
            // Atomic operations, not yields: a yield always hands over, a point may not.
            let steps = Arc::new(AtomicUsize::new(0));
            let s = steps.clone();
            let task = spawn(async move {
                s.fetch_add(1, Ordering::SeqCst);
                s.fetch_add(1, Ordering::SeqCst);
                7
            });
            steps.load(Ordering::SeqCst);
            task.abort();
            task.await.map_err(|e| e.is_cancelled())
        });
        outcomes.lock().unwrap().insert(format!("{out:?}"));
    });
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let seen = outcomes.into_inner().unwrap();
    let want: BTreeSet<_> = ["Ok(7)", "Err(true)"].map(String::from).into();
    assert_eq!(seen, want);
}

#[test]
fn abort_of_finished_task_is_a_no_op() {
    detest::check(|| {
        block_on(async {
            let task = spawn(async { 5 });
            while !task.is_finished() {
                yield_now().await;
            }
            task.abort();
            assert_eq!(task.await.unwrap(), 5);
        })
    });
}

#[test]
fn panicking_task_is_a_panic_not_a_cancellation() {
    detest::check(|| {
        block_on(async {
            let task = spawn(async { panic!("boom") });
            let err = task.await.unwrap_err();
            assert!(err.is_panic() && !err.is_cancelled());
            assert_eq!(format!("{err}"), "task 1 panicked with message \"boom\"");
            assert!(err.try_into_panic().is_ok());
        })
    });
}

#[test]
fn async_sleeps_advance_the_virtual_clock_in_deadline_order() {
    detest::check(|| {
        block_on(async {
            let start = Instant::now();
            let order = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = [30u64, 10, 20]
                .into_iter()
                .map(|secs| {
                    let order = order.clone();
                    spawn(async move {
                        sleep(Duration::from_secs(secs)).await;
                        (secs, order.fetch_add(1, Ordering::SeqCst), Instant::now())
                    })
                })
                .collect();
            for t in tasks {
                let (secs, rank, at) = t.await.unwrap();
                assert_eq!(at - start, Duration::from_secs(secs));
                assert_eq!(rank as u64, secs / 10 - 1);
            }
            assert_eq!(start.elapsed(), Duration::from_secs(30));
        })
    });
}

/// An abort wakes a task parked on a long sleep: no virtual time passes.
#[test]
fn abort_cancels_a_sleeping_task_without_waiting_for_its_deadline() {
    detest::check(|| {
        block_on(async {
            let start = Instant::now();
            let task = spawn(sleep(Duration::from_secs(3600)));
            yield_now().await;
            task.abort();
            assert!(task.await.unwrap_err().is_cancelled());
            assert_eq!(start.elapsed(), Duration::ZERO);
        })
    });
}

/// A dropped sleep's timer does not wake its task later (the clock does not jump to it).
#[test]
fn dropped_sleep_leaves_no_timer() {
    detest::check(|| {
        block_on(async {
            let start = Instant::now();
            let mut long = Box::pin(sleep(Duration::from_secs(3600)));
            assert!(futures_poll_once(long.as_mut()).is_pending());
            drop(long);
            sleep(Duration::from_secs(1)).await;
            assert_eq!(start.elapsed(), Duration::from_secs(1));
        })
    });
}

fn futures_poll_once<F: std::future::Future + Unpin>(f: F) -> std::task::Poll<F::Output> {
    let mut f = f;
    std::future::poll_fn(|cx| std::task::Poll::Ready(std::pin::Pin::new(&mut f).poll(cx)))
        .now_or_never()
}

trait NowOrNever: std::future::Future + Sized {
    fn now_or_never(self) -> Self::Output {
        block_on(self)
    }
}
impl<F: std::future::Future> NowOrNever for F {}
