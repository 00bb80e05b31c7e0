// Weak-memory bug programs, written ONCE against the names `thread` and `sync` (like
// programs.rs) and `include!`d into one module per tool (detest and loom; shuttle has no weak
// atomics). Each has a `bug` version, whose orderings are too weak, and a `correct` version
// with the right ones. Under sequential consistency no version can fail: each bug needs a load
// to read a store that is not the latest one it could see (a stale value), which only a tool
// that models the C11 memory model produces.
//
// Data is held in atomics accessed `Relaxed` (not in `UnsafeCell`), so the only failure is the
// assertion, on both tools. Every assertion message starts with `weak `, so a run that fails
// for another reason (loom's branch limit, a deadlock) is not counted as finding the bug.
// At most 2 threads each, so that loom explores them exhaustively.

/// A program with a weak-memory bug, and the same program with the orderings that fix it.
pub struct WeakProgram {
    pub name: &'static str,
    pub bug: fn(),
    pub correct: fn(),
}

/// Every assertion of this file starts with this, so a caught failure can be told apart from
/// one of the tool's own errors.
pub const WEAK_MARK: &str = "weak ";

pub fn weak_programs() -> Vec<WeakProgram> {
    vec![
        WeakProgram {
            name: "weak_mp",
            bug: weak_mp_bug,
            correct: weak_mp_correct,
        },
        WeakProgram {
            name: "weak_sb",
            bug: weak_sb_bug,
            correct: weak_sb_correct,
        },
        WeakProgram {
            name: "weak_ticket",
            bug: weak_ticket_bug,
            correct: weak_ticket_correct,
        },
        WeakProgram {
            name: "weak_treiber",
            bug: weak_treiber_bug,
            correct: weak_treiber_correct,
        },
        WeakProgram {
            name: "weak_seqlock",
            bug: weak_seqlock_bug,
            correct: weak_seqlock_correct,
        },
        WeakProgram {
            name: "weak_lazy",
            bug: weak_lazy_bug,
            correct: weak_lazy_correct,
        },
    ]
}

// ---------------------------------------------------------------- message passing

/// The writer stores the data, then the flag; the reader checks the flag once and, if set,
/// reads the data. A Relaxed flag does not carry the data's store with it.
fn weak_mp(flag_store: sync::atomic::Ordering, flag_load: sync::atomic::Ordering) {
    use sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
    let s = sync::Arc::new((AtomicUsize::new(0), AtomicBool::new(false)));
    let w = s.clone();
    let writer = thread::spawn(move || {
        w.0.store(42, Relaxed);
        w.1.store(true, flag_store);
    });
    let (data, flag) = &*s;
    if flag.load(flag_load) {
        let d = data.load(Relaxed);
        assert_eq!(d, 42, "weak mp: the reader saw the flag but stale data");
    }
    writer.join().unwrap();
}

pub fn weak_mp_bug() {
    use sync::atomic::Ordering::Relaxed;
    weak_mp(Relaxed, Relaxed)
}

pub fn weak_mp_correct() {
    use sync::atomic::Ordering::{Acquire, Release};
    weak_mp(Release, Acquire)
}

// ---------------------------------------------------------------- store buffering

/// Each thread stores 1 to its own location and then loads the other's. Release/Acquire allows
/// both loads to read 0 (each store still in its thread's buffer); SeqCst does not.
fn weak_sb(store: sync::atomic::Ordering, load: sync::atomic::Ordering) {
    use sync::atomic::AtomicUsize;
    let s = sync::Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
    let s1 = s.clone();
    let other = thread::spawn(move || {
        s1.0.store(1, store);
        s1.1.load(load)
    });
    s.1.store(1, store);
    let r2 = s.0.load(load);
    let r1 = other.join().unwrap();
    assert!(
        r1 == 1 || r2 == 1,
        "weak sb: both threads read 0 (store buffering)"
    );
}

pub fn weak_sb_bug() {
    use sync::atomic::Ordering::{Acquire, Release};
    weak_sb(Release, Acquire)
}

