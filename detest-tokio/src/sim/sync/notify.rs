//! `tokio::sync::Notify`: a permit for one waiter (stored when nobody waits), or a wake-up for
//! every current waiter. `notify_one` wakes the oldest waiter, as tokio's (FIFO).

use super::State;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Notifies one task, or all waiting ones.
///
/// ```ignore
/// let notify = std::sync::Arc::new(tokio::sync::Notify::new());
/// let n2 = notify.clone();
/// let waiter = tokio::spawn(async move { n2.notified().await });
/// notify.notify_one(); // stored as a permit if the waiter is not waiting yet
/// waiter.await.unwrap();
/// ```
pub struct Notify {
    state: State<NotifyState>,
}

struct NotifyState {
    permit: bool,
    /// Bumped by each `notify_waiters`: a `Notified` created before the bump completes.
    generation: u64,
    next_id: u64,
    waiters: VecDeque<(u64, Option<Waker>)>,
    /// Waiters a notification picked (removed from `waiters`), not yet polled; true when
    /// by `notify_one` (whose notification moves on if the waiter is dropped unpolled).
    chosen: Vec<(u64, bool)>,
}

impl Notify {
    pub const fn new() -> Notify {
        Notify {
            state: State::within(
                NotifyState {
                    permit: false,
                    generation: 0,
                    next_id: 0,
                    waiters: VecDeque::new(),
                    chosen: Vec::new(),
                },
                std::mem::offset_of!(Notify, state),
                std::mem::size_of::<Notify>(),
            ),
        }
    }

    pub const fn const_new() -> Notify {
        Notify::new()
    }

    /// A future that completes at the next notification (or at once on a stored permit).
    #[track_caller]
    pub fn notified(&self) -> Notified<'_> {
        let generation = self.state.with(|s| s.generation);
        Notified {
            notify: self,
            generation,
            queued: None,
            done: false,
        }
    }

    /// Wakes the oldest waiter, or stores a permit for the next `notified()` if none waits.
    #[track_caller]
    pub fn notify_one(&self) {
        self.state.with(NotifyState::notify_one)
    }

    /// Wakes every task waiting now (stores no permit).
    #[track_caller]
    pub fn notify_waiters(&self) {
        self.state.with(|s| {
            s.generation += 1;
            for (id, waker) in s.waiters.drain(..) {
                s.chosen.push((id, false));
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
        })
    }
}

impl NotifyState {
    fn notify_one(&mut self) {
        match self.waiters.pop_front() {
            Some((id, waker)) => {
                self.chosen.push((id, true));
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
            None => self.permit = true,
        }
    }
}

impl Default for Notify {
    fn default() -> Self {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notify").finish_non_exhaustive()
    }
}

/// Future returned by [`Notify::notified`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Notified<'a> {
    notify: &'a Notify,
    generation: u64,
    queued: Option<u64>,
    done: bool,
}

impl Future for Notified<'_> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.done {
            return Poll::Ready(());
        }
        let (generation, queued) = (self.generation, self.queued);
        let result = self.notify.state.with(|s| {
            if let Some(id) = queued {
                if let Some(pos) = s.chosen.iter().position(|c| c.0 == id) {
                    s.chosen.swap_remove(pos);
                    return None;
                }
                if let Some(w) = s.waiters.iter_mut().find(|w| w.0 == id) {
                    if !w.1.as_ref().is_some_and(|k| k.will_wake(cx.waker())) {
                        w.1 = Some(cx.waker().clone());
                    }
                }
                return Some(id);
            }
            if s.generation != generation {
                return None;
            }
            if std::mem::take(&mut s.permit) {
                return None;
            }
            let id = s.next_id;
            s.next_id += 1;
            s.waiters.push_back((id, Some(cx.waker().clone())));
            Some(id)
        });
        match result {
            None => {
                self.done = true;
                self.queued = None;
                Poll::Ready(())
            }
            Some(id) => {
                self.queued = Some(id);
                Poll::Pending
            }
        }
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        let Some(id) = self.queued else { return };
        if self.done {
            return;
        }
        // Dropped while waiting: leave the queue; a notify_one that picked us but that we
        // never consumed goes to the next waiter, as tokio forwards it.
        self.notify.state.with(|s| {
            if let Some(pos) = s.waiters.iter().position(|w| w.0 == id) {
                s.waiters.remove(pos);
            } else if let Some(pos) = s.chosen.iter().position(|c| c.0 == id) {
                let (_, by_one) = s.chosen.swap_remove(pos);
                if by_one {
                    s.notify_one();
                }
            }
        });
    }
}
