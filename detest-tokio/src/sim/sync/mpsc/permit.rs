//! Reserved slots of a bounded channel: [`Permit`] (borrows its sender), [`PermitIterator`]
//! (`n` of them from one `reserve_many`) and [`OwnedPermit`] (owns its sender). Sending on one
//! cannot wait or fail for lack of room; a permit given back unused frees its slot, and the
//! last one coming back wakes a closed receiver waiting for it (as tokio's).

use super::bounded::Sender;
use super::chan::Chan;
use std::fmt;
use std::sync::Arc;

/// A reserved slot: `send` cannot fail or wait.
pub struct Permit<'a, T> {
    chan: &'a Arc<Chan<T>>,
    sent: bool,
}

impl<'a, T> Permit<'a, T> {
    pub(super) fn new(chan: &'a Arc<Chan<T>>) -> Self {
        Permit { chan, sent: false }
    }

    #[track_caller]
    pub fn send(mut self, value: T) {
        self.sent = true;
        send(self.chan, value);
    }
}

/// A reserved slot's value goes in (a receiver that is gone drops it, as tokio's does).
#[track_caller]
fn send<T>(chan: &Chan<T>, value: T) {
    if chan.push(value, true).is_err() {
        chan.unreserve(1);
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        if !self.sent {
            self.chan.unreserve(1);
        }
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}

/// `n` reserved slots, yielded one [`Permit`] at a time; those not taken are given back when
/// it drops.
///
/// ```ignore
/// let (tx, mut rx) = tokio::sync::mpsc::channel(2);
/// for permit in tx.reserve_many(2).await.unwrap() {
///     permit.send("x");
/// }
/// assert_eq!(rx.recv().await, Some("x"));
/// ```
pub struct PermitIterator<'a, T> {
    chan: &'a Arc<Chan<T>>,
    n: usize,
}

impl<'a, T> PermitIterator<'a, T> {
    pub(super) fn new(chan: &'a Arc<Chan<T>>, n: usize) -> Self {
        PermitIterator { chan, n }
    }
}

impl<'a, T> Iterator for PermitIterator<'a, T> {
    type Item = Permit<'a, T>;

    fn next(&mut self) -> Option<Permit<'a, T>> {
        if self.n == 0 {
            return None;
        }
        self.n -= 1;
        Some(Permit::new(self.chan))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.n, Some(self.n))
    }
}

impl<T> ExactSizeIterator for PermitIterator<'_, T> {}
impl<T> std::iter::FusedIterator for PermitIterator<'_, T> {}

impl<T> Drop for PermitIterator<'_, T> {
    fn drop(&mut self) {
        if self.n > 0 {
            self.chan.unreserve(self.n);
        }
    }
}

impl<T> fmt::Debug for PermitIterator<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PermitIterator")
            .field("capacity", &self.n)
            .finish_non_exhaustive()
    }
}

/// A reserved slot that owns its [`Sender`] (so it keeps the channel open and can move into
/// another task); using it gives the sender back.
///
/// ```ignore
/// let (tx, mut rx) = tokio::sync::mpsc::channel(1);
/// let permit = tx.reserve_owned().await.unwrap();
/// let tx = permit.send(1); // the sender again
/// assert_eq!(rx.recv().await, Some(1));
/// # drop(tx);
/// ```
pub struct OwnedPermit<T> {
    /// `None` only once `send` or `release` took it.
    sender: Option<Sender<T>>,
}

impl<T> OwnedPermit<T> {
    pub(super) fn new(sender: Sender<T>) -> Self {
        OwnedPermit {
            sender: Some(sender),
        }
    }

    fn take(&mut self) -> Sender<T> {
        self.sender
            .take()
            .expect("taken only when the permit is used")
    }

    /// Queues `value` in the reserved slot; returns the sender.
    #[track_caller]
    pub fn send(mut self, value: T) -> Sender<T> {
        let sender = self.take();
        send(&sender.chan, value);
        sender
    }

    /// Gives the slot back unused; returns the sender.
    #[track_caller]
    pub fn release(mut self) -> Sender<T> {
        let sender = self.take();
        sender.chan.unreserve(1);
        sender
    }

    pub fn same_channel(&self, other: &Self) -> bool {
        match (&self.sender, &other.sender) {
            (Some(a), Some(b)) => a.same_channel(b),
            _ => false,
        }
    }

    pub fn same_channel_as_sender(&self, sender: &Sender<T>) -> bool {
        self.sender.as_ref().is_some_and(|s| s.same_channel(sender))
    }
}

impl<T> Drop for OwnedPermit<T> {
    fn drop(&mut self) {
        // The slot goes back first, then the sender (as tokio's: a closed receiver sees the
        // channel idle, then, if this was the last sender, closed).
        if let Some(sender) = self.sender.take() {
            sender.chan.unreserve(1);
        }
    }
}

impl<T> fmt::Debug for OwnedPermit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit").finish_non_exhaustive()
    }
}
