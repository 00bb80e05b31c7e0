// The benchmark programs of ../shared/benchmarks.md, written ONCE against the names `thread` and
// `sync` (and `std::sync::atomic`-like `sync::atomic`). This file is `include!`d into a module
// that brings `thread` and `sync` of detest, shuttle or loom into scope, so all three run the
// same code. Async programs live in `programs_async.rs` (loom has no task spawner).
//
// Every shared read and write is an atomic or happens under a lock.

/// A correct program run for throughput.
pub struct Workload {
    pub name: &'static str,
    pub body: fn(),
    /// Executions of the full run.
    pub executions: u64,
    /// Whether PCT(3) and URW are measured too (random always is).
    pub pct: bool,
    /// Whether loom can run it (at most 4 spawned threads, primitives loom has).
    pub loom: bool,
}

/// A program with exactly one bug.
pub struct BugProgram {
    pub name: &'static str,
    pub body: fn(),
    /// Whether the bug is a deadlock (otherwise a panic).
    pub deadlock: bool,
    /// Listed in benchmarks.md (otherwise one of our own, beyond the list).
    pub listed: bool,
}

pub fn workloads() -> Vec<Workload> {
    vec![
        Workload {
            name: "counter",
            body: counter,
            executions: 20_000,
            pct: true,
            loom: true,
        },
        Workload {
            name: "buffer",
            body: buffer,
            executions: 5_000,
            pct: true,
            loom: false,
        },
        Workload {
            name: "create",
            body: create,
            executions: 2_000,
            pct: false,
            loom: false,
        },
        Workload {
            name: "atomics",
            body: atomics,
            executions: 10_000,
            pct: false,
            loom: true,
        },
        Workload {
            name: "channel",
            body: channel,
            executions: 10_000,
            pct: false,
            loom: true,
        },
        Workload {
            name: "rwlock",
            body: rwlock,
            executions: 10_000,
            pct: false,
            loom: true,
        },
        Workload {
            name: "weak",
            body: weak,
            executions: 10_000,
            pct: false,
            loom: true,
        },
    ]
}

pub fn bug_programs() -> Vec<BugProgram> {
    vec![
        BugProgram {
            name: "reorder_3",
            body: reorder_3,
            deadlock: false,
            listed: true,
        },
        BugProgram {
            name: "reorder_5",
            body: reorder_5,
            deadlock: false,
            listed: true,
        },
        BugProgram {
            name: "reorder_10",
            body: reorder_10,
            deadlock: false,
            listed: true,
        },
        BugProgram {
            name: "twostage",
            body: twostage,
            deadlock: false,
            listed: true,
        },
        BugProgram {
            name: "lazy01",
            body: lazy01,
            deadlock: false,
            listed: true,
        },
        BugProgram {
            name: "deadlock01",
            body: deadlock01,
            deadlock: true,
            listed: true,
        },
        BugProgram {
            name: "long_prefix",
            body: long_prefix,
            deadlock: false,
            listed: true,
        },
        BugProgram {
            name: "lost_signal",
            body: lost_signal,
            deadlock: true,
            listed: false,
        },
        BugProgram {
            name: "condvar_if",
            body: condvar_if,
            deadlock: false,
            listed: false,
        },
        BugProgram {
            name: "check_then_act",
            body: check_then_act,
            deadlock: false,
            listed: false,
        },
        BugProgram {
            name: "lock_cycle3",
            body: lock_cycle3,
            deadlock: true,
            listed: false,
        },
    ]
}

// ---------------------------------------------------------------- throughput workloads

