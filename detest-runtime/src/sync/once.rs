use crate::outside;
use crate::rt::execution::{self as rt, ObjectId, Wait, WaitKind};
use crate::trace::Op;
use std::fmt;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe, Location};
use std::sync::atomic::{
    AtomicU8,
    Ordering::{Acquire, Relaxed, Release},
};

const INCOMPLETE: u8 = 0;
const RUNNING: u8 = 1;
const COMPLETE: u8 = 2;
const POISONED: u8 = 3;

/// One-time initialisation, like `std::sync::Once`. A thread that finds initialisation in
/// progress blocks until it completes.
pub struct Once {
    id: ObjectId,
    state: AtomicU8,
}

/// State passed to [`Once::call_once_force`].
#[derive(Debug)]
pub struct OnceState {
    poisoned: bool,
}

impl OnceState {
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }
}

const WHAT: &str = "detest::sync::Once";

impl Once {
    pub const fn new() -> Self {
        Once::within(0, std::mem::size_of::<Self>())
    }

    /// A `Once` `offset` bytes into a primitive `size` bytes long that a static's reset
    /// restores as a whole (see `ObjectId::within`): `OnceLock`, `LazyLock`.
    pub(crate) const fn within(offset: usize, size: usize) -> Self {
        Once {
            id: ObjectId::within(offset + std::mem::offset_of!(Once, id), size),
            state: AtomicU8::new(INCOMPLETE),
        }
    }

    /// Back to not run (the id, and with it where the `Once` lies, stays).
    pub(crate) fn forget(&mut self) {
        *self.state.get_mut() = INCOMPLETE;
    }

    pub(crate) fn id_ref(&self) -> &ObjectId {
        &self.id
    }

    pub fn is_completed(&self) -> bool {
        rt::touch(&self.id);
        self.completed()
    }

    /// [`Once::is_completed`] for a caller that has used the object already.
    pub(crate) fn completed(&self) -> bool {
        // Acquire: outside executions, a thread that sees the value complete reads it.
        self.state.load(Acquire) == COMPLETE
    }

    #[track_caller]
    pub fn call_once<F: FnOnce()>(&self, f: F) {
        self.call(false, Location::caller(), |_| f());
    }

    #[track_caller]
    pub fn call_once_force<F: FnOnce(&OnceState)>(&self, f: F) {
        self.call(true, Location::caller(), f);
    }

    pub(crate) fn call<F: FnOnce(&OnceState)>(
        &self,
        force: bool,
        location: &'static Location<'static>,
        f: F,
    ) {
        if !rt::in_execution() {
            return self.call_outside(force, f);
        }
        let obj = rt::before(WHAT, Op::Once, Some(&self.id), "Once", location);
        loop {
            match self.state.load(Relaxed) {
                COMPLETE => {
                    // The initialisation happens before every call that finds it done.
                    rt::acquire(WHAT, &self.id);
                    return;
                }
                POISONED if !force => panic!("Once instance has previously been poisoned"),
                RUNNING => {
                    rt::block(WHAT, Wait::new(WaitKind::Once, obj, "Once", location));
                    if rt::tearing_down() {
                        return;
                    }
                }
                state => {
                    self.state.store(RUNNING, Relaxed);
                    let once_state = OnceState {
                        poisoned: state == POISONED,
                    };
                    let result = catch_unwind(AssertUnwindSafe(|| f(&once_state)));
                    self.state
                        .store(if result.is_ok() { COMPLETE } else { POISONED }, Relaxed);
                    rt::release(WHAT, &self.id);
                    rt::wake_all(WHAT, obj);
                    if let Err(payload) = result {
                        resume_unwind(payload);
                    }
                    rt::after(WHAT, Op::Once, Some(&self.id), "Once", location, false);
                    return;
                }
            }
        }
    }
}

impl Once {
    /// [`Once::call`] outside any execution: the first caller runs `f` (outside `outside`'s
    /// lock: it is user code), the others wait for it.
    fn call_outside<F: FnOnce(&OnceState)>(&self, force: bool, f: F) {
        let poisoned = outside::wait_until(WHAT, &self.id, None, || {
            match self.state.load(Relaxed) {
                COMPLETE => Some(None),
                POISONED if !force => panic!("Once instance has previously been poisoned"),
                RUNNING => None,
                state => {
                    self.state.store(RUNNING, Relaxed);
                    Some(Some(state == POISONED))
                }
            }
        });
        let Some(poisoned) = poisoned.flatten() else {
            return;
        };
        let result = catch_unwind(AssertUnwindSafe(|| f(&OnceState { poisoned })));
        outside::change(WHAT, &self.id, || {
            self.state
                .store(if result.is_ok() { COMPLETE } else { POISONED }, Release)
        });
        if let Err(payload) = result {
            resume_unwind(payload);
        }
    }
}

impl Default for Once {
    fn default() -> Self {
        Once::new()
    }
}

impl fmt::Debug for Once {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Once { .. }")
    }
}
