//! Which seeds each test runs, and how they are cut into chunks and shards.
//!
//! Everything here is a pure function of the test's seed range, so the set of seeds and the
//! failing seeds found do not depend on `--jobs`, timing, or which machine of a shard matrix
//! runs them.

use std::fmt;
use std::str::FromStr;

/// The seed range type is the runtime's, so both sides of the worker protocol agree on which
/// seeds a range names (up to and including `u64::MAX`).
pub use detest::{SeedRange, SeedRangeError};

/// The default chunk size: a handful of chunks per test so two or more workers share one test,
/// few enough that process start-up stays small next to the seeds it runs.
pub fn default_chunk_size(count: u64) -> u64 {
    (count / 16).clamp(16, 1000)
}

/// The most chunks one test is cut into: the plan holds every chunk, so a range of 2^64 - 1
/// seeds (all there are) must not become 10^16 of them.
pub const MAX_CHUNKS: u64 = 1 << 16;

/// The chunk size for `count` seeds: `--chunk-size` if given, else [`default_chunk_size`],
/// raised where needed so that no test has more than [`MAX_CHUNKS`] chunks (only for ranges of
/// tens of millions of seeds and more).
pub fn chunk_size(requested: Option<u64>, count: u64) -> u64 {
    let size = requested
        .unwrap_or_else(|| default_chunk_size(count))
        .max(1);
    size.max(count.div_ceil(MAX_CHUNKS))
}

/// Shard `index` (1-based) of `total`, as in `--shard 2/4`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub total: u64,
}

impl Shard {
    pub const WHOLE: Shard = Shard { index: 1, total: 1 };

    /// The shard that runs chunk `chunk` of `chunks` of the test named `test`.
    ///
    /// Chunks are dealt out in contiguous blocks so a shard's seeds stay mostly contiguous, and
    /// the blocks are rotated by a hash of the test name so tests with fewer chunks than shards
    /// (a pinned seed, a plain `#[detest]`) spread over the matrix instead of all landing on 1.
    pub fn owner_of(total: u64, test: &str, chunk: u64, chunks: u64) -> u64 {
        if total <= 1 || chunks == 0 {
            return 1;
        }
        let block = (chunk as u128 * total as u128 / chunks as u128) as u64;
        (block + fnv1a(test) % total) % total + 1
    }

    /// Whether this shard runs chunk `chunk` of `chunks` of `test`.
    pub fn runs(self, test: &str, chunk: u64, chunks: u64) -> bool {
        Shard::owner_of(self.total, test, chunk, chunks) == self.index
    }

    /// The shard that replays a test's saved fixtures and reports its plain run: the owner of
    /// its first chunk, so across the matrix each happens exactly once.
    pub fn is_home_of(self, test: &str) -> bool {
        Shard::owner_of(self.total, test, 0, 1.max(self.total)) == self.index
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("expected K/N (for example 2/4), got `{s}`"))?;
        let index: u64 = k
            .trim()
            .parse()
            .map_err(|_| format!("shard index `{k}` is not a number"))?;
        let total: u64 = n
            .trim()
            .parse()
            .map_err(|_| format!("shard count `{n}` is not a number"))?;
        if total == 0 || index == 0 || index > total {
            return Err(format!(
                "shard must satisfy 1 <= K <= N, got {index}/{total}"
            ));
        }
        Ok(Shard { index, total })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.total)
    }
}

/// Seed selection from the command line; `None` keeps what the test declares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeedOverrides {
    /// Exactly this seed (the CI pin).
    pub seed: Option<u64>,
    pub seed_start: Option<u64>,
    pub seeds: Option<u64>,
}

impl SeedOverrides {
    /// The range a test runs: an error when the flags and what the test declares together
    /// name seeds past `u64::MAX` (never a range cut short).
    pub fn range_for(
        &self,
        declared_start: u64,
        declared_seeds: u64,
    ) -> Result<SeedRange, SeedRangeError> {
        if let Some(seed) = self.seed {
            return Ok(SeedRange::one(seed));
        }
        SeedRange::new(
            self.seed_start.unwrap_or(declared_start),
            self.seeds.unwrap_or(declared_seeds),
        )
    }

