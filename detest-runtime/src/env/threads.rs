//! Real threads and std blocking calls inside an execution, the usual porting mistakes: every
//! task of an execution runs on one OS thread, so a real thread races the schedule, and a std
//! lock, condvar, channel, `park` or `join` waiting for another task never wakes up (that task
//! cannot run while the OS thread sleeps). Both fail the execution with the call site and the
//! detest replacement, instead of hanging until the watchdog kills the process.
//!
//! What is detected: `pthread_create` (`std::thread::spawn`, `Builder::spawn`, `thread::scope`,
//! thread pools), at once; a futex wait made through libc's `syscall` (every std blocking
//! primitive on Linux, whether `Mutex`, `RwLock`, `Condvar`, `mpsc`, `Once`/`OnceLock`,
//! `park` or `JoinHandle::join`) that no real thread ends within [`BLOCKING_GRACE`]: the OS
//! thread may be woken by one (the watchdog takes a std lock the test body shares), never by a
//! task. Not detected: blocking I/O (`read` on a pipe or socket, `accept`, `epoll_wait`), a
//! pthread mutex or condvar (C code), a spin loop on std atomics (it ends at the wall-clock
//! timeout or the watchdog), and anything made without libc.

#[cfg(target_arch = "x86_64")]
use super::random::real_syscall;
use super::{modelled, real_fn};
use crate::rt::execution as rt;
use libc::{c_int, c_void, pthread_attr_t, pthread_t};

type Start = extern "C" fn(*mut c_void) -> *mut c_void;
type PthreadCreate =
    unsafe extern "C" fn(*mut pthread_t, *const pthread_attr_t, Start, *mut c_void) -> c_int;

/// # Safety
/// libc's contract.
#[no_mangle]
pub unsafe extern "C" fn pthread_create(
    thread: *mut pthread_t,
    attr: *const pthread_attr_t,
    start: Start,
    arg: *mut c_void,
) -> c_int {
    if let Some(cell) = modelled().filter(|_| !rt::tearing_down()) {
        let at = call_site();
        let message = format!(
            "a real OS thread was started inside a detest execution{}: every task of an \
             execution runs on one OS thread under the schedule, and a real thread would race \
             it unseen. Use detest::thread::spawn (or detest::thread::scope, \
             detest::thread::Builder) instead; for a thread that must be real, start it inside \
             detest::env::real(|| ..)",
            at.as_ref()
                .map(|a| format!(" at {}", a.0))
                .unwrap_or_default()
        );
        rt::fail_in_foreign_call(cell, message, at.map(|a| a.1));
    }
    real_fn!("pthread_create" as PthreadCreate)(thread, attr, start, arg)
}

/// Futex waits: seen through libc's `syscall`, defined on x86-64 only (see `random.rs`).
#[cfg(target_arch = "x86_64")]
mod futex_wait {
    use super::super::{modelled, real_fn, BLOCKING_GRACE};
    use super::{call_site, real_syscall, rt};
    use libc::{c_int, c_long, timespec};
    use std::cell::RefCell;

    const FUTEX_WAIT: c_long = 0;
    const FUTEX_WAIT_BITSET: c_long = 9;
    const FUTEX_CMD_MASK: c_long = !(128 | 256); // ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)

    /// A futex system call made inside an execution: a wait gets [`BLOCKING_GRACE`] for a real
    /// wake-up, then fails the execution. `None`: not a modelled wait (libc's call answers).
    ///
    /// # Safety
    /// The caller's arguments for `SYS_futex`.
    pub(in crate::env) unsafe fn futex(
        uaddr: c_long,
        op: c_long,
        val: c_long,
        _timeout: c_long,
        uaddr2: c_long,
        val3: c_long,
    ) -> Option<c_long> {
        let cmd = op & FUTEX_CMD_MASK;
        if cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET {
            return None;
        }
        let cell = modelled().filter(|_| !rt::tearing_down())?;
        // The caller's timeout, if any, was computed from the virtual clock: meaningless to the
        // kernel. The wait is bounded by the grace period on the real clock instead.
        let grace = timespec {
            tv_sec: BLOCKING_GRACE.as_secs() as _,
            tv_nsec: BLOCKING_GRACE.subsec_nanos() as _,
        };
        let (op, timeout) = if cmd == FUTEX_WAIT_BITSET {
            // An absolute CLOCK_MONOTONIC deadline (the clock flag cleared).
            let mut now = timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            real_fn!(
                "clock_gettime" as unsafe extern "C" fn(libc::clockid_t, *mut timespec) -> c_int
            )(libc::CLOCK_MONOTONIC, &mut now);
            let nanos = now.tv_nsec + grace.tv_nsec;
            let deadline = timespec {
                tv_sec: now.tv_sec + grace.tv_sec + nanos / 1_000_000_000,
                tv_nsec: nanos % 1_000_000_000,
            };
            (op & !256, deadline)
        } else {
            (op, grace)
        };
        let r = real_syscall(
            libc::SYS_futex,
            uaddr,
            op,
            val,
            &timeout as *const timespec as c_long,
            uaddr2,
            val3,
        );
        if r == -1 && *libc::__errno_location() == libc::ETIMEDOUT {
            blocked(cell);
        }
        // Woken, or the value had changed (EAGAIN), or a signal (EINTR): std checks and retries.
        Some(r)
    }

    #[cold]
    fn blocked(cell: &RefCell<rt::State>) -> ! {
        let at = call_site();
        let message = format!(
            "a std blocking call waited {BLOCKING_GRACE:?} of real time inside a detest \
             execution{} (a futex wait: std::sync::Mutex, RwLock, Condvar, mpsc, Once or OnceLock, \
             std::thread::park or JoinHandle::join): every task runs on this one OS thread, so no \
             other task can wake it. Use the detest::sync and detest::thread types instead",
            at.as_ref()
                .map(|a| format!(" at {}", a.0))
                .unwrap_or_default()
        );
        rt::fail_in_foreign_call(cell, message, at.map(|a| a.1))
    }
}
#[cfg(target_arch = "x86_64")]
pub(super) use futex_wait::futex;

/// The code that made the call: the first frame of the backtrace outside std, detest and libc,
/// as (`function at file:line:col`, `file:line:col`). `None` without debug info.
fn call_site() -> Option<(String, String)> {
    // Real, unmodelled: the capture may take std locks and read files.
    let text = super::real(|| std::backtrace::Backtrace::force_capture().to_string());
    let mut function: Option<&str> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(place) = line.strip_prefix("at ") {
            if let Some(f) = function.take() {
                if !place.starts_with("/rustc/") && !in_runtime(f) {
                    return Some((format!("{f} ({place})"), place.to_owned()));
                }
            }
        } else if let Some((_, f)) = line.split_once(": ") {
            function = Some(f);
        }
    }
    None
}

/// Whether a frame's function is std's, detest's or the C runtime's.
fn in_runtime(function: &str) -> bool {
    let f = function.trim_start_matches('<');
    [
        "std::",
        "core::",
        "alloc::",
        "detest::",
        "__",
        "start_thread",
        "clone",
        // The definitions in this module (unmangled).
        "pthread_create",
        "syscall",
    ]
    .iter()
    .any(|p| f.starts_with(p))
}
