//! Multi-producer, single-consumer channels, like `std::sync::mpsc`. Send and receive are
//! scheduling points; a receive on an empty channel blocks the logical thread.
//!
//! ```
//! use detest::sync::mpsc;
//! detest::check(|| {
//!     let (tx, rx) = mpsc::channel();
//!     detest::thread::spawn(move || tx.send(5).unwrap());
//!     assert_eq!(rx.recv(), Ok(5));
//!     assert!(rx.recv().is_err()); // the sender is gone
//! });
//! ```

use crate::memory::Memory;
use crate::outside;
use crate::rt::execution::{self as rt, ObjectId, TaskId, Wait, WaitKind};
use crate::trace::Op;
use std::cell::{Cell, UnsafeCell};
use std::collections::VecDeque;
use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

pub use std::sync::mpsc::{RecvError, RecvTimeoutError, SendError, TryRecvError, TrySendError};

struct Chan<T> {
    id: ObjectId,
    /// `None`: unbounded; `Some(0)`: rendezvous.
    bound: Option<usize>,
    state: UnsafeCell<ChanState<T>>,
    /// Handles are cloned and dropped anywhere (also outside an execution, on any OS thread),
    /// so their counts are atomics rather than part of the state above.
    senders: AtomicUsize,
    receiver: AtomicBool,
}

// SAFETY: all logical threads of an execution run on one OS thread, and `lock` hands out the
// state only for the duration of a call that never reaches a scheduling point.
unsafe impl<T: Send> Send for Chan<T> {}
unsafe impl<T: Send> Sync for Chan<T> {}

struct ChanState<T> {
    queue: VecDeque<T>,
    sent: u64,
    received: u64,
    /// Tasks blocked on the channel: sends and receives skip the wake-up when there are none.
    waiting: u32,
    /// The receiver waits in `recv` for a value: a rendezvous `try_send` can hand one over.
    receiving: bool,
}

const WHAT: &str = "detest::sync::mpsc";

// The channel outside any execution.
#[path = "mpsc_outside.rs"]
mod outside_ops;

impl<T> Chan<T> {
    fn new(bound: Option<usize>) -> Arc<Self> {
        Arc::new(Chan {
            id: ObjectId::new(),
            bound,
            senders: AtomicUsize::new(1),
            receiver: AtomicBool::new(true),
            state: UnsafeCell::new(ChanState {
                queue: VecDeque::new(),
                sent: 0,
                received: 0,
                waiting: 0,
                receiving: false,
            }),
        })
    }

    #[allow(clippy::mut_from_ref)]
    fn lock(&self) -> &mut ChanState<T> {
        // SAFETY: see the `Sync` impl; callers drop the reference before any scheduling point
        // (a plain std mutex here cost two atomic operations per send and receive).
        unsafe { &mut *self.state.get() }
    }

