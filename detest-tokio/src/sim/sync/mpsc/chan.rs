//! The state both channel kinds share: the queue, the sender counts and the receiver's waker,
//! behind one [`State`] (each operation one scheduling point), plus, for bounded channels, the
//! FIFO [`Semaphore`] of free queue slots.

use super::super::semaphore::{Semaphore, TryAcquireError};
use super::super::State;
use super::error::TryRecvError;
use std::collections::VecDeque;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// Wakes outside the section: the waker may be the last reference to user state whose drop
/// uses the channel again (tokio wakes outside its locks too).
fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}

pub(super) struct Chan<T> {
    state: State<ChanState<T>>,
    /// Bounded channels: one permit per free queue slot.
    slots: Option<Semaphore>,
    pub(super) capacity: usize,
}

struct ChanState<T> {
    queue: VecDeque<T>,
    /// Strong senders: the channel closes for the receiver when the last one goes (an
    /// `OwnedPermit` counts, as it holds its sender).
    senders: usize,
    /// Weak senders: they keep nothing open, only count (`weak_count`).
    weak_senders: usize,
    rx_closed: bool,
    /// The receiver is gone: nothing queued from now on would ever be received.
    rx_dropped: bool,
    rx_waker: Option<Waker>,
    /// Senders waiting in `closed()` for the receiver to close or go.
    closed_wakers: Vec<Waker>,
}

impl<T> Chan<T> {
    pub(super) fn new(capacity: Option<usize>) -> Arc<Self> {
        Arc::new(Chan {
            state: State::new(ChanState {
                queue: VecDeque::new(),
                senders: 1,
                weak_senders: 0,
                rx_closed: false,
                rx_dropped: false,
                rx_waker: None,
                closed_wakers: Vec::new(),
            }),
            slots: capacity.map(Semaphore::new),
            capacity: capacity.unwrap_or(usize::MAX),
        })
    }

    pub(super) fn slots(&self) -> &Semaphore {
        self.slots.as_ref().expect("bounded")
    }

    /// Queues `value`; gives it back if the receiver is gone, or closed and the value has no
    /// slot reserved before (tokio delivers what reserved permits send after a `close`).
    #[track_caller]
    pub(super) fn push(&self, value: T, reserved: bool) -> Result<(), T> {
        let waker = self.state.with(|s| {
            if s.rx_dropped || (s.rx_closed && !reserved) {
                return Err(value);
            }
            s.queue.push_back(value);
            Ok(s.rx_waker.take())
        })?;
        wake(waker);
        Ok(())
    }

    /// Slots taken by senders that have not sent yet (reserved permits, or a `send` between
    /// its slot and its push): after a `close`, the receiver still waits for those.
    fn reserved(&self, queued: usize) -> usize {
        self.slots
            .as_ref()
            .map_or(0, |slots| self.capacity - slots.free_permits() - queued)
    }

