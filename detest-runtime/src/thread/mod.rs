//! Logical threads: `std::thread`'s API, run as coroutines under the detest scheduler.
//!
//! ```
//! detest::check(|| {
//!     let handle = detest::thread::spawn(|| 6 * 7);
//!     assert_eq!(handle.join().unwrap(), 42);
//! });
//! ```

mod local;
mod scope;

pub use local::{AccessError, LocalKey};
pub use scope::{scope, Scope, ScopedJoinHandle};

use crate::rt::execution::{self as rt, TaskId, Wait, WaitKind};
use crate::trace::Op;
use std::fmt;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe, Location};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

pub use std::thread::Result;

/// A logical thread's id: its task id in the execution (0 for the test body), so ids are the
/// same on every run of a seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ThreadId(u32);

impl ThreadId {
    /// The task number (spawn order, starting at 0 for the test body).
    pub fn as_u64(&self) -> u64 {
        u64::from(self.0)
    }
}

/// A handle to a logical thread.
#[derive(Clone, Debug)]
pub struct Thread {
    id: TaskId,
    /// The OS thread, for a handle made outside any execution (see `crate::outside`).
    real: Option<std::thread::Thread>,
    name: Option<Arc<str>>,
    /// The execution the thread belongs to: a handle kept past its execution must not unpark
    /// the task that has the same number in a later one.
    generation: u64,
}

impl Thread {
    pub fn id(&self) -> ThreadId {
        ThreadId(self.id)
    }

    pub fn name(&self) -> Option<&str> {
        if let Some(real) = &self.real {
            return real.name();
        }
        match &self.name {
            Some(n) => Some(n),
            None if self.id == 0 => Some("main"),
            None => None,
        }
    }

    /// Makes the thread's park token available (a scheduling point).
    #[track_caller]
    pub fn unpark(&self) {
        if let Some(real) = &self.real {
            return real.unpark();
        }
        rt::unpark(
            rt::TaskRef {
                generation: self.generation,
                task: self.id,
            },
            Location::caller(),
        );
    }
}

/// The calling logical thread.
#[track_caller]
pub fn current() -> Thread {
    if !rt::in_execution() {
        return Thread::outside(std::thread::current());
    }
    let what = "detest::thread::current";
    let me = rt::current_task_ref(what);
    Thread {
        id: me.task,
        real: None,
        name: rt::task_name(what, me.task),
        generation: me.generation,
    }
}

/// Lets another thread run: the scheduler prefers any other runnable task.
#[track_caller]
pub fn yield_now() {
    if !rt::in_execution() {
        return std::thread::yield_now();
    }
    rt::after(
        "detest::thread::yield_now",
        Op::Yield,
        None,
        "",
        Location::caller(),
        true,
    );
}

/// Sleeps on the virtual clock: returns at once in wall time, after every task that was due
/// earlier has run.
#[track_caller]
pub fn sleep(duration: Duration) {
    crate::time::sleep_at(duration, Location::caller());
}

/// Blocks until the thread's park token is available. As std's, it may return spuriously
/// (under the exploring policies, unless `spurious_wakeups` is off): call it in a loop.
#[track_caller]
pub fn park() {
    if !rt::in_execution() {
        return std::thread::park();
    }
    rt::park(rt::no_deadline(), Location::caller());
}

/// [`park`], waiting at most `dur` of virtual time.
#[track_caller]
pub fn park_timeout(dur: Duration) {
    if !rt::in_execution() {
        return std::thread::park_timeout(dur);
    }
    let deadline = rt::deadline_after("detest::thread::park_timeout", dur);
    rt::park(deadline, Location::caller());
}

/// Shared slot where a task leaves its result for the joiner.
pub(crate) type Packet<T> = Arc<StdMutex<Option<Result<T>>>>;

