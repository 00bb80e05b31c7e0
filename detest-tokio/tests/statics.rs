//! tokio primitives in statics start every execution as the program started (detest puts
//! primitives in statics back at their first use in each execution; Linux): a `static`
//! `OnceCell` is empty again, a `Mutex` holds its initial value and is free even when a task
//! of the previous execution was left holding it, a `Semaphore` has all its permits.
#![cfg(target_os = "linux")]

extern crate detest_tokio as tokio;

use detest::Config;
use tokio::sync::{Mutex, Notify, OnceCell, RwLock, Semaphore};

static CELL: OnceCell<String> = OnceCell::const_new();
static LIST: Mutex<Vec<u32>> = Mutex::const_new(Vec::new());
static TABLE: RwLock<u32> = RwLock::const_new(1);
static PERMITS: Semaphore = Semaphore::const_new(2);
static NEVER: Notify = Notify::const_new();

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Runtime::new().unwrap().block_on(f)
}

#[test]
fn statics_are_fresh_in_every_execution() {
    let report = Config::new().seeds(40).run(|| {
        block_on(async {
            assert!(CELL.get().is_none(), "an earlier execution's value");
            assert!(
                LIST.lock().await.is_empty(),
                "an earlier execution's pushes"
            );
            assert_eq!(*TABLE.read().await, 1);
            assert_eq!(
                PERMITS.available_permits(),
                2,
                "permits an earlier one kept"
            );
            let a = tokio::spawn(async {
                let _ = CELL.set("task".to_string());
                LIST.lock().await.push(1);
            });
            let _ = CELL.set("main".to_string());
            LIST.lock().await.push(2);
            *TABLE.write().await += 1;
            a.await.unwrap();
            assert_eq!(LIST.lock().await.len(), 2);
            assert_eq!(*TABLE.read().await, 2);
            // Left holding a permit and the lock: the task waits for good, and is leaked as
            // the body ends.
            let permit = PERMITS.acquire().await.unwrap();
            permit.forget();
            tokio::spawn(async {
                let _held = LIST.lock().await;
                NEVER.notified().await;
            });
            tokio::task::yield_now().await;
        })
    });
    assert!(report.passed(), "{:?}", report.failures);
}
