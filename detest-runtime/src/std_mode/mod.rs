//! detest without the `model` feature: the same paths as the model, as std's own items.
//!
//! A library imports `detest::sync::Mutex`, `detest::thread::spawn`, `detest::time::Instant`,
//! ... once; its normal build (detest with `default-features = false`) compiles them as
//! re-exports of std, so production code pays nothing, and its test build (a dev-dependency
//! turning on `model`) compiles them as detest's primitives. No `cfg` at the use sites:
//!
//! ```toml
//! [dependencies]
//! detest = { package = "detest-runtime", version = "0.1", default-features = false }
//! [dev-dependencies]
//! detest = { package = "detest-runtime", version = "0.1", features = ["model"] }
//! ```
//!
//! What differs from the model: `detest::rand` draws from a real generator (`fastrand`'s
//! thread-local one), `detest::cell::UnsafeCell` is `std::cell::UnsafeCell` behind loom's
//! closure API, `detest::future` has `block_on` (a small parking executor) and `yield_now` but
//! no `spawn` (spawning needs an executor a library must choose), and `detest::lazy_static!`
//! declares a `std::sync::LazyLock`. The executor's own items (`#[detest]`, `Config`, `check`,
//! the runner, `detest::current`, `detest::env`) are absent: a test that names them needs the
//! dev-dependency with `features = ["model"]`, and without it fails to compile at that name.

pub mod cell;
pub mod future;

/// `std::sync` (the model's `detest::sync` is a drop-in for it).
pub mod sync {
    pub use std::sync::*;
}

/// `std::thread`.
pub mod thread {
    pub use std::thread::*;
}

/// `std::time`, and `sleep` (the model's `detest::time::sleep`) as `std::thread::sleep`.
pub mod time {
    pub use std::thread::sleep;
    pub use std::time::*;
}

/// `std::hint`.
pub mod hint {
    pub use std::hint::*;
}

/// The model's `detest::thread_local!` is std's.
pub use std::thread_local;

/// Declares statics initialised on first access, with the `lazy_static` crate's syntax (the
/// model's are fresh in every execution; here each is a `std::sync::LazyLock`).
#[macro_export]
macro_rules! lazy_static {
    ($(#[$attr:meta])* $vis:vis static ref $name:ident : $t:ty = $init:expr; $($rest:tt)*) => {
        $(#[$attr])*
        $vis static $name: ::std::sync::LazyLock<$t> = ::std::sync::LazyLock::new(|| $init);
        $crate::lazy_static!($($rest)*);
    };
    () => {};
}
