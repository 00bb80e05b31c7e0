//! The environment of unmodified code: inside an execution, std's clock, sleep and randomness
//! are the execution's, and a real thread is a reported mistake rather than a hang.
//!
//! ```
//! use std::time::{Duration, Instant, SystemTime};
//! # if !detest::env::INTERPOSED { return; } // std is untouched on this platform
//! detest::check(|| {
//!     let start = Instant::now();
//!     let wall = SystemTime::now();
//!     std::thread::sleep(Duration::from_secs(3600)); // a virtual hour, in no wall time
//!     assert_eq!(start.elapsed(), Duration::from_secs(3600));
//!     assert_eq!(wall.elapsed().unwrap(), Duration::from_secs(3600));
//! });
//! ```
//!
//! How: the library defines the libc functions std calls (`clock_gettime`, `gettimeofday`,
//! `time`, `nanosleep`, `clock_nanosleep`, `sleep`, `usleep`, `getrandom`, `getentropy`,
//! `syscall` for `SYS_getrandom` and `SYS_futex`, `pthread_create`) with `#[no_mangle]`, so the
//! test binary's definitions win over glibc's, as madsim does. Each one checks whether the
//! calling OS thread is running a task of an execution; if not (another test thread, the
//! harness, the watchdog, a thread made inside [`real`]) it forwards to glibc's function, found
//! with `dlsym(RTLD_NEXT, ..)`. Only on glibc Linux with dynamic linking, and with the
//! `std-env` feature (on by default) ([`INTERPOSED`]); elsewhere std is untouched and
//! `detest::time` / `detest::rand` are the way.
//!
//! Inside an execution:
//! - `Instant::now()` (`CLOCK_MONOTONIC`, `_RAW`, `_COARSE`, `CLOCK_BOOTTIME`) reads
//!   [`MONOTONIC_BASE`] plus the virtual clock (so `Instant::now() - a_minute` does not
//!   overflow); `SystemTime::now()` (`CLOCK_REALTIME`, `_COARSE`, `CLOCK_TAI`, `gettimeofday`,
//!   `time`) reads [`epoch`]`(seed)` plus the virtual clock. CPU-time clocks stay real.
//! - `std::thread::sleep` (std calls `clock_nanosleep`) and `nanosleep`, `sleep`, `usleep` are
//!   `detest::time::sleep`: a scheduling point, then virtual time.
//! - `getrandom(2)`, `getentropy` and the raw `syscall(SYS_getrandom, ..)` (the `getrandom`
//!   crate 0.2 makes that one; 0.3 calls libc's `getrandom`) return bytes drawn from the
//!   execution's seeded generator, one recorded draw per 8 bytes, like `detest::rand`. A call
//!   with `GRND_INSECURE` is std's `HashMap` keys and gets real bytes (see `random.rs`).
//! - `pthread_create` (`std::thread::spawn`, `thread::scope`, a thread pool) fails the
//!   execution, naming the call site and `detest::thread::spawn`.
//! - A std lock, condvar, channel, `park` or `join` that blocks (a futex wait) for
//!   [`BLOCKING_GRACE`] of real time fails the execution the same way (see `threads.rs`).

#[cfg(detest_std_env)]
mod random;
#[cfg(detest_std_env)]
mod threads;
#[cfg(detest_std_env)]
mod time;

use crate::rt::execution as rt;
use std::cell::{Cell, RefCell};
use std::time::Duration;

/// Whether std's clock, sleep, randomness and thread creation are modelled inside executions
/// in this build: on glibc Linux, dynamically linked, with the `std-env` feature (a default
/// one; a build that turns it off keeps glibc's functions, in production code say).
pub const INTERPOSED: bool = cfg!(detest_std_env);

/// What `Instant::now()` reads at virtual time zero: a machine's monotonic clock counts from
/// boot, and code subtracts from it (`Instant::now() - timeout`), which must not underflow.
pub const MONOTONIC_BASE: Duration = Duration::from_secs(1_000_000);

/// How long a std blocking call (a futex wait) may wait for a real wake-up inside an
/// execution before the execution fails: another OS thread (the watchdog, a thread made in
/// [`real`]) may hold a std lock briefly, but no detest task can ever release one.
pub const BLOCKING_GRACE: Duration = Duration::from_secs(1);

