//! `tokio::time::Instant` on the virtual clock. tokio's instants come from the OS's monotonic
//! clock, so code may subtract from `now()` (`Instant::now() - timeout`); detest's clock starts
//! at zero, so this one counts from a fixed epoch a year before the execution began.

use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::Duration;

/// Nanoseconds of the epoch before the execution's start.
const EPOCH: u64 = 365 * 24 * 3600 * 1_000_000_000;

/// A point on the execution's virtual clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(u64);

impl Instant {
    /// The current virtual time.
    #[track_caller]
    pub fn now() -> Instant {
        Instant::from_detest(detest::time::Instant::now())
    }

    pub(crate) fn from_detest(i: detest::time::Instant) -> Instant {
        Instant(i.nanos_since_start().saturating_add(EPOCH))
    }

    /// The detest instant (an instant before the execution began is its start).
    pub(crate) fn to_detest(self) -> detest::time::Instant {
        detest::time::Instant::from_nanos_since_start(self.0.saturating_sub(EPOCH))
    }

    /// Far in the future (tokio's, for a sleep that should never fire).
    pub fn far_future() -> Instant {
        Instant::now() + Duration::from_secs(86400 * 365 * 30)
    }

    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }

    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.0.checked_sub(earlier.0).map(Duration::from_nanos)
    }

    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }

    #[track_caller]
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
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
        self.saturating_duration_since(other)
    }
}
