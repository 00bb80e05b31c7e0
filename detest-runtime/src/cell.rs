//! A checked `UnsafeCell`: accesses to non-atomic memory that race fail the execution.
//!
//! ```
//! use detest::cell::UnsafeCell;
//! use detest::sync::{Arc, Mutex};
//! use detest::{Config, FailureKind};
//!
//! // A counter that claims to be thread-safe, as data structures built on cells do.
//! #[derive(Default)]
//! struct Counter {
//!     lock: Mutex<()>,
//!     value: UnsafeCell<u32>,
//! }
//! unsafe impl Sync for Counter {}
//!
//! impl Counter {
//!     fn racy_add(&self) {
//!         self.value.with_mut(|p| unsafe { *p += 1 });
//!     }
//!     fn add(&self) {
//!         let _held = self.lock.lock().unwrap();
//!         self.value.with_mut(|p| unsafe { *p += 1 });
//!     }
//! }
//!
//! // Two threads write the cell with nothing ordering the writes: a data race, found in
//! // every schedule in which both run, whichever runs first.
//! let report = Config::new().seeds(10).run(|| {
//!     let n = Arc::new(Counter::default());
//!     let n2 = n.clone();
//!     let t = detest::thread::spawn(move || n2.racy_add());
//!     n.racy_add();
//!     t.join().unwrap();
//! });
//! let failure = &report.failures[0];
//! assert_eq!(failure.kind, FailureKind::DataRace);
//! assert!(failure.message.starts_with("data race on UnsafeCell<u32>#"));
//!
//! // Under the lock (or published with release/acquire, or across a join) it is no race.
//! let report = Config::new().seeds(10).run(|| {
//!     let n = Arc::new(Counter::default());
//!     let n2 = n.clone();
//!     let t = detest::thread::spawn(move || n2.add());
//!     n.add();
//!     t.join().unwrap();
//!     assert_eq!(n.value.with(|p| unsafe { *p }), 2);
//! });
//! assert!(report.passed());
//! ```
//!
//! The API is loom's (`loom::cell::UnsafeCell`, loom 0.7), so a loom test switches by changing
//! the import. Like std's (and loom's), the cell is `Send` when `T` is and never `Sync`: a type
//! that shares one between threads says `unsafe impl Sync`, and detest checks that claim.
//! (loom's `thread::spawn` does not require `Send`, detest's does, as std's.) Instead of `get() -> *mut T`, an access goes through a closure
//! ([`UnsafeCell::with`], [`UnsafeCell::with_mut`]) or a guard ([`UnsafeCell::get`] returns a
//! [`ConstPtr`], [`UnsafeCell::get_mut`] a [`MutPtr`]) that marks where the access begins and
//! ends. Two accesses, at least one a write, race when neither happens before the other in the
//! memory model (spawn and join, locks, channels, barriers, once, release/acquire atomics:
//! see `detest::current::clock`). The failure's kind is [`crate::FailureKind::DataRace`]
//! (`data-race`), and its message names both accesses: the task, read or write, the caller's
//! location and the step (scheduling steps taken before it, as `Failure::steps` counts them).
//! With tracing on, each access is a `cell_read` or `cell_write` step of the trace.
//!
//! An access lasts as long as its guard: another task's conflicting access while one is live
//! is a race even when the two are ordered by a synchronisation in between (the live one may
//! still use its pointer), and an access that spans a synchronisation of its own task counts
//! as made after it. A task's own overlapping conflicting accesses (a `with_mut` inside a
//! `with` of the same cell) panic: no race, but aliased `&mut`.
//!
//! An access is **no scheduling point** (nor is it in loom): the vector clocks catch a race in
//! any order of the two accesses, so a choice there would only multiply the schedules to
//! explore without finding more. Creating a cell is no access either (`new` is `const`): a
//! cell's first value is taken as written before the cell is shared, so a cell handed to
//! another task without synchronisation races only from its first tracked access on.
//!
//! Outside an execution (a plain `cargo test` of code that uses the cell, a static initialised
//! before the test) the cell behaves like `std::cell::UnsafeCell`, without tracking; so do
//! accesses a task makes while it unwinds from a panic (that panic is the failure). Pointers
//! moved out of a `with` closure, or derived from the one it passes, escape the tracking, as in
//! loom.

use crate::memory::AccessKind;
use crate::rt::execution::{self as rt, CellAccess, ObjectId};
use std::fmt;
use std::panic::Location;

/// A checked version of `std::cell::UnsafeCell` (see the [module docs](self)).
pub struct UnsafeCell<T: ?Sized> {
    id: ObjectId,
    data: std::cell::UnsafeCell<T>,
}

/// A checked `*const T` into an [`UnsafeCell`]: the cell counts as being read for as long as
/// it exists, not only while dereferenced. Made by [`UnsafeCell::get`].
pub struct ConstPtr<T: ?Sized> {
    access: Ending,
    ptr: *const T,
}