    fn kind() -> &'static str {
        std::any::type_name::<Chan<T>>()
    }

    fn wait(&self, obj: u32, deadline: u64, location: &'static Location<'static>) -> bool {
        self.lock().waiting += 1;
        let timed_out = rt::block(
            WHAT,
            Wait::new(WaitKind::Channel, obj, "Channel", location).until(deadline),
        );
        self.lock().waiting -= 1;
        timed_out
    }

    /// Wakes the tasks blocked on the channel, if there are any.
    fn wake(&self, obj: u32) {
        if self.lock().waiting > 0 {
            rt::wake_all(WHAT, obj);
        }
    }

    fn send(&self, value: T, location: &'static Location<'static>) -> Result<(), SendError<T>> {
        if !rt::in_execution() {
            return self.send_outside(value);
        }
        // An unbounded send never waits: its message's clock is logged with the point (no
        // second trip to the state). If the receiver is gone, no receipt will ever take it.
        let unbounded = self.bound.is_none();
        let (obj, _) = rt::before_then(
            WHAT,
            Op::Send,
            Some(&self.id),
            Self::kind(),
            location,
            |memory, cur, id| {
                if unbounded {
                    memory.send(cur, id, false);
                }
            },
        );
        // Bounded: wait for room.
        if let Some(bound) = self.bound.filter(|b| *b > 0) {
            loop {
                let st = self.lock();
                if !self.receiver.load(SeqCst) || st.queue.len() < bound || rt::tearing_down() {
                    break;
                }
                self.wait(obj, rt::no_deadline(), location);
            }
        }
        let ticket = {
            let st = self.lock();
            if !self.receiver.load(SeqCst) {
                return Err(SendError(value));
            }
            st.queue.push_back(value);
            // What the sender did happens before the value's receipt.
            if !unbounded {
                rt::send_message(WHAT, obj, self.reuses_slot(st.sent));
            }
            st.sent += 1;
            st.sent
        };
        self.wake(obj);
        if self.bound == Some(0) {
            // Rendezvous: the send completes when the value has been received.
            loop {
                let st = self.lock();
                if st.received >= ticket || !self.receiver.load(SeqCst) || rt::tearing_down() {
                    break;
                }
                self.wait(obj, rt::no_deadline(), location);
            }
            // The receipt happens before the rendezvous send returns.
            rt::acquire(WHAT, &self.id);
        }
        Ok(())
    }

    /// Whether send number `sent` (from 0) takes a slot of a bounded channel that a receipt
    /// freed (std's bounded channel is a ring of `bound` slots).
    fn reuses_slot(&self, sent: u64) -> bool {
        self.bound.is_some_and(|b| b > 0 && sent >= b as u64)
    }

    /// The happens-before edge of a receipt (see `Memory::receive`).
    fn received(&self, memory: &mut Memory, task: TaskId, obj: u32) {
        memory.receive(task, obj, self.bound.is_some_and(|b| b > 0));
    }

    /// A receive's scheduling point. The receipt's edge is logged with it when a value is
    /// there to take (no second trip to the state); returns whether it was.
    fn recv_point(&self, location: &'static Location<'static>) -> (u32, bool) {
        let logged = Cell::new(false);
        let (obj, _) = rt::before_then(
            WHAT,
            Op::Recv,
            Some(&self.id),
            Self::kind(),
            location,
            |memory, cur, id| {
                if !self.lock().queue.is_empty() {
                    self.received(memory, cur, id);
                    logged.set(true);
                }
            },
        );
        (obj, logged.get())
    }

    fn try_recv_now(&self, obj: u32) -> Result<T, TryRecvError> {
        self.try_recv_logged(obj, false)
    }

    /// Takes a value if there is one; `logged`: its receipt's edge is in already.
    fn try_recv_logged(&self, obj: u32, logged: bool) -> Result<T, TryRecvError> {
        let st = self.lock();
        match st.queue.pop_front() {
            Some(v) => {
                if !logged {
                    rt::receive_message(WHAT, obj, self.bound.is_some_and(|b| b > 0));
                }
                if self.bound == Some(0) {
                    // The receipt happens before the rendezvous send returns.
                    rt::release(WHAT, &self.id);
                }
                st.received += 1;
                self.wake(obj);
                Ok(v)
            }
            None if self.senders.load(SeqCst) == 0 => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    fn recv(
        &self,
        deadline: u64,
        location: &'static Location<'static>,
    ) -> Result<T, RecvTimeoutError> {
        if !rt::in_execution() {
            return self.recv_outside(None);
        }
        let (obj, mut logged) = self.recv_point(location);
        loop {
            match self.try_recv_logged(obj, std::mem::take(&mut logged)) {
                Ok(v) => return Ok(v),
                Err(TryRecvError::Disconnected) => return Err(RecvTimeoutError::Disconnected),
                Err(TryRecvError::Empty) => {
                    self.lock().receiving = true;
                    let timed_out = self.wait(obj, deadline, location);
                    self.lock().receiving = false;
                    if timed_out {
                        return self.try_recv_now(obj).map_err(|e| match e {
                            TryRecvError::Disconnected => RecvTimeoutError::Disconnected,
                            TryRecvError::Empty => RecvTimeoutError::Timeout,
                        });
                    }
                }
            }
        }
    }

    /// A scheduling point before the last sender or the receiver goes away: whether the other
    /// side sees `Disconnected` depends on when that happens. Handles also drop outside any
    /// execution (no point then).
    fn before_close(&self, last_sender: bool) {
        if last_sender && rt::in_execution() {
            let location = Location::caller();
            rt::before(WHAT, Op::Close, Some(&self.id), Self::kind(), location);
        }
    }

    /// Wakes every waiter once the channel is closed.
    fn after_close(&self) {
        if rt::in_execution() {
            let obj = rt::object_id(WHAT, &self.id);
            self.wake(obj);
        } else {
            outside::notify();
        }
    }
}

/// The sending half of a [`channel`].
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

/// The sending half of a [`sync_channel`].
pub struct SyncSender<T> {
    chan: Arc<Chan<T>>,
}

/// The receiving half of a channel.
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
}