pub fn weak_sb_correct() {
    use sync::atomic::Ordering::SeqCst;
    weak_sb(SeqCst, SeqCst)
}

// ---------------------------------------------------------------- ticket lock

/// A ticket lock protecting a counter that each of 2 threads increments with a separate load
/// and store. With Relaxed `serving`, taking the lock does not see the previous holder's
/// increment: both store 1.
fn weak_ticket(take: sync::atomic::Ordering, hand_over: sync::atomic::Ordering) {
    use sync::atomic::{AtomicUsize, Ordering::Relaxed};
    struct Shared {
        next_ticket: AtomicUsize,
        serving: AtomicUsize,
        counter: AtomicUsize,
    }
    let s = sync::Arc::new(Shared {
        next_ticket: AtomicUsize::new(0),
        serving: AtomicUsize::new(0),
        counter: AtomicUsize::new(0),
    });
    let critical = move |s: &Shared| {
        // Drawing a ticket needs no ordering: only its uniqueness matters.
        let ticket = s.next_ticket.fetch_add(1, Relaxed);
        while s.serving.load(take) != ticket {
            thread::yield_now();
        }
        let c = s.counter.load(Relaxed);
        s.counter.store(c + 1, Relaxed);
        s.serving.store(ticket + 1, hand_over);
    };
    let s1 = s.clone();
    let other = thread::spawn(move || critical(&s1));
    critical(&s);
    other.join().unwrap();
    let total = s.counter.load(Relaxed);
    assert_eq!(total, 2, "weak ticket: an increment under the lock was lost");
}

pub fn weak_ticket_bug() {
    use sync::atomic::Ordering::Relaxed;
    weak_ticket(Relaxed, Relaxed)
}

pub fn weak_ticket_correct() {
    use sync::atomic::Ordering::{Acquire, Release};
    weak_ticket(Acquire, Release)
}

// ---------------------------------------------------------------- Treiber stack

/// A Treiber stack over an arena of 2 nodes (indices, not pointers: no unsafe code on either
/// tool). `head` holds a node's index + 1, 0 for empty; an unpushed node's `next` is `UNSET`.
struct Treiber {
    head: sync::atomic::AtomicUsize,
    next: [sync::atomic::AtomicUsize; 2],
    value: [sync::atomic::AtomicUsize; 2],
}

const UNSET: usize = usize::MAX;

impl Treiber {
    fn new() -> Self {
        use sync::atomic::AtomicUsize;
        Treiber {
            head: AtomicUsize::new(0),
            next: [AtomicUsize::new(UNSET), AtomicUsize::new(UNSET)],
            value: [AtomicUsize::new(0), AtomicUsize::new(0)],
        }
    }

    /// Publishes node `i` with a Release CAS (correct in both versions).
    fn push(&self, i: usize, value: usize) {
        use sync::atomic::Ordering::{Relaxed, Release};
        self.value[i].store(value, Relaxed);
        loop {
            let head = self.head.load(Relaxed);
            self.next[i].store(head, Relaxed);
            if self
                .head
                .compare_exchange(head, i + 1, Release, Relaxed)
                .is_ok()
            {
                return;
            }
        }
    }

    /// Pops with `order` on the head's load and CAS: Relaxed does not acquire the pushed node.
    fn pop(&self, order: sync::atomic::Ordering) -> Option<usize> {
        use sync::atomic::Ordering::Relaxed;
        loop {
            let head = self.head.load(order);
            if head == 0 {
                return None;
            }
            let next = self.next[head - 1].load(Relaxed);
            assert_ne!(next, UNSET, "weak treiber: pop read an unset next");
            if self
                .head
                .compare_exchange(head, next, order, Relaxed)
                .is_ok()
            {
                let value = self.value[head - 1].load(Relaxed);
                assert_ne!(value, 0, "weak treiber: pop read an unset value");
                return Some(value);
            }
        }
    }
}

