use super::once::Once;
use crate::rt::execution as rt;
use crate::trace::Op;
use std::cell::UnsafeCell;
use std::fmt;
use std::mem::MaybeUninit;
use std::panic::Location;

/// A cell written once, like `std::sync::OnceLock`.
pub struct OnceLock<T> {
    once: Once,
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: as std's OnceLock: the value is written once, under `once`, before any read.
unsafe impl<T: Send + Sync> Sync for OnceLock<T> {}
unsafe impl<T: Send> Send for OnceLock<T> {}

const WHAT: &str = "detest::sync::OnceLock";

impl<T> OnceLock<T> {
    pub const fn new() -> Self {
        OnceLock::within(0, std::mem::size_of::<Self>())
    }

    /// A `OnceLock` `offset` bytes into a primitive `size` bytes long (see `Once::within`).
    pub(super) const fn within(offset: usize, size: usize) -> Self {
        OnceLock {
            once: Once::within(offset + std::mem::offset_of!(Self, once), size),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// The value, if initialised (a scheduling point: it reads shared state).
    #[track_caller]
    pub fn get(&self) -> Option<&T> {
        if !rt::in_execution() {
            return self.get_now();
        }
        rt::before(
            WHAT,
            Op::Load,
            Some(self.once.id_ref()),
            "OnceLock",
            Location::caller(),
        );
        let value = self.get_now();
        if value.is_some() {
            // The initialisation happens before a `get` that sees it.
            rt::acquire(WHAT, self.once.id_ref());
        }
        value
    }

    pub(super) fn get_now(&self) -> Option<&T> {
        // SAFETY: complete means written.
        self.once
            .completed()
            .then(|| unsafe { (*self.value.get()).assume_init_ref() })
    }

    /// Sets the value if empty; returns it back otherwise.
    #[track_caller]
    pub fn set(&self, value: T) -> Result<(), T> {
        let mut value = Some(value);
        self.get_or_init_at(|| value.take().expect("set once"), Location::caller());
        match value {
            None => Ok(()),
            Some(v) => Err(v),
        }
    }

    /// The value, initialising it with `f` if needed; concurrent callers wait for the first.
    #[track_caller]
    pub fn get_or_init<F: FnOnce() -> T>(&self, f: F) -> &T {
        self.get_or_init_at(f, Location::caller())
    }

    pub(super) fn get_or_init_at<F: FnOnce() -> T>(
        &self,
        f: F,
        location: &'static Location<'static>,
    ) -> &T {
        self.once.call(true, location, |_| {
            let value = f();
            // SAFETY: only the initialising thread writes, once.
            unsafe { (*self.value.get()).write(value) };
        });
        self.get_now().expect("initialised")
    }

    pub fn get_mut(&mut self) -> Option<&mut T> {
        // SAFETY: complete means written; &mut self is exclusive.
        self.once
            .completed()
            .then(|| unsafe { (*self.value.get()).assume_init_mut() })
    }

    pub fn into_inner(mut self) -> Option<T> {
        self.take()
    }

    pub fn take(&mut self) -> Option<T> {
        if !self.once.completed() {
            return None;
        }
        self.once.forget();
        // SAFETY: it was complete, and resetting `once` forgets the value.
        Some(unsafe { (*self.value.get()).assume_init_read() })
    }
}

impl<T> Drop for OnceLock<T> {
    fn drop(&mut self) {
        if self.once.completed() {
            // SAFETY: complete means written.
            unsafe { (*self.value.get()).assume_init_drop() };
        }
    }
}

impl<T> Default for OnceLock<T> {
    fn default() -> Self {
        OnceLock::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for OnceLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceLock")
            .field("value", &self.get_now())
            .finish()
    }
}