/// An unbounded channel.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let chan = Chan::new(None);
    (Sender { chan: chan.clone() }, Receiver { chan })
}

/// A bounded channel; `bound == 0` makes every send wait for its receive (rendezvous).
pub fn sync_channel<T>(bound: usize) -> (SyncSender<T>, Receiver<T>) {
    let chan = Chan::new(Some(bound));
    (SyncSender { chan: chan.clone() }, Receiver { chan })
}

impl<T> Sender<T> {
    #[track_caller]
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.send(value, Location::caller())
    }
}

impl<T> SyncSender<T> {
    #[track_caller]
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.send(value, Location::caller())
    }

    /// Sends if there is room now. A rendezvous channel has room only while the receiver waits
    /// in `recv` and no other value is already on its way to it; the value is then handed over
    /// (as std's zero-capacity channel does), otherwise `Full`.
    #[track_caller]
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let chan = &self.chan;
        if !rt::in_execution() {
            return chan.try_send_outside(value);
        }
        let obj = rt::before(
            WHAT,
            Op::Send,
            Some(&chan.id),
            Chan::<T>::kind(),
            Location::caller(),
        );
        {
            let st = chan.lock();
            if !chan.receiver.load(SeqCst) {
                return Err(TrySendError::Disconnected(value));
            }
            let room = match chan.bound {
                None => true,
                Some(0) => st.receiving && st.queue.is_empty(),
                Some(bound) => st.queue.len() < bound,
            };
            if !room {
                return Err(TrySendError::Full(value));
            }
            st.queue.push_back(value);
            rt::send_message(WHAT, obj, chan.reuses_slot(st.sent));
            st.sent += 1;
        }
        chan.wake(obj);
        Ok(())
    }
}

impl<T> Receiver<T> {
    /// Blocks until a value arrives; `Err` once every sender is gone and the queue is empty.
    #[track_caller]
    pub fn recv(&self) -> Result<T, RecvError> {
        self.chan
            .recv(rt::no_deadline(), Location::caller())
            .map_err(|_| RecvError)
    }

    #[track_caller]
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        if !rt::in_execution() {
            return self.chan.try_recv_outside();
        }
        let obj = rt::before(
            WHAT,
            Op::Recv,
            Some(&self.chan.id),
            Chan::<T>::kind(),
            Location::caller(),
        );
        self.chan.try_recv_now(obj)
    }

    /// Waits at most `timeout` of virtual time.
    #[track_caller]
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        if !rt::in_execution() {
            return self.chan.recv_outside(outside::deadline_after(timeout));
        }
        let deadline = rt::deadline_after(WHAT, timeout);
        self.chan.recv(deadline, Location::caller())
    }

    /// Waits until `deadline` (virtual time) at most.
    #[track_caller]
    pub fn recv_deadline(&self, deadline: crate::time::Instant) -> Result<T, RecvTimeoutError> {
        if !rt::in_execution() {
            return self.chan.recv_outside(deadline.outside_to_std());
        }
        self.chan.recv(deadline.nanos(), Location::caller())
    }

    pub fn iter(&self) -> Iter<'_, T> {
        Iter { rx: self }
    }

    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { rx: self }
    }
}

/// Blocking iterator over received values.
pub struct Iter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

/// Non-blocking iterator over values already queued.
pub struct TryIter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}

/// Owning blocking iterator.
pub struct IntoIter<T> {
    rx: Receiver<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    fn into_iter(self) -> IntoIter<T> {
        IntoIter { rx: self }
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.senders.fetch_add(1, SeqCst);
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Clone for SyncSender<T> {
    fn clone(&self) -> Self {
        self.chan.senders.fetch_add(1, SeqCst);
        SyncSender {
            chan: self.chan.clone(),
        }
    }
}

fn drop_sender<T>(chan: &Chan<T>) {
    chan.before_close(chan.senders.load(SeqCst) == 1);
    if chan.senders.fetch_sub(1, SeqCst) == 1 {
        chan.after_close();
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        drop_sender(&self.chan);
    }
}

impl<T> Drop for SyncSender<T> {
    fn drop(&mut self) {
        drop_sender(&self.chan);
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.chan.before_close(true);
        self.chan.receiver.store(false, SeqCst);
        self.chan.after_close();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Sender { .. }")
    }
}

impl<T> fmt::Debug for SyncSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("SyncSender { .. }")
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Receiver { .. }")
    }
}