/// 3 threads, each locks one `Arc<Mutex<u64>>` 5 times and adds 1; main joins and asserts 15.
pub fn counter() {
    let total = sync::Arc::new(sync::Mutex::new(0u64));
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let total = total.clone();
            thread::spawn(move || {
                for _ in 0..5 {
                    *total.lock().unwrap() += 1;
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(*total.lock().unwrap(), 15);
}

struct Bounded {
    items: sync::Mutex<std::collections::VecDeque<u64>>,
    not_full: sync::Condvar,
    not_empty: sync::Condvar,
}

/// Bounded buffer of capacity 3 (Mutex + 2 Condvars), 3 producers x 3 items, 3 consumers x 3.
pub fn buffer() {
    const CAPACITY: usize = 3;
    let buf = sync::Arc::new(Bounded {
        items: sync::Mutex::new(std::collections::VecDeque::new()),
        not_full: sync::Condvar::new(),
        not_empty: sync::Condvar::new(),
    });
    let mut handles = Vec::new();
    for p in 0..3u64 {
        let buf = buf.clone();
        handles.push(thread::spawn(move || {
            for i in 0..3u64 {
                let mut items = buf.items.lock().unwrap();
                while items.len() == CAPACITY {
                    items = buf.not_full.wait(items).unwrap();
                }
                items.push_back(p * 10 + i);
                drop(items);
                buf.not_empty.notify_one();
            }
            0
        }));
    }
    for _ in 0..3 {
        let buf = buf.clone();
        handles.push(thread::spawn(move || {
            let mut sum = 0;
            for _ in 0..3 {
                let mut items = buf.items.lock().unwrap();
                while items.is_empty() {
                    items = buf.not_empty.wait(items).unwrap();
                }
                sum += items.pop_front().unwrap();
                drop(items);
                buf.not_full.notify_one();
            }
            sum
        }));
    }
    let sum: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(sum, 99);
}

/// Main spawns 100 threads that return at once, joins all.
pub fn create() {
    let handles: Vec<_> = (0..100).map(|_| thread::spawn(|| {})).collect();
    for h in handles {
        h.join().unwrap();
    }
}

/// 4 threads x 25 `fetch_add(1, SeqCst)` on one `AtomicUsize`.
pub fn atomics() {
    use sync::atomic::{AtomicUsize, Ordering};
    let n = sync::Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let n = n.clone();
            thread::spawn(move || {
                for _ in 0..25 {
                    n.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(n.load(Ordering::SeqCst), 100);
}

/// One producer sends 50 values over `mpsc::channel`, main receives and sums them.
pub fn channel() {
    let (tx, rx) = sync::mpsc::channel::<u64>();
    let producer = thread::spawn(move || {
        for i in 0..50 {
            tx.send(i).unwrap();
        }
    });
    let sum: u64 = (0..50).map(|_| rx.recv().unwrap()).sum();
    producer.join().unwrap();
    assert_eq!(sum, 1225);
}

/// 2 writers x 5 writes and 2 readers x 5 reads of one `RwLock<u64>`; every read sees a
/// multiple of the writers' step, main asserts the 10 writes.
pub fn rwlock() {
    let value = sync::Arc::new(sync::RwLock::new(0u64));
    let mut handles = Vec::new();
    for _ in 0..2 {
        let value = value.clone();
        handles.push(thread::spawn(move || {
            for _ in 0..5 {
                *value.write().unwrap() += 2;
            }
        }));
    }
    for _ in 0..2 {
        let value = value.clone();
        handles.push(thread::spawn(move || {
            for _ in 0..5 {
                assert_eq!(*value.read().unwrap() % 2, 0);
            }
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(*value.read().unwrap(), 20);
}

/// Weak-memory message passing: 2 writers each publish a value (a Relaxed store, then a
/// Release store of its flag) and count themselves (Relaxed); 2 readers check both flags
/// with Acquire loads and, where set, the value with a Relaxed load (which the Acquire makes
/// visible). A model of C11 lets the Relaxed loads choose among stores; shuttle is
/// sequentially consistent, so it runs the same program with fewer outcomes.
pub fn weak() {
    use sync::atomic::{AtomicBool, AtomicUsize, Ordering::*};
    let shared = sync::Arc::new((
        [AtomicUsize::new(0), AtomicUsize::new(0)],
        [AtomicBool::new(false), AtomicBool::new(false)],
        AtomicUsize::new(0),
    ));
    let mut handles = Vec::new();
    for w in 0..2 {
        let shared = shared.clone();
        handles.push(thread::spawn(move || {
            let (data, ready, writers) = &*shared;
            data[w].store(w + 1, Relaxed);
            ready[w].store(true, Release);
            writers.fetch_add(1, Relaxed);
        }));
    }
    for _ in 0..2 {
        let shared = shared.clone();
        handles.push(thread::spawn(move || {
            let (data, ready, _) = &*shared;
            for i in 0..2 {
                if ready[i].load(Acquire) {
                    assert_eq!(data[i].load(Relaxed), i + 1);
                }
            }
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(shared.2.load(Relaxed), 2);
}

// ---------------------------------------------------------------- bug programs (listed)

/// SCTBench reorder_N: N-1 setters do `a=1; b=-1`; one checker reads
/// `(a==0 && b==0) || (a==1 && b==-1)` with a separate load per mention.
fn reorder(n: usize) {
    use sync::atomic::{AtomicI64, Ordering::SeqCst};
    let ab = sync::Arc::new((AtomicI64::new(0), AtomicI64::new(0)));
    let mut handles = Vec::new();
    for _ in 0..n - 1 {
        let ab = ab.clone();
        handles.push(thread::spawn(move || {
            ab.0.store(1, SeqCst);
            ab.1.store(-1, SeqCst);
        }));
    }
    let check = ab.clone();
    handles.push(thread::spawn(move || {
        let (a, b) = (&check.0, &check.1);
        let consistent = (a.load(SeqCst) == 0 && b.load(SeqCst) == 0)
            || (a.load(SeqCst) == 1 && b.load(SeqCst) == -1);
        assert!(consistent, "reorder: the checker saw a setter half-way");
    }));
    for h in handles {
        h.join().unwrap();
    }
}

pub fn reorder_3() {
    reorder(3)
}

pub fn reorder_5() {
    reorder(5)
}

pub fn reorder_10() {
    reorder(10)
}

/// SCTBench twostage: B runs between A's two critical sections.
pub fn twostage() {
    use sync::atomic::{AtomicI64, Ordering::SeqCst};
    struct Shared {
        d1: sync::Mutex<()>,
        d2: sync::Mutex<()>,
        data1: AtomicI64,
        data2: AtomicI64,
    }
    let s = sync::Arc::new(Shared {
        d1: sync::Mutex::new(()),
        d2: sync::Mutex::new(()),
        data1: AtomicI64::new(0),
        data2: AtomicI64::new(0),
    });
    let a = {
        let s = s.clone();
        thread::spawn(move || {
            {
                let _g = s.d1.lock().unwrap();
                s.data1.store(1, SeqCst);
            }
            {
                let _g = s.d2.lock().unwrap();
                s.data2.store(s.data1.load(SeqCst) + 1, SeqCst);
            }
        })
    };
    let b = {
        let s = s.clone();
        thread::spawn(move || {
            let t1 = {
                let _g = s.d1.lock().unwrap();
                let v = s.data1.load(SeqCst);
                if v == 0 {
                    return;
                }
                v
            };
            let t2 = {
                let _g = s.d2.lock().unwrap();
                s.data2.load(SeqCst)
            };
            assert_eq!(t2, t1 + 1, "twostage: B ran between A's two stages");
        })
    };
    a.join().unwrap();
    b.join().unwrap();
}

/// SCTBench lazy01: `data += 1`, `data += 2`, `assert data < 3`, each under one mutex.
pub fn lazy01() {
    let data = sync::Arc::new(sync::Mutex::new(0u32));
    let d1 = data.clone();
    let t1 = thread::spawn(move || *d1.lock().unwrap() += 1);
    let d2 = data.clone();
    let t2 = thread::spawn(move || *d2.lock().unwrap() += 2);
    let d3 = data.clone();
    let t3 = thread::spawn(move || {
        let v = *d3.lock().unwrap();
        assert!(v < 3, "lazy01: the checker ran last (data = {v})");
    });
    t1.join().unwrap();
    t2.join().unwrap();
    t3.join().unwrap();
}

/// SCTBench deadlock01: t1 locks a then b, t2 locks b then a.
pub fn deadlock01() {
    let locks = sync::Arc::new((sync::Mutex::new(0u32), sync::Mutex::new(0u32)));
    let l1 = locks.clone();
    let t1 = thread::spawn(move || {
        let mut a = l1.0.lock().unwrap();
        let mut b = l1.1.lock().unwrap();
        *a += 1;
        *b += 1;
    });
    let l2 = locks.clone();
    let t2 = thread::spawn(move || {
        let mut b = l2.1.lock().unwrap();
        let mut a = l2.0.lock().unwrap();
        *a += 1;
        *b += 1;
    });
    t1.join().unwrap();
    t2.join().unwrap();
}

/// t1 does 20 `fetch_add`; t2 asserts the counter is below 20: t1 must finish before t2 starts.
pub fn long_prefix() {
    use sync::atomic::{AtomicUsize, Ordering::SeqCst};
    let n = sync::Arc::new(AtomicUsize::new(0));
    let n1 = n.clone();
    let t1 = thread::spawn(move || {
        for _ in 0..20 {
            n1.fetch_add(1, SeqCst);
        }
    });
    let n2 = n.clone();
    let t2 = thread::spawn(move || {
        let v = n2.load(SeqCst);
        assert!(v < 20, "long_prefix: t1 finished before t2 started");
    });
    t1.join().unwrap();
    t2.join().unwrap();
}

// ---------------------------------------------------------------- bug programs (beyond the list)

/// Lost signal: the flag is set and notified outside the lock, so the waiter can check the flag,
/// miss the notification and wait forever (deadlock).
pub fn lost_signal() {
    use sync::atomic::{AtomicBool, Ordering::SeqCst};
    let s = sync::Arc::new((
        sync::Mutex::new(()),
        sync::Condvar::new(),
        AtomicBool::new(false),
    ));
    let s2 = s.clone();
    let waiter = thread::spawn(move || {
        let (lock, cv, ready) = &*s2;
        let mut g = lock.lock().unwrap();
        if !ready.load(SeqCst) {
            g = cv.wait(g).unwrap();
        }
        drop(g);
    });
    let (_, cv, ready) = &*s;
    ready.store(true, SeqCst);
    cv.notify_one();
    waiter.join().unwrap();
}

/// Condvar misuse: `if` instead of `while` around `wait`. Two consumers, one item at a time: a
/// consumer woken for an item another consumer already took finds the queue empty.
pub fn condvar_if() {
    let s = sync::Arc::new((
        sync::Mutex::new(std::collections::VecDeque::<u32>::new()),
        sync::Condvar::new(),
    ));
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let s = s.clone();
            thread::spawn(move || {
                let (q, cv) = &*s;
                let mut g = q.lock().unwrap();
                if g.is_empty() {
                    g = cv.wait(g).unwrap();
                }
                g.pop_front().expect("condvar_if: woken, but the item was taken")
            })
        })
        .collect();
    for i in 0..2 {
        let (q, cv) = &*s;
        q.lock().unwrap().push_back(i);
        cv.notify_one();
    }
    for c in consumers {
        c.join().unwrap();
    }
}

/// Check-then-act: lazy initialisation whose check and act are separate critical sections.
pub fn check_then_act() {
    let slot = sync::Arc::new(sync::Mutex::new(None::<u32>));
    let handles: Vec<_> = (0..2)
        .map(|id| {
            let slot = slot.clone();
            thread::spawn(move || {
                let present = slot.lock().unwrap().is_some();
                if !present {
                    let mut g = slot.lock().unwrap();
                    assert!(g.is_none(), "check_then_act: initialised twice");
                    *g = Some(id);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

/// Lock-order cycle of 3: thread i locks m[i] then m[(i+1) % 3].
pub fn lock_cycle3() {
    let m = sync::Arc::new([
        sync::Mutex::new(0u32),
        sync::Mutex::new(0u32),
        sync::Mutex::new(0u32),
    ]);
    let handles: Vec<_> = (0..3)
        .map(|i| {
            let m = m.clone();
            thread::spawn(move || {
                let mut first = m[i].lock().unwrap();
                let mut second = m[(i + 1) % 3].lock().unwrap();
                *first += 1;
                *second += 1;
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}
