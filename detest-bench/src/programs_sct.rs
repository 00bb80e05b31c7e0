// More bug programs, `include!`d next to programs.rs (same names `thread` and `sync` in scope):
// our ports of SCTBench's CS suite (`cs_*`; Thomson, Donaldson, Betts, "Concurrency Testing
// Using Controlled Schedulers: An Empirical Study", TOPC 2016) and of the ConVul kernel race
// patterns (`cv_*`; Cai et al., "Detecting Concurrency Memory Corruption Vulnerabilities",
// FSE'19), each reduced to the race that makes it fail. A C `assert`, NULL dereference or
// double free becomes a panic; shared plain variables become SeqCst atomics (the original's
// races on them are what the schedule decides, not data races to report).

pub fn sct_bug_programs() -> Vec<BugProgram> {
    let p = |name, body, deadlock| BugProgram {
        name,
        body,
        deadlock,
        listed: false,
    };
    vec![
        p("cs_account", cs_account, false),
        p("cs_bluetooth", cs_bluetooth, false),
        p("cs_circular_buf", cs_circular_buffer, false),
        p("cs_stack", cs_stack, false),
        p("cs_queue", cs_queue, false),
        p("cs_token_ring", cs_token_ring, false),
        p("cs_wronglock", cs_wronglock, false),
        p("cs_wronglock_3", cs_wronglock_3, false),
        p("cs_carter01", cs_carter01, true),
        p("cs_din_phil5", cs_din_phil5, true),
        p("cs_twostage_20", cs_twostage_20, false),
        p("cs_twostage_100", cs_twostage_100, false),
        p("cs_sync01", cs_sync01, true),
        p("cv_2009_3547", cv_2009_3547, false),
        p("cv_2016_9806", cv_2016_9806, false),
        p("cv_2013_1792", cv_2013_1792, false),
        p("cv_2017_15265", cv_2017_15265, false),
        p("cv_2011_2183", cv_2011_2183, false),
        p("cv_2016_7911", cv_2016_7911, false),
        p("cv_2015_7550", cv_2015_7550, false),
        p("rw_upgrade", rw_upgrade, false),
    ]
}

use sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering::SeqCst};

fn join_all<T>(handles: Vec<thread::JoinHandle<T>>) {
    for h in handles {
        h.join().unwrap();
    }
}

/// CS account_bad: the checker, once both others ran, asserts the wrong balance (x - y - z
/// instead of x + y - z): it must run last.
pub fn cs_account() {
    struct Account {
        balance: i64,
        deposited: bool,
        withdrawn: bool,
    }
    let (x, y, z) = (1, 2, 4);
    let m = sync::Arc::new(sync::Mutex::new(Account {
        balance: x,
        deposited: false,
        withdrawn: false,
    }));
    let (m1, m2, m3) = (m.clone(), m.clone(), m.clone());
    let check = thread::spawn(move || {
        let a = m3.lock().unwrap();
        if a.deposited && a.withdrawn {
            assert_eq!(a.balance, (x - y) - z, "account: wrong balance");
        }
    });
    let deposit = thread::spawn(move || {
        let mut a = m1.lock().unwrap();
        a.balance += y;
        a.deposited = true;
    });
    let withdraw = thread::spawn(move || {
        let mut a = m2.lock().unwrap();
        a.balance -= z;
        a.withdrawn = true;
    });
    join_all(vec![check, deposit, withdraw]);
}

