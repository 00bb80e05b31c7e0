//! Virtual time. `Instant::now()` reads the execution's clock, which starts at zero and jumps to
//! the earliest deadline when every task is waiting (or a lone task yields), so sleeps take no
//! wall time and run in a deterministic order.
//!
//! ```
//! use std::time::Duration;
//! detest::check(|| {
//!     let start = detest::time::Instant::now();
//!     detest::time::sleep(Duration::from_secs(3600));
//!     assert_eq!(start.elapsed(), Duration::from_secs(3600)); // in no wall time at all
//! });
//! ```

use crate::rt::execution::{self as rt, Wait, WaitKind};
use crate::trace::Op;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::panic::Location;
use std::time::Duration;

/// A point on the execution's virtual clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(u64);

impl Instant {
    /// Virtual nanoseconds since the execution began (deadlines are kept in these).
    pub(crate) fn nanos(self) -> u64 {
        self.0
    }

    /// The instant `nanos` virtual nanoseconds after the execution began (for a crate that
    /// keeps its own clock type on this one, such as detest-tokio's `tokio::time::Instant`).
    pub const fn from_nanos_since_start(nanos: u64) -> Instant {
        Instant(nanos)
    }

    /// Virtual nanoseconds since the execution began.
    pub const fn nanos_since_start(self) -> u64 {
        self.0
    }

    /// The current virtual time.
    #[track_caller]
    pub fn now() -> Instant {
        if !rt::in_execution() {
            return Instant::outside();
        }
        Instant(rt::now_nanos("detest::time::Instant::now"))
    }

    /// Outside any execution: real nanoseconds since the first such call in the process.
    /// (An `Instant` of an execution and one from outside are on different clocks.)
    fn outside() -> Instant {
        Instant(Self::outside_base().elapsed().as_nanos() as u64)
    }

    fn outside_base() -> std::time::Instant {
        static BASE: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        *BASE.get_or_init(std::time::Instant::now)
    }

    /// An `Instant` taken outside any execution, on std's clock (deadlines of outside waits).
    pub(crate) fn outside_to_std(self) -> Option<std::time::Instant> {
        Self::outside_base().checked_add(Duration::from_nanos(self.0))
    }

    pub fn duration_since(&self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.duration_since(earlier)
    }

    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.0.checked_sub(earlier.0).map(Duration::from_nanos)
    }

    #[track_caller]
    pub fn elapsed(&self) -> Duration {
        Instant::now().duration_since(*self)
    }

    pub fn checked_add(&self, d: Duration) -> Option<Instant> {
        u64::try_from(d.as_nanos())
            .ok()
            .and_then(|n| self.0.checked_add(n))
            .map(Instant)
    }

    pub fn checked_sub(&self, d: Duration) -> Option<Instant> {
        u64::try_from(d.as_nanos())
            .ok()
            .and_then(|n| self.0.checked_sub(n))
            .map(Instant)
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        self.checked_add(d)
            .expect("overflow when adding duration to instant")
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, d: Duration) -> Instant {
        self.checked_sub(d)
            .expect("overflow when subtracting duration from instant")
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, d: Duration) {
        *self = *self - d;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, other: Instant) -> Duration {
        self.duration_since(other)
    }
}

/// Sleeps on the virtual clock (a scheduling point).
#[track_caller]
pub fn sleep(duration: Duration) {
    sleep_at(duration, Location::caller());
}

pub(crate) fn sleep_at(duration: Duration, location: &'static Location<'static>) {
    let what = "detest::time::sleep";
    if !rt::in_execution() {
        return std::thread::sleep(duration);
    }
    if duration.is_zero() {
        rt::after(what, Op::Yield, None, "", location, true);
        return;
    }
    rt::before(what, Op::Sleep, None, "", location);
    let deadline = rt::deadline_after(what, duration);
    while rt::now_nanos(what) < deadline && !rt::tearing_down() {
        rt::block(
            what,
            Wait::new(WaitKind::Sleep, 0, "", location).until(deadline),
        );
    }
}
