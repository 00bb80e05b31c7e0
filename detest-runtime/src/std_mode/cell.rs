//! `detest::cell::UnsafeCell` without the model: `std::cell::UnsafeCell` behind the model's
//! (loom's) closure and guard API, with nothing tracked, so the accessors compile to a pointer.

use std::fmt;

/// `std::cell::UnsafeCell` with the model's API (see the model's `detest::cell`).
#[repr(transparent)]
pub struct UnsafeCell<T: ?Sized>(std::cell::UnsafeCell<T>);

/// A `*const T` into an [`UnsafeCell`] (made by [`UnsafeCell::get`]).
pub struct ConstPtr<T: ?Sized>(*const T);

/// A `*mut T` into an [`UnsafeCell`] (made by [`UnsafeCell::get_mut`]).
pub struct MutPtr<T: ?Sized>(*mut T);

impl<T> UnsafeCell<T> {
    pub const fn new(data: T) -> UnsafeCell<T> {
        UnsafeCell(std::cell::UnsafeCell::new(data))
    }

    pub fn into_inner(self) -> T {
        self.0.into_inner()
    }
}

impl<T: ?Sized> UnsafeCell<T> {
    #[inline(always)]
    pub fn with<F: FnOnce(*const T) -> R, R>(&self, f: F) -> R {
        f(self.0.get() as *const T)
    }

    #[inline(always)]
    pub fn with_mut<F: FnOnce(*mut T) -> R, R>(&self, f: F) -> R {
        f(self.0.get())
    }

    #[inline(always)]
    pub fn get(&self) -> ConstPtr<T> {
        ConstPtr(self.0.get())
    }

    #[inline(always)]
    pub fn get_mut(&self) -> MutPtr<T> {
        MutPtr(self.0.get())
    }
}

impl<T: ?Sized> ConstPtr<T> {
    /// # Safety
    /// As for dereferencing a `*const T`.
    #[inline(always)]
    pub unsafe fn deref(&self) -> &T {
        &*self.0
    }

    #[inline(always)]
    pub fn with<F: FnOnce(*const T) -> R, R>(&self, f: F) -> R {
        f(self.0)
    }
}

impl<T: ?Sized> MutPtr<T> {
    /// # Safety
    /// As for dereferencing a `*mut T`, with no other reference to the value alive.
    #[allow(clippy::mut_from_ref)]
    #[inline(always)]
    pub unsafe fn deref(&self) -> &mut T {
        &mut *self.0
    }

    #[inline(always)]
    pub fn with<F: FnOnce(*mut T) -> R, R>(&self, f: F) -> R {
        f(self.0)
    }
}

impl<T: Default> Default for UnsafeCell<T> {
    fn default() -> UnsafeCell<T> {
        UnsafeCell::new(T::default())
    }
}

impl<T> From<T> for UnsafeCell<T> {
    fn from(data: T) -> UnsafeCell<T> {
        UnsafeCell::new(data)
    }
}

impl<T: ?Sized> fmt::Debug for UnsafeCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnsafeCell").finish_non_exhaustive()
    }
}
