//! Random values drawn from the execution's seeded generator and recorded in the schedule, so a
//! test explores data nondeterminism too and every failure replays with the same values.
//!
//! Under [`Config::explore`](crate::Config::explore) a draw is a decision instead: [`range`]
//! (and [`choose`], [`shuffle`]) of at most 16 values enumerates them all; wider draws and
//! [`next_u64`] / [`random`] take one fixed value per position in the search tree.
//!
//! ```
//! detest::check(|| {
//!     let n: u8 = detest::rand::random();
//!     let k = detest::rand::range(10..20);
//!     assert!((10..20).contains(&k));
//!     let pick = detest::rand::choose(&["a", "b", "c"]).unwrap();
//!     let _ = (n, pick);
//! });
//! ```
//!
//! Outside an execution, and in builds without the `model` feature, the values come from a
//! real generator (`fastrand`'s, seeded from the OS per thread), as a library's production code
//! expects of a random number.

#[cfg(feature = "model")]
use crate::rt::execution as rt;
#[cfg(feature = "model")]
use crate::scheduler::{Pick, PickKind};
use std::ops::{Bound, RangeBounds};
#[cfg(feature = "model")]
use std::panic::Location;

/// A whole-`u64` draw: recorded in the schedule inside an execution, real outside.
#[inline]
#[track_caller]
fn draw_u64() -> u64 {
    #[cfg(feature = "model")]
    if rt::in_execution() {
        return rt::random_u64("detest::rand");
    }
    fastrand::u64(..)
}

/// A draw in `0..n` (`n` > 0): a decision inside an execution, real outside.
#[inline]
#[track_caller]
fn draw_below(n: u64) -> u64 {
    #[cfg(feature = "model")]
    if rt::in_execution() {
        return rt::pick(
            "detest::rand",
            Pick {
                kind: PickKind::Data,
                n,
            },
            Location::caller(),
        );
    }
    fastrand::u64(..n)
}

/// Types that can be drawn uniformly at random.
pub trait Random: Sized {
    fn from_u64(bits: u64) -> Self;

    /// One draw of `Self` (a whole-`u64` draw mapped by [`Random::from_u64`] unless the type
    /// has few values, which are then a decision exhaustive exploration enumerates).
    #[track_caller]
    fn draw() -> Self {
        Self::from_u64(next_u64())
    }
}

macro_rules! random_int {
    ($($t:ty),*) => {$(
        impl Random for $t {
            fn from_u64(bits: u64) -> Self { bits as $t }
        }
    )*};
}
random_int!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

impl Random for u128 {
    fn from_u64(bits: u64) -> Self {
        // Widen deterministically from one draw.
        (u128::from(bits) << 64) | u128::from(bits.rotate_left(17) ^ 0x9e37_79b9_7f4a_7c15)
    }
}

impl Random for bool {
    fn from_u64(bits: u64) -> Self {
        bits >> 63 == 1
    }

    #[track_caller]
    fn draw() -> Self {
        range(0u8..2) == 1
    }
}

impl Random for f64 {
    /// Uniform in `[0, 1)`.
    fn from_u64(bits: u64) -> Self {
        (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

impl Random for f32 {
    /// Uniform in `[0, 1)`.
    fn from_u64(bits: u64) -> Self {
        (bits >> 40) as f32 * (1.0 / (1u32 << 24) as f32)
    }
}

/// A raw 64-bit draw (recorded in the schedule).
#[track_caller]
pub fn next_u64() -> u64 {
    draw_u64()
}

/// A uniformly random value of type `T`.
#[track_caller]
pub fn random<T: Random>() -> T {
    T::draw()
}

/// Integer types usable with [`range`].
pub trait RangeInt: Copy {
    fn to_i128(self) -> i128;
    fn from_i128(v: i128) -> Self;
}

macro_rules! range_int {
    ($($t:ty),*) => {$(
        impl RangeInt for $t {
            fn to_i128(self) -> i128 { self as i128 }
            fn from_i128(v: i128) -> Self { v as $t }
        }
    )*};
}
range_int!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

/// A uniformly random integer in `range` (e.g. `range(0..10)`, `range(1..=6)`).
///
/// # Panics
/// On an empty range.
#[track_caller]
pub fn range<T: RangeInt, R: RangeBounds<T>>(range: R) -> T {
    let lo = match range.start_bound() {
        Bound::Included(v) => v.to_i128(),
        Bound::Excluded(v) => v.to_i128() + 1,
        Bound::Unbounded => panic!("detest::rand::range needs a lower bound"),
    };
    let hi = match range.end_bound() {
        Bound::Included(v) => v.to_i128(),
        Bound::Excluded(v) => v.to_i128() - 1,
        Bound::Unbounded => panic!("detest::rand::range needs an upper bound"),
    };
    assert!(lo <= hi, "detest::rand::range called with an empty range");
    let span = (hi - lo + 1) as u128;
    // A span that fits a u64 is a decision among `span` values: exhaustive exploration
    // enumerates small ones instead of sampling (only the whole u64 range, 2^64, does not fit).
    let offset = match u64::try_from(span) {
        Ok(n) => draw_below(n),
        Err(_) => draw_u64(),
    };
    T::from_i128(lo + i128::from(offset))
}

/// A uniformly chosen element, or `None` for an empty slice.
#[track_caller]
pub fn choose<T>(items: &[T]) -> Option<&T> {
    if items.is_empty() {
        return None;
    }
    Some(&items[range(0..items.len())])
}

/// Shuffles a slice in place (Fisher-Yates).
#[track_caller]
pub fn shuffle<T>(items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = range(0..=i);
        items.swap(i, j);
    }
}
