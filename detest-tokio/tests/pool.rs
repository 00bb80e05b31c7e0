//! A connection pool on a `Semaphore` with a real lost-permit bug, written against plain
//! tokio: `checkout` takes a permit and `forget`s it (the lease gives it back on drop), then
//! awaits a new connection's handshake. A client that gives up in a `select!` (its stop signal
//! won) while that handshake is pending drops the checkout future between the two, and the
//! permit is gone for good: the pool shrinks until it deadlocks. Whether it happens depends on
//! how the clients interleave and which ready `select!` branch wins, so one run usually
//! passes; a sweep finds it, and the fixed pool (the lease owns the permit from the start)
//! passes every seed.

extern crate detest_tokio as tokio;

use detest::{Config, FailureKind, Policy};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;
use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

struct Conn(u32);

async fn connect(id: u32) -> Conn {
    tokio::time::sleep(Duration::from_millis(5)).await; // the handshake
    Conn(id)
}

struct Pool {
    permits: Arc<Semaphore>,
    idle: StdMutex<Vec<Conn>>,
    size: usize,
    fixed: bool,
}

/// A checked-out connection; dropping it returns the connection and its permit.
struct Lease<'a> {
    pool: &'a Pool,
    conn: Option<Conn>,
    /// The fixed pool's lease owns its permit; the buggy one's was forgotten.
    permit: Option<OwnedSemaphorePermit>,
}

impl Pool {
    fn new(size: usize, idle: u32, fixed: bool) -> Pool {
        Pool {
            permits: Arc::new(Semaphore::new(size)),
            idle: StdMutex::new((0..idle).map(Conn).collect()),
            size,
            fixed,
        }
    }

    async fn checkout(&self, id: u32) -> Lease<'_> {
        let permit = self.permits.clone().acquire_owned().await.unwrap();
        if self.fixed {
            // The lease owns the permit before the await: cancelled there, it gives it back.
            let mut lease = Lease {
                pool: self,
                conn: None,
                permit: Some(permit),
            };
            lease.conn = Some(self.take_or_connect(id).await);
            return lease;
        }
        permit.forget(); // BUG: the lease gives it back, but does not exist until below
        let conn = self.take_or_connect(id).await; // cancelled here: the permit is lost
        Lease {
            pool: self,
            conn: Some(conn),
            permit: None,
        }
    }

    async fn take_or_connect(&self, id: u32) -> Conn {
        let idle = self.idle.lock().unwrap().pop();
        match idle {
            Some(conn) => conn,
            None => connect(id).await,
        }
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.idle.lock().unwrap().push(conn);
        }
        if self.permit.take().is_none() {
            self.pool.permits.add_permits(1); // the forgotten one
        }
    }
}

/// Two clients share a pool of two with one idle connection; the second is told to stop
/// early. Afterwards every permit must be back.
fn scenario(fixed: bool) {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async move {
            let pool = Arc::new(Pool::new(2, 1, fixed));
            let (stop_tx, stop_rx) = oneshot::channel::<()>();
            let p1 = pool.clone();
            let first = tokio::spawn(async move {
                let lease = p1.checkout(1).await;
                tokio::time::sleep(Duration::from_millis(1)).await; // a query
                assert!(lease.conn.as_ref().is_some_and(|c| c.0 <= 2));
            });
            let p2 = pool.clone();
            let second = tokio::spawn(async move {
                tokio::select! {
                    _ = stop_rx => {}
                    lease = p2.checkout(2) => {
                        assert!(lease.conn.as_ref().is_some_and(|c| c.0 <= 2));
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
            });
            tokio::task::yield_now().await;
            let _ = stop_tx.send(());
            first.await.unwrap();
            second.await.unwrap();
            // Every permit is back: the pool can hand out all of its connections again.
            let all = tokio::time::timeout(
                Duration::from_secs(1),
                pool.permits.acquire_many(pool.size as u32),
            )
            .await;
            assert!(
                all.is_ok(),
                "a permit leaked: the pool cannot hand out all its connections"
            );
        })
}

#[test]
fn lost_permit_is_found_by_a_sweep_and_replays() {
    let report = Config::new()
        .seeds(200)
        .policy(Policy::Random)
        .run(|| scenario(false));
    let failure = report
        .failures
        .first()
        .expect("a sweep finds the lost permit");
    assert_eq!(failure.kind, FailureKind::Panic);
    assert!(
        failure.message.contains("a permit leaked"),
        "{}",
        failure.message
    );
    let replay = Config::new().replay(&failure.schedule, || scenario(false));
    assert_eq!(replay.failure.expect("replays").message, failure.message);
}

#[test]
fn fixed_pool_never_loses_a_permit() {
    for policy in [Policy::Random, Policy::Pct { depth: 3 }, Policy::RoundRobin] {
        let report = Config::new()
            .seeds(200)
            .policy(policy)
            .run(|| scenario(true));
        assert!(
            report.failures.is_empty(),
            "{policy:?}: {:?}",
            report.failures
        );
    }
}

/// The bug hides from a single run, which is what a plain `cargo test` on real tokio gives.
#[test]
fn one_round_robin_run_misses_the_bug() {
    let report = Config::new().seeds(1).run(|| scenario(false));
    assert!(report.failures.is_empty(), "{:?}", report.failures);
}
