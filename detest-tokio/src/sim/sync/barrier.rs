//! `tokio::sync::Barrier`: the `n`-th task to arrive releases the whole group and is its
//! leader; the barrier then starts over for the next group, as tokio's does.

use super::State;
use std::fmt;
use std::task::{Poll, Waker};

/// Lets `n` tasks wait for each other.
///
/// ```ignore
/// let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(2));
/// let b = barrier.clone();
/// let t = tokio::spawn(async move { b.wait().await.is_leader() });
/// let me = barrier.wait().await.is_leader();
/// assert!(me != t.await.unwrap()); // exactly one leader per group
/// ```
pub struct Barrier {
    n: usize,
    state: State<BarrierState>,
}

struct BarrierState {
    arrived: usize,
    /// Bumped when a group is released: a waiter waits for the generation it arrived in to end.
    generation: u64,
    waiters: Vec<Waker>,
}

impl Barrier {
    /// A barrier for groups of `n` (0 acts as 1, as in tokio: nobody ever waits).
    pub fn new(n: usize) -> Barrier {
        Barrier {
            n: n.max(1),
            state: State::new(BarrierState {
                arrived: 0,
                generation: 0,
                waiters: Vec::new(),
            }),
        }
    }

    /// Waits until `n` tasks (this one included) have called `wait`. Arriving counts at the
    /// first poll; a wait cancelled after that still counts, as in tokio.
    pub async fn wait(&self) -> BarrierWaitResult {
        let arrived_in = self.state.with(|s| {
            s.arrived += 1;
            if s.arrived < self.n {
                return Some(s.generation);
            }
            s.arrived = 0;
            s.generation += 1;
            for waker in s.waiters.drain(..) {
                waker.wake();
            }
            None
        });
        let Some(generation) = arrived_in else {
            return BarrierWaitResult(true);
        };
        std::future::poll_fn(|cx| {
            self.state.with(|s| {
                if s.generation != generation {
                    return Poll::Ready(BarrierWaitResult(false));
                }
                if !s.waiters.iter().any(|w| w.will_wake(cx.waker())) {
                    s.waiters.push(cx.waker().clone());
                }
                Poll::Pending
            })
        })
        .await
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("n", &self.n)
            .finish_non_exhaustive()
    }
}

/// What [`Barrier::wait`] returns: whether this task was the group's leader (the last to
/// arrive; exactly one per group).
#[derive(Debug, Clone)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    pub fn is_leader(&self) -> bool {
        self.0
    }
}
