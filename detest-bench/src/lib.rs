//! Benchmarks (see issue 4/5).