/// The spawned thread pops twice (each pop may find the stack empty) while the main thread
/// pushes 2 nodes. (With the roles swapped, loom 0.7 runs one execution and misses the bug: its
/// DPOR compares the pusher's CAS only with the pusher's own load of `head`, see loom#392.)
fn weak_treiber(pop_order: sync::atomic::Ordering) {
    let s = sync::Arc::new(Treiber::new());
    let s1 = s.clone();
    let popper = thread::spawn(move || {
        let _ = s1.pop(pop_order);
        let _ = s1.pop(pop_order);
    });
    s.push(0, 10);
    s.push(1, 20);
    popper.join().unwrap();
}

pub fn weak_treiber_bug() {
    weak_treiber(sync::atomic::Ordering::Relaxed)
}

pub fn weak_treiber_correct() {
    weak_treiber(sync::atomic::Ordering::Acquire)
}

// ---------------------------------------------------------------- seqlock

/// The writer makes the sequence odd, fences, writes 2 data words and makes it even again
/// (Release). The reader reads the sequence (Acquire), the data (Relaxed) and the sequence again;
/// equal and even means the data is whole. Without the reader's fence(Acquire) before the
/// second read, that read may still see the old sequence after the data read new values.
fn weak_seqlock(reader_fence: bool) {
    use sync::atomic::{fence, AtomicUsize, Ordering::*};
    let s = sync::Arc::new((AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0)));
    let w = s.clone();
    let writer = thread::spawn(move || {
        let (seq, d1, d2) = &*w;
        seq.store(1, Relaxed);
        fence(Release);
        d1.store(1, Relaxed);
        d2.store(1, Relaxed);
        seq.store(2, Release);
    });
    let (seq, d1, d2) = &*s;
    let s1 = seq.load(Acquire);
    if s1 % 2 == 0 {
        let a = d1.load(Relaxed);
        let b = d2.load(Relaxed);
        if reader_fence {
            fence(Acquire);
        }
        let s2 = seq.load(Relaxed);
        if s1 == s2 {
            assert_eq!(a, b, "weak seqlock: a torn read passed the check");
        }
    }
    writer.join().unwrap();
}

pub fn weak_seqlock_bug() {
    weak_seqlock(false)
}

pub fn weak_seqlock_correct() {
    weak_seqlock(true)
}

// ---------------------------------------------------------------- double-checked lazy init

/// Double-checked initialisation: a fast path that reads `ready` without the lock, and a slow
/// path that initialises under it. A Relaxed `ready` publishes the flag without the value.
struct Lazy {
    ready: sync::atomic::AtomicBool,
    value: sync::atomic::AtomicUsize,
    lock: sync::Mutex<()>,
}

impl Lazy {
    fn get(&self, load: sync::atomic::Ordering, store: sync::atomic::Ordering) -> usize {
        use sync::atomic::Ordering::Relaxed;
        if self.ready.load(load) {
            return self.value.load(Relaxed);
        }
        let _guard = self.lock.lock().unwrap();
        // Under the lock the mutex orders this with the initialiser: Relaxed is enough.
        if !self.ready.load(Relaxed) {
            self.value.store(42, Relaxed);
            self.ready.store(true, store);
        }
        self.value.load(Relaxed)
    }
}

fn weak_lazy(load: sync::atomic::Ordering, store: sync::atomic::Ordering) {
    use sync::atomic::{AtomicBool, AtomicUsize};
    let lazy = sync::Arc::new(Lazy {
        ready: AtomicBool::new(false),
        value: AtomicUsize::new(0),
        lock: sync::Mutex::new(()),
    });
    let l1 = lazy.clone();
    let other = thread::spawn(move || l1.get(load, store));
    let mine = lazy.get(load, store);
    let theirs = other.join().unwrap();
    assert!(
        mine == 42 && theirs == 42,
        "weak lazy: saw the initialised flag but a stale value ({mine}, {theirs})"
    );
}

pub fn weak_lazy_bug() {
    use sync::atomic::Ordering::Relaxed;
    weak_lazy(Relaxed, Relaxed)
}

pub fn weak_lazy_correct() {
    use sync::atomic::Ordering::{Acquire, Release};
    weak_lazy(Acquire, Release)
}