/// CS bluetooth_driver_bad: the adder checks `stopping` outside the lock, the stopper then
/// stops the device, and the adder works on a stopped device.
pub fn cs_bluetooth() {
    struct Device {
        pending_io: sync::Mutex<i64>,
        stopping_flag: AtomicBool,
        stopping_event: AtomicBool,
        stopped: AtomicBool,
    }
    fn io_decrement(d: &Device) {
        let left = {
            let mut p = d.pending_io.lock().unwrap();
            *p -= 1;
            *p
        };
        if left == 0 {
            d.stopping_event.store(true, SeqCst);
        }
    }
    let d = sync::Arc::new(Device {
        pending_io: sync::Mutex::new(1),
        stopping_flag: AtomicBool::new(false),
        stopping_event: AtomicBool::new(false),
        stopped: AtomicBool::new(false),
    });
    let d2 = d.clone();
    let stopper = thread::spawn(move || {
        d2.stopping_flag.store(true, SeqCst);
        io_decrement(&d2);
        // `assume(stoppingEvent)`: only the path where the device drained goes on.
        if d2.stopping_event.load(SeqCst) {
            d2.stopped.store(true, SeqCst);
        }
    });
    // The adder (main, as in the original).
    if !d.stopping_flag.load(SeqCst) {
        *d.pending_io.lock().unwrap() += 1;
        assert!(!d.stopped.load(SeqCst), "bluetooth: I/O on a stopped device");
        io_decrement(&d);
    }
    stopper.join().unwrap();
}

/// CS circular_buffer_bad: the receiver's flag is not cleared after a read, so a second read
/// before the next send takes an empty slot.
pub fn cs_circular_buffer() {
    const N: usize = 3;
    struct Buffer {
        slots: [u64; N],
        next: usize,
        first: usize,
        receive: bool,
    }
    let b = sync::Arc::new(sync::Mutex::new(Buffer {
        slots: [0; N],
        next: 0,
        first: 0,
        receive: false,
    }));
    let b1 = b.clone();
    let sender = thread::spawn(move || {
        for i in 0..N {
            let mut g = b1.lock().unwrap();
            let next = g.next;
            g.slots[next] = i as u64 + 1;
            g.next = (next + 1) % N;
            g.receive = true;
        }
    });
    let b2 = b.clone();
    let receiver = thread::spawn(move || {
        for _ in 0..N {
            let mut g = b2.lock().unwrap();
            if g.receive {
                let first = g.first;
                let v = std::mem::take(&mut g.slots[first]);
                g.first = (first + 1) % N;
                assert!(v != 0, "circular_buffer: read an empty slot");
                // (The bug: `receive` stays set.)
            }
        }
    });
    join_all(vec![sender, receiver]);
}

/// CS stack_bad: the popper trusts a flag the pusher sets once and nobody clears.
pub fn cs_stack() {
    const SIZE: usize = 3;
    let s = sync::Arc::new((sync::Mutex::new(Vec::<usize>::new()), AtomicBool::new(false)));
    let s1 = s.clone();
    let pusher = thread::spawn(move || {
        for i in 0..SIZE {
            let mut g = s1.0.lock().unwrap();
            g.push(i);
            s1.1.store(true, SeqCst);
        }
    });
    let s2 = s.clone();
    let popper = thread::spawn(move || {
        for _ in 0..SIZE {
            let mut g = s2.0.lock().unwrap();
            if s2.1.load(SeqCst) {
                assert!(g.pop().is_some(), "stack: underflow");
            }
        }
    });
    join_all(vec![pusher, popper]);
}

/// CS queue_bad: the enqueuer records what it stored after releasing the lock; the dequeuer
/// checks the record as soon as it dequeues.
pub fn cs_queue() {
    const SIZE: usize = 3;
    let q = sync::Arc::new((
        sync::Mutex::new(std::collections::VecDeque::<usize>::new()),
        [AtomicBool::new(false), AtomicBool::new(false), AtomicBool::new(false)],
    ));
    let q1 = q.clone();
    let enqueuer = thread::spawn(move || {
        for i in 0..SIZE {
            q1.0.lock().unwrap().push_back(i);
            q1.1[i].store(true, SeqCst);
        }
    });
    let q2 = q.clone();
    let dequeuer = thread::spawn(move || {
        for _ in 0..SIZE {
            let v = q2.0.lock().unwrap().pop_front();
            if let Some(v) = v {
                assert!(q2.1[v].load(SeqCst), "queue: dequeued before it was recorded");
            }
        }
    });
    join_all(vec![enqueuer, dequeuer]);
}

