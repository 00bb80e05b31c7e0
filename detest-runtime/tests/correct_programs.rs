//! Correct programs never fail, whatever the policy and seed.

use detest::sync::atomic::{AtomicUsize, Ordering};
use detest::sync::{mpsc, Arc, Barrier, Condvar, Mutex, RwLock};
use detest::{thread, Config, Policy};

const SEEDS: u64 = 1000;

fn policies() -> [Policy; 7] {
    [
        Policy::RoundRobin,
        Policy::Rotate,
        Policy::FirstRelease,
        Policy::Random,
        Policy::Pct { depth: 3 },
        Policy::Pos,
        Policy::Chaos,
    ]
}

fn all_pass(name: &str, f: impl Fn()) {
    for policy in policies() {
        let report = Config::new()
            .seeds(SEEDS)
            .policy(policy)
            .fail_fast(true)
            .run(&f);
        assert!(report.passed(), "{name} under {policy}: {report}");
        // PCT and chaos sweeps begin with their fixed executions: round-robin, rotate, and
        // first-release when round-robin passes a choice point right after a release.
        let fixed = if matches!(policy, Policy::Pct { .. } | Policy::Chaos) {
            let round_robin = Config::new().run_seed(0, &f);
            2 + u64::from(round_robin.release_points > 0)
        } else {
            0
        };
        assert_eq!(report.executions, SEEDS + fixed, "{name} under {policy}");
    }
}

#[test]
fn counter() {
    all_pass("counter", || {
        let n = Arc::new(Mutex::new(0u64));
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let n = n.clone();
                thread::spawn(move || {
                    for _ in 0..5 {
                        *n.lock().unwrap() += 1;
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(*n.lock().unwrap(), 15);
    });
}

struct Buffer {
    items: Mutex<Vec<u32>>,
    not_full: Condvar,
    not_empty: Condvar,
}

#[test]
fn bounded_buffer() {
    all_pass("bounded buffer", || {
        let buf = Arc::new(Buffer {
            items: Mutex::new(Vec::new()),
            not_full: Condvar::new(),
            not_empty: Condvar::new(),
        });
        let mut handles = Vec::new();
        for p in 0..3u32 {
            let buf = buf.clone();
            handles.push(thread::spawn(move || {
                for i in 0..3 {
                    let mut items = buf
                        .not_full
                        .wait_while(buf.items.lock().unwrap(), |v| v.len() >= 3)
                        .unwrap();
                    items.push(p * 10 + i);
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
                    let mut items = buf
                        .not_empty
                        .wait_while(buf.items.lock().unwrap(), |v| v.is_empty())
                        .unwrap();
                    sum += items.pop().unwrap();
                    drop(items);
                    buf.not_full.notify_one();
                }
                sum
            }));
        }
        let total: u32 = handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(
            total,
            (0..3)
                .map(|p| (0..3).map(|i| p * 10 + i).sum::<u32>())
                .sum::<u32>()
        );
    });
}

#[test]
fn channel() {
    all_pass("channel", || {
        let (tx, rx) = mpsc::channel();
        let producer = thread::spawn(move || {
            for i in 0..50u64 {
                tx.send(i).unwrap();
            }
        });
        let sum: u64 = rx.iter().sum();
        producer.join().unwrap();
        assert_eq!(sum, 50 * 49 / 2);
    });
}

#[test]
fn sync_channel_rendezvous() {
    all_pass("sync channel", || {
        let (tx, rx) = mpsc::sync_channel(0);
        let sent = Arc::new(AtomicUsize::new(0));
        let s = sent.clone();
        let producer = thread::spawn(move || {
            for i in 0..3 {
                tx.send(i).unwrap();
                s.fetch_add(1, Ordering::SeqCst);
            }
        });
        for i in 0..3 {
            // A rendezvous send completes only after its receive: at most i sends are done.
            assert!(sent.load(Ordering::SeqCst) <= i);
            assert_eq!(rx.recv().unwrap(), i);
        }
        producer.join().unwrap();
    });
}

#[test]
fn barrier() {
    all_pass("barrier", || {
        let barrier = Arc::new(Barrier::new(3));
        let arrived = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let (barrier, arrived) = (barrier.clone(), arrived.clone());
                thread::spawn(move || {
                    arrived.fetch_add(1, Ordering::SeqCst);
                    let leader = barrier.wait().is_leader();
                    assert_eq!(
                        arrived.load(Ordering::SeqCst),
                        3,
                        "passed the barrier early"
                    );
                    leader
                })
            })
            .collect();
        let leaders = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|l| *l)
            .count();
        assert_eq!(leaders, 1);
    });
}

#[test]
fn rwlock_readers_writers() {
    all_pass("rwlock", || {
        let lock = Arc::new(RwLock::new((0u32, 0u32)));
        let mut handles = Vec::new();
        for _ in 0..2 {
            let lock = lock.clone();
            handles.push(thread::spawn(move || {
                for _ in 0..2 {
                    let mut w = lock.write().unwrap();
                    w.0 += 1;
                    thread::yield_now();
                    w.1 += 1;
                }
            }));
        }
        for _ in 0..2 {
            let lock = lock.clone();
            handles.push(thread::spawn(move || {
                for _ in 0..2 {
                    let r = lock.read().unwrap();
                    assert_eq!(r.0, r.1, "reader saw a half-done write");
                }
            }));
        }
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(*lock.read().unwrap(), (4, 4));
    });
}

#[test]
fn async_tasks() {
    all_pass("async", || {
        detest::future::block_on(async {
            let counter = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..4)
                .map(|_| {
                    let counter = counter.clone();
                    detest::future::spawn(async move {
                        for _ in 0..3 {
                            detest::future::yield_now().await;
                            counter.fetch_add(1, Ordering::SeqCst);
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            assert_eq!(counter.load(Ordering::SeqCst), 12);
        });
    });
}

#[test]
fn scoped_threads_borrow() {
    all_pass("scope", || {
        let mut data = vec![1, 2, 3];
        let total = AtomicUsize::new(0);
        thread::scope(|s| {
            for chunk in data.chunks(1) {
                let total = &total;
                s.spawn(move || total.fetch_add(chunk[0], Ordering::SeqCst));
            }
        });
        data.push(4);
        assert_eq!(total.load(Ordering::SeqCst), 6);
    });
}
