//! `tokio::task::LocalSet` and `spawn_local`: tasks that need not be `Send`, run only while
//! their set is driven.
//!
//! ```ignore
//! let local = tokio::task::LocalSet::new();
//! let shared = std::rc::Rc::new(std::cell::Cell::new(0));
//! let s = shared.clone();
//! local.run_until(async move {
//!     tokio::task::spawn_local(async move { s.set(1) }).await.unwrap();
//! }).await;
//! assert_eq!(shared.get(), 1);
//! ```
//!
//! Each local task is a detest task of its own, held to what tokio's one thread allows: a
//! local task polls only inside a *tick* of its set, which its driver (`run_until`'s future,
//! or the awaited set) runs in its own poll after polling its future, as tokio does; only one
//! poll (the driver's or a local task's) runs at a time, so code between two awaits is never
//! interleaved with another task of the set; a tick ends when no local task is ready, or after
//! tokio's 61 turns (the driver then wakes itself). Which ready task goes next is the policy's
//! choice: tokio's queue order is not a promise. A local task's future is dropped in a turn
//! too: right after it completes, when an aborted task's turn comes, or, as tokio does it,
//! while the set itself is dropped. `block_in_place` panics inside a set's polls, as tokio's.

use super::JoinHandle;
use detest::future::AbortHandle;
use detest::sync::{Condvar, Mutex, MutexGuard};
use std::cell::RefCell;
use std::fmt;
use std::future::{poll_fn, Future};
use std::marker::PhantomData;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex as StdMutex};
use std::task::{Context, Poll, Wake, Waker};

/// tokio's `MAX_TASKS_PER_TICK`: the turns a tick gives before the driver polls its future
/// again.
const MAX_TASKS_PER_TICK: usize = 61;

/// A set of tasks run on the task that drives it (see the module docs).
pub struct LocalSet {
    shared: Arc<Shared>,
    /// tokio's `LocalSet` is `!Send`: its tasks hold `!Send` values.
    _not_send: PhantomData<Rc<()>>,
}

struct Shared {
    gate: Mutex<Gate>,
    /// Signalled whenever a tick starts or a turn ends.
    changed: Condvar,
    /// What wake-ups touch. Plain atomics and a std mutex, not detest ones: a wake-up is not
    /// a scheduling point (it may come from inside another primitive's critical section), and
    /// every task of an execution runs on its one OS thread, so nothing here races.
    ticking: AtomicBool,
    /// Local tasks woken (or new) that have not had their turn yet.
    ready: AtomicUsize,
    /// The driver's waker, woken when a local task is woken outside a tick.
    driver: StdMutex<Option<Waker>>,
}

#[derive(Default)]
struct Gate {
    /// A poll (the driver's, or a local task's turn) is under way.
    busy: bool,
    /// Turns given in the current tick.
    turns: usize,
    /// The set is being dropped: every local task drops its future in its next turn.
    closing: bool,
    /// Local tasks whose future has not been dropped yet.
    live: usize,
    /// To abort every task when the set is dropped.
    handles: Vec<AbortHandle>,
}

/// A local task's side of the wake-ups.
struct TaskState {
    /// Woken and waiting for its turn (counted in `Shared::ready`).
    queued: AtomicBool,
    /// Its future has been dropped: later wake-ups are ignored.
    done: AtomicBool,
}

/// A local task's waker: marks the task ready for a tick, wakes the driver outside one, then
/// wakes the task itself.
struct LocalWaker {
    task: Waker,
    state: Arc<TaskState>,
    shared: Arc<Shared>,
}

impl Wake for LocalWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }
    fn wake_by_ref(self: &Arc<Self>) {
        if !self.state.done.load(Relaxed) && !self.state.queued.swap(true, Relaxed) {
            self.shared.schedule();
        }
        self.task.wake_by_ref();
    }
}

detest::thread_local! {
    /// The set `spawn_local` spawns onto (the one this task drives or belongs to), and whether
    /// this task is inside one of the set's polls.
    static CURRENT: RefCell<Option<(Arc<Shared>, bool)>> = const { RefCell::new(None) };
}

/// Makes `shared` the current set until dropped.
struct Enter(Option<(Arc<Shared>, bool)>);

