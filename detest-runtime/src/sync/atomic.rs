//! Atomics mirroring `std::sync::atomic`. Every operation is a scheduling point, so bugs that
//! need a switch between two atomic accesses (a reader seeing a writer half-way) are found.
//!
//! A task that keeps re-reading a value nobody changes (a spin-wait) is descheduled until
//! something changes; see `rt/execution/spin.rs`.
//!
//! All orderings are treated as `SeqCst`: detest explores interleavings, not weak-memory
//! reorderings, so a bug that needs a `Relaxed` load to observe a stale value is not found.

use crate::memory::AtomicAccess;
use crate::rt::execution::{self as rt, ObjectId};
use crate::trace::Op;
use std::panic::Location;
pub use std::sync::atomic::Ordering;

const SEQ: Ordering = Ordering::SeqCst;

/// What a compare-exchange did: a write with `success`, or a load with `failure`.
fn cas_access(ok: bool, success: Ordering, failure: Ordering) -> AtomicAccess {
    if ok {
        AtomicAccess::Rmw(success)
    } else {
        AtomicAccess::Load(failure)
    }
}

/// A fence: a scheduling point (orderings are all sequentially consistent here).
#[track_caller]
pub fn fence(order: Ordering) {
    let what = "detest::sync::atomic::fence";
    assert!(
        order != Ordering::Relaxed,
        "there is no such thing as a relaxed fence"
    );
    rt::before(what, Op::Fence, None, "", Location::caller());
    rt::atomic_fence(what, order);
}

/// A compiler fence: no scheduling point (nothing can interleave on one logical thread).
pub fn compiler_fence(order: Ordering) {
    std::sync::atomic::compiler_fence(order)
}