    /// Checks `--seed-start S --seeds N` given together, before anything is built.
    pub fn check_flags(&self) -> Result<(), SeedRangeError> {
        match (self.seed_start, self.seeds) {
            (Some(start), Some(count)) => SeedRange::new(start, count).map(|_| ()),
            _ => Ok(()),
        }
    }
}

/// Default chunks at least this big end in a tapered tail (see [`cut`]).
pub const TAPER_FROM: u64 = 64;

/// The chunks of `range` for `--chunk-size` `requested`: all of [`chunk_size`] seeds, except that
/// by default a range of big chunks ends with its last two to three chunks' worth of seeds cut
/// in quarters. With `-j2` the two workers then finish within a quarter chunk of each other, not
/// up to a whole one (an eighth of a sweep of 16 chunks, a core idle meanwhile); a kept worker
/// makes the extra chunks cheap. A pure function of the range, like every chunk boundary.
pub fn cut(range: SeedRange, requested: Option<u64>) -> Vec<SeedRange> {
    let size = chunk_size(requested, range.count());
    let tail = 2 * size;
    let tapered = requested.is_none()
        && size >= TAPER_FROM
        && range.count() > 2 * tail
        && range.count() / size < MAX_CHUNKS - 16;
    if !tapered {
        return range.chunks(size);
    }
    let head = SeedRange::new(range.start(), (range.count() - tail) / size * size)
        .expect("a part of a valid range");
    let rest = head.last().map_or(range, |last| range.after(last));
    let mut chunks = head.chunks(size);
    chunks.extend(rest.chunks(size / 4));
    chunks
}

/// The chunks of one test that this shard runs (see [`cut`]), each with its index in the whole
/// test.
pub fn shard_chunks(
    test: &str,
    range: SeedRange,
    requested: Option<u64>,
    shard: Shard,
) -> Vec<(u64, SeedRange)> {
    let chunks = cut(range, requested);
    let n = chunks.len() as u64;
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, c)| (i as u64, c))
        .filter(|(i, _)| shard.runs(test, *i, n))
        .collect()
}

