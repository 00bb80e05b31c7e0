//! `detest::future` without the model: [`block_on`] runs a future on the calling thread,
//! parking it while the future is pending, and [`yield_now`] is pending once. There is no
//! `spawn`: spawning needs an executor, which a library chooses (the model's runs its tasks).

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

/// Wakes the thread blocked in [`block_on`].
struct Unparker(Thread);

impl Wake for Unparker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` to completion on this thread.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(Unparker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return v;
        }
        // A wake before this park leaves the token set, so it returns at once.
        std::thread::park();
    }
}

/// A future that is pending once (waking itself), then ready.
// (With the model, only `block_on` is used from here: the model's `yield_now` is its own.)
#[cfg_attr(feature = "model", allow(dead_code))]
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// See [`yield_now`].
#[must_use = "futures do nothing unless awaited"]
#[cfg_attr(feature = "model", allow(dead_code))]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