/// CS token_ring_bad: three threads pass a token around; a fourth asserts they all agree.
pub fn cs_token_ring() {
    let x = sync::Arc::new([AtomicI64::new(1), AtomicI64::new(1), AtomicI64::new(1)]);
    let mut handles = Vec::new();
    for i in 0..3 {
        let x = x.clone();
        handles.push(thread::spawn(move || {
            let v = if i == 0 {
                (x[2].load(SeqCst) + 1) % 3
            } else {
                x[i - 1].load(SeqCst)
            };
            x[i].store(v, SeqCst);
        }));
    }
    let xc = x.clone();
    handles.push(thread::spawn(move || {
        let (a, b, c) = (xc[0].load(SeqCst), xc[1].load(SeqCst), xc[2].load(SeqCst));
        assert!(a == b && b == c, "token_ring: the token is in flight");
    }));
    join_all(handles);
}

/// CS wronglock_bad: A increments under one lock, the Bs under another: a B between A's
/// read and its check.
fn wronglock(bs: usize) {
    let data = sync::Arc::new(AtomicI64::new(0));
    let (data_lock, this_lock) = (
        sync::Arc::new(sync::Mutex::new(())),
        sync::Arc::new(sync::Mutex::new(())),
    );
    let mut handles = Vec::new();
    {
        let (data, l) = (data.clone(), data_lock.clone());
        handles.push(thread::spawn(move || {
            let _g = l.lock().unwrap();
            let x = data.load(SeqCst);
            data.store(x + 1, SeqCst);
            assert_eq!(data.load(SeqCst), x + 1, "wronglock: another lock's holder wrote");
        }));
    }
    for _ in 0..bs {
        let (data, l) = (data.clone(), this_lock.clone());
        handles.push(thread::spawn(move || {
            // Poison is no failure of this program: shuttle unwinds the Bs still running when
            // A fails, and a panic of theirs then would leave its thread in a panicking state.
            let _g = l.lock().unwrap_or_else(|e| e.into_inner());
            data.fetch_add(1, SeqCst);
        }));
    }
    join_all(handles);
}

pub fn cs_wronglock() {
    wronglock(7)
}

pub fn cs_wronglock_3() {
    wronglock(3)
}

/// CS carter01_bad: t1 holds `m` and takes `l` only when it sees `a == 0`; t2 holds `l` and
/// takes `m`: a deadlock on one branch only.
pub fn cs_carter01() {
    let s = sync::Arc::new((
        sync::Mutex::new(()),
        sync::Mutex::new(()),
        AtomicI64::new(0),
    ));
    let s1 = s.clone();
    let t1 = thread::spawn(move || {
        let _m = s1.0.lock().unwrap();
        if s1.2.load(SeqCst) == 0 {
            let _l = s1.1.lock().unwrap();
        }
        s1.2.fetch_add(1, SeqCst);
    });
    let s2 = s.clone();
    let t2 = thread::spawn(move || {
        let _l = s2.1.lock().unwrap();
        s2.2.fetch_add(1, SeqCst);
        let _m = s2.0.lock().unwrap();
    });
    join_all(vec![t1, t2]);
}

/// CS din_phil (5 philosophers, each takes the left fork then the right): a deadlock only when
/// all five hold their left fork.
pub fn cs_din_phil5() {
    let forks: sync::Arc<Vec<sync::Mutex<u32>>> =
        sync::Arc::new((0..5).map(|_| sync::Mutex::new(0)).collect());
    let handles = (0..5)
        .map(|i| {
            let forks = forks.clone();
            thread::spawn(move || {
                let mut left = forks[i].lock().unwrap();
                let mut right = forks[(i + 1) % 5].lock().unwrap();
                *left += 1;
                *right += 1;
            })
        })
        .collect();
    join_all(handles);
}

/// CS twostage_100_bad at 20 threads: 20 As run the two stages, one B checks between them.
pub fn cs_twostage_20() {
    twostage_n(20);
}

