//! `tokio::sync::broadcast`: every receiver sees every value sent after it subscribed, from a
//! ring of `capacity.next_power_of_two()` slots. A receiver that falls a whole ring behind gets
//! `Lagged(missed)` once and then resumes at the oldest value still retained, as tokio's.
//! Each operation is one scheduling point (the channel's state lock); a send wakes every
//! waiting receiver and which of them runs first is the policy's decision (tokio promises
//! no order either).
//!
//! ```ignore
//! let (tx, mut rx1) = tokio::sync::broadcast::channel(16);
//! let mut rx2 = tx.subscribe();
//! let t = tokio::spawn(async move { rx2.recv().await.unwrap() });
//! tx.send(10).unwrap();
//! assert_eq!(rx1.recv().await.unwrap(), 10);
//! assert_eq!(t.await.unwrap(), 10);
//! ```

use super::State;
use std::fmt;
use std::sync::Arc;
use std::task::{Poll, Waker};

pub mod error {
    //! Channel errors (tokio's names and messages).
    use std::fmt;

    /// No receiver is left: the value comes back.
    #[derive(Debug)]
    pub struct SendError<T>(pub T);

    impl<T> fmt::Display for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("channel closed")
        }
    }

    impl<T: fmt::Debug> std::error::Error for SendError<T> {}

    #[derive(Debug, PartialEq, Eq, Clone)]
    pub enum RecvError {
        /// Every sender is gone and nothing is left to receive.
        Closed,
        /// This many values were overwritten before the receiver read them; it now points at
        /// the oldest one retained.
        Lagged(u64),
    }

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                RecvError::Closed => f.write_str("channel closed"),
                RecvError::Lagged(n) => write!(f, "channel lagged by {n}"),
            }
        }
    }

    impl std::error::Error for RecvError {}

    #[derive(Debug, PartialEq, Eq, Clone)]
    pub enum TryRecvError {
        Empty,
        Closed,
        Lagged(u64),
    }

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TryRecvError::Empty => f.write_str("channel empty"),
                TryRecvError::Closed => f.write_str("channel closed"),
                TryRecvError::Lagged(n) => write!(f, "channel lagged by {n}"),
            }
        }
    }

    impl std::error::Error for TryRecvError {}
}

use error::{RecvError, SendError, TryRecvError};

struct Shared<T> {
    state: State<Ring<T>>,
}

struct Slot<T> {
    /// The position last written here (`pos + len` is the next one this slot will hold).
    pos: u64,
    /// Receivers that have not read it yet; the value is dropped when this reaches 0.
    rem: usize,
    value: Option<T>,
}

struct Ring<T> {
    slots: Box<[Slot<T>]>,
    /// The position the next send writes.
    tail: u64,
    senders: usize,
    weak_senders: usize,
    receivers: usize,
    /// A receiver's identity, so its `recv` replaces its own waker rather than adding one.
    next_rx_id: u64,
    rx_waiters: Vec<(u64, Waker)>,
    /// Senders waiting in `closed` (woken when the last receiver goes).
    closed_waiters: Vec<Waker>,
}

impl<T> Ring<T> {
    fn len(&self) -> u64 {
        self.slots.len() as u64
    }

    fn slot(&mut self, pos: u64) -> &mut Slot<T> {
        let mask = self.slots.len() - 1;
        &mut self.slots[pos as usize & mask]
    }

    fn new_receiver(&mut self) -> (u64, u64) {
        self.receivers = self.receivers.checked_add(1).expect("overflow");
        self.next_rx_id += 1;
        (self.next_rx_id, self.tail)
    }

    /// One read at `next` by a receiver: the value (cloned), or why not. A value the last
    /// receiver read is handed back in `garbage` so that it is dropped after the lock is
    /// released (its `Drop` may use the channel).
    fn read(&mut self, next: &mut u64, garbage: &mut Option<T>) -> Result<T, TryRecvError>
    where
        T: Clone,
    {
        let len = self.len();
        let tail = self.tail;
        let closed = self.senders == 0;
        let at = *next;
        let slot = self.slot(at);
        if slot.pos != at {
            if slot.pos.wrapping_add(len) == at {
                // Not written yet: nothing to read.
                return Err(if closed {
                    TryRecvError::Closed
                } else {
                    TryRecvError::Empty
                });
            }
            // Overwritten: skip to the oldest value retained.
            let oldest = tail.wrapping_sub(len);
            let missed = oldest.wrapping_sub(at);
            *next = oldest;
            return Err(TryRecvError::Lagged(missed));
        }
        // Advance first: if `clone` panics the value counts as read, as in tokio.
        *next = at.wrapping_add(1);
        // Counts the read even if `clone` unwinds (tokio's `RecvGuard`).
        struct Done<'a, T>(&'a mut Slot<T>, &'a mut Option<T>);
        impl<T> Drop for Done<'_, T> {
            fn drop(&mut self) {
                self.0.rem -= 1;
                if self.0.rem == 0 {
                    *self.1 = self.0.value.take();
                }
            }
        }
        let done = Done(slot, garbage);
        let value = done
            .0
            .value
            .as_ref()
            .expect("a slot being read holds its value");
        Ok(value.clone())
    }
}

