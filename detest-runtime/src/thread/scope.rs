//! Scoped threads, as `std::thread::scope`.

use super::{join_task, Builder, Packet, Thread};
use crate::rt::execution as rt;
use std::marker::PhantomData;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe, Location};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex as StdMutex};

/// An OS thread of a scope outside any execution; taken by whoever joins it first.
type RealThread = Arc<StdMutex<Option<std::thread::JoinHandle<()>>>>;

fn join_real(thread: &RealThread) {
    let handle = thread.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(handle) = handle {
        // The thread caught its own panic into its packet.
        let _ = handle.join();
    }
}

/// A scope to spawn threads that may borrow from the enclosing stack frame.
pub struct Scope<'scope, 'env: 'scope> {
    /// Every thread spawned, with a flag set while it has panicked and not been joined.
    threads: StdMutex<Vec<(u32, Arc<AtomicBool>)>>,
    /// Outside any execution: the OS threads, each joined by its handle or else by `scope`.
    real: StdMutex<Vec<RealThread>>,
    scope: PhantomData<&'scope mut &'scope ()>,
    env: PhantomData<&'env mut &'env ()>,
}

/// An owned permission to join a scoped thread.
pub struct ScopedJoinHandle<'scope, T> {
    thread: Thread,
    real: Option<RealThread>,
    packet: Packet<T>,
    unjoined_panic: Arc<AtomicBool>,
    _scope: PhantomData<&'scope ()>,
}

impl<T> ScopedJoinHandle<'_, T> {
    #[track_caller]
    pub fn join(self) -> std::thread::Result<T> {
        if let Some(real) = &self.real {
            join_real(real);
            let result = self.packet.lock().unwrap_or_else(|e| e.into_inner()).take();
            let result = result.expect("a finished thread's result");
            if result.is_err() {
                self.unjoined_panic.store(false, Ordering::Relaxed);
            }
            return result;
        }
        join_task(self.thread.id, Location::caller());
        let result = self.packet.lock().unwrap_or_else(|e| e.into_inner()).take();
        let result = result.unwrap_or_else(super::torn_down);
        if result.is_err() {
            self.unjoined_panic.store(false, Ordering::Relaxed);
            rt::observe_panic("detest::thread::ScopedJoinHandle::join", self.thread.id);
        }
        result
    }

    pub fn thread(&self) -> &Thread {
        &self.thread
    }
}

impl<'scope> Scope<'scope, '_> {
    /// Spawns a thread that may borrow from outside the scope.
    #[track_caller]
    pub fn spawn<F, T>(&'scope self, f: F) -> ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        self.spawn_with(Builder::new(), f, Location::caller())
    }

    pub(crate) fn spawn_with<F, T>(
        &'scope self,
        builder: Builder,
        f: F,
        location: &'static Location<'static>,
    ) -> ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        // SAFETY: `scope` joins every thread before 'scope ends, also when its body panics; a
        // torn-down execution unwinds newer tasks (these) before older ones (the scope's owner).
        let flag = Arc::new(AtomicBool::new(false));
        let their_flag = flag.clone();
        let f = move || match catch_unwind(AssertUnwindSafe(f)) {
            Ok(v) => v,
            Err(payload) => {
                their_flag.store(true, Ordering::Relaxed);
                resume_unwind(payload)
            }
        };
        let mut handle = unsafe { builder.spawn_unchecked(f, location) };
        let real = handle.real.take().map(|h| Arc::new(StdMutex::new(Some(h))));
        if let Some(real) = &real {
            self.real
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(real.clone());
            return ScopedJoinHandle {
                thread: handle.thread,
                real: Some(real.clone()),
                packet: handle.packet,
                unjoined_panic: flag,
                _scope: PhantomData,
            };
        }
        self.threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((handle.thread.id, flag.clone()));
        ScopedJoinHandle {
            thread: handle.thread,
            real: None,
            packet: handle.packet,
            unjoined_panic: flag,
            _scope: PhantomData,
        }
    }
}

/// Creates a scope for spawning scoped threads; all of them are joined before it returns.
#[track_caller]
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&'scope Scope<'scope, 'env>) -> T,
{
    let location = Location::caller();
    let scope = Scope {
        threads: StdMutex::new(Vec::new()),
        real: StdMutex::new(Vec::new()),
        scope: PhantomData,
        env: PhantomData,
    };
    let result = catch_unwind(AssertUnwindSafe(|| f(&scope)));
    if rt::tearing_down() {
        if let Err(payload) = result {
            resume_unwind(payload);
        }
    }
    let threads = std::mem::take(&mut *scope.threads.lock().unwrap_or_else(|e| e.into_inner()));
    let mut a_thread_panicked = false;
    let real = std::mem::take(&mut *scope.real.lock().unwrap_or_else(|e| e.into_inner()));
    for thread in &real {
        join_real(thread);
    }
    if !real.is_empty() {
        for (_, unjoined_panic) in &threads {
            a_thread_panicked |= unjoined_panic.load(Ordering::Relaxed);
        }
        return match result {
            Err(payload) => resume_unwind(payload),
            Ok(_) if a_thread_panicked => panic!("a scoped thread panicked"),
            Ok(value) => value,
        };
    }
    for (id, unjoined_panic) in &threads {
        join_task(*id, location);
        a_thread_panicked |= unjoined_panic.load(Ordering::Relaxed);
    }
    match result {
        Err(payload) => resume_unwind(payload),
        Ok(_) if a_thread_panicked => panic!("a scoped thread panicked"),
        Ok(value) => value,
    }
}