/// CS twostage_100_bad as SCTBench has it: 100 As, one B.
pub fn cs_twostage_100() {
    twostage_n(100);
}

/// `n` As run the two stages, one B checks between them.
fn twostage_n(n: usize) {
    let s = sync::Arc::new((
        sync::Mutex::new(()),
        sync::Mutex::new(()),
        AtomicI64::new(0),
        AtomicI64::new(0),
    ));
    let mut handles = Vec::new();
    for _ in 0..n {
        let s = s.clone();
        handles.push(thread::spawn(move || {
            {
                let _g = s.0.lock().unwrap();
                s.2.store(1, SeqCst);
            }
            let _g = s.1.lock().unwrap();
            s.3.store(s.2.load(SeqCst) + 1, SeqCst);
        }));
    }
    let s1 = s.clone();
    handles.push(thread::spawn(move || {
        let t1 = {
            let _g = s1.0.lock().unwrap();
            s1.2.load(SeqCst)
        };
        if t1 == 0 {
            return;
        }
        let t2 = {
            let _g = s1.1.lock().unwrap();
            s1.3.load(SeqCst)
        };
        assert_eq!(t2, t1 + 1, "twostage: B ran between an A's two stages");
    }));
    join_all(handles);
}

/// CS sync01_bad: the consumer checks for the item and waits in separate critical sections,
/// without a loop: a notify in between is lost and the consumer waits forever.
pub fn cs_sync01() {
    let s = sync::Arc::new((sync::Mutex::new(0u32), sync::Condvar::new()));
    let s1 = s.clone();
    let producer = thread::spawn(move || {
        let (m, cv) = &*s1;
        let mut num = m.lock().unwrap();
        *num += 1;
        drop(num);
        cv.notify_one();
    });
    let (m, cv) = &*s;
    let ready = *m.lock().unwrap() > 0;
    if !ready {
        let num = m.lock().unwrap();
        drop(cv.wait(num).unwrap());
    }
    producer.join().unwrap();
}

/// ConVul CVE-2009-3547 (pipe_rdwr_open): the pipe is checked, then used under a later lock;
/// the release frees it in between (a NULL dereference).
pub fn cv_2009_3547() {
    let pipe = sync::Arc::new(sync::Mutex::new(Some(0u32)));
    let p1 = pipe.clone();
    let opener = thread::spawn(move || {
        let present = p1.lock().unwrap().is_some();
        if present {
            let mut g = p1.lock().unwrap();
            *g.as_mut().expect("CVE-2009-3547: pipe freed under the opener") += 1;
        }
    });
    let p2 = pipe.clone();
    let releaser = thread::spawn(move || {
        *p2.lock().unwrap() = None;
    });
    join_all(vec![opener, releaser]);
}

/// ConVul CVE-2016-9806 (netlink_dump): two paths see the callback running and both free it.
pub fn cv_2016_9806() {
    let s = sync::Arc::new((AtomicBool::new(true), AtomicUsize::new(0)));
    let handles = (0..2)
        .map(|_| {
            let s = s.clone();
            thread::spawn(move || {
                if s.0.load(SeqCst) {
                    let frees = s.1.fetch_add(1, SeqCst) + 1;
                    assert_eq!(frees, 1, "CVE-2016-9806: double free");
                    s.0.store(false, SeqCst);
                }
            })
        })
        .collect();
    join_all(handles);
}

/// ConVul CVE-2013-1792 (install_user_keyrings): the installer publishes the user keyring
/// before the session keyring; a user that sees the first dereferences the second.
pub fn cv_2013_1792() {
    let k = sync::Arc::new((AtomicBool::new(false), AtomicBool::new(false)));
    let k1 = k.clone();
    let installer = thread::spawn(move || {
        if !k1.0.load(SeqCst) {
            k1.0.store(true, SeqCst);
            k1.1.store(true, SeqCst);
        }
    });
    let k2 = k.clone();
    let user = thread::spawn(move || {
        if k2.0.load(SeqCst) {
            assert!(k2.1.load(SeqCst), "CVE-2013-1792: NULL session keyring");
        }
    });
    join_all(vec![installer, user]);
}

