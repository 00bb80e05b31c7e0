//! Per-logical-thread storage: `detest::thread_local!`. std's `thread_local!` would be shared by
//! every logical thread (they all run on one OS thread), hiding bugs.

use crate::rt::execution as rt;
use std::fmt;

/// A key for per-logical-thread storage, declared with [`crate::thread_local!`].
pub struct LocalKey<T: 'static> {
    init: fn() -> T,
}

/// Returned by [`LocalKey::try_with`] outside a detest execution, and (as std's) once the
/// logical thread's value has been destroyed: from its own destructor or a later one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessError;

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "detest thread-local accessed outside a detest execution, or during or after \
             its destruction",
        )
    }
}

impl std::error::Error for AccessError {}

impl<T: 'static> LocalKey<T> {
    #[doc(hidden)]
    pub const fn new(init: fn() -> T) -> Self {
        LocalKey { init }
    }

    /// Runs `f` with this logical thread's value, initialising it on first use.
    ///
    /// # Panics
    /// As std's, during or after the value's destruction (when its thread exits).
    pub fn with<F, R>(&'static self, f: F) -> R
    where
        F: FnOnce(&T) -> R,
    {
        // Outside an execution, `task_local` panics saying how to run the code under detest.
        let ptr = rt::task_local::<T>(self as *const Self as usize, self.init).expect(
            "cannot access a Thread Local Storage value during or after destruction: AccessError",
        );
        // SAFETY: see `try_with`.
        f(unsafe { &*ptr })
    }

    pub fn try_with<F, R>(&'static self, f: F) -> Result<R, AccessError>
    where
        F: FnOnce(&T) -> R,
    {
        if !rt::in_execution() {
            return Err(AccessError);
        }
        let ptr =
            rt::task_local::<T>(self as *const Self as usize, self.init).ok_or(AccessError)?;
        // SAFETY: the value is boxed in the current task's locals and dropped only as the task
        // finishes, after `f` has returned (a destructor cannot run while `f` runs on it).
        Ok(f(unsafe { &*ptr }))
    }
}

/// std's shorthands for `Cell` values. Unlike std's, `set` initialises the value first (its
/// initialiser runs, then is overwritten).
impl<T: 'static> LocalKey<std::cell::Cell<T>> {
    pub fn get(&'static self) -> T
    where
        T: Copy,
    {
        self.with(|c| c.get())
    }

    pub fn set(&'static self, value: T) {
        self.with(|c| c.set(value))
    }

    pub fn take(&'static self) -> T
    where
        T: Default,
    {
        self.with(|c| c.take())
    }

    pub fn replace(&'static self, value: T) -> T {
        self.with(|c| c.replace(value))
    }
}

/// std's shorthands for `RefCell` values (`set` initialises first, as for `Cell`).
impl<T: 'static> LocalKey<std::cell::RefCell<T>> {
    pub fn with_borrow<F, R>(&'static self, f: F) -> R
    where
        F: FnOnce(&T) -> R,
    {
        self.with(|c| f(&c.borrow()))
    }

    pub fn with_borrow_mut<F, R>(&'static self, f: F) -> R
    where
        F: FnOnce(&mut T) -> R,
    {
        self.with(|c| f(&mut c.borrow_mut()))
    }

    pub fn set(&'static self, value: T) {
        self.with(|c| *c.borrow_mut() = value)
    }

    pub fn take(&'static self) -> T
    where
        T: Default,
    {
        self.with(|c| c.take())
    }

    pub fn replace(&'static self, value: T) -> T {
        self.with(|c| c.replace(value))
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("LocalKey { .. }")
    }
}

/// Declares per-logical-thread storage, like `std::thread_local!`.
///
/// ```
/// use std::cell::Cell;
/// detest::thread_local! {
///     static COUNT: Cell<u32> = Cell::new(0);
/// }
/// detest::check(|| {
///     COUNT.with(|c| c.set(1));
///     let t = detest::thread::spawn(|| COUNT.with(|c| c.get()));
///     assert_eq!(t.join().unwrap(), 0); // the new thread has its own value
///     assert_eq!(COUNT.with(|c| c.get()), 1);
/// });
/// ```
#[macro_export]
macro_rules! thread_local {
    () => {};
    // std's `const { ... }` initialiser form: accepted and treated like any other.
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = const { $init:expr }; $($rest:tt)*) => {
        $crate::thread_local!($(#[$attr])* $vis static $name: $t = $init; $($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = const { $init:expr }) => {
        $crate::thread_local!($(#[$attr])* $vis static $name: $t = $init;);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr; $($rest:tt)*) => {
        $(#[$attr])* $vis static $name: $crate::thread::LocalKey<$t> = {
            fn __detest_init() -> $t { $init }
            $crate::thread::LocalKey::new(__detest_init)
        };
        $crate::thread_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty = $init:expr) => {
        $crate::thread_local!($(#[$attr])* $vis static $name: $t = $init;);
    };
}