fn wake_all(wakers: Vec<Waker>) {
    for w in wakers {
        w.wake();
    }
}

/// A channel retaining up to `capacity` values (rounded up to a power of two).
///
/// Panics if `capacity` is 0 or above `usize::MAX / 2`, as tokio's.
#[track_caller]
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let tx = Sender::with_receivers(capacity, 1);
    let rx = Receiver {
        shared: tx.shared.clone(),
        id: 1,
        next: 0,
    };
    (tx, rx)
}

/// The sending half; cloneable. `send` never waits: it overwrites the oldest value.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// A sender that does not keep the channel open; `upgrade` while a [`Sender`] lives.
pub struct WeakSender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Sender<T> {
    /// A channel with no receiver yet (`subscribe` makes them).
    #[track_caller]
    pub fn new(capacity: usize) -> Self {
        Sender::with_receivers(capacity, 0)
    }

    #[track_caller]
    fn with_receivers(capacity: usize, receivers: usize) -> Self {
        assert!(capacity > 0, "broadcast channel capacity cannot be zero");
        assert!(
            capacity <= usize::MAX >> 1,
            "broadcast channel capacity exceeded `usize::MAX / 2`"
        );
        let len = capacity.next_power_of_two();
        let slots = (0..len)
            .map(|i| Slot {
                // "Written one ring ago": empty.
                pos: (i as u64).wrapping_sub(len as u64),
                rem: 0,
                value: None,
            })
            .collect();
        Sender {
            shared: Arc::new(Shared {
                state: State::new(Ring {
                    slots,
                    tail: 0,
                    senders: 1,
                    weak_senders: 0,
                    receivers,
                    next_rx_id: receivers as u64,
                    rx_waiters: Vec::new(),
                    closed_waiters: Vec::new(),
                }),
            }),
        }
    }

    /// Sends `value` to every current receiver, returning how many; fails (giving it back)
    /// when there is none.
    #[track_caller]
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let (result, overwritten, waiters) = self.shared.state.with(|r| {
            if r.receivers == 0 {
                return (Err(SendError(value)), None, Vec::new());
            }
            let pos = r.tail;
            let receivers = r.receivers;
            r.tail = pos.wrapping_add(1);
            let slot = r.slot(pos);
            slot.pos = pos;
            slot.rem = receivers;
            let old = slot.value.replace(value);
            let waiters = r.rx_waiters.drain(..).map(|(_, w)| w).collect();
            (Ok(receivers), old, waiters)
        });
        // Outside the lock: a dropped value or a woken waker may use the channel.
        drop(overwritten);
        wake_all(waiters);
        result
    }

    /// A receiver of the values sent from now on.
    #[track_caller]
    pub fn subscribe(&self) -> Receiver<T> {
        let (id, next) = self.shared.state.with(|r| r.new_receiver());
        Receiver {
            shared: self.shared.clone(),
            id,
            next,
        }
    }

    /// Values retained that some receiver has not read yet.
    #[track_caller]
    pub fn len(&self) -> usize {
        self.shared
            .state
            .with(|r| r.slots.iter().filter(|s| s.rem > 0).count())
    }

    #[track_caller]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[track_caller]
    pub fn receiver_count(&self) -> usize {
        self.shared.state.with(|r| r.receivers)
    }

    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Completes when no receiver is left (at once if there is none now).
    pub async fn closed(&self) {
        std::future::poll_fn(|cx| {
            self.shared.state.with(|r| {
                if r.receivers == 0 {
                    Poll::Ready(())
                } else {
                    if !r.closed_waiters.iter().any(|w| w.will_wake(cx.waker())) {
                        r.closed_waiters.push(cx.waker().clone());
                    }
                    Poll::Pending
                }
            })
        })
        .await
    }

    #[track_caller]
    pub fn downgrade(&self) -> WeakSender<T> {
        self.shared.state.with(|r| r.weak_senders += 1);
        WeakSender {
            shared: self.shared.clone(),
        }
    }

    #[track_caller]
    pub fn strong_count(&self) -> usize {
        self.shared.state.with(|r| r.senders)
    }

    #[track_caller]
    pub fn weak_count(&self) -> usize {
        self.shared.state.with(|r| r.weak_senders)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.state.with(|r| r.senders += 1);
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waiters = self.shared.state.with(|r| {
            r.senders -= 1;
            if r.senders == 0 {
                r.rx_waiters.drain(..).map(|(_, w)| w).collect()
            } else {
                Vec::new()
            }
        });
        wake_all(waiters);
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Sender").finish_non_exhaustive()
    }
}

impl<T> WeakSender<T> {
    /// A sender, if one is still alive.
    #[track_caller]
    pub fn upgrade(&self) -> Option<Sender<T>> {
        let alive = self.shared.state.with(|r| {
            if r.senders == 0 {
                return false;
            }
            r.senders += 1;
            true
        });
        alive.then(|| Sender {
            shared: self.shared.clone(),
        })
    }

