//! Detest primitives in statics: fresh in every execution, and private to it.
//!
//! A `static M: Mutex<Vec<u32>> = Mutex::new(Vec::new())` outlives executions: without help,
//! the second execution would find the first one's pushes, or its lock held by a task that
//! was leaked at teardown, and a failing seed would not replay alone. std cannot re-run a
//! static's initialiser, but it does not have to: a static's initial value is a constant,
//! evaluated at compile time, so it owns nothing (no heap, no handle), and its bytes as the
//! program started *are* the fresh value. So the program's writable static memory is copied
//! as the process starts (a constructor, before `main` and before any thread), and the first
//! time an execution uses a primitive that an earlier execution used, its bytes are copied
//! back from there. The previous execution's value is leaked, not dropped, as std never
//! drops a static either: dropping it would run its destructors in the middle of another
//! execution.
//!
//! Privacy: `cargo test` runs tests on parallel OS threads, and two executions using one
//! static at once would see each other's state. An execution's first use of a primitive in a
//! static claims all of them until it ends (one process-wide claim, served first come, first
//! served), so executions that use statics take turns, and the others run in parallel as
//! before. One claim, not one per static, so two executions that use two statics in opposite
//! orders cannot deadlock. The wait
//! is real time that the execution's wall-clock timeout does not count.
//!
//! What is put back is only ever a compile-time value: the primitive must lie in the static
//! memory of the program (the object file detest is linked into: Linux, `dl_iterate_phdr`),
//! its bytes in the start-up copy must be that primitive unused (an id with the same extent:
//! not the uninitialised slot of a `std::sync::OnceLock` that a primitive was later put in),
//! and the primitive must not have been constructed again since an execution used it (a
//! `LazyLock`'s value, built afresh in every execution, is left alone: its id is unused).
//! Anything else keeps the old behaviour, shared by every execution, and so does every
//! static on platforms without the start-up copy (the README says so).

use super::{Extent, ObjectId, State, USED_OUTSIDE};
use std::mem::MaybeUninit;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};

/// Whose turn it is with the statics: first come, first served, so a long sweep that takes
/// them in every execution cannot starve a test on another thread (a plain lock, re-taken
/// microseconds after each release, could).
struct Turns {
    next: u64,
    serving: u64,
}

static TURNS: Mutex<Turns> = Mutex::new(Turns {
    next: 0,
    serving: 0,
});
static TURN_ENDED: Condvar = Condvar::new();

fn turns() -> MutexGuard<'static, Turns> {
    // Nothing panics under it, but a poisoned lock still holds consistent counters.
    TURNS.lock().unwrap_or_else(|e| e.into_inner())
}

/// An execution's claim on the statics (see the module docs), released with its state.
pub(crate) struct Claim(());

impl Claim {
    /// Waits for this thread's turn (real time, not counted by the execution's timeout).
    fn take() -> Claim {
        let mut turns = turns();
        let mine = turns.next;
        turns.next += 1;
        while turns.serving != mine {
            turns = TURN_ENDED.wait(turns).unwrap_or_else(|e| e.into_inner());
        }
        Claim(())
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        turns().serving += 1;
        TURN_ENDED.notify_all();
    }
}

/// The first use in this execution of the object `id`, whose primitive spans `extent`.
pub(super) fn first_use(st: &mut State, id: &ObjectId, extent: Extent) {
    let start = (id as *const ObjectId as usize).wrapping_sub(extent.offset as usize);
    let size = extent.size as usize;
    let Some(initial) = start_up_bytes(start, size) else {
        return;
    };
    // The start-up bytes of the id: an unused one with this extent, or not this primitive.
    let id_at = extent.offset as usize;
    if id_at + std::mem::size_of::<ObjectId>() > size {
        return;
    }
    let unused = ObjectId::within(extent.offset as usize, size);
    // SAFETY: `ObjectId` is plain data (an integer and two more), and its bytes lie inside
    // the primitive's `size` bytes.
    let was = unsafe { std::ptr::read_unaligned(initial[id_at..].as_ptr() as *const ObjectId) };
    if was.stamp.load(Relaxed) != 0
        || was.extent.offset != unused.extent.offset
        || was.extent.size != unused.extent.size
    {
        return;
    }
    if st.statics_claim.is_none() {
        let asked = crate::env::real_now();
        // `env::real`: a wait for another test's execution on a std lock is no porting
        // mistake (see `env/threads.rs`).
        let claim = crate::env::real(Claim::take);
        st.started += crate::env::real_now().saturating_duration_since(asked);
        st.statics_claim = Some(claim);
    }
    // Read again under the claim: an execution that ended meanwhile may have used it.
    let stamp = id.stamp.load(Relaxed);
    if stamp == 0 || stamp == USED_OUTSIDE {
        // Unused since it was constructed (at compile time, or by the program since).
        return;
    }
    // SAFETY: the primitive's `size` bytes at `start` (its extent), which no other execution
    // uses meanwhile (this one holds the claim) and no task of this one has used yet (this is
    // its first use). Every byte that changes after construction is in an `UnsafeCell`
    // (atomics, cells, a lock's data); the others get the value they hold. The bytes are the
    // primitive's value as the program started, a compile-time constant that owns nothing.
    unsafe { std::ptr::copy_nonoverlapping(initial.as_ptr(), start as *mut MaybeUninit<u8>, size) };
}

