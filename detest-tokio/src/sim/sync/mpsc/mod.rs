//! `tokio::sync::mpsc`: bounded channels (capacity is a FIFO [`Semaphore`] of queue slots,
//! as tokio's: blocked senders are served in order) and unbounded ones. The channel closes
//! when every sender is gone (the receiver then drains what is queued and gets `None`) or
//! when the receiver closes or drops (sends fail, giving the value back).
//!
//! ```ignore
//! let (tx, mut rx) = tokio::sync::mpsc::channel(1);
//! tokio::spawn(async move { tx.send(1).await.unwrap() });
//! assert_eq!(rx.recv().await, Some(1));
//! assert_eq!(rx.recv().await, None); // the sender was dropped
//! ```

use super::semaphore::{Semaphore, TryAcquireError};
use super::State;
use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

pub mod error {
    //! Channel errors (tokio's names).
    use std::fmt;

    /// The receiver is gone: the value comes back.
    #[derive(PartialEq, Eq, Clone, Copy)]
    pub struct SendError<T>(pub T);

    impl<T> fmt::Debug for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("SendError").finish_non_exhaustive()
        }
    }

    impl<T> fmt::Display for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("channel closed")
        }
    }

    impl<T> std::error::Error for SendError<T> {}

    #[derive(PartialEq, Eq, Clone, Copy)]
    pub enum TrySendError<T> {
        Full(T),
        Closed(T),
    }

    impl<T> TrySendError<T> {
        pub fn into_inner(self) -> T {
            match self {
                TrySendError::Full(v) | TrySendError::Closed(v) => v,
            }
        }
    }

    impl<T> fmt::Debug for TrySendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TrySendError::Full(_) => f.write_str("Full(..)"),
                TrySendError::Closed(_) => f.write_str("Closed(..)"),
            }
        }
    }

    impl<T> fmt::Display for TrySendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TrySendError::Full(_) => f.write_str("no available capacity"),
                TrySendError::Closed(_) => f.write_str("channel closed"),
            }
        }
    }

    impl<T> std::error::Error for TrySendError<T> {}

    #[derive(Debug, PartialEq, Eq, Clone, Copy)]
    pub enum TryRecvError {
        Empty,
        Disconnected,
    }

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TryRecvError::Empty => f.write_str("receiving on an empty channel"),
                TryRecvError::Disconnected => f.write_str("receiving on a closed channel"),
            }
        }
    }

    impl std::error::Error for TryRecvError {}
}

use error::{SendError, TryRecvError, TrySendError};

struct Chan<T> {
    state: State<ChanState<T>>,
    /// Bounded channels: one permit per free queue slot.
    slots: Option<Semaphore>,
    capacity: usize,
}

struct ChanState<T> {
    queue: VecDeque<T>,
    senders: usize,
    rx_closed: bool,
    /// The receiver is gone: nothing queued from now on would ever be received.
    rx_dropped: bool,
    rx_waker: Option<Waker>,
}

impl<T> Chan<T> {
    fn new(capacity: Option<usize>) -> Arc<Self> {
        Arc::new(Chan {
            state: State::new(ChanState {
                queue: VecDeque::new(),
                senders: 1,
                rx_closed: false,
                rx_dropped: false,
                rx_waker: None,
            }),
            slots: capacity.map(Semaphore::new),
            capacity: capacity.unwrap_or(usize::MAX),
        })
    }

    /// Queues `value`; gives it back if the receiver is gone, or closed and the value has no
    /// slot reserved before (tokio delivers what reserved permits send after a `close`).
    #[track_caller]
    fn push(&self, value: T, reserved: bool) -> Result<(), T> {
        self.state.with(|s| {
            if s.rx_dropped || (s.rx_closed && !reserved) {
                return Err(value);
            }
            s.queue.push_back(value);
            if let Some(waker) = s.rx_waker.take() {
                waker.wake();
            }
            Ok(())
        })
    }

    /// Slots taken by senders that have not sent yet (reserved permits, or a `send` between
    /// its slot and its push): after a `close`, the receiver still waits for those.
    fn reserved(&self, queued: usize) -> usize {
        self.slots
            .as_ref()
            .map_or(0, |slots| self.capacity - slots.free_permits() - queued)
    }

    fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let out = self.state.with(|s| match s.queue.pop_front() {
            Some(v) => Poll::Ready(Some(v)),
            None if s.senders == 0 => Poll::Ready(None),
            None if s.rx_closed && self.reserved(0) == 0 => Poll::Ready(None),
            None => {
                s.rx_waker = Some(cx.waker().clone());
                Poll::Pending
            }
        });
        if let (Poll::Ready(Some(_)), Some(slots)) = (&out, &self.slots) {
            slots.release(1);
        }
        out
    }

    fn try_recv(&self) -> Result<T, TryRecvError> {
        let out = self.state.with(|s| match s.queue.pop_front() {
            Some(v) => Ok(v),
            None if s.senders == 0 => Err(TryRecvError::Disconnected),
            None if s.rx_closed && self.reserved(0) == 0 => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        });
        if let (Ok(_), Some(slots)) = (&out, &self.slots) {
            slots.release(1);
        }
        out
    }

    fn drop_rx(&self) {
        self.close_rx();
        // Queued values are dropped with the receiver, as tokio's (outside the lock: their
        // destructors are user code).
        let queued = self.state.with(|s| {
            s.rx_dropped = true;
            std::mem::take(&mut s.queue)
        });
        drop(queued);
    }

    fn close_rx(&self) {
        self.state.with(|s| s.rx_closed = true);
        if let Some(slots) = &self.slots {
            slots.close(); // blocked senders fail now
        }
    }

    /// A reserved slot was given back unused: a closed receiver may be done waiting.
    fn unreserve(&self) {
        self.slots.as_ref().expect("bounded").release(1);
        self.state.with(|s| {
            if let Some(waker) = s.rx_waker.take() {
                waker.wake();
            }
        })
    }

    fn is_closed(&self) -> bool {
        self.state.with(|s| s.rx_closed)
    }

    fn add_sender(&self) {
        self.state.with(|s| s.senders += 1);
    }

    fn drop_sender(&self) {
        self.state.with(|s| {
            s.senders -= 1;
            if s.senders == 0 {
                if let Some(waker) = s.rx_waker.take() {
                    waker.wake();
                }
            }
        })
    }
}