    #[track_caller]
    pub fn strong_count(&self) -> usize {
        self.shared.state.with(|r| r.senders)
    }

    #[track_caller]
    pub fn weak_count(&self) -> usize {
        self.shared.state.with(|r| r.weak_senders)
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> Self {
        self.shared.state.with(|r| r.weak_senders += 1);
        WeakSender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for WeakSender<T> {
    fn drop(&mut self) {
        self.shared.state.with(|r| r.weak_senders -= 1);
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::WeakSender")
            .finish_non_exhaustive()
    }
}

/// A receiving half: its own position in the ring.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    id: u64,
    /// The position this receiver reads next.
    next: u64,
}

impl<T> Receiver<T> {
    /// Values sent that this receiver has not read (counting ones already overwritten).
    #[track_caller]
    pub fn len(&self) -> usize {
        self.shared
            .state
            .with(|r| r.tail.wrapping_sub(self.next) as usize)
    }

    #[track_caller]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Whether every sender is gone.
    #[track_caller]
    pub fn is_closed(&self) -> bool {
        self.shared.state.with(|r| r.senders == 0)
    }

    #[track_caller]
    pub fn sender_strong_count(&self) -> usize {
        self.shared.state.with(|r| r.senders)
    }

    #[track_caller]
    pub fn sender_weak_count(&self) -> usize {
        self.shared.state.with(|r| r.weak_senders)
    }
}

impl<T: Clone> Receiver<T> {
    /// A new receiver of the values sent from now on (not the ones this one has pending).
    #[track_caller]
    pub fn resubscribe(&self) -> Self {
        let (id, next) = self.shared.state.with(|r| r.new_receiver());
        Receiver {
            shared: self.shared.clone(),
            id,
            next,
        }
    }

    /// The next value without waiting.
    #[track_caller]
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut garbage = None;
        let result = self
            .shared
            .state
            .with(|r| r.read(&mut self.next, &mut garbage));
        drop(garbage);
        result
    }

    /// Waits for the next value. Cancel safe: a dropped `recv` loses nothing.
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        // A receive is a tokio resource: it spends the task's coop budget (see `task::coop`).
        crate::task::coop::cooperative(self.recv_inner()).await
    }

    async fn recv_inner(&mut self) -> Result<T, RecvError> {
        // Unregisters this receiver's waker if the `recv` is dropped while waiting.
        struct Waiting<'a, T> {
            shared: &'a Shared<T>,
            id: u64,
            registered: bool,
        }
        impl<T> Drop for Waiting<'_, T> {
            fn drop(&mut self) {
                if self.registered {
                    let id = self.id;
                    let old = self.shared.state.with(|r| {
                        let i = r.rx_waiters.iter().position(|(w, _)| *w == id)?;
                        Some(r.rx_waiters.swap_remove(i))
                    });
                    drop(old);
                }
            }
        }
        let Receiver { shared, id, next } = self;
        let mut waiting = Waiting {
            shared,
            id: *id,
            registered: false,
        };
        std::future::poll_fn(|cx| {
            let mut garbage = None;
            let mut replaced = None;
            let result = waiting
                .shared
                .state
                .with(|r| match r.read(next, &mut garbage) {
                    Err(TryRecvError::Empty) => {
                        let waker = cx.waker().clone();
                        match r.rx_waiters.iter_mut().find(|(w, _)| *w == waiting.id) {
                            Some((_, w)) => replaced = Some(std::mem::replace(w, waker)),
                            None => r.rx_waiters.push((waiting.id, waker)),
                        }
                        Poll::Pending
                    }
                    Err(TryRecvError::Closed) => Poll::Ready(Err(RecvError::Closed)),
                    Err(TryRecvError::Lagged(n)) => Poll::Ready(Err(RecvError::Lagged(n))),
                    Ok(v) => Poll::Ready(Ok(v)),
                });
            // Outside the lock: a replaced waker or a last value may use the channel on drop.
            drop((garbage, replaced));
            waiting.registered = result.is_pending();
            result
        })
        .await
    }

    /// `recv` from blocking (non-async) code: blocks this task until a value comes.
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Result<T, RecvError> {
        detest::future::block_on(self.recv())
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut values = Vec::new();
        let closed_waiters = self.shared.state.with(|r| {
            r.receivers -= 1;
            // Count every value this receiver still owed as read, so the last reader of each
            // drops it (tokio's receiver drop does the same walk).
            while self.next != r.tail {
                let at = self.next;
                let slot = r.slot(at);
                if slot.pos == at {
                    slot.rem -= 1;
                    if slot.rem == 0 {
                        values.extend(slot.value.take());
                    }
                    self.next = at.wrapping_add(1);
                } else {
                    // Overwritten: skip to the oldest retained.
                    self.next = r.tail.wrapping_sub(r.len());
                }
            }
            if r.receivers == 0 {
                std::mem::take(&mut r.closed_waiters)
            } else {
                Vec::new()
            }
        });
        drop(values);
        wake_all(closed_waiters);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Receiver")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}