/// ConVul CVE-2017-15265 (snd_seq_create_port): the port is listed before its creator
/// finishes it; a delete in between frees it under the creator.
pub fn cv_2017_15265() {
    let ports = sync::Arc::new(sync::Mutex::new(Vec::<(u32, bool)>::new()));
    let p1 = ports.clone();
    let creator = thread::spawn(move || {
        p1.lock().unwrap().push((7, false));
        let mut g = p1.lock().unwrap();
        let port = g.iter_mut().find(|p| p.0 == 7);
        port.expect("CVE-2017-15265: port freed during creation").1 = true;
    });
    let p2 = ports.clone();
    let deleter = thread::spawn(move || {
        p2.lock().unwrap().retain(|p| p.0 != 7);
    });
    join_all(vec![creator, deleter]);
}

/// ConVul CVE-2011-2183 (ksm scan vs exit): the scanner takes a slot from the list, drops the
/// lock, then uses the slot's mm, which the exit path freed meanwhile.
pub fn cv_2011_2183() {
    let s = sync::Arc::new((sync::Mutex::new(vec![0usize]), AtomicBool::new(true)));
    let s1 = s.clone();
    let scanner = thread::spawn(move || {
        let slot = s1.0.lock().unwrap().first().copied();
        if slot.is_some() {
            assert!(s1.1.load(SeqCst), "CVE-2011-2183: mm used after free");
        }
    });
    let s2 = s.clone();
    let exit = thread::spawn(move || {
        s2.1.store(false, SeqCst);
        s2.0.lock().unwrap().clear();
    });
    join_all(vec![scanner, exit]);
}

/// ConVul CVE-2016-7911 (get_task_ioprio vs exit_io_context): exit frees the context before it
/// clears the task's pointer to it.
pub fn cv_2016_7911() {
    let s = sync::Arc::new((AtomicBool::new(true), AtomicBool::new(true)));
    let s1 = s.clone();
    let getter = thread::spawn(move || {
        if s1.0.load(SeqCst) {
            assert!(s1.1.load(SeqCst), "CVE-2016-7911: io_context used after free");
        }
    });
    let s2 = s.clone();
    let exit = thread::spawn(move || {
        s2.1.store(false, SeqCst);
        s2.0.store(false, SeqCst);
    });
    join_all(vec![getter, exit]);
}

/// ConVul CVE-2015-7550 (keyctl_read vs revoke): the reader checks the key's state, then reads
/// its payload in a separate critical section; the revoke clears the payload in between.
pub fn cv_2015_7550() {
    struct Key {
        revoked: bool,
        payload: Option<u32>,
    }
    let key = sync::Arc::new(sync::Mutex::new(Key {
        revoked: false,
        payload: Some(42),
    }));
    let k1 = key.clone();
    let reader = thread::spawn(move || {
        let live = !k1.lock().unwrap().revoked;
        if live {
            let g = k1.lock().unwrap();
            g.payload.expect("CVE-2015-7550: payload read after revoke");
        }
    });
    let k2 = key.clone();
    let revoker = thread::spawn(move || {
        let mut g = k2.lock().unwrap();
        g.payload = None;
        g.revoked = true;
    });
    join_all(vec![reader, revoker]);
}

/// Ours: a reader-to-writer "upgrade" that drops the read lock first, so another writer can
/// change what was read (two threads take the last ticket).
pub fn rw_upgrade() {
    let tickets = sync::Arc::new(sync::RwLock::new(1u32));
    let handles = (0..2)
        .map(|_| {
            let t = tickets.clone();
            thread::spawn(move || {
                let left = *t.read().unwrap();
                if left > 0 {
                    let mut w = t.write().unwrap();
                    assert!(*w > 0, "rw_upgrade: the last ticket was sold twice");
                    *w -= 1;
                }
            })
        })
        .collect();
    join_all(handles);
}
