//! The bounded channel's handles: [`Sender`] (waits for a free slot), [`WeakSender`] (does
//! not keep the channel open) and [`Receiver`].

use super::chan::Chan;
use super::error::{SendError, TryRecvError, TrySendError};
use super::permit::{OwnedPermit, Permit, PermitIterator};
use crate::sim::sync::semaphore::TryAcquireError;
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Sends on a bounded channel.
pub struct Sender<T> {
    pub(super) chan: Arc<Chan<T>>,
}

fn try_error<E>(e: TryAcquireError, value: E) -> TrySendError<E> {
    match e {
        TryAcquireError::NoPermits => TrySendError::Full(value),
        TryAcquireError::Closed => TrySendError::Closed(value),
    }
}

impl<T> Sender<T> {
    /// Waits for a free slot (FIFO among senders), then queues `value`.
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.chan.reserve(1).await.is_err() {
            return Err(SendError(value));
        }
        self.chan.push(value, true).map_err(|v| {
            self.chan.unreserve(1);
            SendError(v)
        })
    }

    #[track_caller]
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.chan.try_reserve(1) {
            Ok(()) => self.chan.push(value, true).map_err(|v| {
                self.chan.unreserve(1);
                TrySendError::Closed(v)
            }),
            Err(e) => Err(try_error(e, value)),
        }
    }

    /// Waits for a free slot and reserves it.
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        match self.chan.reserve(1).await {
            Ok(()) => Ok(Permit::new(&self.chan)),
            Err(()) => Err(SendError(())),
        }
    }

    /// Waits for `n` slots at once (one place in the FIFO queue); fails at once if `n` is
    /// more than the channel's capacity. `n == 0` succeeds unless the channel is closed.
    pub async fn reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, SendError<()>> {
        match self.chan.reserve(n).await {
            Ok(()) => Ok(PermitIterator::new(&self.chan, n)),
            Err(()) => Err(SendError(())),
        }
    }

    /// As [`reserve`](Self::reserve), the permit owning the sender (it keeps the channel
    /// open, and gives the sender back when used).
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<()>> {
        match self.chan.reserve(1).await {
            Ok(()) => Ok(OwnedPermit::new(self)),
            Err(()) => Err(SendError(())),
        }
    }

    #[track_caller]
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        match self.chan.try_reserve(1) {
            Ok(()) => Ok(Permit::new(&self.chan)),
            Err(e) => Err(try_error(e, ())),
        }
    }

    #[track_caller]
    pub fn try_reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, TrySendError<()>> {
        match self.chan.try_reserve(n) {
            Ok(()) => Ok(PermitIterator::new(&self.chan, n)),
            Err(e) => Err(try_error(e, ())),
        }
    }

    /// As [`try_reserve`](Self::try_reserve); the sender comes back in the error.
    #[track_caller]
    pub fn try_reserve_owned(self) -> Result<OwnedPermit<T>, TrySendError<Self>> {
        match self.chan.try_reserve(1) {
            Ok(()) => Ok(OwnedPermit::new(self)),
            Err(e) => Err(try_error(e, self)),
        }
    }

    #[track_caller]
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Completes when the receiver has closed the channel or been dropped (so a producer can
    /// stop working for nobody).
    pub async fn closed(&self) {
        std::future::poll_fn(|cx| self.chan.poll_closed(cx)).await
    }

    /// Free slots now.
    #[track_caller]
    pub fn capacity(&self) -> usize {
        self.chan.slots().available_permits()
    }

    pub fn max_capacity(&self) -> usize {
        self.chan.capacity
    }

    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }

    /// A handle that does not keep the channel open; [`WeakSender::upgrade`] makes it a
    /// sender again while some strong sender is left.
    #[must_use = "Downgrade creates a WeakSender without destroying the original non-weak sender."]
    #[track_caller]
    pub fn downgrade(&self) -> WeakSender<T> {
        self.chan.add_weak();
        WeakSender {
            chan: self.chan.clone(),
        }
    }

    /// Strong senders (this one included; an `OwnedPermit` counts).
    #[track_caller]
    pub fn strong_count(&self) -> usize {
        self.chan.strong_count()
    }

    #[track_caller]
    pub fn weak_count(&self) -> usize {
        self.chan.weak_count()
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

/// A sender that does not keep the channel open: once every [`Sender`] is gone the receiver
/// sees the end, and [`upgrade`](Self::upgrade) fails from then on.
///
/// ```ignore
/// let (tx, _rx) = tokio::sync::mpsc::channel::<i32>(1);
/// let weak = tx.downgrade();
/// assert!(weak.upgrade().is_some());
/// drop(tx);
/// assert!(weak.upgrade().is_none());
/// ```
pub struct WeakSender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> WeakSender<T> {
    /// A new sender, unless every strong sender is already gone. Racing the last sender's
    /// drop, either may come first (the schedule's choice).
    #[track_caller]
    pub fn upgrade(&self) -> Option<Sender<T>> {
        self.chan.upgrade().then(|| Sender {
            chan: self.chan.clone(),
        })
    }

    #[track_caller]
    pub fn strong_count(&self) -> usize {
        self.chan.strong_count()
    }

    #[track_caller]
    pub fn weak_count(&self) -> usize {
        self.chan.weak_count()
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> Self {
        self.chan.add_weak();
        WeakSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for WeakSender<T> {
    fn drop(&mut self) {
        self.chan.drop_weak();
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakSender").finish()
    }
}

/// Receives from a bounded channel.
pub struct Receiver<T> {
    pub(super) chan: Arc<Chan<T>>,
}

impl<T> Receiver<T> {
    /// The next value; `None` once the channel is closed and drained.
    pub async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.chan.poll_recv(cx)).await
    }

    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }

    /// Waits for a value (unless `limit` is 0), then appends to `buffer` every queued value
    /// up to `limit`, returning how many; 0 once the channel is closed and drained.
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        std::future::poll_fn(|cx| self.chan.poll_recv_many(cx, buffer, limit)).await
    }

    pub fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        self.chan.poll_recv_many(cx, buffer, limit)
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

    /// Closed by [`close`](Self::close) or because every strong sender is gone (values may
    /// still be queued).
    #[track_caller]
    pub fn is_closed(&self) -> bool {
        self.chan.rx_is_closed()
    }

    pub fn max_capacity(&self) -> usize {
        self.chan.capacity
    }

    /// Values queued now.
    #[track_caller]
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    #[track_caller]
    pub fn is_empty(&self) -> bool {
        self.chan.len() == 0
    }

    /// Free slots now (as [`Sender::capacity`]).
    #[track_caller]
    pub fn capacity(&self) -> usize {
        self.chan.slots().available_permits()
    }

    #[track_caller]
    pub fn sender_strong_count(&self) -> usize {
        self.chan.strong_count()
    }

    #[track_caller]
    pub fn sender_weak_count(&self) -> usize {
        self.chan.weak_count()
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
