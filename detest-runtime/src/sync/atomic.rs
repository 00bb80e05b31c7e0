//! Atomics mirroring `std::sync::atomic`, with the C11/C++20 memory model. Every operation is
//! a scheduling point, so bugs that need a switch between two atomic accesses (a reader seeing
//! a writer half-way) are found; and a load may read an older store than the newest when the
//! orderings allow it, so bugs that need a stale value (a `Relaxed` flag published before the
//! data it guards) are found too.
//!
//! ```
//! use detest::sync::atomic::{AtomicBool, AtomicU32, Ordering::{Acquire, Release}};
//! use std::sync::Arc;
//!
//! // Message passing with Release/Acquire: whoever sees the flag sees the data.
//! let e = detest::Config::new().explore(u32::MAX, 10_000, || {
//!     let (data, flag) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicBool::new(false)));
//!     let (d, f) = (data.clone(), flag.clone());
//!     let t = detest::thread::spawn(move || {
//!         d.store(1, std::sync::atomic::Ordering::Relaxed);
//!         f.store(true, Release);
//!     });
//!     if flag.load(Acquire) {
//!         assert_eq!(data.load(std::sync::atomic::Ordering::Relaxed), 1);
//!     }
//!     t.join().unwrap();
//! });
//! assert!(e.complete && e.report.passed());
//! ```
//!
//! Which store a load reads is a decision of the execution (recorded in the schedule,
//! replayed, enumerated by `explore`, shrunk toward the newest); it is asked only when the load
//! has more than one store to choose from, so programs using only `SeqCst` atomics and locks
//! take no such decision. What is modelled, and what is not (load buffering, 2+2W), is in the
//! README's "Memory model" section; `#[detest(memory_model = "sc")]`,
//! [`Config::memory_model`](crate::Config::memory_model) and `DETEST_MEMORY_MODEL=sc` make
//! every load read the newest store.
//!
//! Read-modify-writes read the newest store (atomicity). A failed compare-exchange reads the
//! newest store too (std allows an older one). `compare_exchange_weak` never fails spuriously.
//!
//! A task that keeps re-reading a value nobody changes (a spin-wait) is descheduled until
//! something changes, and then reads the newest store; see `rt/execution/spin.rs`.
//!
//! Outside any execution an operation is the std atomic's, with `SeqCst` (at least as strong
//! as the ordering asked for), so plain tests may share detest atomics between OS threads.

use crate::memory::AtomicAccess;
use crate::rt::execution::{self as rt, ObjectId};
use crate::trace::Op;
use std::panic::Location;
pub use std::sync::atomic::Ordering;

const SEQ: Ordering = Ordering::SeqCst;

/// A value as the memory model stores it: every detest atomic fits in a `u64`.
trait Bits: Copy {
    fn to_bits(self) -> u64;
    fn from_bits(bits: u64) -> Self;
}

macro_rules! int_bits {
    ($($t:ty)*) => {$(
        impl Bits for $t {
            #[inline(always)]
            fn to_bits(self) -> u64 {
                self as u64
            }
            #[inline(always)]
            fn from_bits(bits: u64) -> Self {
                bits as $t
            }
        }
    )*};
}

int_bits!(i8 i16 i32 i64 isize u8 u16 u32 u64 usize);

impl Bits for bool {
    #[inline(always)]
    fn to_bits(self) -> u64 {
        self as u64
    }
    #[inline(always)]
    fn from_bits(bits: u64) -> Self {
        bits != 0
    }
}

impl<T> Bits for *mut T {
    #[inline(always)]
    fn to_bits(self) -> u64 {
        self as usize as u64
    }
    #[inline(always)]
    fn from_bits(bits: u64) -> Self {
        bits as usize as *mut T
    }
}

/// What a compare-exchange did: a write with `success`, or a read of the newest value with
/// `failure`.
fn cas_access<T: Bits>(
    r: Result<T, T>,
    new: T,
    success: Ordering,
    failure: Ordering,
) -> AtomicAccess {
    match r {
        Ok(prev) => AtomicAccess::Rmw {
            order: success,
            prev: prev.to_bits(),
            new: new.to_bits(),
        },
        Err(latest) => AtomicAccess::ReadLatest {
            order: failure,
            latest: latest.to_bits(),
        },
    }
}

