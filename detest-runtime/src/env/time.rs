//! std's clock and sleep inside an execution: the libc functions std (and C code in the test
//! binary) calls for the time and for sleeping, answered from the execution's virtual clock.
//!
//! What std calls on glibc Linux (checked by `tests/std_time.rs`): `Instant::now()` is
//! `clock_gettime(CLOCK_MONOTONIC)`, `SystemTime::now()` is `clock_gettime(CLOCK_REALTIME)`,
//! and `std::thread::sleep` is `clock_nanosleep(CLOCK_MONOTONIC, 0, ..)` (older std:
//! `nanosleep`). std calls them through the PLT, so the test binary's definitions here win;
//! glibc's vDSO fast path sits behind glibc's own function, which is only reached by
//! forwarding. glibc-internal callers (its `sleep` calls `nanosleep` internally) bypass the
//! PLT, which is why `sleep` and `usleep` are defined here too.

use super::random::fail;
use super::{epoch, modelled, real_fn, MONOTONIC_BASE};
use crate::rt::execution as rt;
use libc::{c_int, c_uint, clockid_t, time_t, timespec, timeval};
use std::cell::RefCell;
use std::panic::Location;
use std::time::Duration;

const NANOS: u64 = 1_000_000_000;

/// Which virtual reading a clock gets, if any.
#[derive(Clone, Copy)]
enum Clock {
    Monotonic,
    Realtime,
}

fn clock_of(id: clockid_t) -> Option<Clock> {
    match id {
        libc::CLOCK_MONOTONIC
        | libc::CLOCK_MONOTONIC_RAW
        | libc::CLOCK_MONOTONIC_COARSE
        | libc::CLOCK_BOOTTIME => Some(Clock::Monotonic),
        libc::CLOCK_REALTIME | libc::CLOCK_REALTIME_COARSE | libc::CLOCK_TAI => {
            Some(Clock::Realtime)
        }
        // CPU-time clocks measure the process's real work; alarm clocks are for timers.
        _ => None,
    }
}

/// The clock's virtual reading in nanoseconds, or `None` when the call is not modelled.
fn virtual_nanos(clock: Clock) -> Option<u64> {
    modelled().map(|cell| reading(cell, clock))
}

/// The clock's virtual reading in the execution of `cell`.
fn reading(cell: &RefCell<rt::State>, clock: Clock) -> u64 {
    let (now, seed) = rt::virtual_clock(cell);
    match clock {
        Clock::Monotonic => (MONOTONIC_BASE.as_nanos() as u64).saturating_add(now),
        Clock::Realtime => epoch(seed).saturating_add(now),
    }
}

fn timespec_of(nanos: u64) -> timespec {
    timespec {
        tv_sec: (nanos / NANOS) as time_t,
        tv_nsec: (nanos % NANOS) as _,
    }
}

/// A valid timespec as nanoseconds (`None`: out of range, which libc reports as `EINVAL`).
#[allow(clippy::useless_conversion)] // `tv_nsec` is an i32 on 32-bit targets
fn nanos_of(ts: &timespec) -> Option<u64> {
    if ts.tv_sec < 0 || !(0..NANOS as i64).contains(&i64::from(ts.tv_nsec)) {
        return None;
    }
    (ts.tv_sec as u64)
        .checked_mul(NANOS)
        .and_then(|n| n.checked_add(ts.tv_nsec as u64))
        .or(Some(u64::MAX))
}

/// Sleeps on the virtual clock, a scheduling point as `detest::time::sleep` is.
fn sleep_virtually(cell: &RefCell<rt::State>, nanos: u64) {
    rt::in_foreign_call(cell, || {
        // A C caller has no Rust location; the trace names this line for std's sleeps.
        crate::time::sleep_at(Duration::from_nanos(nanos), Location::caller());
    });
}

type ClockGettime = unsafe extern "C" fn(clockid_t, *mut timespec) -> c_int;

/// # Safety
/// libc's contract: `tp` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn clock_gettime(id: clockid_t, tp: *mut timespec) -> c_int {
    if let Some(nanos) = clock_of(id).and_then(virtual_nanos) {
        if tp.is_null() {
            return fail(libc::EFAULT);
        }
        *tp = timespec_of(nanos);
        return 0;
    }
    real_fn!("clock_gettime" as ClockGettime)(id, tp)
}

