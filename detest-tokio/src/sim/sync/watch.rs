//! `tokio::sync::watch`: one value, many receivers, each remembering the version it last saw.
//! The value lives in a `detest::sync::RwLock` (so a [`Ref`] is a read guard, as tokio's is);
//! versions, counts and wakers behind the primitive's state lock, each access a scheduling point.
//!
//! ```ignore
//! let (tx, mut rx) = tokio::sync::watch::channel("one");
//! let t = tokio::spawn(async move {
//!     rx.changed().await.unwrap();
//!     *rx.borrow_and_update()
//! });
//! tx.send("two").unwrap();
//! assert_eq!(t.await.unwrap(), "two");
//! ```

use super::State;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::task::{Poll, Waker};

/// The error types, at tokio's paths.
pub mod error {
    use std::fmt;

    /// `send` found no receiver; the value is given back.
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

    /// Every sender is gone.
    #[derive(Debug, PartialEq, Eq, Clone)]
    pub struct RecvError(pub(super) ());

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("channel closed")
        }
    }

    impl std::error::Error for RecvError {}
}

use error::{RecvError, SendError};

struct Shared<T> {
    value: detest::sync::RwLock<T>,
    state: State<WatchState>,
}

struct WatchState {
    version: u64,
    senders: usize,
    receivers: usize,
    /// Receivers waiting in `changed` (woken by a new version or the last sender leaving).
    rx_wakers: Vec<Waker>,
    /// Senders waiting in `closed` (woken by the last receiver leaving).
    tx_wakers: Vec<Waker>,
}

fn register(wakers: &mut Vec<Waker>, waker: &Waker) {
    if !wakers.iter().any(|w| w.will_wake(waker)) {
        wakers.push(waker.clone());
    }
}

fn wake_all(wakers: &mut Vec<Waker>) {
    for w in wakers.drain(..) {
        w.wake();
    }
}

/// A channel holding `init`; receivers start having seen it.
#[track_caller]
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: detest::sync::RwLock::new(init),
        state: State::new(WatchState {
            version: 0,
            senders: 1,
            receivers: 1,
            rx_wakers: Vec::new(),
            tx_wakers: Vec::new(),
        }),
    });
    let rx = Receiver {
        shared: shared.clone(),
        version: 0,
    };
    (Sender { shared }, rx)
}

/// A borrowed value (a read lock on it: do not hold it across `.await` or a send).
pub struct Ref<'a, T> {
    guard: detest::sync::RwLockReadGuard<'a, T>,
    has_changed: bool,
}

impl<T> Ref<'_, T> {
    /// Whether the receiver had not seen this version when borrowing it.
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T> Shared<T> {
    #[track_caller]
    fn read(&self) -> detest::sync::RwLockReadGuard<'_, T> {
        // A `send_modify` closure that panicked poisons the lock; tokio keeps the value as the
        // closure left it, and so do we.
        self.value.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `modify` on the value; a new version (waking receivers) if it returns true.
    #[track_caller]
    fn modify(&self, modify: impl FnOnce(&mut T) -> bool) -> bool {
        let mut guard = self.value.write().unwrap_or_else(|e| e.into_inner());
        let changed = modify(&mut guard);
        if changed {
            // Still under the write lock, as tokio's: a reader holding the read lock sees a
            // version that matches the value it reads.
            self.state.with(|s| {
                s.version += 1;
                wake_all(&mut s.rx_wakers);
            });
        }
        changed
    }
}

/// `Receiver::changed`, on the parts of a receiver (so `wait_for` can hold a borrow of the value
/// while it waits).
async fn changed<T>(shared: &Shared<T>, version: &mut u64) -> Result<(), RecvError> {
    let seen = *version;
    let current = std::future::poll_fn(|cx| {
        shared.state.with(|s| {
            if s.version != seen {
                Poll::Ready(Ok(s.version))
            } else if s.senders == 0 {
                Poll::Ready(Err(RecvError(())))
            } else {
                register(&mut s.rx_wakers, cx.waker());
                Poll::Pending
            }
        })
    })
    .await?;
    *version = current;
    Ok(())
}

