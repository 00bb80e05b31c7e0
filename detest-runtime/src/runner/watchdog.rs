//! The last resort for `timeout`: the executor checks the wall clock at scheduling points, but a
//! body that spins without reaching one can never be interrupted in-process. A watchdog thread
//! notices an execution that overran its timeout by a margin, lets the runner record the seed
//! (fixture, result line, repro command) and aborts the process.

use crate::Policy;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// `on_hang(seed, policy, limit)`: `policy` is that of the execution in flight when it is not
/// the test's own (a fixed execution, or the shrinking of one).
type OnHang = Box<dyn Fn(u64, Option<Policy>, Duration) + Send>;

#[derive(Default)]
struct State {
    current: Option<(u64, Option<Policy>, Instant)>,
    stop: bool,
}

pub(crate) struct Watchdog {
    shared: Arc<(Mutex<State>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

/// How long past its timeout an execution may run before the process is aborted: the executor
/// only looks at the clock every so many steps, so give it time to fail the run itself first.
pub(crate) fn grace(timeout: Duration) -> Duration {
    timeout + timeout.max(Duration::from_secs(1))
}

impl Watchdog {
    /// No thread without a timeout. `on_hang(seed, policy, limit)` runs on the watchdog thread
    /// before the abort.
    pub(crate) fn start(timeout: Option<Duration>, on_hang: OnHang) -> Watchdog {
        let shared = Arc::new((Mutex::new(State::default()), Condvar::new()));
        let thread = timeout.map(|timeout| {
            let limit = grace(timeout);
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("detest-watchdog".into())
                .spawn(move || watch(&shared, limit, on_hang))
                .expect("spawn the detest watchdog thread")
        });
        Watchdog { shared, thread }
    }

    /// Marks the start of an execution of `seed`; it ends when the guard drops.
    pub(crate) fn begin(&self, seed: u64) -> Running<'_> {
        self.set(seed, None);
        Running(self)
    }

    /// [`Watchdog::begin`] for an execution under `policy` rather than the test's own.
    pub(crate) fn begin_as(&self, seed: u64, policy: Policy) -> Running<'_> {
        self.set(seed, Some(policy));
        Running(self)
    }

    /// Renames the execution in flight (a fixed execution under its own policy).
    pub(crate) fn relabel(&self, seed: u64, policy: Policy) {
        self.set(seed, Some(policy));
    }

    /// Restarts the clock of the execution in flight, keeping its name. The runner calls it as
    /// every execution of the test body starts (see [`Watchdog::timed`]), so that the limit
    /// applies to each execution rather than to all those run for one seed (an estimate probe,
    /// a determinism check, shrinking).
    pub(crate) fn restart(&self) {
        if self.thread.is_some() {
            let (lock, cvar) = &*self.shared;
            let mut state = lock.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some((_, _, started)) = &mut state.current {
                // Real time: this runs inside the execution (see `timed`).
                *started = crate::env::real_now();
                cvar.notify_all();
            }
        }
    }

    /// `body`, restarting the clock each time it runs.
    pub(crate) fn timed<'a, F: Fn()>(&'a self, body: &'a F) -> impl Fn() + 'a {
        move || {
            self.restart();
            body()
        }
    }

    fn set(&self, seed: u64, policy: Option<Policy>) {
        if self.thread.is_some() {
            let (lock, cvar) = &*self.shared;
            lock.lock().unwrap_or_else(PoisonError::into_inner).current =
                Some((seed, policy, crate::env::real_now()));
            cvar.notify_all();
        }
    }
}

pub(crate) struct Running<'a>(&'a Watchdog);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if self.0.thread.is_some() {
            let (lock, _) = &*self.0.shared;
            lock.lock().unwrap_or_else(PoisonError::into_inner).current = None;
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            let (lock, cvar) = &*self.shared;
            lock.lock().unwrap_or_else(PoisonError::into_inner).stop = true;
            cvar.notify_all();
            let _ = thread.join();
        }
    }
}

fn watch(shared: &(Mutex<State>, Condvar), limit: Duration, on_hang: OnHang) {
    let (lock, cvar) = shared;
    let mut state = lock.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        if state.stop {
            return;
        }
        match state.current {
            None => state = cvar.wait(state).unwrap_or_else(PoisonError::into_inner),
            Some((seed, policy, started)) => {
                let elapsed = started.elapsed();
                if elapsed >= limit {
                    drop(state);
                    on_hang(seed, policy, limit);
                    std::process::abort();
                }
                state = cvar
                    .wait_timeout(state, limit - elapsed)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
        }
    }
}
