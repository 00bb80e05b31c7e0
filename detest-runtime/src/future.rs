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

mod sleep;

pub use sleep::{sleep, sleep_until, Sleep};

use crate::rt::execution::{self as rt, Wait, WaitKind};
use crate::thread::Packet;
use crate::trace::Op;
use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::task::{Context, Poll, Wake, Waker};

struct TaskWaker {
    task: rt::TaskRef,
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
/// a pending future blocks the task until its waker is called (or a [`sleep`] it polled is due).
#[track_caller]
pub fn block_on<F: Future>(future: F) -> F::Output {
    if !rt::in_execution() {
        // Outside any execution: a parking executor on this OS thread (see `crate::outside`).
        return crate::std_future::block_on(future);
    }
    match poll_to_end(future, None, Location::caller(), |w| w) {
        Some(v) => v,
        None => unreachable!("block_on has no abort handle"),
    }
}

/// The task loop shared by [`block_on`] and [`spawn`]: polls until ready, or until `control`
/// (a spawned task's) is aborted, which drops the future before its next poll (`None`).
/// `wrap` may put a waker of its own around the task's (for its polls and for an abort).
fn poll_to_end<F: Future>(
    future: F,
    control: Option<&Control>,
    location: &'static Location<'static>,
    wrap: impl FnOnce(Waker) -> Waker,
) -> Option<F::Output> {
    let what = "detest::future::block_on";
    let waker_state = Arc::new(TaskWaker {
        task: rt::current_task_ref(what),
        woken: AtomicBool::new(false),
    });
    let waker = wrap(Waker::from(waker_state.clone()));
    if let Some(control) = control {
        // From now on an abort wakes this task, wherever its future waits.
        *control.waker.lock().unwrap_or_else(|e| e.into_inner()) = Some(waker.clone());
    }
    let aborted = || control.is_some_and(|c| c.aborted.load(Ordering::Relaxed));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if aborted() {
            return None; // the pinned future is dropped here, in this task, as tokio does
        }
        // Counted and traced, but not a choice: polling is task-local work, and every shared
        // operation inside the future (and the wake-up that resumed it) is a point of its own.
        // The note also makes every wake so far happen before the poll (as a runtime's queue
        // hand-off does).
        rt::note(what, Op::Poll, location); // also gives the poll a full budget
        if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return Some(v);
        }
        loop {
            // Timers that are due wake their wakers (ours, usually) first; the earliest one
            // left bounds the wait, so the virtual clock can jump to it.
            let next_timer = sleep::fire_due_timers();
            if take_flag(&waker_state.woken) {
                break;
            }
            let wait = Wait::new(WaitKind::Future, 0, "", location);
            rt::block(
                what,
                next_timer.map_or(wait, |deadline| wait.until(deadline)),
            );
        }
    }
}

/// The current task's budget for the poll under way: the operations it may still complete
/// before a runtime layer's resources make it yield (detest-tokio's coop budget; `None`:
/// unconstrained, also outside an execution). Each poll of a task's future starts with a full
/// one (128, tokio's).
#[doc(hidden)]
pub fn __budget() -> Option<u8> {
    rt::budget()
}

/// Takes a unit of the current poll's budget: `Some(before)` when there was one (`Some(None)`:
/// unconstrained, also outside an execution), `None` when it is spent.
#[doc(hidden)]
pub fn __take_budget() -> Option<Option<u8>> {
    rt::take_budget()
}

