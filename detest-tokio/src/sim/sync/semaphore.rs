//! `tokio::sync::Semaphore`: permits handed out in FIFO order, as tokio's. A released permit
//! goes to the oldest waiter first, even one that needs more permits than are free (it takes
//! them as they come), so a large request is never starved by small ones.

use super::State;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// A counting semaphore.
///
/// ```ignore
/// let pool = std::sync::Arc::new(tokio::sync::Semaphore::new(2));
/// let permit = pool.clone().acquire_owned().await.unwrap();
/// assert_eq!(pool.available_permits(), 1);
/// drop(permit);
/// assert_eq!(pool.available_permits(), 2);
/// ```
pub struct Semaphore {
    state: State<SemState>,
}

struct SemState {
    permits: usize,
    closed: bool,
    next_id: u64,
    waiters: VecDeque<Waiter>,
}

struct Waiter {
    id: u64,
    /// Permits still missing (0: served, waiting to be polled).
    missing: usize,
    waker: Option<Waker>,
}

impl SemState {
    /// Hands free permits to the queue front, oldest first; returns the wakers of the waiters
    /// it completed, to be woken once out of the section (waking may drop the last reference
    /// to a waker, running user code that may use this semaphore again).
    #[must_use]
    fn assign(&mut self) -> Vec<Waker> {
        let mut woken = Vec::new();
        if self.closed {
            // As tokio's: closing empties the queue (every waiter fails when next polled), so
            // permits given back from then on stay free.
            return woken;
        }
        for w in self.waiters.iter_mut() {
            if self.permits == 0 {
                break;
            }
            if w.missing == 0 {
                continue;
            }
            let take = w.missing.min(self.permits);
            w.missing -= take;
            self.permits -= take;
            if w.missing > 0 {
                break; // FIFO: nobody behind an unserved waiter gets a permit
            }
            woken.extend(w.waker.take());
        }
        woken
    }
}

fn wake_all(wakers: Vec<Waker>) {
    wakers.into_iter().for_each(Waker::wake);
}

/// The semaphore was closed.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct AcquireError(());

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore closed")
    }
}

impl std::error::Error for AcquireError {}

/// Why a `try_acquire` failed.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum TryAcquireError {
    Closed,
    NoPermits,
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::Closed => f.write_str("semaphore closed"),
            TryAcquireError::NoPermits => f.write_str("no permits available"),
        }
    }
}

impl std::error::Error for TryAcquireError {}

impl Semaphore {
    /// The most permits a semaphore may hold (tokio's limit).
    pub const MAX_PERMITS: usize = usize::MAX >> 3;

    pub const fn new(permits: usize) -> Semaphore {
        Semaphore::within(permits, 0, std::mem::size_of::<Self>())
    }

    /// A semaphore `offset` bytes into a primitive `size` bytes long (see `State::within`).
    pub(crate) const fn within(permits: usize, offset: usize, size: usize) -> Semaphore {
        assert!(
            permits <= Self::MAX_PERMITS,
            "a semaphore may not have more than MAX_PERMITS permits"
        );
        Semaphore {
            state: State::within(
                SemState {
                    permits,
                    closed: false,
                    next_id: 0,
                    waiters: VecDeque::new(),
                },
                offset + std::mem::offset_of!(Semaphore, state),
                size,
            ),
        }
    }

    pub const fn const_new(permits: usize) -> Semaphore {
        Semaphore::new(permits)
    }

    #[track_caller]
    pub fn available_permits(&self) -> usize {
        self.state.with(|s| s.permits)
    }

    /// Adds `n` permits (serving waiters first, in order).
    #[track_caller]
    pub fn add_permits(&self, n: usize) {
        wake_all(self.state.with(|s| {
            s.permits += n;
            s.assign()
        }))
    }

    /// Closes the semaphore: pending and later acquires fail; permits held stay valid.
    #[track_caller]
    pub fn close(&self) {
        wake_all(self.state.with(|s| {
            s.closed = true;
            s.waiters
                .iter_mut()
                .filter_map(|w| w.waker.take())
                .collect()
        }))
    }

    #[track_caller]
    pub fn is_closed(&self) -> bool {
        self.state.with(|s| s.closed)
    }

    pub async fn acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.acquire_many(1).await
    }

    pub async fn acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        Acquire::new(self, n as usize).await?;
        Ok(SemaphorePermit {
            sem: self,
            permits: n,
        })
    }

    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_many_owned(1).await
    }

    pub async fn acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        Acquire::new(&self, n as usize).await?;
        Ok(OwnedSemaphorePermit {
            sem: self,
            permits: n,
        })
    }

    #[track_caller]
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    #[track_caller]
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_take(n as usize)?;
        Ok(SemaphorePermit {
            sem: self,
            permits: n,
        })
    }

    #[track_caller]
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    #[track_caller]
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_take(n as usize)?;
        Ok(OwnedSemaphorePermit {
            sem: self,
            permits: n,
        })
    }

    /// Takes `n` free permits now. Free permits exist only when no waiter could use them, so
    /// this never jumps the queue.
    #[track_caller]
    fn try_take(&self, n: usize) -> Result<(), TryAcquireError> {
        self.state.with(|s| {
            if s.closed {
                Err(TryAcquireError::Closed)
            } else if s.permits >= n {
                s.permits -= n;
                Ok(())
            } else {
                Err(TryAcquireError::NoPermits)
            }
        })
    }

    /// Free permits (also taken inside the channel's critical section: the lock order is
    /// channel, then semaphore, and never the reverse).
    pub(crate) fn free_permits(&self) -> usize {
        self.state.with(|s| s.permits)
    }

    #[track_caller]
    pub(crate) fn release(&self, n: usize) {
        if n > 0 {
            self.add_permits(n);
        }
    }

    /// Takes `n` permits without a guard (the bounded channel keeps them as queue slots).
    pub(crate) async fn acquire_raw(&self, n: usize) -> Result<(), AcquireError> {
        Acquire::new(self, n).await
    }

    pub(crate) fn try_acquire_raw(&self, n: usize) -> Result<(), TryAcquireError> {
        self.try_take(n)
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore").finish_non_exhaustive()
    }
}