type Gettimeofday = unsafe extern "C" fn(*mut timeval, *mut libc::c_void) -> c_int;

/// # Safety
/// libc's contract: `tv` and `tz` are null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn gettimeofday(tv: *mut timeval, tz: *mut libc::c_void) -> c_int {
    if let Some(nanos) = virtual_nanos(Clock::Realtime) {
        if !tv.is_null() {
            *tv = timeval {
                tv_sec: (nanos / NANOS) as time_t,
                tv_usec: ((nanos % NANOS) / 1000) as _,
            };
        }
        if !tz.is_null() {
            // The obsolete `struct timezone`: UTC, no DST.
            tz.cast::<[c_int; 2]>().write([0, 0]);
        }
        return 0;
    }
    real_fn!("gettimeofday" as Gettimeofday)(tv, tz)
}

type Time = unsafe extern "C" fn(*mut time_t) -> time_t;

/// # Safety
/// libc's contract: `t` is null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn time(t: *mut time_t) -> time_t {
    if let Some(nanos) = virtual_nanos(Clock::Realtime) {
        let secs = (nanos / NANOS) as time_t;
        if !t.is_null() {
            *t = secs;
        }
        return secs;
    }
    real_fn!("time" as Time)(t)
}

type Nanosleep = unsafe extern "C" fn(*const timespec, *mut timespec) -> c_int;

/// # Safety
/// libc's contract: `req` is valid for a read, `rem` null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn nanosleep(req: *const timespec, rem: *mut timespec) -> c_int {
    if let (Some(cell), false) = (modelled(), req.is_null()) {
        let Some(nanos) = nanos_of(&*req) else {
            return fail(libc::EINVAL);
        };
        sleep_virtually(cell, nanos);
        if !rem.is_null() {
            *rem = timespec_of(0);
        }
        return 0;
    }
    real_fn!("nanosleep" as Nanosleep)(req, rem)
}

type ClockNanosleep =
    unsafe extern "C" fn(clockid_t, c_int, *const timespec, *mut timespec) -> c_int;

/// std's `thread::sleep`. Returns an error number, not -1 (POSIX).
///
/// # Safety
/// libc's contract: `req` is valid for a read, `rem` null or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn clock_nanosleep(
    id: clockid_t,
    flags: c_int,
    req: *const timespec,
    rem: *mut timespec,
) -> c_int {
    if let (Some(clock), false) = (clock_of(id), req.is_null()) {
        if let Some(cell) = modelled() {
            let Some(nanos) = nanos_of(&*req) else {
                return libc::EINVAL;
            };
            let nanos = if flags & libc::TIMER_ABSTIME != 0 {
                // A deadline on the same (virtual) clock the caller read.
                nanos.saturating_sub(reading(cell, clock))
            } else {
                nanos
            };
            sleep_virtually(cell, nanos);
            if !rem.is_null() && flags & libc::TIMER_ABSTIME == 0 {
                *rem = timespec_of(0);
            }
            return 0;
        }
    }
    real_fn!("clock_nanosleep" as ClockNanosleep)(id, flags, req, rem)
}

type Sleep = unsafe extern "C" fn(c_uint) -> c_uint;

/// # Safety
/// Always safe; `unsafe` as libc's functions are.
#[no_mangle]
pub unsafe extern "C" fn sleep(seconds: c_uint) -> c_uint {
    if let Some(cell) = modelled() {
        sleep_virtually(cell, u64::from(seconds) * NANOS);
        return 0;
    }
    real_fn!("sleep" as Sleep)(seconds)
}

type Usleep = unsafe extern "C" fn(libc::useconds_t) -> c_int;

/// # Safety
/// Always safe; `unsafe` as libc's functions are.
#[no_mangle]
pub unsafe extern "C" fn usleep(micros: libc::useconds_t) -> c_int {
    if let Some(cell) = modelled() {
        sleep_virtually(cell, u64::from(micros) * 1000);
        return 0;
    }
    real_fn!("usleep" as Usleep)(micros)
}