/// One writable segment of the program, and its bytes as the process started.
struct Segment {
    start: usize,
    end: usize,
    /// The file-backed part (`.data`); the rest up to `end` (`.bss`) started as zeros.
    data: Box<[MaybeUninit<u8>]>,
}

static IMAGE: OnceLock<Vec<Segment>> = OnceLock::new();

/// The start-up bytes of the `size` bytes at `start`, if they lie in the program's static
/// memory.
fn start_up_bytes(start: usize, size: usize) -> Option<Vec<MaybeUninit<u8>>> {
    let Some(image) = IMAGE.get() else {
        // A volatile read keeps the constructor linked in (see `TAKE_IMAGE`).
        // SAFETY: a read of a static.
        let _ = unsafe { std::ptr::read_volatile(&TAKE_IMAGE) };
        return None;
    };
    let end = start.checked_add(size)?;
    let segment = image.iter().find(|s| s.start <= start && end <= s.end)?;
    let from = start - segment.start;
    let mut bytes = vec![MaybeUninit::new(0u8); size];
    if let Some(data) = segment.data.get(from..) {
        let copied = data.len().min(size);
        bytes[..copied].copy_from_slice(&data[..copied]);
    }
    Some(bytes)
}

/// Whether `size` bytes at `start` lie in the program's static memory.
#[cfg(test)]
fn in_static_memory(start: usize, size: usize) -> bool {
    start_up_bytes(start, size).is_some()
}

/// Runs as the process starts, before `main` and before any thread: statics still hold the
/// values the program was compiled with (relocated: pointers are the loaded addresses).
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static TAKE_IMAGE: extern "C" fn() = take_image;

#[cfg(not(target_os = "linux"))]
static TAKE_IMAGE: extern "C" fn() = take_image;

#[cfg(target_os = "linux")]
extern "C" fn take_image() {
    use libc::{c_int, c_void, dl_phdr_info, size_t};

    unsafe extern "C" fn each(info: *mut dl_phdr_info, _: size_t, out: *mut c_void) -> c_int {
        // SAFETY: the loader passes a valid `info` with `dlpi_phnum` headers; `out` is ours.
        let (info, out) = unsafe { (&*info, &mut *(out as *mut Vec<Segment>)) };
        // (type, flags, start, end of the file-backed part, end) of every program header.
        let headers: Vec<(u32, u32, usize, usize, usize)> = (0..usize::from(info.dlpi_phnum))
            .map(|i| {
                // SAFETY: as above.
                let h = unsafe { &*info.dlpi_phdr.add(i) };
                let start = info.dlpi_addr as usize + h.p_vaddr as usize;
                let file_end = start + h.p_filesz as usize;
                (h.p_type, h.p_flags, start, file_end, start + h.p_memsz as usize)
            })
            .collect();
        // Read-only after relocation (vtables, `&'static` tables): no primitive lives there,
        // and it is most of the writable bytes.
        let relro: Vec<(usize, usize)> = headers
            .iter()
            .filter(|h| h.0 == libc::PT_GNU_RELRO)
            .map(|h| (h.2, h.4))
            .collect();
        let segments: Vec<(usize, usize, usize)> = headers
            .iter()
            .filter(|h| h.0 == libc::PT_LOAD && h.1 & libc::PF_W != 0)
            .filter(|h| !relro.iter().any(|&(s, e)| s <= h.2 && h.4 <= e))
            .map(|h| (h.2, h.3, h.4))
            .collect();
        // Only the object detest is linked into (the test binary): that is where the
        // program's statics are, and copying libc's would buy nothing.
        let marker = &IMAGE as *const _ as usize;
        if !segments.iter().any(|&(s, _, e)| s <= marker && marker < e) {
            return 0;
        }
        for (start, file_end, end) in segments {
            // SAFETY: a mapped, readable segment of a loaded object; nothing else runs yet.
            let data = unsafe {
                std::slice::from_raw_parts(start as *const MaybeUninit<u8>, file_end - start)
            };
            out.push(Segment { start, end, data: data.into() });
        }
        1
    }

    let mut segments = Vec::new();
    // SAFETY: `each` matches the callback type and only writes `segments`.
    unsafe { libc::dl_iterate_phdr(Some(each), &mut segments as *mut _ as *mut c_void) };
    let _ = IMAGE.set(segments);
}

#[cfg(not(target_os = "linux"))]
extern "C" fn take_image() {}

#[cfg(test)]
mod tests {
    use super::*;

    static IN_DATA: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(7);
    static IN_BSS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

    #[test]
    fn statics_are_static_memory_and_the_heap_and_stack_are_not() {
        let on_stack = 0u64;
        let on_heap = Box::new(0u64);
        let at = |r: &dyn std::any::Any| r as *const dyn std::any::Any as *const u8 as usize;
        if cfg!(target_os = "linux") {
            assert!(in_static_memory(at(&IN_DATA), 8));
            assert!(in_static_memory(at(&IN_BSS), 8));
            IN_DATA.store(8, Relaxed);
            let initial = start_up_bytes(at(&IN_DATA), 8).unwrap();
            // SAFETY: the copy of an initialised integer.
            let initial: Vec<u8> = initial.iter().map(|b| unsafe { b.assume_init() }).collect();
            assert_eq!(initial, 7u64.to_ne_bytes(), "the start-up value");
        }
        assert!(!in_static_memory(at(&on_stack), 8));
        assert!(!in_static_memory(at(&*on_heap), 8));
    }
}
