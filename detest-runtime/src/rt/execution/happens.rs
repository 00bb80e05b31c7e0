//! Happens-before edges that primitives add as they synchronise (see `crate::memory`). Each is
//! a plain update of the execution's clocks: no scheduling point, no allocation once warm.
//! While the execution tears down, nothing is tracked (no access can be judged any more).

use super::*;
use crate::memory::{AtomicAccess, VectorClock};

/// Runs `f` on the memory model with the current task, unless tearing down.
#[inline]
fn with_memory(what: &str, f: impl FnOnce(&mut Memory, TaskId)) {
    let mut st = state(what).borrow_mut();
    if st.tearing_down {
        return;
    }
    let cur = st.current;
    f(&mut st.memory, cur);
}

/// [`with_memory`] with `object`'s id.
#[inline]
fn with_object(what: &str, object: &ObjectId, f: impl FnOnce(&mut Memory, TaskId, u32)) {
    let mut st = state(what).borrow_mut();
    if st.tearing_down {
        return;
    }
    let id = object.get(&mut st);
    let cur = st.current;
    f(&mut st.memory, cur, id);
}

/// [`with_memory`] with an object id the caller has already (saves a lookup on hot paths).
#[inline]
fn with_id(what: &str, id: u32, f: impl FnOnce(&mut Memory, TaskId, u32)) {
    let mut st = state(what).borrow_mut();
    if st.tearing_down {
        return;
    }
    let cur = st.current;
    f(&mut st.memory, cur, id);
}

/// [`acquire`] of the object with id `id`.
#[inline]
pub(crate) fn acquire_at(what: &str, id: u32) {
    with_id(what, id, |m, cur, id| m.acquire(cur, id));
}

/// The current task publishes what it has seen through `object` (unlock, send, arrival).
#[inline]
pub(crate) fn release(what: &str, object: &ObjectId) {
    with_object(what, object, |m, cur, id| m.release(cur, id));
}

/// The current task sees what `object`'s releases published (lock, receive, departure).
#[inline]
pub(crate) fn acquire(what: &str, object: &ObjectId) {
    with_object(what, object, |m, cur, id| m.acquire(cur, id));
}

/// A read-unlock of a `RwLock` (published to later writers only).
#[inline]
pub(crate) fn release_read(what: &str, object: &ObjectId) {
    with_object(what, object, |m, cur, id| m.release_read(cur, id));
}

/// A write-lock of a `RwLock` (sees the last writer and the readers since).
#[inline]
pub(crate) fn acquire_write(what: &str, object: &ObjectId) {
    with_object(what, object, |m, cur, id| m.acquire_write(cur, id));
}

/// The current task sends a message on `channel` (it carries the sender's clock; see
/// `Memory::send`).
#[inline]
pub(crate) fn send_message(what: &str, channel: u32, reuses_slot: bool) {
    with_id(what, channel, |m, cur, id| m.send(cur, id, reuses_slot));
}

/// The current task receives the oldest message on `channel`.
#[inline]
pub(crate) fn receive_message(what: &str, channel: u32, frees_slot: bool) {
    with_id(what, channel, |m, cur, id| m.receive(cur, id, frees_slot));
}

/// The current task joined the finished task `joined`.
pub(crate) fn acquire_joined(what: &str, joined: TaskId) {
    with_memory(what, |m, cur| m.join_task(cur, joined));
}

/// The current task returns from a park, or polls its future after a wake-up.
pub(crate) fn acquire_signals(what: &str) {
    with_memory(what, |m, cur| m.acquire_signals(cur));
}

/// A fence by the current task.
pub(crate) fn atomic_fence(what: &str, order: std::sync::atomic::Ordering) {
    with_memory(what, |m, cur| m.atomic(cur, 0, AtomicAccess::Fence(order)));
}

/// A copy of `task`'s clock (the current task's when `None`).
pub(crate) fn clock_of(what: &str, task: Option<TaskId>) -> VectorClock {
    let mut st = state(what).borrow_mut();
    let task = task.unwrap_or(st.current);
    assert!(
        (task as usize) < st.tasks.len(),
        "{what}: no task {task} in this execution (it has {})",
        st.tasks.len()
    );
    st.memory.clock(task).clone()
}
