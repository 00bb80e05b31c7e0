//! `tokio::time` on the execution's virtual clock: a sleep takes no wall time, and the clock
//! jumps to the earliest deadline when every task waits.
//!
//! ```ignore
//! let start = tokio::time::Instant::now();
//! tokio::time::sleep(Duration::from_secs(60)).await;
//! assert_eq!(start.elapsed(), Duration::from_secs(60));
//! let slow = tokio::time::timeout(Duration::from_secs(1), std::future::pending::<()>()).await;
//! assert!(slow.is_err());
//! ```

pub use instant::Instant;
pub use std::time::Duration;

mod instant;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub mod error {
    //! Timer errors.
    use std::fmt;

    /// A [`timeout`](super::timeout) expired.
    #[derive(Debug, PartialEq, Eq, Clone, Copy)]
    pub struct Elapsed(pub(super) ());

    impl fmt::Display for Elapsed {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("deadline has elapsed")
        }
    }

    impl std::error::Error for Elapsed {}

    impl From<Elapsed> for std::io::Error {
        fn from(_: Elapsed) -> std::io::Error {
            std::io::ErrorKind::TimedOut.into()
        }
    }
}

/// The clock is always virtual ("paused") in detest mode: a no-op.
pub fn pause() {}

/// A no-op: the clock stays virtual.
pub fn resume() {}

/// Moves the clock forward by `duration`: a sleep, which the clock jumps through as soon as
/// every task waits (as tokio's `advance` lets other tasks run first).
#[track_caller]
pub fn advance(duration: Duration) -> impl Future<Output = ()> {
    sleep(duration)
}

/// Waits until `duration` has elapsed on the virtual clock.
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    needs_runtime();
    Sleep {
        inner: detest::future::sleep(duration),
    }
}

/// tokio's timers need a runtime; outside an execution there is none (tokio's message).
#[track_caller]
fn needs_runtime() {
    assert!(
        detest::current::in_execution(),
        "there is no reactor running, must be called from the context of a Tokio 1.x runtime"
    );
}

/// Waits until the virtual clock reaches `deadline`.
pub fn sleep_until(deadline: Instant) -> Sleep {
    needs_runtime();
    Sleep {
        inner: detest::future::sleep_until(deadline.to_detest()),
    }
}

/// Future returned by [`sleep`] and [`sleep_until`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    inner: detest::future::Sleep,
}

impl Sleep {
    pub fn deadline(&self) -> Instant {
        Instant::from_detest(self.inner.deadline())
    }

    pub fn is_elapsed(&self) -> bool {
        self.inner.is_elapsed()
    }

    /// Moves the deadline (as tokio's, through a pinned reference).
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        self.get_mut().inner.reset(deadline.to_detest())
    }
}

impl Future for Sleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // A timer is a tokio resource: it spends the task's coop budget (see `task::coop`).
        crate::task::coop::with_budget(cx, |cx| Pin::new(&mut self.inner).poll(cx))
    }
}

/// Requires `future` to complete within `duration`.
#[track_caller]
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        future,
        delay: sleep(duration),
    }
}

/// Requires `future` to complete before `deadline`.
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        future,
        delay: sleep_until(deadline),
    }
}

/// Future returned by [`timeout`] and [`timeout_at`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Timeout<F> {
    future: F,
    delay: Sleep,
}

impl<F> Timeout<F> {
    pub fn get_ref(&self) -> &F {
        &self.future
    }
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.future
    }
    pub fn into_inner(self) -> F {
        self.future
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, error::Elapsed>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `future` is structurally pinned (never moved out while pinned); `delay` is
        // Unpin.
        let this = unsafe { self.get_unchecked_mut() };
        // As tokio: the future first, so one that is ready at the deadline still wins.
        if let Poll::Ready(v) = unsafe { Pin::new_unchecked(&mut this.future) }.poll(cx) {
            return Poll::Ready(Ok(v));
        }
        match Pin::new(&mut this.delay).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(error::Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// What an [`Interval`] does with ticks it missed (the task was busy past them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks at once, then keep the original schedule.
    #[default]
    Burst,
    /// Start a new schedule one period after now.
    Delay,
    /// Skip the missed ticks, keeping the original schedule's phase.
    Skip,
}

/// Ticks every `period`; the first tick completes at once.
///
/// # Panics
/// If `period` is zero.
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks every `period`, the first at `start`.
///
/// # Panics
/// If `period` is zero.
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(period > Duration::ZERO, "`period` must be non-zero.");
    Interval {
        next: start,
        period,
        missed: MissedTickBehavior::Burst,
        delay: Box::pin(sleep_until(start)),
    }
}

/// Returned by [`interval`] and [`interval_at`].
#[derive(Debug)]
pub struct Interval {
    next: Instant,
    period: Duration,
    missed: MissedTickBehavior,
    delay: Pin<Box<Sleep>>,
}

impl Interval {
    /// Completes at the next tick, returning its scheduled instant.
    pub async fn tick(&mut self) -> Instant {
        std::future::poll_fn(|cx| self.poll_tick(cx)).await
    }

    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if self.delay.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let tick = self.next;
        let now = Instant::now();
        self.next = match self.missed {
            MissedTickBehavior::Burst => tick + self.period,
            MissedTickBehavior::Delay if now > tick + self.period => now + self.period,
            MissedTickBehavior::Skip if now > tick + self.period => {
                let period = self.period.as_nanos();
                let behind = (now - tick).as_nanos();
                let periods = behind / period + 1;
                tick + Duration::from_nanos(u64::try_from(periods * period).unwrap_or(u64::MAX))
            }
            _ => tick + self.period,
        };
        let next = self.next;
        self.delay.as_mut().reset(next);
        Poll::Ready(tick)
    }

    /// Restarts the schedule: the next tick is one period from now.
    pub fn reset(&mut self) {
        self.next = Instant::now() + self.period;
        let next = self.next;
        self.delay.as_mut().reset(next);
    }

    pub fn period(&self) -> Duration {
        self.period
    }

    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }
}