/// A wait for `n` permits: queued on first poll unless served at once; dropping it before it
/// completes gives back what it was handed.
struct Acquire<'a> {
    sem: &'a Semaphore,
    n: usize,
    queued: Option<u64>,
    done: bool,
    /// The permits are taken but not handed over: the coop budget was spent (tokio takes
    /// them first, so the waiter keeps its place, then hands them over only with budget left).
    held: bool,
}

impl<'a> Acquire<'a> {
    fn new(sem: &'a Semaphore, n: usize) -> Self {
        Acquire {
            sem,
            n,
            queued: None,
            done: false,
            held: false,
        }
    }
}

impl Future for Acquire<'_> {
    type Output = Result<(), AcquireError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if !self.held {
            match std::task::ready!(self.as_mut().poll_acquire(cx)) {
                Err(e) => return Poll::Ready(Err(e)),
                Ok(()) => self.held = true,
            }
        }
        // A permit is a tokio resource: it is handed over only with coop budget left, and
        // spends a unit (see `task::coop`).
        let coop = std::task::ready!(crate::task::coop::poll_proceed(cx));
        coop.made_progress();
        self.held = false;
        Poll::Ready(Ok(()))
    }
}

impl Acquire<'_> {
    fn poll_acquire(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), AcquireError>> {
        let this = self.get_mut();
        let (n, queued) = (this.n, this.queued);
        // A waker replaced by a newer one is dropped once out of the section (see `assign`).
        let mut stale = None;
        let out = this.sem.state.with(|s| {
            if let Some(id) = queued {
                let pos = s.waiters.iter().position(|w| w.id == id).expect("queued");
                // Closed is checked first, as tokio does: a waiter served before the close but
                // polled after it fails too, giving back what it was handed.
                if s.closed {
                    let w = s.waiters.remove(pos).expect("queued");
                    s.permits += n - w.missing;
                    return Poll::Ready(Err(AcquireError(())));
                }
                if s.waiters[pos].missing == 0 {
                    s.waiters.remove(pos);
                    return Poll::Ready(Ok(None));
                }
                let w = &mut s.waiters[pos];
                if !w.waker.as_ref().is_some_and(|k| k.will_wake(cx.waker())) {
                    stale = w.waker.replace(cx.waker().clone());
                }
                return Poll::Pending;
            }
            if s.closed {
                return Poll::Ready(Err(AcquireError(())));
            }
            // Zero permits are always there (tokio's), even behind queued waiters.
            if n == 0 || (s.waiters.is_empty() && s.permits >= n) {
                s.permits -= n;
                return Poll::Ready(Ok(None));
            }
            // Queue, taking what is free now if nobody is ahead.
            let take = if s.waiters.is_empty() {
                s.permits.min(n)
            } else {
                0
            };
            s.permits -= take;
            let id = s.next_id;
            s.next_id += 1;
            s.waiters.push_back(Waiter {
                id,
                missing: n - take,
                waker: Some(cx.waker().clone()),
            });
            Poll::Ready(Ok(Some(id)))
        });
        drop(stale);
        match out {
            Poll::Ready(Ok(Some(id))) => {
                this.queued = Some(id);
                Poll::Pending
            }
            Poll::Ready(result) => {
                this.queued = None;
                this.done = true;
                Poll::Ready(result.map(|_| ()))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if self.held {
            // Taken, never handed over (the budget was spent): they go back.
            self.sem.release(self.n);
            return;
        }
        let (Some(id), false) = (self.queued, self.done) else {
            return;
        };
        let n = self.n;
        // Cancelled while queued: leave the queue, returning the permits handed to us so far
        // (and letting the waiters behind us move up).
        let (woken, ours) = self.sem.state.with(|s| {
            let Some(pos) = s.waiters.iter().position(|w| w.id == id) else {
                return (Vec::new(), None);
            };
            let w = s.waiters.remove(pos).expect("queued");
            s.permits += n - w.missing;
            (s.assign(), w.waker)
        });
        drop(ours); // outside the section, as the others' wakes
        wake_all(woken);
    }
}

/// Permits borrowed from a [`Semaphore`]; dropping it gives them back.
#[must_use]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    permits: u32,
}

impl SemaphorePermit<'_> {
    /// Keeps the permits out of the semaphore for good.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    pub fn num_permits(&self) -> usize {
        self.permits as usize
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.sem.release(self.permits as usize);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}

/// Permits owned through an `Arc<Semaphore>`; dropping it gives them back.
#[must_use]
pub struct OwnedSemaphorePermit {
    sem: Arc<Semaphore>,
    permits: u32,
}

impl OwnedSemaphorePermit {
    pub fn forget(mut self) {
        self.permits = 0;
    }

    pub fn num_permits(&self) -> usize {
        self.permits as usize
    }

    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.sem.release(self.permits as usize);
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.permits)
            .finish()
    }
}