/// Runs `f` in the current task, catching its panic into the packet (and recording it).
pub(crate) fn run_into_packet<T>(f: impl FnOnce() -> T, packet: &Packet<T>) {
    let result = catch_unwind(AssertUnwindSafe(f));
    if let Err(payload) = &result {
        if rt::tearing_down() {
            let Err(payload) = result else { unreachable!() };
            resume_unwind(payload);
        }
        rt::record_panic(payload);
    }
    *packet.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
}

/// What a join returns when the execution is torn down (a deadlock elsewhere, a limit) before
/// the joined thread finished: only drops run by the teardown can observe it.
pub(crate) fn torn_down<T>() -> Result<T> {
    Err(Box::new(
        "detest: the execution was torn down before this thread finished",
    ))
}

/// Waits for task `id` to finish (a scheduling point).
pub(crate) fn join_task(id: TaskId, location: &'static Location<'static>) {
    let what = "detest::thread::JoinHandle::join";
    rt::before_join(what, id, location);
    while !rt::is_finished(what, id) && !rt::tearing_down() {
        rt::block(what, Wait::new(WaitKind::Join, id, "thread", location));
    }
    // Everything the thread did happens before the join returns.
    rt::acquire_joined(what, id);
}

/// An owned permission to join a logical thread.
pub struct JoinHandle<T> {
    thread: Thread,
    packet: Packet<T>,
    /// The OS thread, for one spawned outside any execution.
    pub(super) real: Option<std::thread::JoinHandle<()>>,
}

impl<T> JoinHandle<T> {
    /// Waits for the thread to finish; `Err` carries its panic payload, as with std.
    #[track_caller]
    pub fn join(self) -> Result<T> {
        if let Some(real) = self.real {
            // The thread caught its own panic into the packet: its join cannot fail.
            let _ = real.join();
            let result = self.packet.lock().unwrap_or_else(|e| e.into_inner()).take();
            return result.expect("a finished thread's result");
        }
        join_task(self.thread.id, Location::caller());
        let result = self.packet.lock().unwrap_or_else(|e| e.into_inner()).take();
        let result = result.unwrap_or_else(torn_down);
        if result.is_err() {
            rt::observe_panic("detest::thread::JoinHandle::join", self.thread.id);
        }
        result
    }

    pub fn thread(&self) -> &Thread {
        &self.thread
    }

    pub(crate) fn into_parts(self) -> (TaskId, Packet<T>) {
        (self.thread.id, self.packet)
    }

    /// Whether the thread has finished (a scheduling point, like any read of shared state).
    #[track_caller]
    pub fn is_finished(&self) -> bool {
        if let Some(real) = &self.real {
            return real.is_finished();
        }
        let what = "detest::thread::JoinHandle::is_finished";
        rt::before(what, Op::Load, None, "", Location::caller());
        rt::is_finished(what, self.thread.id)
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("thread", &self.thread)
            .finish()
    }
}

/// The parallelism detest reports: a fixed 4 on every machine, so that code sizing its
/// thread pools from it behaves the same everywhere (and spawns few enough tasks to explore).
/// std's may differ from run to run; detest's never does.
pub fn available_parallelism() -> std::io::Result<std::num::NonZeroUsize> {
    Ok(std::num::NonZeroUsize::new(AVAILABLE_PARALLELISM).expect("nonzero"))
}

/// What [`available_parallelism`] returns.
pub const AVAILABLE_PARALLELISM: usize = 4;

/// Configures a new logical thread.
#[derive(Debug, Default)]
pub struct Builder {
    name: Option<String>,
    stack_size: Option<usize>,
}

impl Builder {
    pub fn new() -> Builder {
        Builder::default()
    }

    pub fn name(mut self, name: String) -> Builder {
        self.name = Some(name);
        self
    }

    /// Stack size of the coroutine (default: the execution's, see `Config::stack_size`).
    pub fn stack_size(mut self, size: usize) -> Builder {
        self.stack_size = Some(size);
        self
    }