/// Creates a bounded channel of `buffer` slots.
///
/// # Panics
/// If `buffer` is 0 (as tokio's).
#[track_caller]
pub fn channel<T>(buffer: usize) -> (Sender<T>, Receiver<T>) {
    assert!(buffer > 0, "mpsc bounded channel requires buffer > 0");
    let chan = Chan::new(Some(buffer));
    (Sender { chan: chan.clone() }, Receiver { chan })
}

/// Creates an unbounded channel.
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = Chan::new(None);
    (
        UnboundedSender { chan: chan.clone() },
        UnboundedReceiver { chan },
    )
}

/// Sends on a bounded channel.
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Sender<T> {
    fn slots(&self) -> &Semaphore {
        self.chan.slots.as_ref().expect("bounded")
    }

    /// Waits for a free slot (FIFO among senders), then queues `value`.
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.slots().acquire_raw(1).await.is_err() {
            return Err(SendError(value));
        }
        self.chan.push(value, true).map_err(|v| {
            self.chan.unreserve();
            SendError(v)
        })
    }

    #[track_caller]
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.slots().try_acquire_raw(1) {
            Ok(()) => self.chan.push(value, true).map_err(|v| {
                self.chan.unreserve();
                TrySendError::Closed(v)
            }),
            Err(TryAcquireError::NoPermits) => Err(TrySendError::Full(value)),
            Err(TryAcquireError::Closed) => Err(TrySendError::Closed(value)),
        }
    }

    /// Waits for a free slot and reserves it.
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        match self.slots().acquire_raw(1).await {
            Ok(()) => Ok(Permit {
                chan: &self.chan,
                sent: false,
            }),
            Err(_) => Err(SendError(())),
        }
    }

    #[track_caller]
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        match self.slots().try_acquire_raw(1) {
            Ok(()) => Ok(Permit {
                chan: &self.chan,
                sent: false,
            }),
            Err(TryAcquireError::NoPermits) => Err(TrySendError::Full(())),
            Err(TryAcquireError::Closed) => Err(TrySendError::Closed(())),
        }
    }

    #[track_caller]
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Free slots now.
    #[track_caller]
    pub fn capacity(&self) -> usize {
        self.slots().available_permits()
    }

    pub fn max_capacity(&self) -> usize {
        self.chan.capacity
    }

    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

/// A reserved slot of a bounded channel: `send` cannot fail or wait.
pub struct Permit<'a, T> {
    chan: &'a Arc<Chan<T>>,
    sent: bool,
}

impl<T> Permit<'_, T> {
    #[track_caller]
    pub fn send(mut self, value: T) {
        self.sent = true;
        if self.chan.push(value, true).is_err() {
            // The receiver is gone: tokio drops the value too.
            self.chan.unreserve();
        }
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        if !self.sent {
            self.chan.unreserve();
        }
    }
}

/// Receives from a bounded channel.
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
}

impl<T> Receiver<T> {
    /// The next value; `None` once the channel is closed and drained.
    pub async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.chan.poll_recv(cx)).await
    }

    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }

    #[track_caller]
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// Closes the channel for sending; queued values can still be received.
    #[track_caller]
    pub fn close(&mut self) {
        self.chan.close_rx()
    }

    pub fn max_capacity(&self) -> usize {
        self.chan.capacity
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.chan.drop_rx();
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}

/// Sends on an unbounded channel (never waits).
pub struct UnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> UnboundedSender<T> {
    #[track_caller]
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.push(value, false).map_err(SendError)
    }

    #[track_caller]
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> Self {
        self.chan.add_sender();
        UnboundedSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.drop_sender();
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedSender").finish_non_exhaustive()
    }
}

/// Receives from an unbounded channel.
pub struct UnboundedReceiver<T> {
    chan: Arc<Chan<T>>,
}

impl<T> UnboundedReceiver<T> {
    pub async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.chan.poll_recv(cx)).await
    }

    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }

    #[track_caller]
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    #[track_caller]
    pub fn close(&mut self) {
        self.chan.close_rx()
    }
}

impl<T> Drop for UnboundedReceiver<T> {
    fn drop(&mut self) {
        self.chan.drop_rx();
    }
}

impl<T> fmt::Debug for UnboundedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedReceiver").finish_non_exhaustive()
    }
}