/// A checked `*mut T` into an [`UnsafeCell`]: the cell counts as being written for as long as
/// it exists. Made by [`UnsafeCell::get_mut`].
pub struct MutPtr<T: ?Sized> {
    access: Ending,
    ptr: *mut T,
}

/// Ends a tracked access when dropped (also when the closure of `with` panics).
struct Ending(Option<CellAccess>);

impl Drop for Ending {
    #[inline]
    fn drop(&mut self) {
        if let Some(access) = self.0.take() {
            rt::cell_end(access);
        }
    }
}

impl<T> UnsafeCell<T> {
    /// A cell holding `data`.
    pub const fn new(data: T) -> UnsafeCell<T> {
        UnsafeCell {
            id: ObjectId::within(std::mem::offset_of!(Self, id), std::mem::size_of::<Self>()),
            data: std::cell::UnsafeCell::new(data),
        }
    }

    /// Unwraps the value (no access to check: the cell is owned).
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> UnsafeCell<T> {
    #[inline]
    #[track_caller]
    fn begin(&self, kind: AccessKind) -> Ending {
        Ending(rt::cell_begin(
            &self.id,
            kind,
            std::any::type_name::<Self>(),
            Location::caller(),
        ))
    }

    /// Reads through a `*const T`: the access lasts while `f` runs.
    ///
    /// # Failures
    /// A write of another task that does not happen before this read (or is still live) fails
    /// the execution as a data race.
    #[inline]
    #[track_caller]
    pub fn with<F, R>(&self, f: F) -> R
    where
        F: FnOnce(*const T) -> R,
    {
        let _reading = self.begin(AccessKind::Read);
        f(self.data.get() as *const T)
    }

    /// Writes (or reads) through a `*mut T`: the access lasts while `f` runs.
    ///
    /// # Failures
    /// Any access of another task that does not happen before this one (or is still live)
    /// fails the execution as a data race.
    #[inline]
    #[track_caller]
    pub fn with_mut<F, R>(&self, f: F) -> R
    where
        F: FnOnce(*mut T) -> R,
    {
        let _writing = self.begin(AccessKind::Write);
        f(self.data.get())
    }

    /// A read access as a guard: it lasts until the [`ConstPtr`] is dropped.
    #[inline]
    #[track_caller]
    pub fn get(&self) -> ConstPtr<T> {
        ConstPtr {
            access: self.begin(AccessKind::Read),
            ptr: self.data.get(),
        }
    }

    /// A write access as a guard: it lasts until the [`MutPtr`] is dropped.
    #[inline]
    #[track_caller]
    pub fn get_mut(&self) -> MutPtr<T> {
        MutPtr {
            access: self.begin(AccessKind::Write),
            ptr: self.data.get(),
        }
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

/// Like std's: the value is not shown (reading it would be an access).
impl<T: ?Sized> fmt::Debug for UnsafeCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnsafeCell").finish_non_exhaustive()
    }
}

impl<T: ?Sized> ConstPtr<T> {
    /// Dereferences the pointer.
    ///
    /// # Safety
    /// As for dereferencing a `*const T`: the cell must still be alive (liveness is not
    /// checked, as in loom), and no `&mut` to the value may exist.
    #[inline]
    pub unsafe fn deref(&self) -> &T {
        &*self.ptr
    }

    /// Runs `f` with the raw pointer. The pointer must not escape `f` (nor may pointers
    /// derived from it): the tracked access ends with this `ConstPtr`.
    #[inline]
    pub fn with<F, R>(&self, f: F) -> R
    where
        F: FnOnce(*const T) -> R,
    {
        f(self.ptr)
    }
}

impl<T: ?Sized> MutPtr<T> {
    /// Dereferences the pointer.
    ///
    /// # Safety
    /// As for dereferencing a `*mut T`: the cell must still be alive, and no other reference
    /// to the value may exist while the returned one is used.
    #[allow(clippy::mut_from_ref)]
    #[inline]
    pub unsafe fn deref(&self) -> &mut T {
        &mut *self.ptr
    }

    /// Runs `f` with the raw pointer. The pointer must not escape `f` (nor may pointers
    /// derived from it): the tracked access ends with this `MutPtr`.
    #[inline]
    pub fn with<F, R>(&self, f: F) -> R
    where
        F: FnOnce(*mut T) -> R,
    {
        f(self.ptr)
    }
}

impl<T: ?Sized> fmt::Debug for ConstPtr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConstPtr")
            .field("ptr", &self.ptr)
            .field("tracked", &self.access.0.is_some())
            .finish()
    }
}

impl<T: ?Sized> fmt::Debug for MutPtr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MutPtr")
            .field("ptr", &self.ptr)
            .field("tracked", &self.access.0.is_some())
            .finish()
    }
}
