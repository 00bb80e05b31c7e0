//! `LazyLock`: a value initialised on first access, like `std::sync::LazyLock`.
//!
//! ```
//! use detest::sync::{Arc, LazyLock};
//!
//! detest::check(|| {
//!     let config = Arc::new(LazyLock::new(|| 40 + 2));
//!     let c2 = config.clone();
//!     let t = detest::thread::spawn(move || **c2);
//!     // Both tasks see the one initialisation, whichever ran it.
//!     assert_eq!(**config, 42);
//!     assert_eq!(t.join().unwrap(), 42);
//! });
//! ```
//!
//! Racing first accesses are a scheduling decision like any `Once`: one initialises, the others
//! wait for it, and its initialisation happens before every access.

use super::OnceLock;
use std::cell::Cell;
use std::fmt;
use std::ops::Deref;
use std::panic::Location;

pub struct LazyLock<T, F = fn() -> T> {
    once: OnceLock<T>,
    init: Cell<Option<F>>,
}

// SAFETY: as std's: `init` is taken once, by the task that runs the initialisation under
// `once`; the value is shared only after it is written.
unsafe impl<T: Send + Sync, F: Send> Sync for LazyLock<T, F> {}

impl<T, F: FnOnce() -> T> LazyLock<T, F> {
    /// A lazy value initialised by `f` on first access.
    pub const fn new(f: F) -> Self {
        LazyLock {
            // The whole lazy value is what a static's reset restores: its initialiser too.
            once: OnceLock::within(std::mem::offset_of!(Self, once), std::mem::size_of::<Self>()),
            init: Cell::new(Some(f)),
        }
    }

    /// The value, initialising it first if needed (a scheduling point).
    #[track_caller]
    pub fn force(this: &LazyLock<T, F>) -> &T {
        this.once.get_or_init_at(
            || match this.init.take() {
                Some(f) => f(),
                None => panic!("LazyLock instance has previously been poisoned"),
            },
            Location::caller(),
        )
    }

    /// Consumes the lazy value: `Ok` with the value if initialised, else `Err` with the
    /// initialiser.
    pub fn into_inner(this: Self) -> Result<T, F> {
        let LazyLock { once, init } = this;
        match once.into_inner() {
            Some(v) => Ok(v),
            None => Err(init.into_inner().expect("LazyLock poisoned")),
        }
    }
}

impl<T, F: FnOnce() -> T> Deref for LazyLock<T, F> {
    type Target = T;
    #[track_caller]
    fn deref(&self) -> &T {
        LazyLock::force(self)
    }
}

impl<T: Default> Default for LazyLock<T> {
    fn default() -> Self {
        LazyLock::new(T::default)
    }
}

impl<T: fmt::Debug, F> fmt::Debug for LazyLock<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // No scheduling point: debugging output must not change the schedule.
        match self.once.get_now() {
            Some(v) => f.debug_tuple("LazyLock").field(v).finish(),
            None => f.write_str("LazyLock(<uninit>)"),
        }
    }
}
