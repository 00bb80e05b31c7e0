//! The unbounded channel's handles: [`UnboundedSender`] (never waits),
//! [`WeakUnboundedSender`] (does not keep the channel open) and [`UnboundedReceiver`].

use super::chan::Chan;
use super::error::{SendError, TryRecvError};
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Sends on an unbounded channel (never waits).
pub struct UnboundedSender<T> {
    pub(super) chan: Arc<Chan<T>>,
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

    /// Completes when the receiver has closed the channel or been dropped (so a producer can
    /// stop working for nobody).
    pub async fn closed(&self) {
        std::future::poll_fn(|cx| self.chan.poll_closed(cx)).await
    }

    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }

    /// As [`Sender::downgrade`](super::Sender::downgrade).
    #[must_use = "Downgrade creates a WeakSender without destroying the original non-weak sender."]
    #[track_caller]
    pub fn downgrade(&self) -> WeakUnboundedSender<T> {
        self.chan.add_weak();
        WeakUnboundedSender {
            chan: self.chan.clone(),
        }
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

/// As [`WeakSender`](super::WeakSender), for an unbounded channel.
///
/// ```ignore
/// let (tx, _rx) = tokio::sync::mpsc::unbounded_channel::<i32>();
/// let weak = tx.downgrade();
/// drop(tx);
/// assert!(weak.upgrade().is_none());
/// ```
pub struct WeakUnboundedSender<T> {
    chan: Arc<Chan<T>>,
}

impl<T> WeakUnboundedSender<T> {
    #[track_caller]
    pub fn upgrade(&self) -> Option<UnboundedSender<T>> {
        self.chan.upgrade().then(|| UnboundedSender {
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

impl<T> Clone for WeakUnboundedSender<T> {
    fn clone(&self) -> Self {
        self.chan.add_weak();
        WeakUnboundedSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for WeakUnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.drop_weak();
    }
}

impl<T> fmt::Debug for WeakUnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakUnboundedSender").finish()
    }
}

/// Receives from an unbounded channel.
pub struct UnboundedReceiver<T> {
    pub(super) chan: Arc<Chan<T>>,
}

impl<T> UnboundedReceiver<T> {
    pub async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.chan.poll_recv(cx)).await
    }

    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }

    /// As [`Receiver::recv_many`](super::Receiver::recv_many).
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

    #[track_caller]
    pub fn close(&mut self) {
        self.chan.close_rx()
    }

    /// Closed by [`close`](Self::close) or because every strong sender is gone.
    #[track_caller]
    pub fn is_closed(&self) -> bool {
        self.chan.rx_is_closed()
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

    #[track_caller]
    pub fn sender_strong_count(&self) -> usize {
        self.chan.strong_count()
    }

    #[track_caller]
    pub fn sender_weak_count(&self) -> usize {
        self.chan.weak_count()
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
