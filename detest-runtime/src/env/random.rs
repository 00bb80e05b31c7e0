//! OS randomness inside an execution: `getrandom(2)`, `getentropy` and the raw
//! `syscall(SYS_getrandom, ..)` fill their buffer from the execution's seeded generator, one
//! recorded draw (`detest::rand::next_u64`) per 8 bytes, so the bytes replay with the schedule.
//!
//! Who calls what on glibc Linux (checked by `tests/std_random.rs`):
//! - the `getrandom` crate 0.3 (`rand` 0.9, `uuid`, `ahash`'s runtime RNG) calls libc's
//!   `getrandom`; 0.2 (`rand` 0.8) makes the raw system call through libc's `syscall`. Both
//!   first probe with an empty buffer, once per process (answered without a draw).
//! - std's `RandomState` (the keys of every `HashMap`/`HashSet`) calls
//!   `getrandom(.., GRND_INSECURE)` once per OS thread and caches the keys in a thread-local,
//!   adding one to them for each new map. The first execution on a thread would spend a draw
//!   there and the next ones would not, so the schedule of any but the first could not replay
//!   in a fresh process: `GRND_INSECURE` calls get real bytes instead, and a std `HashMap`'s
//!   order stays nondeterministic, named by `check_determinism` where it changes the path.
//!   The same caching holds for anything that seeds once per thread or process (`rand`'s
//!   `thread_rng`, `fastrand`'s global generator): the first execution draws, later ones
//!   reuse the cached state.
//!
//! Not covered: reading `/dev/urandom`, a system call made without libc (`rustix`'s
//! `linux_raw` backend, inline assembly), the `rdrand` instruction.

use super::{modelled, real_fn};
use crate::rt::execution as rt;
#[cfg(target_arch = "x86_64")]
use libc::c_long;
use libc::{c_int, c_uint, c_void, size_t, ssize_t};

/// Fills `len` bytes at `buf` with recorded draws.
///
/// # Safety
/// `buf` is valid for `len` bytes of writes.
unsafe fn fill(buf: *mut u8, len: usize) {
    let mut at = 0;
    while at < len {
        let bytes = rt::random_u64("getrandom").to_le_bytes();
        let n = (len - at).min(8);
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf.add(at), n);
        at += n;
    }
}

/// The modelled `getrandom`, or `None` when the real one must answer.
///
/// # Safety
/// `buf` is valid for `len` bytes of writes.
unsafe fn modelled_getrandom(buf: *mut c_void, len: size_t, flags: c_uint) -> Option<ssize_t> {
    if flags & libc::GRND_INSECURE != 0 {
        return None;
    }
    let cell = modelled()?;
    if len > 0 {
        if buf.is_null() {
            return Some(fail(libc::EFAULT) as ssize_t);
        }
        rt::in_foreign_call(cell, || fill(buf.cast(), len));
    }
    Some(len as ssize_t)
}

type Getrandom = unsafe extern "C" fn(*mut c_void, size_t, c_uint) -> ssize_t;

/// # Safety
/// libc's contract: `buf` is valid for `len` bytes of writes.
#[no_mangle]
pub unsafe extern "C" fn getrandom(buf: *mut c_void, len: size_t, flags: c_uint) -> ssize_t {
    if let Some(n) = modelled_getrandom(buf, len, flags) {
        return n;
    }
    real_fn!("getrandom" as Getrandom)(buf, len, flags)
}

type Getentropy = unsafe extern "C" fn(*mut c_void, size_t) -> c_int;

/// # Safety
/// libc's contract: `buf` is valid for `len` bytes of writes.
#[no_mangle]
pub unsafe extern "C" fn getentropy(buf: *mut c_void, len: size_t) -> c_int {
    if let Some(cell) = modelled() {
        if len > 256 {
            return fail(libc::EIO);
        }
        if len > 0 {
            if buf.is_null() {
                return fail(libc::EFAULT);
            }
            rt::in_foreign_call(cell, || fill(buf.cast(), len));
        }
        return 0;
    }
    real_fn!("getentropy" as Getentropy)(buf, len)
}

#[cfg(target_arch = "x86_64")]
type Syscall = unsafe extern "C" fn(c_long, ...) -> c_long;

/// libc's variadic `syscall`, for `SYS_getrandom` (the `getrandom` crate 0.2) and `SYS_futex`
/// (every std blocking primitive: see `threads.rs`). Defined with six fixed arguments, which is
/// what a variadic call passes on x86-64 System V: integer arguments in the same registers
/// either way (`al`, the count of vector registers, is unused). Every other number is passed on
/// to libc's with all six.
///
/// # Safety
/// libc's contract for the system call `number`.
#[cfg(target_arch = "x86_64")]
#[no_mangle]
pub unsafe extern "C" fn syscall(
    number: c_long,
    a1: c_long,
    a2: c_long,
    a3: c_long,
    a4: c_long,
    a5: c_long,
    a6: c_long,
) -> c_long {
    if number == libc::SYS_getrandom {
        if let Some(n) = modelled_getrandom(a1 as *mut c_void, a2 as size_t, a3 as c_uint) {
            return n as c_long;
        }
    } else if number == libc::SYS_futex {
        if let Some(r) = super::threads::futex(a1, a2, a3, a4, a5, a6) {
            return r;
        }
    }
    real_syscall(number, a1, a2, a3, a4, a5, a6)
}

/// libc's own `syscall`.
///
/// # Safety
/// libc's contract for the system call `number`.
#[cfg(target_arch = "x86_64")]
pub(super) unsafe fn real_syscall(
    number: c_long,
    a1: c_long,
    a2: c_long,
    a3: c_long,
    a4: c_long,
    a5: c_long,
    a6: c_long,
) -> c_long {
    real_fn!("syscall" as Syscall)(number, a1, a2, a3, a4, a5, a6)
}

/// Sets `errno` and returns -1, libc's way.
pub(super) fn fail(errno: c_int) -> c_int {
    // SAFETY: glibc's thread-local errno.
    unsafe { *libc::__errno_location() = errno };
    -1
}
