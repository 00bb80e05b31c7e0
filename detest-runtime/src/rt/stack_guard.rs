//! Naming a stack overflow. A task that overflows its coroutine stack touches the guard page
//! below it and the process dies by SIGSEGV, which by itself tells the user nothing. A handler
//! (installed once, on an alternate signal stack) recognises a fault in the guard page of a
//! detest stack, writes which task overflowed and the `stack_size` to raise to stderr, then
//! restores the default action and returns: the faulting instruction runs again and the
//! process still dies by the signal, so `cargo detest` reports a crash, with this line in its
//! output. Any other fault goes to the previous handler (std's own stack-overflow handler, say).
//!
//! The handler does only async-signal-safe work: atomic loads, a formatted write into a buffer
//! on its own stack, write(2) and sigaction(2). Guard pages are registered in a fixed table
//! when a stack is mapped (rare: stacks are pooled), never on the per-step path.

use std::cell::Cell;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

/// Slots of the guard-page table (open addressing, linear probing). Twice the stacks a busy
/// process keeps; a stack that finds no slot is only not named when it overflows.
const SLOTS: usize = 1 << 14;
const MAX_PROBES: usize = 64;
/// A removed entry: guard pages are page-aligned, so 1 is never one.
const TOMBSTONE: usize = 1;

/// The start of each registered guard page (0: never used).
static GUARDS: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
/// The stack size requested for the stack above it.
static SIZES: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
static PAGE_SIZE: AtomicUsize = AtomicUsize::new(0);

fn slot_of(page: usize) -> usize {
    // Fibonacci hashing of the page number.
    let page_number = page >> 12;
    (page_number.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 7) % SLOTS
}

/// Remembers the guard page at `guard` (the lowest page of a stack) of a `size`-byte stack.
pub(crate) fn register(guard: usize, size: usize) {
    let start = slot_of(guard);
    for probe in 0..MAX_PROBES {
        let i = (start + probe) % SLOTS;
        let old = GUARDS[i].load(Ordering::Acquire);
        if old != 0 && old != TOMBSTONE {
            continue;
        }
        SIZES[i].store(size, Ordering::Release);
        if GUARDS[i]
            .compare_exchange(old, guard, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            return;
        }
    }
}

/// Forgets a guard page before its stack is unmapped.
pub(crate) fn unregister(guard: usize) {
    if let Some(i) = find(guard) {
        GUARDS[i].store(TOMBSTONE, Ordering::Release);
    }
}

fn find(guard: usize) -> Option<usize> {
    let start = slot_of(guard);
    for probe in 0..MAX_PROBES {
        let i = (start + probe) % SLOTS;
        match GUARDS[i].load(Ordering::Acquire) {
            0 => return None,
            g if g == guard => return Some(i),
            _ => {}
        }
    }
    None
}

/// The requested size of the detest stack whose guard page holds `addr`.
fn guarded_stack_size(addr: usize) -> Option<usize> {
    let page = PAGE_SIZE.load(Ordering::Relaxed);
    if page == 0 {
        return None;
    }
    find(addr & !(page - 1)).map(|i| SIZES[i].load(Ordering::Acquire))
}

/// The handlers that were installed before ours, for every fault that is not ours.
static mut PREVIOUS_SEGV: Option<libc::sigaction> = None;
static mut PREVIOUS_BUS: Option<libc::sigaction> = None;

/// Installs the handler for the process (once) and makes sure this thread has an alternate
/// signal stack to run it on (the faulting stack has no room left). Called as an execution
/// starts, not per step.
pub(crate) fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| unsafe {
        let page = libc::sysconf(libc::_SC_PAGESIZE);
        PAGE_SIZE.store(
            if page > 0 { page as usize } else { 4096 },
            Ordering::Relaxed,
        );
        for (signal, previous) in [
            (libc::SIGSEGV, &raw mut PREVIOUS_SEGV),
            (libc::SIGBUS, &raw mut PREVIOUS_BUS),
        ] {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_fault as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(signal, &action, &mut old) == 0 {
                *previous = Some(old);
            }
        }
    });
    ensure_alt_stack();
}

thread_local! {
    static ALT_STACK_CHECKED: Cell<bool> = const { Cell::new(false) };
}

/// std gives the threads it starts an alternate signal stack when its own handler is installed;
/// a thread without one (std's handler absent, or a foreign thread) gets one here, kept for
/// the thread's life.
fn ensure_alt_stack() {
    if ALT_STACK_CHECKED.with(|c| c.replace(true)) {
        return;
    }
    unsafe {
        let mut current: libc::stack_t = std::mem::zeroed();
        if libc::sigaltstack(std::ptr::null(), &mut current) != 0
            || current.ss_flags & libc::SS_DISABLE == 0
        {
            return;
        }
        let size = libc::SIGSTKSZ.max(64 * 1024);
        let mem = libc::mmap(
            std::ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if mem == libc::MAP_FAILED {
            return;
        }
        let stack = libc::stack_t {
            ss_sp: mem,
            ss_flags: 0,
            ss_size: size,
        };
        libc::sigaltstack(&stack, std::ptr::null_mut());
    }
}

extern "C" fn on_fault(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    let addr = unsafe { (*info).si_addr() } as usize;
    if let Some(size) = guarded_stack_size(addr) {
        report_overflow(size);
        // Back to the default action: returning runs the faulting instruction again, and the
        // process dies by the signal as it would have without us.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
        return;
    }
    // SAFETY: written once, before this handler was installed.
    let previous = unsafe {
        if signal == libc::SIGBUS {
            std::ptr::read(&raw const PREVIOUS_BUS)
        } else {
            std::ptr::read(&raw const PREVIOUS_SEGV)
        }
    };
    chain(signal, info, context, previous);
}

fn chain(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
    previous: Option<libc::sigaction>,
) {
    match previous {
        Some(p) if p.sa_sigaction != libc::SIG_DFL && p.sa_sigaction != libc::SIG_IGN => unsafe {
            if p.sa_flags & libc::SA_SIGINFO != 0 {
                let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    std::mem::transmute(p.sa_sigaction);
                f(signal, info, context);
            } else {
                let f: extern "C" fn(libc::c_int) = std::mem::transmute(p.sa_sigaction);
                f(signal);
            }
        },
        // Default (or ignored, which for a fault would spin): die by the signal.
        _ => unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(signal, &action, std::ptr::null_mut());
        },
    }
}

/// A fixed buffer to format into without allocating.
struct Line {
    bytes: [u8; 512],
    len: usize,
}

impl std::fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let room = self.bytes.len() - self.len;
        let n = s.len().min(room);
        self.bytes[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

fn report_overflow(size: usize) {
    let mut line = Line {
        bytes: [0; 512],
        len: 0,
    };
    let _ = line.write_str("\ndetest: stack overflow in ");
    super::execution::describe_current_task_for_signal(&mut line);
    let _ = writeln!(
        line,
        ", on its {size}-byte stack — raise the stack size: #[detest(stack_size = {})] \
         (or Config::stack_size)",
        size.saturating_mul(2)
    );
    let mut written = 0;
    while written < line.len {
        // SAFETY: write(2) on stderr from a buffer we own.
        let n = unsafe {
            libc::write(
                libc::STDERR_FILENO,
                line.bytes[written..].as_ptr().cast(),
                line.len - written,
            )
        };
        if n <= 0 {
            break;
        }
        written += n as usize;
    }
}