/// The sending half; cloneable.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Stores `value` and notifies receivers; fails (returning it) when no receiver is left.
    #[track_caller]
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.shared.state.with(|s| s.receivers) == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Stores `value` even with no receiver, returning the previous one.
    #[track_caller]
    pub fn send_replace(&self, mut value: T) -> T {
        self.shared.modify(|v| {
            std::mem::swap(v, &mut value);
            true
        });
        value
    }

    /// Modifies the value in place and notifies receivers (even with none). If `modify`
    /// panics, the value stays as it left it and no new version is published (as tokio's).
    #[track_caller]
    pub fn send_modify(&self, modify: impl FnOnce(&mut T)) {
        self.shared.modify(|v| {
            modify(v);
            true
        });
    }

    /// As `send_modify`, publishing a new version only when `modify` returns true.
    #[track_caller]
    pub fn send_if_modified(&self, modify: impl FnOnce(&mut T) -> bool) -> bool {
        self.shared.modify(modify)
    }

    #[track_caller]
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.read(),
            has_changed: false,
        }
    }

    #[track_caller]
    pub fn is_closed(&self) -> bool {
        self.shared.state.with(|s| s.receivers == 0)
    }

    /// Completes when every receiver is gone.
    pub async fn closed(&self) {
        // A tokio resource: it spends the task's coop budget (see `task::coop`).
        crate::task::coop::cooperative(self.closed_inner()).await
    }

    async fn closed_inner(&self) {
        std::future::poll_fn(|cx| {
            self.shared.state.with(|s| {
                if s.receivers == 0 {
                    Poll::Ready(())
                } else {
                    register(&mut s.tx_wakers, cx.waker());
                    Poll::Pending
                }
            })
        })
        .await
    }

    /// A new receiver that has seen the current value.
    #[track_caller]
    pub fn subscribe(&self) -> Receiver<T> {
        let version = self.shared.state.with(|s| {
            s.receivers += 1;
            s.version
        });
        Receiver {
            shared: self.shared.clone(),
            version,
        }
    }

    #[track_caller]
    pub fn receiver_count(&self) -> usize {
        self.shared.state.with(|s| s.receivers)
    }

    #[track_caller]
    pub fn sender_count(&self) -> usize {
        self.shared.state.with(|s| s.senders)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.state.with(|s| s.senders += 1);
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.shared.state.with(|s| {
            s.senders -= 1;
            if s.senders == 0 {
                wake_all(&mut s.rx_wakers);
            }
        });
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

/// A receiving half; clones start at the same seen version.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The version this receiver last saw.
    version: u64,
}

impl<T> Receiver<T> {
    #[track_caller]
    fn current(&self) -> (u64, bool) {
        self.shared.state.with(|s| (s.version, s.senders == 0))
    }

    /// The value, without marking it seen.
    #[track_caller]
    pub fn borrow(&self) -> Ref<'_, T> {
        // The read lock first: while held no send can run, so the version is the value's.
        let guard = self.shared.read();
        let (version, _) = self.current();
        Ref {
            guard,
            has_changed: version != self.version,
        }
    }

    /// The value, marking it seen.
    #[track_caller]
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        // As `borrow`: the version read under the read lock is the one of the value returned.
        let guard = self.shared.read();
        let (version, _) = self.current();
        let has_changed = version != self.version;
        self.version = version;
        Ref { guard, has_changed }
    }

    /// Whether a version this receiver has not seen exists; `Err` once every sender is gone.
    #[track_caller]
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let (version, closed) = self.current();
        if closed {
            return Err(RecvError(()));
        }
        Ok(version != self.version)
    }

    /// Makes the current value count as unseen.
    #[track_caller]
    pub fn mark_changed(&mut self) {
        self.version = self.current().0.wrapping_sub(1);
    }

    /// Makes the current value count as seen.
    #[track_caller]
    pub fn mark_unchanged(&mut self) {
        self.version = self.current().0;
    }

    /// Waits for a version this receiver has not seen and marks it seen; `Err` when every
    /// sender is gone and nothing unseen is left.
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        // Waiting is a tokio resource: it spends the task's coop budget (see `task::coop`).
        crate::task::coop::cooperative(changed(&self.shared, &mut self.version)).await
    }

    /// Waits until the value satisfies `f` (checking the current one first) and returns it,
    /// marked seen; `Err` once every sender is gone and the last value did not satisfy it.
    pub async fn wait_for(&mut self, f: impl FnMut(&T) -> bool) -> Result<Ref<'_, T>, RecvError> {
        crate::task::coop::cooperative(self.wait_for_inner(f)).await
    }

    async fn wait_for_inner(
        &mut self,
        mut f: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        // Split borrows: the returned guard borrows `shared` only, the loop updates `version`.
        let Receiver { shared, version } = self;
        let shared: &Arc<Shared<T>> = shared;
        let mut closed = false;
        loop {
            {
                let guard = shared.read();
                let current = shared.state.with(|s| s.version);
                let has_changed = current != *version;
                *version = current;
                // As tokio's: after the close, only a value not seen yet is checked again.
                if (!closed || has_changed) && f(&guard) {
                    return Ok(Ref { guard, has_changed });
                }
            }
            if closed {
                return Err(RecvError(()));
            }
            closed = changed(shared, version).await.is_err();
        }
    }

    /// Whether both receivers belong to one channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.state.with(|s| s.receivers += 1);
        Receiver {
            shared: self.shared.clone(),
            version: self.version,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.shared.state.with(|s| {
            s.receivers -= 1;
            if s.receivers == 0 {
                wake_all(&mut s.tx_wakers);
            }
        });
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}
