// Async programs, written once against the names `future` and `sync` (see programs.rs). Loom has
// no task spawner, so only detest and shuttle include this file.

pub fn async_workloads() -> Vec<Workload> {
    vec![Workload {
        name: "async",
        body: async_tasks,
        executions: 10_000,
        pct: false,
        loom: false,
    }]
}

pub fn async_bug_programs() -> Vec<BugProgram> {
    vec![BugProgram {
        name: "async_lost_wakeup",
        body: async_lost_wakeup,
        deadlock: true,
        listed: false,
    }]
}

/// `block_on` a future that spawns 10 tasks, each awaits `yield_now` 10 times, joins all.
pub fn async_tasks() {
    future::block_on(async {
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                future::spawn(async move {
                    for _ in 0..10 {
                        future::yield_now().await;
                    }
                    i
                })
            })
            .collect();
        let mut sum = 0;
        for t in tasks {
            sum += t.await.unwrap();
        }
        assert_eq!(sum, 45);
    });
}

/// A hand-written event whose `poll` checks the flag and registers its waker in two separate
/// steps: a `set` in between sees no waker, and the waiter sleeps forever (a lost wake-up).
struct Event {
    set: sync::atomic::AtomicBool,
    waker: sync::Mutex<Option<std::task::Waker>>,
}

struct Wait(sync::Arc<Event>);

impl std::future::Future for Wait {
    type Output = ();
    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0.set.load(sync::atomic::Ordering::SeqCst) {
            return std::task::Poll::Ready(());
        }
        // Bug: no re-check of `set` after registering.
        *self.0.waker.lock().unwrap() = Some(cx.waker().clone());
        std::task::Poll::Pending
    }
}

pub fn async_lost_wakeup() {
    let event = sync::Arc::new(Event {
        set: sync::atomic::AtomicBool::new(false),
        waker: sync::Mutex::new(None),
    });
    let setter = event.clone();
    future::block_on(async move {
        let handle = future::spawn(async move {
            setter.set.store(true, sync::atomic::Ordering::SeqCst);
            let waker = setter.waker.lock().unwrap().take();
            if let Some(w) = waker {
                w.wake();
            }
        });
        Wait(event).await;
        handle.await.unwrap();
    });
}