impl Enter {
    fn new(shared: &Arc<Shared>, polling: bool) -> Enter {
        Enter(CURRENT.with(|c| c.replace(Some((shared.clone(), polling)))))
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        let previous = self.0.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

/// Whether the caller is inside a poll of a `LocalSet` (where tokio's `block_in_place`
/// panics).
pub(super) fn in_local_poll() -> bool {
    CURRENT.with(|c| c.borrow().as_ref().is_some_and(|(_, polling)| *polling))
}

/// The guard of [`LocalSet::enter`]: `spawn_local` spawns onto the set while it lives.
pub struct LocalEnterGuard(#[allow(dead_code)] Enter, PhantomData<Rc<()>>);

impl fmt::Debug for LocalEnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalEnterGuard").finish()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Gate> {
        self.gate.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(&self, gate: MutexGuard<'a, Gate>) -> MutexGuard<'a, Gate> {
        self.changed.wait(gate).unwrap_or_else(|e| e.into_inner())
    }

    /// A local task is ready (woken, or new): a tick under way gives it a turn, otherwise the
    /// driver is woken to run one (tokio queues the task and wakes the set's waker).
    fn schedule(&self) {
        self.ready.fetch_add(1, Relaxed);
        if !self.ticking.load(Relaxed) {
            let driver = self.driver.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(driver) = driver.as_ref() {
                driver.wake_by_ref();
            }
        }
    }

    /// Waits for a local task's turn: a tick under way and no other poll (or the set
    /// closing).
    fn take_turn(&self, task: &TaskState) -> Turn<'_> {
        let mut gate = self.lock();
        while gate.busy || !(gate.closing || self.ticking.load(Relaxed)) {
            gate = self.wait(gate);
        }
        gate.busy = true;
        gate.turns += 1;
        if task.queued.swap(false, Relaxed) {
            self.ready.fetch_sub(1, Relaxed);
        }
        Turn {
            shared: self,
            closing: gate.closing,
        }
    }

    /// One poll of the driver: `inner` in a turn of the driver's own, then a tick.
    fn drive<T>(
        self: &Arc<Self>,
        cx: &mut Context<'_>,
        inner: impl FnOnce(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        *self.driver.lock().unwrap_or_else(|e| e.into_inner()) = Some(cx.waker().clone());
        let mut gate = self.lock();
        while gate.busy {
            gate = self.wait(gate);
        }
        gate.busy = true;
        drop(gate);
        let polled = {
            let _turn = Turn {
                shared: self,
                closing: false,
            };
            let _enter = Enter::new(self, true);
            inner(cx)
        };
        if polled.is_ready() {
            return polled;
        }
        let mut gate = self.lock();
        gate.turns = 0;
        self.ticking.store(true, Relaxed);
        self.changed.notify_all();
        while gate.busy
            || (self.ready.load(Relaxed) > 0 && gate.turns < MAX_TASKS_PER_TICK && !gate.closing)
        {
            gate = self.wait(gate);
        }
        self.ticking.store(false, Relaxed);
        let more = self.ready.load(Relaxed) > 0;
        drop(gate);
        if more {
            // As tokio: tasks are still ready, so the driver polls again soon.
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }

    fn spawn<F>(self: &Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        // A new task is ready: tokio queues it.
        let state = Arc::new(TaskState {
            queued: AtomicBool::new(true),
            done: AtomicBool::new(false),
        });
        self.schedule();
        let task = LocalTask {
            future: Some(Box::pin(future)),
            state: state.clone(),
            shared: self.clone(),
        };
        let shared = self.clone();
        let wrap = move |task: Waker| {
            Waker::from(Arc::new(LocalWaker {
                task,
                state,
                shared,
            }))
        };
        let handle = detest::future::__spawn_local("tokio::task::spawn_local", task, wrap);
        let mut gate = self.lock();
        gate.live += 1;
        gate.handles.push(handle.abort_handle());
        handle
    }
}

/// A turn: one poll (or the drop) of a local task, or the driver's poll of its future; ending
/// it lets the next one in.
struct Turn<'a> {
    shared: &'a Shared,
    closing: bool,
}

impl Turn<'_> {
    /// The task's future has been dropped.
    fn finished(&self, task: &TaskState) {
        let mut gate = self.shared.lock();
        gate.live -= 1;
        task.done.store(true, Relaxed);
        if task.queued.swap(false, Relaxed) {
            self.shared.ready.fetch_sub(1, Relaxed);
        }
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.shared.lock().busy = false;
        self.shared.changed.notify_all();
    }
}

/// A local task's future, polled (and dropped) only in its turns.
struct LocalTask<F> {
    future: Option<Pin<Box<F>>>,
    state: Arc<TaskState>,
    shared: Arc<Shared>,
}

impl<F> LocalTask<F> {
    /// Drops the future in `turn`, as one of the set's polls (so `block_in_place` panics in
    /// its destructor, as tokio's); a panic there is handed back, after the bookkeeping.
    fn drop_future(&mut self, turn: &Turn<'_>) -> std::thread::Result<()> {
        let future = self.future.take();
        let dropped = {
            let _enter = Enter::new(&self.shared, true);
            catch_unwind(AssertUnwindSafe(|| drop(future)))
        };
        turn.finished(&self.state);
        dropped
    }
}

impl<F: Future> Future for LocalTask<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let shared = this.shared.clone();
        let turn = shared.take_turn(&this.state);
        if turn.closing {
            // The set is being dropped: its abort of this task follows (and wakes it).
            let dropped = this.drop_future(&turn);
            drop(turn);
            return match dropped {
                Ok(()) => Poll::Pending,
                Err(payload) => resume_unwind(payload),
            };
        }
        let future = this
            .future
            .as_mut()
            .expect("a local task polled after completing");
        let polled = {
            let _enter = Enter::new(&shared, true);
            catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx)))
        };
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => {
                let dropped = this.drop_future(&turn);
                drop(turn);
                match dropped {
                    Ok(()) => Poll::Ready(v),
                    Err(payload) => resume_unwind(payload),
                }
            }
            Err(payload) => {
                // The poll's panic is the one reported; one from the drop after it is not.
                let _ = this.drop_future(&turn);
                drop(turn);
                resume_unwind(payload)
            }
        }
    }
}

