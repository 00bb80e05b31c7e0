//! Counted nouns, so no report ever says "1 tests" or "1 seeds".

/// `n` and `noun`, pluralised for `n`, with thousands separators: `1 test`, `2 tests`,
/// `1 binary`, `3 binaries`, `1,000 seeds`.
///
/// ```
/// use cargo_detest::output::words::counted;
/// assert_eq!(counted(1, "seed"), "1 seed");
/// assert_eq!(counted(1000, "seed"), "1,000 seeds");
/// assert_eq!(counted(2, "binary"), "2 binaries");
/// assert_eq!(counted(0, "test"), "0 tests");
/// ```
pub fn counted(n: u64, noun: &str) -> String {
    format!("{} {}", super::thousands(n), noun_for(n, noun))
}

/// `noun` as it reads after the number `n` (`test`, `tests`, `binaries`): the runtime's rule,
/// so both crates' reports pluralise alike.
pub use detest::render::noun_for;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_everything_else_plural() {
        assert_eq!(counted(1, "test"), "1 test");
        assert_eq!(counted(0, "test"), "0 tests");
        assert_eq!(counted(2, "test"), "2 tests");
        assert_eq!(counted(1, "binary"), "1 binary");
        assert_eq!(counted(2, "binary"), "2 binaries");
        assert_eq!(counted(3, "entry"), "3 entries");
        assert_eq!(counted(2, "key"), "2 keys");
        assert_eq!(counted(2, "match"), "2 matches");
        assert_eq!(counted(12_345, "seed"), "12,345 seeds");
        assert_eq!(noun_for(1, "saved fixture"), "saved fixture");
        assert_eq!(noun_for(5, "saved fixture"), "saved fixtures");
    }
}
