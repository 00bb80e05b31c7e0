//! Unix plumbing for worker processes: pipes, process groups, polling and signal names.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

/// A pipe whose ends are close-on-exec, so a worker spawned from another thread at the same
/// moment never inherits (and holds open) someone else's pipe.
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` is a valid array of two ints.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 returned two fresh descriptors that nobody else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

pub fn set_nonblocking(fd: &OwnedFd) -> io::Result<()> {
    let raw = fd.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let flags = libc::fcntl(raw, libc::F_GETFL);
        if flags < 0 || libc::fcntl(raw, libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Runs in the child between fork and exec: lets `fds` survive exec (negative ones are none),
/// and asks the kernel to kill the worker if cargo-detest itself dies, so no orphan keeps
/// sweeping.
///
/// # Safety
/// Only async-signal-safe calls; must only be called in a freshly forked child.
pub unsafe fn child_setup(fds: &[RawFd]) -> io::Result<()> {
    for &fd in fds.iter().filter(|&&fd| fd >= 0) {
        let flags = libc::fcntl(fd, libc::F_GETFD);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    #[cfg(target_os = "linux")]
    {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    }
    Ok(())
}

/// Kills a whole process group (the worker and anything it spawned). A group that is already
/// gone is not an error.
pub fn kill_group(pgid: u32) {
    // SAFETY: plain syscall; a negative pid addresses the group.
    unsafe {
        libc::kill(-(pgid as libc::pid_t), libc::SIGKILL);
    }
}

/// Readiness of up to two descriptors.
#[derive(Default, Debug, Clone, Copy)]
pub struct Ready {
    pub a: bool,
    pub b: bool,
}

/// Waits until `a` or `b` is readable (or hung up), or `timeout` passes. `None` descriptors are
/// ignored.
pub fn poll2(a: Option<&OwnedFd>, b: Option<&OwnedFd>, timeout: Duration) -> io::Result<Ready> {
    let mut fds = [
        libc::pollfd {
            fd: a.map_or(-1, |f| f.as_raw_fd()),
            events: libc::POLLIN,
            revents: 0,
        },
        libc::pollfd {
            fd: b.map_or(-1, |f| f.as_raw_fd()),
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
    // SAFETY: `fds` is a valid array of two pollfd; negative fds are ignored by poll.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, ms) };
    if n < 0 {
        let err = io::Error::last_os_error();
        if err.kind() == io::ErrorKind::Interrupted {
            return Ok(Ready::default());
        }
        return Err(err);
    }
    let ready = |p: &libc::pollfd| p.revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0;
    Ok(Ready {
        a: ready(&fds[0]),
        b: ready(&fds[1]),
    })
}

/// Reads what is available without blocking. `Ok(false)` means end of file.
pub fn read_available(fd: &OwnedFd, out: &mut Vec<u8>) -> io::Result<bool> {
    let mut buf = [0u8; 16 * 1024];
    loop {
        // SAFETY: reading into a stack buffer of the given length.
        let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n > 0 {
            out.extend_from_slice(&buf[..n as usize]);
            continue;
        }
        if n == 0 {
            return Ok(false);
        }
        let err = io::Error::last_os_error();
        return match err.kind() {
            io::ErrorKind::WouldBlock => Ok(true),
            io::ErrorKind::Interrupted => continue,
            _ => Err(err),
        };
    }
}

/// `SIGSEGV (segmentation fault)` and friends, for failure messages.
pub fn describe_signal(sig: i32) -> String {
    let (name, what) = match sig {
        libc::SIGSEGV => ("SIGSEGV", "segmentation fault"),
        libc::SIGABRT => ("SIGABRT", "abort"),
        libc::SIGBUS => ("SIGBUS", "bus error"),
        libc::SIGILL => ("SIGILL", "illegal instruction"),
        libc::SIGFPE => ("SIGFPE", "arithmetic exception"),
        libc::SIGKILL => ("SIGKILL", "killed"),
        libc::SIGTERM => ("SIGTERM", "terminated"),
        libc::SIGINT => ("SIGINT", "interrupted"),
        libc::SIGTRAP => ("SIGTRAP", "trace trap"),
        libc::SIGPIPE => ("SIGPIPE", "broken pipe"),
        libc::SIGSYS => ("SIGSYS", "bad system call"),
        _ => return format!("signal {sig}"),
    };
    format!("{name} ({what})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names() {
        assert_eq!(
            describe_signal(libc::SIGSEGV),
            "SIGSEGV (segmentation fault)"
        );
        assert_eq!(describe_signal(63), "signal 63");
    }

    #[test]
    fn pipe_round_trip() {
        let (r, w) = pipe().unwrap();
        set_nonblocking(&r).unwrap();
        let mut out = Vec::new();
        assert!(read_available(&r, &mut out).unwrap());
        assert!(out.is_empty());
        // SAFETY: writing a small buffer to a pipe we own.
        unsafe { libc::write(w.as_raw_fd(), b"hi".as_ptr().cast(), 2) };
        drop(w);
        let ready = poll2(Some(&r), None, Duration::from_secs(5)).unwrap();
        assert!(ready.a && !ready.b);
        assert!(!read_available(&r, &mut out).unwrap());
        assert_eq!(out, b"hi");
    }
}