impl<F> Drop for LocalTask<F> {
    fn drop(&mut self) {
        // Aborted (or aborted before its first poll): the future goes in a turn of its own.
        if self.future.is_some() {
            let shared = self.shared.clone();
            let turn = shared.take_turn(&self.state);
            let dropped = self.drop_future(&turn);
            drop(turn);
            if let Err(payload) = dropped {
                if !std::thread::panicking() {
                    resume_unwind(payload);
                }
            }
        }
    }
}

impl LocalSet {
    pub fn new() -> LocalSet {
        LocalSet {
            shared: Arc::new(Shared {
                gate: Mutex::new(Gate::default()),
                changed: Condvar::new(),
                ticking: AtomicBool::new(false),
                ready: AtomicUsize::new(0),
                driver: StdMutex::new(None),
            }),
            _not_send: PhantomData,
        }
    }

    /// Spawns a `!Send` task onto the set; it runs in the set's ticks.
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.shared.spawn(future)
    }

    /// Makes this the set `spawn_local` spawns onto, until the guard is dropped.
    pub fn enter(&self) -> LocalEnterGuard {
        LocalEnterGuard(Enter::new(&self.shared, false), PhantomData)
    }

    /// Runs `future`, running the set's tasks in ticks while it waits; they stop when it
    /// completes.
    pub async fn run_until<F: Future>(&self, future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        poll_fn(|cx| self.shared.drive(cx, |cx| future.as_mut().poll(cx))).await
    }

    /// `rt.block_on(self.run_until(future))`.
    #[track_caller]
    pub fn block_on<F: Future>(&self, rt: &crate::runtime::Runtime, future: F) -> F::Output {
        rt.block_on(self.run_until(future))
    }
}

/// Awaiting the set runs its tasks until every one has completed.
impl Future for LocalSet {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let done = |shared: &Shared| shared.lock().live == 0;
        if done(&self.shared) {
            return Poll::Ready(());
        }
        let _ = self.shared.drive(cx, |_| Poll::<()>::Pending);
        match done(&self.shared) {
            true => Poll::Ready(()),
            false => Poll::Pending,
        }
    }
}

impl Default for LocalSet {
    fn default() -> Self {
        LocalSet::new()
    }
}

impl Drop for LocalSet {
    fn drop(&mut self) {
        // tokio drops every task of the set here: each drops its future in its turn (the
        // set lets them in while closing), and the set waits until all have.
        if !detest::current::in_execution() {
            // Dropped after its execution ended (say, kept in a std thread-local): the
            // execution's tasks are gone, as every unfinished task of an ended execution.
            return;
        }
        *self.shared.driver.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let handles = {
            let mut gate = self.shared.lock();
            while gate.busy {
                gate = self.shared.wait(gate);
            }
            gate.closing = true;
            std::mem::take(&mut gate.handles)
        };
        self.shared.changed.notify_all();
        for handle in &handles {
            handle.abort();
        }
        let mut gate = self.shared.lock();
        while gate.live > 0 {
            gate = self.shared.wait(gate);
        }
    }
}

impl fmt::Debug for LocalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSet").finish()
    }
}

/// Spawns a `!Send` task onto the current [`LocalSet`].
///
/// # Panics
/// As tokio's, outside a `LocalSet` (its `run_until`, an awaited set, one of its tasks, or
/// [`LocalSet::enter`]).
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    match CURRENT.with(|c| c.borrow().clone()) {
        Some((shared, _)) => shared.spawn(future),
        None => panic!(
            "`spawn_local` called from outside of a `task::LocalSet` or `runtime::LocalRuntime`"
        ),
    }
}