/// A store of `new` over `prev`.
fn store_access<T: Bits>(order: Ordering, prev: T, new: T) -> AtomicAccess {
    AtomicAccess::Store {
        order,
        prev: prev.to_bits(),
        new: new.to_bits(),
    }
}

/// A read-modify-write from `prev` to `new`.
fn rmw_access<T: Bits>(order: Ordering, prev: T, new: T) -> AtomicAccess {
    AtomicAccess::Rmw {
        order,
        prev: prev.to_bits(),
        new: new.to_bits(),
    }
}

/// A fence: a scheduling point, and happens-before as C++20 fences give it (a release fence
/// makes later relaxed stores publish; an acquire fence acquires what earlier relaxed loads
/// read; SeqCst fences are ordered among themselves).
#[track_caller]
pub fn fence(order: Ordering) {
    let what = "detest::sync::atomic::fence";
    assert!(
        order != Ordering::Relaxed,
        "there is no such thing as a relaxed fence"
    );
    if !rt::in_execution() {
        return std::sync::atomic::fence(order);
    }
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
                    let new = v.load(SEQ);
                    (old, new != old, rmw_access(order, old, new))
                })
            }

            /// May read an older store than the newest, as the memory model allows.
            #[track_caller]
            pub fn load(&self, order: Ordering) -> $t {
                assert!(
                    !matches!(order, Ordering::Release | Ordering::AcqRel),
                    "there is no such thing as a release load"
                );
                let bits = rt::atomic_load(
                    concat!("detest::sync::atomic::", stringify!($name)),
                    &self.id,
                    stringify!($name),
                    Location::caller(),
                    order,
                    || self.v.load(SEQ).to_bits(),
                );
                <$t>::from_bits(bits)
            }

            /// Storing the value already there does not wake a spinner (it would read the same
            /// value).
            #[track_caller]
            pub fn store(&self, val: $t, order: Ordering) {
                assert!(
                    !matches!(order, Ordering::Acquire | Ordering::AcqRel),
                    "there is no such thing as an acquire store"
                );
                self.op(Op::Store, Location::caller(), |v| {
                    let prev = v.swap(val, SEQ);
                    ((), prev != val, store_access(order, prev, val))
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
                        cas_access(r, new, success, failure),
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
                        cas_access(r, new, success, failure),
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
                if !rt::in_execution() {
                    self.id.use_outside(what);
                    return self.v.fetch_update(set, fetch, f);
                }
                rt::before(what, Op::Rmw, Some(&self.id), stringify!($name), location);
                // `f` is user code: it runs outside the state's borrow.
                let r = self.v.fetch_update(SEQ, SEQ, f);
                let new = self.v.load(SEQ);
                let changed = r.is_ok_and(|old| new != old);
                rt::atomic_done(
                    what,
                    &self.id,
                    location,
                    changed,
                    cas_access(r, new, set, fetch),
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
                $name { id: ObjectId::within(std::mem::offset_of!(Self, id), std::mem::size_of::<Self>()), v: std::sync::atomic::$name::new(v) }
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
            id: ObjectId::within(std::mem::offset_of!(Self, id), std::mem::size_of::<Self>()),
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
    #[track_caller]
    pub fn fetch_not(&self, order: Ordering) -> bool {
        self.rmw(order, Location::caller(), |v| v.fetch_xor(true, SEQ))
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
            id: ObjectId::within(std::mem::offset_of!(Self, id), std::mem::size_of::<Self>()),
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

    /// May read an older store than the newest, as the memory model allows.
    #[track_caller]
    pub fn load(&self, order: Ordering) -> *mut T {
        let bits = rt::atomic_load(
            "detest::sync::atomic::AtomicPtr",
            &self.id,
            "AtomicPtr",
            Location::caller(),
            order,
            || self.v.load(SEQ).to_bits(),
        );
        <*mut T>::from_bits(bits)
    }
    #[track_caller]
    pub fn store(&self, p: *mut T, order: Ordering) {
        self.op(Op::Store, Location::caller(), |v| {
            let prev = v.swap(p, SEQ);
            ((), prev != p, store_access(order, prev, p))
        })
    }
    #[track_caller]
    pub fn swap(&self, p: *mut T, order: Ordering) -> *mut T {
        self.op(Op::Rmw, Location::caller(), |v| {
            let old = v.swap(p, SEQ);
            (old, old != p, rmw_access(order, old, p))
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
                cas_access(r, new, success, failure),
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