fn fnv1a(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(start: u64, count: u64) -> SeedRange {
        SeedRange::new(start, count).unwrap()
    }

    #[test]
    fn chunks_cover_the_range_exactly() {
        let r = range(10, 1003);
        let chunks = r.chunks(100);
        assert_eq!(chunks.len(), 11);
        assert_eq!(chunks[0], range(10, 100));
        assert_eq!(chunks[10], range(1010, 3));
        let total: u64 = chunks.iter().map(|c| c.count()).sum();
        assert_eq!(total, 1003);
        assert!(range(5, 0).chunks(10).is_empty());
    }

    #[test]
    fn shards_partition_every_test() {
        for &count in &[1u64, 7, 16, 100, 1000, 10_000] {
            for total in 1..=5u64 {
                for name in ["a::x", "b::y", "c::zz"] {
                    for start in [3, u64::MAX - (count - 1)] {
                        let r = range(start, count);
                        let mut seen = Vec::new();
                        for index in 1..=total {
                            for (_, c) in shard_chunks(name, r, None, Shard { index, total }) {
                                seen.extend(c.iter());
                            }
                        }
                        seen.sort_unstable();
                        let whole: Vec<u64> = r.iter().collect();
                        assert_eq!(
                            seen, whole,
                            "start {start} count {count} total {total} test {name}"
                        );
                    }
                    let homes = (1..=total)
                        .filter(|&index| Shard { index, total }.is_home_of(name))
                        .count();
                    assert_eq!(homes, 1);
                }
            }
        }
    }

    #[test]
    fn big_default_chunks_end_in_quarters_and_cover_the_range() {
        // 2,000 seeds: fourteen chunks of 125, then 250 seeds in chunks of 31.
        let chunks = cut(range(7, 2000), None);
        let sizes: Vec<u64> = chunks.iter().map(|c| c.count()).collect();
        let mut expected = vec![125; 14];
        expected.extend([31, 31, 31, 31, 31, 31, 31, 31, 2]);
        assert_eq!(sizes, expected);
        for pair in chunks.windows(2) {
            assert_eq!(u128::from(pair[1].start()), pair[0].end());
        }
        assert_eq!(chunks[0].start(), 7);
        assert_eq!(chunks.last().unwrap().last(), Some(2006));
        // At the top of u64 too.
        let top = range(u64::MAX - 20_000, 20_000);
        let chunks = cut(top, None);
        assert_eq!(chunks.len(), 18 + 8);
        assert_eq!(chunks.last().unwrap().last(), top.last());
        let covered: u64 = chunks.iter().map(|c| c.count()).sum();
        assert_eq!(covered, 20_000);
        // Small chunks, and a size asked for, stay even.
        assert_eq!(cut(range(0, 1000), None), range(0, 1000).chunks(62));
        assert_eq!(cut(range(0, 2000), Some(125)), range(0, 2000).chunks(125));
    }

    #[test]
    fn shard_parsing() {
        assert_eq!(
            "2/4".parse::<Shard>().unwrap(),
            Shard { index: 2, total: 4 }
        );
        assert!("0/4".parse::<Shard>().is_err());
        assert!("5/4".parse::<Shard>().is_err());
        assert!("2".parse::<Shard>().is_err());
        assert!("a/b".parse::<Shard>().is_err());
    }

    #[test]
    fn overrides() {
        let o = SeedOverrides {
            seed: Some(9),
            seed_start: Some(1),
            seeds: Some(5),
        };
        assert_eq!(o.range_for(0, 100), Ok(range(9, 1)));
        let o = SeedOverrides {
            seed: None,
            seed_start: Some(1000),
            seeds: None,
        };
        assert_eq!(o.range_for(0, 100), Ok(range(1000, 100)));
        assert_eq!(SeedOverrides::default().range_for(4, 8), Ok(range(4, 8)));
    }

    #[test]
    fn every_seed_there_is_plans_in_bounded_chunks() {
        let all = range(0, u64::MAX);
        let chunks = shard_chunks("t", all, None, Shard::WHOLE);
        assert!(chunks.len() as u64 <= MAX_CHUNKS);
        let covered: u128 = chunks.iter().map(|(_, c)| u128::from(c.count())).sum();
        assert_eq!(covered, u128::from(u64::MAX));
        assert_eq!(chunks.last().unwrap().1.last(), Some(u64::MAX - 1));
        // An explicit size is kept unless it would exceed the bound.
        assert_eq!(chunk_size(Some(7), 1000), 7);
        assert_eq!(chunk_size(Some(1), u64::MAX), u64::MAX.div_ceil(MAX_CHUNKS));
        assert_eq!(chunk_size(None, 1000), default_chunk_size(1000));
    }

    #[test]
    fn ranges_at_the_top_run_every_seed_or_are_rejected() {
        let top = SeedOverrides {
            seed: Some(u64::MAX),
            ..SeedOverrides::default()
        };
        assert_eq!(
            top.range_for(0, 100).unwrap().iter().collect::<Vec<_>>(),
            [u64::MAX]
        );
        let start = SeedOverrides {
            seed_start: Some(18446744073709551610),
            ..SeedOverrides::default()
        };
        assert_eq!(start.range_for(0, 6).unwrap().last(), Some(u64::MAX));
        // A test declaring more seeds than fit from there: rejected, not cut to 6.
        assert!(start.range_for(0, 10).is_err());
        assert!(start.check_flags().is_ok());
        let both = SeedOverrides {
            seeds: Some(10),
            ..start
        };
        let err = both.check_flags().unwrap_err();
        assert!(err.to_string().contains("at most 6 seeds"), "{err}");
    }
}
