//! Seed ranges: which seeds a sweep runs, checked when built so that a range at the top of
//! `u64` runs every seed it names (seed `u64::MAX` included) instead of silently fewer.

use std::fmt;

/// A contiguous run of `count` seeds from `start`: `start, start + 1, ..., start + count - 1`.
///
/// Built checked ([`SeedRange::new`]): the last seed must fit in a `u64`, so a range is never
/// cut short, and iterating it never overflows, even when it ends at `u64::MAX`.
///
/// ```
/// use detest::SeedRange;
///
/// let top = SeedRange::new(u64::MAX - 1, 2).unwrap();
/// assert_eq!(top.iter().collect::<Vec<_>>(), [u64::MAX - 1, u64::MAX]);
/// assert_eq!(top.to_string(), "18446744073709551614..18446744073709551616");
/// // Three seeds from there would need seed 2^64: rejected, not cut short.
/// assert!(SeedRange::new(u64::MAX - 1, 3).is_err());
/// assert_eq!(SeedRange::one(u64::MAX).iter().count(), 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct SeedRange {
    start: u64,
    count: u64,
}

/// A seed range whose last seed would be past `u64::MAX`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedRangeError {
    pub start: u64,
    pub count: u64,
}

impl fmt::Display for SeedRangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fit = SeedRange::max_count_from(self.start);
        write!(
            f,
            "{} seeds from seed {} go past the last seed {}: at most {fit} seed{} fit{} from there",
            self.count,
            self.start,
            u64::MAX,
            if fit == 1 { "" } else { "s" },
            if fit == 1 { "s" } else { "" },
        )
    }
}

impl std::error::Error for SeedRangeError {}

impl SeedRange {
    /// The range with no seeds.
    pub const EMPTY: SeedRange = SeedRange { start: 0, count: 0 };

    /// `count` seeds from `start`, or an error when the last one would be past `u64::MAX`.
    pub fn new(start: u64, count: u64) -> Result<SeedRange, SeedRangeError> {
        if count > 0 && start.checked_add(count - 1).is_none() {
            return Err(SeedRangeError { start, count });
        }
        Ok(SeedRange { start, count })
    }

    /// Exactly `seed`.
    pub fn one(seed: u64) -> SeedRange {
        SeedRange {
            start: seed,
            count: 1,
        }
    }

    /// The most seeds a range from `start` can hold, as a `u128` (2^64 from seed 0).
    pub fn max_count_from(start: u64) -> u128 {
        (1u128 << 64) - u128::from(start)
    }

    pub fn start(self) -> u64 {
        self.start
    }

    pub fn count(self) -> u64 {
        self.count
    }

    pub fn is_empty(self) -> bool {
        self.count == 0
    }

    /// The last seed, `None` when empty.
    pub fn last(self) -> Option<u64> {
        // Cannot overflow: checked when built.
        (self.count > 0).then(|| self.start + (self.count - 1))
    }

    /// One past the last seed, as a `u128` because it is 2^64 for a range ending at `u64::MAX`.
    pub fn end(self) -> u128 {
        u128::from(self.start) + u128::from(self.count)
    }

    pub fn contains(self, seed: u64) -> bool {
        self.last()
            .is_some_and(|last| seed >= self.start && seed <= last)
    }

    /// The seeds of this range after `seed` (all of them when `seed` is below the start).
    pub fn after(self, seed: u64) -> SeedRange {
        match self.last() {
            Some(last) if seed < last => {
                let start = self.start.max(seed + 1);
                SeedRange {
                    start,
                    count: last - start + 1,
                }
            }
            _ => SeedRange::EMPTY,
        }
    }

    /// The seeds in order; never overflows.
    pub fn iter(self) -> SeedIter {
        SeedIter {
            inner: self.last().map(|last| self.start..=last),
        }
    }

    /// Consecutive pieces of `size` seeds (at least 1); the last may be shorter.
    pub fn chunks(self, size: u64) -> Vec<SeedRange> {
        let size = size.max(1);
        let mut out = Vec::new();
        let mut rest = self;
        while !rest.is_empty() {
            let n = size.min(rest.count);
            let piece = SeedRange {
                start: rest.start,
                count: n,
            };
            out.push(piece);
            rest = match piece.last() {
                Some(last) => rest.after(last),
                None => SeedRange::EMPTY,
            };
        }
        out
    }
}

/// Half-open, as Rust writes ranges: `start..end` (the end may be 2^64).
impl fmt::Display for SeedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end())
    }
}

impl IntoIterator for SeedRange {
    type Item = u64;
    type IntoIter = SeedIter;
    fn into_iter(self) -> SeedIter {
        self.iter()
    }
}

/// The seeds of a [`SeedRange`], in order.
#[derive(Clone, Debug)]
pub struct SeedIter {
    inner: Option<std::ops::RangeInclusive<u64>>,
}

impl Iterator for SeedIter {
    type Item = u64;
    fn next(&mut self) -> Option<u64> {
        self.inner.as_mut()?.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.as_ref().map_or((0, Some(0)), |r| r.size_hint())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_top_of_u64_runs_every_seed() {
        let r = SeedRange::new(u64::MAX - 5, 6).unwrap();
        let seeds: Vec<u64> = r.iter().collect();
        assert_eq!(seeds.len(), 6);
        assert_eq!(seeds.last(), Some(&u64::MAX));
        assert_eq!(r.last(), Some(u64::MAX));
        assert!(r.contains(u64::MAX));
        assert_eq!(r.end(), 1u128 << 64);
        assert_eq!(
            SeedRange::one(u64::MAX).iter().collect::<Vec<_>>(),
            [u64::MAX]
        );
        assert_eq!(
            SeedRange::new(0, u64::MAX).unwrap().last(),
            Some(u64::MAX - 1)
        );
    }

    #[test]
    fn a_range_past_the_top_is_rejected() {
        let err = SeedRange::new(18446744073709551610, 10).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("at most 6 seeds"), "{text}");
        assert!(SeedRange::new(u64::MAX, 2).is_err());
        assert!(SeedRange::new(u64::MAX, 0).unwrap().is_empty());
        assert_eq!(SeedRange::new(u64::MAX, 0).unwrap().iter().count(), 0);
    }

    #[test]
    fn after_and_chunks_reach_the_top() {
        let r = SeedRange::new(u64::MAX - 9, 10).unwrap();
        assert_eq!(
            r.after(u64::MAX - 3),
            SeedRange::new(u64::MAX - 2, 3).unwrap()
        );
        assert!(r.after(u64::MAX).is_empty());
        assert_eq!(r.after(0), r);
        let chunks = r.chunks(4);
        assert_eq!(
            chunks.iter().map(|c| c.count()).collect::<Vec<_>>(),
            [4, 4, 2]
        );
        assert_eq!(chunks[2].last(), Some(u64::MAX));
        let all: Vec<u64> = chunks.iter().flat_map(|c| c.iter()).collect();
        assert_eq!(all, r.iter().collect::<Vec<_>>());
        assert!(SeedRange::EMPTY.chunks(3).is_empty());
    }
}
