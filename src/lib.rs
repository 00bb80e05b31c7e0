//! The root package: it owns the end-to-end tests in `tests/` and the runnable bug examples in
//! `examples/`. It has no code of its own.
