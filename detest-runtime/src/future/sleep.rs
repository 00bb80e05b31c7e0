//! Async sleeps on the virtual clock. A pending [`Sleep`] registers its deadline and waker with
//! the task polling it; that task's poll loop wakes it once the clock reaches the deadline, and
//! bounds its own wait by the earliest deadline, so the clock jumps there when every task
//! waits (as a blocking `detest::time::sleep` does).

use crate::rt::execution as rt;
use crate::time::Instant;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// One task's pending timers. Few at a time (a `select!` or `timeout` has one or two), so a
/// vector beats any wheel.
#[derive(Default)]
struct Timers {
    next_id: u64,
    entries: Vec<(u64, u64, Waker)>, // (deadline, id, waker)
}

fn timers_key() -> usize {
    static KEY: u8 = 0;
    &KEY as *const u8 as usize
}

fn with_timers<R>(f: impl FnOnce(&mut Timers) -> R) -> Option<R> {
    let ptr = rt::task_local::<RefCell<Timers>>(timers_key(), Default::default)?;
    // SAFETY: the value lives in the current task's locals until the task finishes, and no
    // scheduling point runs while it is borrowed here (wakers are woken after the borrow).
    let cell = unsafe { &*ptr };
    Some(f(&mut cell.borrow_mut()))
}

/// Wakes the current task's due timers; returns the earliest deadline still pending.
pub(super) fn fire_due_timers() -> Option<u64> {
    // Called at every turn of a poll loop: a task that never slept has no timers, and must
    // not pay for a clock read or a slot of its own (the first `Sleep` creates it).
    let ptr = rt::task_local_if_any::<RefCell<Timers>>(timers_key())?;
    // SAFETY: as in `with_timers`.
    let timers = unsafe { &*ptr };
    if timers.borrow().entries.is_empty() {
        return None;
    }
    let now = rt::now_nanos("detest::future::sleep");
    let (due, next) = {
        let mut t = timers.borrow_mut();
        let mut due = Vec::new();
        t.entries.retain(|(deadline, _, waker)| {
            let keep = *deadline > now;
            if !keep {
                due.push(waker.clone());
            }
            keep
        });
        (due, t.entries.iter().map(|e| e.0).min())
    };
    for waker in due {
        waker.wake();
    }
    next
}

/// Completes once the virtual clock has advanced by `duration` (from now).
///
/// ```
/// use std::time::Duration;
/// detest::check(|| detest::future::block_on(async {
///     let start = detest::time::Instant::now();
///     detest::future::sleep(Duration::from_secs(60)).await;
///     assert_eq!(start.elapsed(), Duration::from_secs(60));
/// }));
/// ```
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    let now = Instant::now();
    // Saturates far in the future, as a blocking sleep's deadline does.
    let deadline = rt::deadline_after("detest::future::sleep", duration);
    sleep_until(now + Duration::from_nanos(deadline - now.nanos()))
}

/// Completes once the virtual clock reaches `deadline`.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        timer: None,
        fired: false,
    }
}

/// Future returned by [`sleep`] and [`sleep_until`].
#[derive(Debug)]
pub struct Sleep {
    deadline: Instant,
    /// Our entry in the timers of the task that last polled us.
    timer: Option<(rt::TaskRef, u64)>,
    /// It completed (tokio's `is_elapsed`: a sleep whose deadline is now has not elapsed
    /// until polled).
    fired: bool,
}

impl Sleep {
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether it has completed (been polled at or after its deadline), as tokio's.
    pub fn is_elapsed(&self) -> bool {
        self.fired
    }

    /// Sets a new deadline (the next poll registers it).
    pub fn reset(&mut self, deadline: Instant) {
        self.unregister();
        self.deadline = deadline;
        self.fired = false;
    }

    fn unregister(&mut self) {
        let Some((task, id)) = self.timer.take() else {
            return;
        };
        // Only the registering task's timers are reachable; an entry left in another task's
        // (the future moved) costs that task one spurious poll at most.
        if rt::in_execution() && rt::current_task_ref("detest::future::Sleep") == task {
            with_timers(|t| t.entries.retain(|e| e.1 != id));
        }
    }
}

impl Future for Sleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let what = "detest::future::Sleep";
        let deadline = self.deadline.nanos();
        if rt::now_nanos(what) >= deadline {
            self.unregister();
            self.fired = true;
            return Poll::Ready(());
        }
        let me = rt::current_task_ref(what);
        match self.timer {
            Some((task, id)) if task == me => {
                with_timers(|t| {
                    if let Some(e) = t.entries.iter_mut().find(|e| e.1 == id) {
                        if !e.2.will_wake(cx.waker()) {
                            e.2 = cx.waker().clone();
                        }
                    }
                });
            }
            _ => {
                self.unregister();
                let id = with_timers(|t| {
                    let id = t.next_id;
                    t.next_id += 1;
                    t.entries.push((deadline, id, cx.waker().clone()));
                    id
                });
                self.timer = id.map(|id| (me, id));
            }
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.unregister();
    }
}