/// The `SystemTime` of virtual time zero in an execution of `seed`, as nanoseconds since the
/// Unix epoch: a moment in 2020–2029 derived from the seed alone (no draw is spent on it), so
/// a seed always starts on the same date and different seeds start on different ones. A
/// schedule replayed with [`Config::replay`](crate::Config::replay) runs as seed 0: use
/// [`Config::replay_seed`](crate::Config::replay_seed) (as fixtures do) for code that looks
/// at the date.
pub fn epoch(seed: u64) -> u64 {
    const JAN_2020: u64 = 1_577_836_800_000_000_000;
    const TEN_YEARS: u64 = 10 * 365 * 86_400 * 1_000_000_000;
    // splitmix64: neighbouring seeds land far apart.
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    JAN_2020 + (z ^ (z >> 31)) % TEN_YEARS
}

thread_local! {
    /// Nesting depth of [`real`] (and of the runtime's own real reads) on this thread.
    static BYPASS: Cell<u32> = const { Cell::new(0) };
}

/// Runs `f` with the real environment on this thread, inside an execution too: real clock,
/// real sleeps, real randomness, real threads. For code that must talk to the outside world
/// (a log's timestamps, a helper process); what it does is not part of the schedule, so a
/// result that steers the test makes it nondeterministic.
///
/// ```
/// detest::check(|| {
///     let real = detest::env::real(std::time::SystemTime::now);
///     assert!(real > std::time::UNIX_EPOCH);
/// });
/// ```
pub fn real<R>(f: impl FnOnce() -> R) -> R {
    struct Restore;
    impl Drop for Restore {
        fn drop(&mut self) {
            BYPASS.with(|b| b.set(b.get() - 1));
        }
    }
    BYPASS.with(|b| b.set(b.get() + 1));
    let _restore = Restore;
    f()
}

/// The real monotonic clock, for the runtime's own wall-clock reads (timeouts, progress): they
/// may run inside an execution, where `Instant::now()` is virtual.
pub(crate) fn real_now() -> std::time::Instant {
    real(std::time::Instant::now)
}

/// The execution whose task is making a libc call that is to be modelled (see
/// `rt::modelled_state`), or `None` for a real one.
#[cfg_attr(not(detest_std_env), allow(dead_code))]
#[inline]
fn modelled() -> Option<&'static RefCell<rt::State>> {
    if BYPASS.with(|b| b.get()) != 0 {
        return None;
    }
    rt::modelled_state()
}

/// glibc's own definition of a function this library defines, as a value of type `$ty`. Looked
/// up once (`dlsym(RTLD_NEXT, ..)` finds the next definition after the test binary's); a
/// process without one cannot go on.
#[cfg(detest_std_env)]
macro_rules! real_fn {
    ($name:literal as $ty:ty) => {{
        static ADDRESS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let mut address = ADDRESS.load(std::sync::atomic::Ordering::Relaxed);
        if address == 0 {
            // SAFETY: a NUL-terminated name; dlsym is thread-safe.
            address = unsafe { libc::dlsym(libc::RTLD_NEXT, concat!($name, "\0").as_ptr().cast()) }
                as usize;
            if address == 0 {
                crate::env::no_real_fn($name);
            }
            ADDRESS.store(address, std::sync::atomic::Ordering::Relaxed);
        }
        // SAFETY: glibc's symbol of that name has this signature.
        unsafe { std::mem::transmute::<usize, $ty>(address) }
    }};
}
#[cfg(detest_std_env)]
use real_fn;

#[cfg(detest_std_env)]
#[cold]
fn no_real_fn(name: &str) -> ! {
    // No allocation, no std I/O lock: this may run anywhere (inside malloc's callers even).
    let parts: [&[u8]; 3] = [
        b"detest: cannot find libc's ",
        name.as_bytes(),
        b" (dlsym RTLD_NEXT); aborting\n",
    ];
    for part in parts {
        // SAFETY: writing a valid buffer to stderr.
        unsafe { libc::write(2, part.as_ptr().cast(), part.len()) };
    }
    std::process::abort()
}