#[doc(hidden)]
pub fn __set_budget(budget: Option<u8>) {
    if rt::in_execution() {
        rt::set_budget("detest::future::__set_budget", budget)
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
    let (control, body) = task_body(future, location, |w| w);
    // SAFETY: the future is 'static.
    let handle = unsafe { crate::thread::Builder::new().spawn_unchecked(body, location) };
    into_join_handle(handle, control)
}

/// Spawns a future that need not be `Send` (what tokio's `spawn_local` needs): every task of
/// an execution runs on the execution's one OS thread, so a `!Send` value never crosses OS
/// threads, and the handle is `!Send` when the output is.
///
/// # Panics
/// Outside an execution, naming `what` (there, a task would be an OS thread of its own).
#[doc(hidden)]
#[track_caller]
/// `wrap` puts a waker of the caller's around the task's: every wake-up of the task (an abort's
/// too) goes through it.
pub fn __spawn_local<F, W>(what: &str, future: F, wrap: W) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
    W: FnOnce(Waker) -> Waker + 'static,
{
    let location = Location::caller();
    assert!(
        rt::in_execution(),
        "{what} outside a detest execution: a `!Send` task needs the execution's thread"
    );
    let (control, body) = task_body(future, location, wrap);
    // SAFETY: the future is 'static, and we are inside an execution.
    let handle = unsafe { crate::thread::Builder::new().spawn_in_execution(body, location) };
    into_join_handle(handle, control)
}

/// A task's body (its poll loop) and the control its handles share with it.
fn task_body<F: Future>(
    future: F,
    location: &'static Location<'static>,
    wrap: impl FnOnce(Waker) -> Waker,
) -> (Arc<Control>, impl FnOnce() -> Option<F::Output>) {
    let control = Arc::new(Control {
        aborted: AtomicBool::new(false),
        waker: StdMutex::new(None),
    });
    let theirs = control.clone();
    (control, move || poll_to_end(future, Some(&theirs), location, wrap))
}

fn into_join_handle<T>(
    handle: crate::thread::JoinHandle<Option<T>>,
    control: Arc<Control>,
) -> JoinHandle<T> {
    let (task, packet) = handle.into_parts();
    rt::mark_async_task("detest::future::spawn", task);
    JoinHandle {
        task,
        packet,
        control,
    }
}

/// What a task's handles share with it: the abort request, and how to wake it for one.
struct Control {
    aborted: AtomicBool,
    /// The task's waker, once it has started (an abort before that needs no wake-up: the
    /// task checks the flag before its first poll).
    waker: StdMutex<Option<Waker>>,
}

impl Control {
    fn abort(&self, task: u32, location: &'static Location<'static>) {
        let what = "detest::future::JoinHandle::abort";
        if rt::is_finished(what, task) {
            return;
        }
        self.aborted.store(true, Ordering::Relaxed);
        let waker = self.waker.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(waker) = waker {
            waker.wake();
        }
        // Requesting the abort is a shared operation: the task may finish before or after it.
        rt::after(what, Op::Notify, None, "", location, true);
    }
}

/// A handle to an async task: a future of its output. Dropping it detaches the task.
pub struct JoinHandle<T> {
    task: u32,
    /// `Ok(None)`: the task was cancelled.
    packet: Packet<Option<T>>,
    control: Arc<Control>,
}

impl<T> JoinHandle<T> {
    /// Cancels the task: it is dropped (not polled again) before its next poll, and awaiting
    /// this handle gives a [`JoinError`] that [`is_cancelled`](JoinError::is_cancelled). A task
    /// that finished already keeps its output.
    ///
    /// ```
    /// detest::check(|| detest::future::block_on(async {
    ///     let task = detest::future::spawn(std::future::pending::<()>());
    ///     task.abort();
    ///     assert!(task.await.unwrap_err().is_cancelled());
    /// }));
    /// ```
    #[track_caller]
    pub fn abort(&self) {
        self.control.abort(self.task, Location::caller());
    }

    /// Whether the task has finished: returned, panicked or been cancelled.
    pub fn is_finished(&self) -> bool {
        rt::is_finished("detest::future::JoinHandle::is_finished", self.task)
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        Id(self.task)
    }

    /// A handle that can abort the task without owning its output.
    pub fn abort_handle(&self) -> AbortHandle {
        AbortHandle {
            task: self.task,
            control: self.control.clone(),
        }
    }
}

/// An async task's id, unique within its execution (tokio's `task::Id`): the detest task's
/// number, as traces and failure reports show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(u32);

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The id of the async task running (`None` outside one: in `block_on`'s own future, a
/// logical thread, or outside any execution), as tokio's `task::try_id`.
pub fn try_id() -> Option<Id> {
    let what = "detest::future::try_id";
    if !rt::in_execution() {
        return None;
    }
    let task = rt::current_task(what);
    rt::is_async_task(what, task).then_some(Id(task))
}

/// The id of the async task running (tokio's `task::id`).
///
/// # Panics
/// Outside an async task, as tokio's.
#[track_caller]
pub fn id() -> Id {
    try_id().expect("can't get a task id when not inside a task")
}

/// Aborts a task without awaiting it (see [`JoinHandle::abort`]).
#[derive(Clone)]
pub struct AbortHandle {
    task: u32,
    control: Arc<Control>,
}

impl AbortHandle {
    /// See [`JoinHandle::abort`].
    #[track_caller]
    pub fn abort(&self) {
        self.control.abort(self.task, Location::caller());
    }

    pub fn is_finished(&self) -> bool {
        rt::is_finished("detest::future::AbortHandle::is_finished", self.task)
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        Id(self.task)
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("task", &self.task)
            .finish()
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("task", &self.task)
            .finish()
    }
}

/// The task panicked, or was cancelled. It prints as tokio's does (`task 3 was cancelled`,
/// `task 3 panicked with message "boom"`), the id being the detest task's.
pub struct JoinError {
    task: u32,
    /// `None`: cancelled.
    payload: Option<Box<dyn Any + Send>>,
}

impl JoinError {
    /// The task was aborted before it finished.
    pub fn is_cancelled(&self) -> bool {
        self.payload.is_none()
    }
    pub fn is_panic(&self) -> bool {
        self.payload.is_some()
    }
    /// The id of the task that failed.
    pub fn id(&self) -> Id {
        Id(self.task)
    }
    /// The panic's payload.
    ///
    /// # Panics
    /// When the task was cancelled (as tokio's).
    pub fn into_panic(self) -> Box<dyn Any + Send> {
        self.try_into_panic()
            .expect("`JoinError` reason is not a panic.")
    }
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send>, JoinError> {
        match self.payload {
            Some(payload) => Ok(payload),
            None => Err(self),
        }
    }

    /// The panic's message, when its payload is a string.
    fn message(&self) -> Option<&str> {
        let payload = self.payload.as_deref()?;
        payload
            .downcast_ref::<&'static str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
    }
}

impl fmt::Debug for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.task;
        match (&self.payload, self.message()) {
            (None, _) => write!(f, "JoinError::Cancelled(Id({id}))"),
            (Some(_), Some(message)) => write!(f, "JoinError::Panic(Id({id}), {message:?}, ...)"),
            (Some(_), None) => write!(f, "JoinError::Panic(Id({id}), ...)"),
        }
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.task;
        match (&self.payload, self.message()) {
            (None, _) => write!(f, "task {id} was cancelled"),
            (Some(_), Some(message)) => write!(f, "task {id} panicked with message {message:?}"),
            (Some(_), None) => write!(f, "task {id} panicked"),
        }
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
            Ok(Some(v)) => Poll::Ready(Ok(v)),
            Ok(None) => Poll::Ready(Err(JoinError {
                task: self.task,
                payload: None,
            })),
            Err(payload) => {
                rt::observe_panic(what, self.task);
                Poll::Ready(Err(JoinError {
                    task: self.task,
                    payload: Some(payload),
                }))
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
