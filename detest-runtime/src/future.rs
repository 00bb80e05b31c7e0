//! Async tasks on the same executor as threads: every task spawned here is a logical task (its
//! own coroutine) scheduled by the same policy, so an `async` test explores interleavings of
//! its tasks exactly as a threaded one does, and blocking calls inside async code also work.
//!
//! ```
//! detest::check(|| {
//!     let total = detest::future::block_on(async {
//!         let tasks: Vec<_> = (0..3u32).map(|i| detest::future::spawn(async move {
//!             detest::future::yield_now().await;
//!             i
//!         })).collect();
//!         let mut sum = 0;
//!         for t in tasks {
//!             sum += t.await.unwrap();
//!         }
//!         sum
//!     });
//!     assert_eq!(total, 3);
//! });
//! ```

use crate::rt::execution::{self as rt, TaskRef, Wait, WaitKind};
use crate::thread::Packet;
use crate::trace::Op;
use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

struct TaskWaker {
    task: TaskRef,
    woken: AtomicBool,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }
    fn wake_by_ref(self: &Arc<Self>) {
        // Relaxed, and a plain load/store below: only wakes from inside this execution (this
        // OS thread) count, so no cross-thread ordering is needed, and a SeqCst store or a swap
        // would cost a locked instruction on every poll.
        self.woken.store(true, Ordering::Relaxed);
        rt::wake_future(self.task);
    }
}

fn take_flag(flag: &AtomicBool) -> bool {
    let set = flag.load(Ordering::Relaxed);
    if set {
        flag.store(false, Ordering::Relaxed);
    }
    set
}

/// Runs a future to completion on the current logical task; each poll is a scheduling point and
/// a pending future blocks the task until its waker is called.
#[track_caller]
pub fn block_on<F: Future>(future: F) -> F::Output {
    if !rt::in_execution() {
        // Outside any execution: a parking executor on this OS thread (see `crate::outside`).
        return crate::std_future::block_on(future);
    }
    let what = "detest::future::block_on";
    let location = Location::caller();
    let waker_state = Arc::new(TaskWaker {
        task: rt::current_task_ref(what),
        woken: AtomicBool::new(false),
    });
    let waker = Waker::from(waker_state.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        // Counted and traced, but not a choice: polling is task-local work, and every shared
        // operation inside the future (and the wake-up that resumed it) is a point of its own.
        // The note also makes every wake so far happen before the poll (as a runtime's queue
        // hand-off does).
        rt::note(what, Op::Poll, location);
        if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return v;
        }
        while !take_flag(&waker_state.woken) {
            rt::block(what, Wait::new(WaitKind::Future, 0, "", location));
        }
    }
}

/// Spawns an async task; await the handle for its output.
///
/// A task still unfinished when the test body returns is polled no more, like the tasks of a
/// runtime that shuts down, and is leaked, not dropped: its destructors do not run (see the
/// README, "When an execution ends").
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let location = Location::caller();
    // SAFETY: the future is 'static.
    let handle = unsafe {
        crate::thread::Builder::new().spawn_unchecked(move || block_on(future), location)
    };
    let (task, packet) = handle.into_parts();
    rt::mark_async_task("detest::future::spawn", task);
    JoinHandle { task, packet }
}

/// A handle to an async task: a future of its output.
pub struct JoinHandle<T> {
    task: u32,
    packet: Packet<T>,
}

/// The task panicked.
pub struct JoinError {
    payload: Box<dyn Any + Send>,
}

impl JoinError {
    pub fn is_panic(&self) -> bool {
        true
    }
    pub fn into_panic(self) -> Box<dyn Any + Send> {
        self.payload
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "JoinError::Panic({:?})",
            rt::panic_message(&*self.payload)
        )
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task panicked: {}", rt::panic_message(&*self.payload))
    }
}

impl std::error::Error for JoinError {}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let what = "detest::future::JoinHandle";
        if !rt::is_finished(what, self.task) {
            rt::add_join_waker(what, self.task, cx.waker());
            return Poll::Pending;
        }
        rt::acquire_joined(what, self.task);
        let result = self.packet.lock().unwrap_or_else(|e| e.into_inner()).take();
        match result.expect("polled a JoinHandle after it completed") {
            Ok(v) => Poll::Ready(Ok(v)),
            Err(payload) => {
                rt::observe_panic(what, self.task);
                Poll::Ready(Err(JoinError { payload }))
            }
        }
    }
}

/// Yields once to the scheduler (another task may run) and then completes.
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// Future returned by [`yield_now`].
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
        if !rt::in_execution() {
            // Outside any execution (`block_on`'s std executor): a plain yield.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        rt::after(
            "detest::future::yield_now",
            Op::Yield,
            None,
            "",
            Location::caller(),
            true,
        );
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