    /// Waits for `n` slots (FIFO among senders). A reservation that fails on a closed channel,
    /// or is cancelled, after it was handed some slots gives them back and then (as tokio's
    /// `reserve_inner`) wakes a closed receiver that may have been waiting only for those.
    pub(super) async fn reserve(&self, n: usize) -> Result<(), ()> {
        struct WakeRxOnDrop<'a, T>(&'a Chan<T>);
        impl<T> Drop for WakeRxOnDrop<'_, T> {
            fn drop(&mut self) {
                self.0.wake_rx_if_idle();
            }
        }
        if n > self.capacity {
            return Err(()); // could never be served
        }
        let guard = WakeRxOnDrop(self);
        // On cancellation the `Acquire` (a temporary of this await) is dropped, giving its
        // slots back, before `guard`.
        let out = self.slots().acquire_raw(n).await;
        if out.is_ok() {
            std::mem::forget(guard); // the permits now do this job
        }
        out.map_err(|_| ())
    }

    #[track_caller]
    pub(super) fn try_reserve(&self, n: usize) -> Result<(), TryAcquireError> {
        if n > self.capacity {
            return Err(TryAcquireError::NoPermits);
        }
        self.slots().try_acquire_raw(n)
    }

    /// Up to `limit` queued values into `put`; `Ready(0)` once the channel is closed (every
    /// strong sender gone, or the receiver closed and no reserved slot left) and drained.
    pub(super) fn poll_take(
        &self,
        cx: &mut Context<'_>,
        limit: usize,
        put: impl FnMut(T),
    ) -> Poll<usize> {
        // A receive is a tokio resource: it spends the task's coop budget (see `task::coop`).
        crate::task::coop::with_budget(cx, |cx| self.poll_take_inner(cx, limit, put))
    }

    fn poll_take_inner(
        &self,
        cx: &mut Context<'_>,
        limit: usize,
        mut put: impl FnMut(T),
    ) -> Poll<usize> {
        let mut stale = None; // the waker replaced, dropped out of the section (see `wake`)
        let out = self.state.with(|s| {
            let n = limit.min(s.queue.len());
            s.queue.drain(..n).for_each(&mut put);
            if n > 0 {
                Poll::Ready(n)
            } else if s.senders == 0 || (s.rx_closed && self.reserved(0) == 0) {
                Poll::Ready(0)
            } else {
                stale = s.rx_waker.replace(cx.waker().clone());
                Poll::Pending
            }
        });
        drop(stale);
        if let (Poll::Ready(n), Some(slots)) = (out, &self.slots) {
            slots.release(n);
        }
        out
    }

    pub(super) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut value = None;
        self.poll_take(cx, 1, |v| value = Some(v)).map(|_| value)
    }

    /// tokio's `recv_many`: waits for at least one value unless `limit` is 0, then appends as
    /// many as are queued, up to `limit`; 0 means closed and drained.
    pub(super) fn poll_recv_many(
        &self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        if limit == 0 {
            return Poll::Ready(0); // tokio's returns before looking at the channel
        }
        self.poll_take(cx, limit, |v| buffer.push(v))
    }

    pub(super) fn try_recv(&self) -> Result<T, TryRecvError> {
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

    pub(super) fn drop_rx(&self) {
        self.close_rx();
        // Queued values are dropped with the receiver, as tokio's (outside the lock: their
        // destructors are user code).
        // Its waker goes too, at once (tokio's `release_waker_on_rx_drop`), not with the
        // channel's last handle.
        let gone = self.state.with(|s| {
            s.rx_dropped = true;
            (std::mem::take(&mut s.queue), s.rx_waker.take())
        });
        drop(gone);
    }

    pub(super) fn close_rx(&self) {
        let waiting = self.state.with(|s| {
            s.rx_closed = true;
            std::mem::take(&mut s.closed_wakers)
        });
        waiting.into_iter().for_each(Waker::wake);
        if let Some(slots) = &self.slots {
            slots.close(); // blocked senders fail now
        }
    }

    /// `n` reserved slots were given back unused.
    pub(super) fn unreserve(&self, n: usize) {
        self.slots().release(n);
        self.wake_rx_if_idle();
    }

    /// A closed receiver waits for the reserved slots; when the last comes back (no value
    /// queued, every slot free) it is woken to see the end, as tokio's permits do.
    fn wake_rx_if_idle(&self) {
        wake(self.state.with(|s| {
            let idle = s.rx_closed && s.queue.is_empty() && self.reserved(0) == 0;
            idle.then(|| s.rx_waker.take()).flatten()
        }))
    }

    /// Values queued now.
    pub(super) fn len(&self) -> usize {
        self.state.with(|s| s.queue.len())
    }

    /// Senders' `is_closed`: the receiver closed or dropped.
    pub(super) fn is_closed(&self) -> bool {
        self.state.with(|s| s.rx_closed)
    }

    /// Senders' `closed()`: ready once the receiver has closed or gone.
    pub(super) fn poll_closed(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.state.with(|s| {
            if s.rx_closed {
                return Poll::Ready(());
            }
            // One entry per waiting task: a `closed()` polled again (in a `select!` loop) does
            // not pile up wakers.
            if !s.closed_wakers.iter().any(|w| w.will_wake(cx.waker())) {
                s.closed_wakers.push(cx.waker().clone());
            }
            Poll::Pending
        })
    }

    /// The receiver's `is_closed`: it closed, or every strong sender is gone.
    pub(super) fn rx_is_closed(&self) -> bool {
        self.state.with(|s| s.rx_closed || s.senders == 0)
    }

    pub(super) fn add_sender(&self) {
        self.state.with(|s| s.senders += 1);
    }

    pub(super) fn drop_sender(&self) {
        wake(self.state.with(|s| {
            s.senders -= 1;
            (s.senders == 0).then(|| s.rx_waker.take()).flatten()
        }))
    }

    /// A new strong sender from a weak one, unless the last strong one is gone (then the
    /// channel is closed for good: tokio's upgrade never revives it).
    pub(super) fn upgrade(&self) -> bool {
        self.state.with(|s| {
            if s.senders == 0 {
                return false;
            }
            s.senders += 1;
            true
        })
    }

    pub(super) fn add_weak(&self) {
        self.state.with(|s| s.weak_senders += 1);
    }

    pub(super) fn drop_weak(&self) {
        self.state.with(|s| s.weak_senders -= 1);
    }

    pub(super) fn strong_count(&self) -> usize {
        self.state.with(|s| s.senders)
    }

    pub(super) fn weak_count(&self) -> usize {
        self.state.with(|s| s.weak_senders)
    }
}
