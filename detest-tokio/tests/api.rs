//! The rest of the modelled API, as tokio code uses it: `#[tokio::test]`'s arguments and
//! return types, `spawn_blocking`, runtimes built inside a test, `Interval::tick`.

extern crate detest_tokio as tokio;

use std::time::Duration;
use tokio::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_arguments_are_accepted() {
    let t = tokio::spawn(async { 1 + 1 });
    assert_eq!(t.await.unwrap(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_test_may_return_a_result() -> Result<(), String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    tx.send(5)
        .map_err(|v| format!("receiver gone, {v} unsent"))?;
    assert_eq!(rx.await.map_err(|e| e.to_string())?, 5);
    Ok(())
}

#[tokio::test]
async fn spawn_blocking_runs_blocking_code_as_its_own_task() {
    let start = Instant::now();
    let blocking = tokio::task::spawn_blocking(|| {
        // Blocking detest calls block only this task.
        detest::time::sleep(Duration::from_secs(2));
        7
    });
    let other = tokio::spawn(async { tokio::time::sleep(Duration::from_secs(1)).await });
    other.await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(1));
    assert_eq!(blocking.await.unwrap(), 7);
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

#[tokio::test]
async fn interval_ticks_on_the_virtual_clock() {
    let start = Instant::now();
    let mut interval = tokio::time::interval(Duration::from_millis(10));
    let mut ticks = Vec::new();
    for _ in 0..4 {
        ticks.push(interval.tick().await - start);
    }
    assert_eq!(ticks, [0, 10, 20, 30].map(Duration::from_millis));
}

#[test]
fn a_runtime_built_inside_an_execution_runs_on_it() {
    detest::check(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let v = rt.block_on(async {
            let h = tokio::runtime::Handle::current().spawn(async { 3 });
            h.await.unwrap()
        });
        assert_eq!(v, 3);
    });
}