macro_rules! atomic_common {
    ($name:ident, $std:ty, $t:ty) => {
        impl $name {
            /// A scheduling point, then `f` (result, whether the value changed).
            #[inline]
            fn op<R>(
                &self,
                op: Op,
                location: &'static Location<'static>,
                f: impl FnOnce(&std::sync::atomic::$name) -> (R, bool, AtomicAccess),
            ) -> R {
                rt::atomic(
                    concat!("detest::sync::atomic::", stringify!($name)),
                    op,
                    &self.id,
                    stringify!($name),
                    location,
                    || f(&self.v),
                )
            }

            /// A read-modify-write; it changed the value unless the value is the same after.
            #[inline]
            fn rmw(
                &self,
                order: Ordering,
                location: &'static Location<'static>,
                f: impl FnOnce(&std::sync::atomic::$name) -> $t,
            ) -> $t {
                self.op(Op::Rmw, location, |v| {
                    let old = f(v);
                    (old, v.load(SEQ) != old, AtomicAccess::Rmw(order))
                })
            }

            #[track_caller]
            pub fn load(&self, order: Ordering) -> $t {
                self.op(Op::Load, Location::caller(), |v| {
                    (v.load(SEQ), false, AtomicAccess::Load(order))
                })
            }

            /// Storing the value already there changes nothing a task can observe (all
            /// accesses are sequentially consistent here), so a spinner is not woken by it.
            #[track_caller]
            pub fn store(&self, val: $t, order: Ordering) {
                self.op(Op::Store, Location::caller(), |v| {
                    ((), v.swap(val, SEQ) != val, AtomicAccess::Store(order))
                })
            }

            #[track_caller]
            pub fn swap(&self, val: $t, order: Ordering) -> $t {
                self.rmw(order, Location::caller(), |v| v.swap(val, SEQ))
            }

            /// A failed exchange is a read (spinning on one is recognised).
            #[track_caller]
            pub fn compare_exchange(
                &self,
                current: $t,
                new: $t,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$t, $t> {
                self.op(Op::Rmw, Location::caller(), |v| {
                    let r = v.compare_exchange(current, new, SEQ, SEQ);
                    (
                        r,
                        r.is_ok() && current != new,
                        cas_access(r.is_ok(), success, failure),
                    )
                })
            }

            /// Never fails spuriously here.
            #[track_caller]
            pub fn compare_exchange_weak(
                &self,
                current: $t,
                new: $t,
                success: Ordering,
                failure: Ordering,
            ) -> Result<$t, $t> {
                self.op(Op::Rmw, Location::caller(), |v| {
                    let r = v.compare_exchange(current, new, SEQ, SEQ);
                    (
                        r,
                        r.is_ok() && current != new,
                        cas_access(r.is_ok(), success, failure),
                    )
                })
            }

            #[track_caller]
            pub fn fetch_update<F>(&self, set: Ordering, fetch: Ordering, f: F) -> Result<$t, $t>
            where
                F: FnMut($t) -> Option<$t>,
            {
                let what = concat!("detest::sync::atomic::", stringify!($name));
                let location = Location::caller();
                rt::before(what, Op::Rmw, Some(&self.id), stringify!($name), location);
                // `f` is user code: it runs outside the state's borrow.
                let r = self.v.fetch_update(SEQ, SEQ, f);
                let changed = r.is_ok_and(|old| self.v.load(SEQ) != old);
                rt::atomic_done(
                    what,
                    &self.id,
                    location,
                    changed,
                    cas_access(r.is_ok(), set, fetch),
                );
                r
            }

            pub fn get_mut(&mut self) -> &mut $t {
                self.v.get_mut()
            }

            pub fn into_inner(self) -> $t {
                self.v.into_inner()
            }

            pub fn as_ptr(&self) -> *mut $t {
                self.v.as_ptr()
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                // No scheduling point: debugging output must not change the schedule.
                std::fmt::Debug::fmt(&self.v, f)
            }
        }
    };
}

macro_rules! atomic_int {
    ($($name:ident $t:ty;)*) => {$(
        #[doc = concat!("Like `std::sync::atomic::", stringify!($name), "`; every operation is a scheduling point.")]
        #[derive(Default)]
        pub struct $name {
            id: ObjectId,
            v: std::sync::atomic::$name,
        }

        impl $name {
            pub const fn new(v: $t) -> Self {
                $name { id: ObjectId::new(), v: std::sync::atomic::$name::new(v) }
            }
        }

        atomic_common!($name, std::sync::atomic::$name, $t);

        impl $name {
            #[track_caller]
            pub fn fetch_add(&self, val: $t, order: Ordering) -> $t {
                self.rmw(order, Location::caller(), |v| v.fetch_add(val, SEQ))
            }
            #[track_caller]
            pub fn fetch_sub(&self, val: $t, order: Ordering) -> $t {
                self.rmw(order, Location::caller(), |v| v.fetch_sub(val, SEQ))
            }
            #[track_caller]
            pub fn fetch_and(&self, val: $t, order: Ordering) -> $t {
                self.rmw(order, Location::caller(), |v| v.fetch_and(val, SEQ))
            }
            #[track_caller]
            pub fn fetch_nand(&self, val: $t, order: Ordering) -> $t {
                self.rmw(order, Location::caller(), |v| v.fetch_nand(val, SEQ))
            }
            #[track_caller]
            pub fn fetch_or(&self, val: $t, order: Ordering) -> $t {
                self.rmw(order, Location::caller(), |v| v.fetch_or(val, SEQ))
            }
            #[track_caller]
            pub fn fetch_xor(&self, val: $t, order: Ordering) -> $t {
                self.rmw(order, Location::caller(), |v| v.fetch_xor(val, SEQ))
            }
            #[track_caller]
            pub fn fetch_max(&self, val: $t, order: Ordering) -> $t {
                self.rmw(order, Location::caller(), |v| v.fetch_max(val, SEQ))
            }
            #[track_caller]
            pub fn fetch_min(&self, val: $t, order: Ordering) -> $t {
                self.rmw(order, Location::caller(), |v| v.fetch_min(val, SEQ))
            }
        }

        impl From<$t> for $name {
            fn from(v: $t) -> Self {
                $name::new(v)
            }
        }
    )*};
}

atomic_int! {
    AtomicI8 i8;
    AtomicI16 i16;
    AtomicI32 i32;
    AtomicI64 i64;
    AtomicIsize isize;
    AtomicU8 u8;
    AtomicU16 u16;
    AtomicU32 u32;
    AtomicU64 u64;
    AtomicUsize usize;
}

/// Like `std::sync::atomic::AtomicBool`; every operation is a scheduling point.
#[derive(Default)]
pub struct AtomicBool {
    id: ObjectId,
    v: std::sync::atomic::AtomicBool,
}

impl AtomicBool {
    pub const fn new(v: bool) -> Self {
        AtomicBool {
            id: ObjectId::new(),
            v: std::sync::atomic::AtomicBool::new(v),
        }
    }

    #[track_caller]
    pub fn fetch_and(&self, val: bool, order: Ordering) -> bool {
        self.rmw(order, Location::caller(), |v| v.fetch_and(val, SEQ))
    }
    #[track_caller]
    pub fn fetch_nand(&self, val: bool, order: Ordering) -> bool {
        self.rmw(order, Location::caller(), |v| v.fetch_nand(val, SEQ))
    }
    #[track_caller]
    pub fn fetch_or(&self, val: bool, order: Ordering) -> bool {
        self.rmw(order, Location::caller(), |v| v.fetch_or(val, SEQ))
    }
    #[track_caller]
    pub fn fetch_xor(&self, val: bool, order: Ordering) -> bool {
        self.rmw(order, Location::caller(), |v| v.fetch_xor(val, SEQ))
    }
}

atomic_common!(AtomicBool, std::sync::atomic::AtomicBool, bool);

impl From<bool> for AtomicBool {
    fn from(v: bool) -> Self {
        AtomicBool::new(v)
    }
}

/// Like `std::sync::atomic::AtomicPtr`; every operation is a scheduling point.
pub struct AtomicPtr<T> {
    id: ObjectId,
    v: std::sync::atomic::AtomicPtr<T>,
}

impl<T> AtomicPtr<T> {
    pub const fn new(p: *mut T) -> Self {
        AtomicPtr {
            id: ObjectId::new(),
            v: std::sync::atomic::AtomicPtr::new(p),
        }
    }

    /// A scheduling point, then `f` (result, whether the pointer changed).
    #[inline]
    fn op<R>(
        &self,
        op: Op,
        location: &'static Location<'static>,
        f: impl FnOnce(&std::sync::atomic::AtomicPtr<T>) -> (R, bool, AtomicAccess),
    ) -> R {
        rt::atomic(
            "detest::sync::atomic::AtomicPtr",
            op,
            &self.id,
            "AtomicPtr",
            location,
            || f(&self.v),
        )
    }

    #[track_caller]
    pub fn load(&self, order: Ordering) -> *mut T {
        self.op(Op::Load, Location::caller(), |v| {
            (v.load(SEQ), false, AtomicAccess::Load(order))
        })
    }
    #[track_caller]
    pub fn store(&self, p: *mut T, order: Ordering) {
        self.op(Op::Store, Location::caller(), |v| {
            ((), v.swap(p, SEQ) != p, AtomicAccess::Store(order))
        })
    }
    #[track_caller]
    pub fn swap(&self, p: *mut T, order: Ordering) -> *mut T {
        self.op(Op::Rmw, Location::caller(), |v| {
            let old = v.swap(p, SEQ);
            (old, old != p, AtomicAccess::Rmw(order))
        })
    }
    #[track_caller]
    pub fn compare_exchange(
        &self,
        current: *mut T,
        new: *mut T,
        success: Ordering,
        failure: Ordering,
    ) -> Result<*mut T, *mut T> {
        self.op(Op::Rmw, Location::caller(), |v| {
            let r = v.compare_exchange(current, new, SEQ, SEQ);
            (
                r,
                r.is_ok() && current != new,
                cas_access(r.is_ok(), success, failure),
            )
        })
    }
    #[track_caller]
    pub fn compare_exchange_weak(
        &self,
        current: *mut T,
        new: *mut T,
        _s: Ordering,
        _f: Ordering,
    ) -> Result<*mut T, *mut T> {
        self.compare_exchange(current, new, _s, _f)
    }
    pub fn get_mut(&mut self) -> &mut *mut T {
        self.v.get_mut()
    }
    pub fn into_inner(self) -> *mut T {
        self.v.into_inner()
    }
}

impl<T> Default for AtomicPtr<T> {
    fn default() -> Self {
        AtomicPtr::new(std::ptr::null_mut())
    }
}

impl<T> std::fmt::Debug for AtomicPtr<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.v, f)
    }
}