    #[track_caller]
    pub fn spawn<F, T>(self, f: F) -> std::io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        // SAFETY: `f` is 'static.
        Ok(unsafe { self.spawn_unchecked(f, Location::caller()) })
    }

    /// Spawns a thread borrowing from `'scope`, joined by [`scope`].
    #[track_caller]
    pub fn spawn_scoped<'scope, 'env, F, T>(
        self,
        scope: &'scope Scope<'scope, 'env>,
        f: F,
    ) -> std::io::Result<ScopedJoinHandle<'scope, T>>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        Ok(scope.spawn_with(self, f, Location::caller()))
    }

    /// # Safety
    /// Whatever `f` borrows must outlive the thread.
    pub(crate) unsafe fn spawn_unchecked<F, T>(
        self,
        f: F,
        location: &'static Location<'static>,
    ) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send,
        T: Send,
    {
        if !rt::in_execution() {
            return self.spawn_outside(f);
        }
        self.spawn_in_execution(f, location)
    }

    /// A logical thread of the current execution. No `Send` bound: every task of an execution
    /// runs on the execution's one OS thread, so a value that may not cross OS threads may
    /// still move between its tasks (tokio's `spawn_local` relies on this).
    ///
    /// # Safety
    /// Whatever `f` borrows must outlive the thread; the caller is inside an execution.
    pub(crate) unsafe fn spawn_in_execution<F, T>(
        self,
        f: F,
        location: &'static Location<'static>,
    ) -> JoinHandle<T>
    where
        F: FnOnce() -> T,
    {
        let what = "detest::thread::spawn";
        let packet: Packet<T> = Arc::new(StdMutex::new(None));
        let their_packet = packet.clone();
        let name: Option<Arc<str>> = self.name.map(Arc::from);
        let id = rt::spawn_task(what, name.clone(), self.stack_size, move || {
            run_into_packet(f, &their_packet)
        });
        rt::note(what, Op::Spawn, location);
        let generation = rt::current_task_ref(what).generation;
        JoinHandle {
            thread: Thread {
                id,
                real: None,
                name,
                generation,
            },
            packet,
            real: None,
        }
    }

    /// An OS thread, for a spawn outside any execution (see `crate::outside`).
    ///
    /// # Safety
    /// As [`Builder::spawn_unchecked`].
    unsafe fn spawn_outside<F, T>(self, f: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send,
        T: Send,
    {
        let packet: Packet<T> = Arc::new(StdMutex::new(None));
        let their_packet = packet.clone();
        let mut builder = std::thread::Builder::new();
        if let Some(name) = self.name {
            builder = builder.name(name);
        }
        if let Some(size) = self.stack_size {
            builder = builder.stack_size(size);
        }
        let body = move || {
            let result = catch_unwind(AssertUnwindSafe(f));
            *their_packet.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
        };
        // SAFETY: the caller's promise; the packet and `f` outlive the thread, which the
        // handle (or `scope`) joins.
        let real = unsafe { builder.spawn_unchecked(body) }.expect("failed to spawn thread");
        JoinHandle {
            thread: Thread::outside(real.thread().clone()),
            packet,
            real: Some(real),
        }
    }
}

impl Thread {
    /// The handle of an OS thread outside any execution.
    fn outside(real: std::thread::Thread) -> Thread {
        use std::hash::{Hash, Hasher};
        // std's id as a number, apart from task numbers (which count from 0 in each
        // execution); `DefaultHasher::new` has fixed keys, so it is the same on every call.
        let mut h = std::collections::hash_map::DefaultHasher::new();
        real.id().hash(&mut h);
        let id = (h.finish() as u32) | 1 << 31;
        Thread {
            id,
            real: Some(real),
            name: None,
            generation: 0,
        }
    }
}

/// Spawns a logical thread (a scheduling point: the new thread may run first).
#[track_caller]
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    // SAFETY: `f` is 'static.
    unsafe { Builder::new().spawn_unchecked(f, Location::caller()) }
}
