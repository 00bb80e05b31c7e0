//! `tokio::task::coop`: tokio's cooperative budget. Each poll of a task starts with 128 units;
//! every tokio resource that completes an operation (a channel receive, a permit, a timer, a
//! pipe read) spends one, and once none is left the resources return `Pending` (waking the
//! task at once) so a task whose resources are always ready still yields to its `select!`'s
//! other branches and to the runtime. Modelled because programs rely on it: a `biased;`
//! `select!` loop over an always-ready channel ends only because of it.
//!
//! ```ignore
//! // 200 operations in one poll: the 129th finds the budget spent and yields.
//! for _ in 0..200 {
//!     tokio::task::consume_budget().await;
//! }
//! ```
//!
//! The budget lives in the detest task (`detest::future::__budget`), so a poll preempted at a
//! scheduling point keeps its own; each poll of a task's future (`spawn`, `block_on`) starts
//! with a full one, as tokio's.

use std::cell::Cell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Spends one unit, if the budget allows; gives it back when dropped unless the operation
/// [made progress](RestoreOnPending::made_progress) (tokio's).
pub struct RestoreOnPending(Cell<Option<Option<u8>>>, PhantomData<*mut ()>);

impl RestoreOnPending {
    /// The operation completed: the unit stays spent.
    pub fn made_progress(&self) {
        self.0.set(None);
    }
}

impl Drop for RestoreOnPending {
    fn drop(&mut self) {
        if let Some(budget) = self.0.get() {
            detest::future::__set_budget(budget);
        }
    }
}

/// Takes a unit of the budget for an operation about to run: `Pending` (with the task woken)
/// when none is left.
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<RestoreOnPending> {
    match detest::future::__take_budget() {
        None => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        // Unconstrained: nothing to give back.
        Some(None) => Poll::Ready(RestoreOnPending(Cell::new(None), PhantomData)),
        Some(before) => Poll::Ready(RestoreOnPending(Cell::new(Some(before)), PhantomData)),
    }
}

/// `poll` as a tokio resource: run only with budget left, spending a unit when it completes.
pub(crate) fn with_budget<T>(
    cx: &mut Context<'_>,
    poll: impl FnOnce(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    let coop = ready!(poll_proceed(cx));
    let out = poll(cx);
    if out.is_ready() {
        coop.made_progress();
    }
    out
}

/// Whether the current poll has budget left.
pub fn has_budget_remaining() -> bool {
    detest::future::__budget() != Some(0)
}

/// Spends a unit of the budget, yielding first if none is left.
pub async fn consume_budget() {
    let mut status = Poll::Pending;
    std::future::poll_fn(move |cx| {
        if status.is_ready() {
            return status;
        }
        status = poll_proceed(cx).map(|restore| restore.made_progress());
        status
    })
    .await
}

/// Runs `inner` with no budget: its resources never make it yield.
pub fn unconstrained<F>(inner: F) -> Unconstrained<F> {
    Unconstrained { inner }
}

/// The future of [`unconstrained`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Unconstrained<F> {
    inner: F,
}

impl<F: Future> Future for Unconstrained<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        struct Restore(Option<u8>);
        impl Drop for Restore {
            fn drop(&mut self) {
                detest::future::__set_budget(self.0);
            }
        }
        let _restore = Restore(detest::future::__budget());
        detest::future::__set_budget(None);
        // SAFETY: `inner` is structurally pinned.
        unsafe { self.map_unchecked_mut(|s| &mut s.inner) }.poll(cx)
    }
}

/// `fut`, polled only while the budget allows, each completion spending a unit (how a
/// resource of one's own joins the budget).
pub fn cooperative<F: Future>(fut: F) -> Coop<F> {
    Coop { fut }
}

/// The future of [`cooperative`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Coop<F> {
    fut: F,
}

impl<F: Future> Future for Coop<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: `fut` is structurally pinned.
        let fut = unsafe { self.map_unchecked_mut(|s| &mut s.fut) };
        with_budget(cx, |cx| fut.poll(cx))
    }
}
