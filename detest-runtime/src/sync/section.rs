//! A section: one scheduling point, then code no other task interleaves with. For crates
//! built on detest's primitives (detest-tokio keeps each primitive's state behind one), not
//! part of std's API, hence hidden.
//!
//! A `Mutex` around such state costs two points per operation (before the lock and after the
//! unlock), and the second buys nothing when the code inside has no scheduling point: every
//! task runs on one OS thread, so nothing else can be inside anyway, and the next point of
//! the same task offers the same interleavings. Sections on one object are ordered by
//! happens-before as a lock's critical sections are. Outside any execution (real threads) it
//! is a lock.

use crate::rt::execution::{self as rt, ObjectId};
use crate::sync::Mutex;
use crate::trace::Op;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

const WHAT: &str = "detest::sync::Section";

#[doc(hidden)]
pub struct Section {
    id: ObjectId,
    /// Set while a section body runs. A body should reach no scheduling point, but one that
    /// wakes a foreign waker might: the others then wait for it instead of entering too.
    busy: AtomicBool,
    /// Set by a task that waited for `busy`: the body's end then publishes what it did.
    waited: AtomicBool,
    /// Outside any execution.
    outside: Mutex<()>,
}

impl Section {
    /// A section `offset` bytes into a primitive `size` bytes long (`offset_of!`,
    /// `size_of`): in a static, the whole primitive is put back as the program started at its
    /// first use in each execution (see the README, "Statics").
    pub const fn __in_value(offset: usize, size: usize) -> Self {
        Section {
            id: ObjectId::within(offset + std::mem::offset_of!(Section, id), size),
            busy: AtomicBool::new(false),
            waited: AtomicBool::new(false),
            outside: Mutex::__in_value((), offset + std::mem::offset_of!(Section, outside), size),
        }
    }

    /// A scheduling point, then `f` with no other task inside a section of this object.
    #[track_caller]
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        if !rt::in_execution() {
            let _held = self.outside.lock().unwrap_or_else(|e| e.into_inner());
            return f();
        }
        let location = Location::caller();
        rt::before_then(
            WHAT,
            Op::Lock,
            Some(&self.id),
            "Section",
            location,
            |memory, cur, id| {
                memory.acquire(cur, id);
                memory.release(cur, id);
            },
        );
        if self.busy.load(Relaxed) {
            while self.busy.load(Relaxed) && !rt::tearing_down() {
                // Gives way to the task inside (it is runnable: at a scheduling point).
                self.waited.store(true, Relaxed);
                crate::thread::yield_now();
            }
            rt::acquire(WHAT, &self.id);
        }
        /// Ends the body: clears `busy` (even when teardown unwinds the task out of `f`), and
        /// publishes the body to a task that waited for it.
        struct Done<'a>(&'a Section);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.busy.store(false, Relaxed);
                if self.0.waited.swap(false, Relaxed) && !rt::tearing_down() {
                    rt::release(WHAT, &self.0.id);
                }
            }
        }
        self.busy.store(true, Relaxed);
        let _done = Done(self);
        f()
    }
}
