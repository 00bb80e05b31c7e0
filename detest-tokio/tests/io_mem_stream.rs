//! Ported from tokio's tests/io_mem_stream.rs and tests/duplex_stream.rs (tokio 1.54.1), run
//! in detest mode: tokio's plain `#[test]`s became `#[tokio::test]`s so that they run inside an
//! execution, and `futures`' `now_or_never`/`noop_waker_ref` are small stand-ins here. Not
//! ported: `duplex_is_cooperative` (it loops on always-ready futures and relies on tokio's coop
//! budget to force a `Pending`; the budget is not modelled, so it would never end). Added at
//! the end: tests that explore schedules (a full pipe blocks the writer; EOF and `BrokenPipe`
//! races; `split` halves used from two tasks).

extern crate detest_tokio as tokio;

mod support;
#[allow(unused_imports)]
use support::tokio_test::*;

use std::future::Future;
use std::io::IoSlice;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Wake, Waker};
use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt, DuplexStream};

/// `futures::FutureExt::now_or_never`: one poll with a no-op waker.
fn now_or_never<F: Future>(fut: F) -> Option<F::Output> {
    let mut fut = pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        std::task::Poll::Ready(v) => Some(v),
        std::task::Poll::Pending => None,
    }
}

#[tokio::test]
async fn ping_pong() {
    let (mut a, mut b) = duplex(32);

    let mut buf = [0u8; 4];

    a.write_all(b"ping").await.unwrap();
    b.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"ping");

    b.write_all(b"pong").await.unwrap();
    a.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"pong");
}

#[tokio::test]
async fn across_tasks() {
    let (mut a, mut b) = duplex(32);

    let t1 = tokio::spawn(async move {
        a.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        a.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"pong");
    });

    let t2 = tokio::spawn(async move {
        let mut buf = [0u8; 4];
        b.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        b.write_all(b"pong").await.unwrap();
    });

    t1.await.unwrap();
    t2.await.unwrap();
}

#[tokio::test]
async fn disconnect() {
    let (mut a, mut b) = duplex(32);

    let t1 = tokio::spawn(async move {
        a.write_all(b"ping").await.unwrap();
        // and dropped
    });

    let t2 = tokio::spawn(async move {
        let mut buf = [0u8; 32];
        let n = b.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"ping");

        let n = b.read(&mut buf).await.unwrap();
        assert_eq!(n, 0);
    });

    t1.await.unwrap();
    t2.await.unwrap();
}

#[tokio::test]
async fn disconnect_reader() {
    let (a, mut b) = duplex(2);

    let t1 = tokio::spawn(async move {
        // this will block, as not all data fits into duplex
        b.write_all(b"ping").await.unwrap_err();
    });

    let t2 = tokio::spawn(async move {
        // here we drop the reader side, and we expect the writer in the other
        // task to exit with an error
        drop(a);
    });

    t2.await.unwrap();
    t1.await.unwrap();
}

#[tokio::test]
async fn max_write_size() {
    let (mut a, mut b) = duplex(32);

    let t1 = tokio::spawn(async move {
        let n = a.write(&[0u8; 64]).await.unwrap();
        assert_eq!(n, 32);
        let n = a.write(&[0u8; 64]).await.unwrap();
        assert_eq!(n, 4);
    });

    let mut buf = [0u8; 4];
    b.read_exact(&mut buf).await.unwrap();

    t1.await.unwrap();

    // drop b only after task t1 finishes writing
    drop(b);
}

#[tokio::test]
async fn zero_length_operations() {
    let (mut reader, _peer) = duplex(1);
    assert!(matches!(now_or_never(reader.read(&mut [])), Some(Ok(0))));

    let (mut writer, _peer) = duplex(1);
    writer.write_all(b"x").await.unwrap();
    assert!(matches!(now_or_never(writer.write(&[])), Some(Ok(0))));

    let (mut writer, _peer) = duplex(1);
    writer.write_all(b"x").await.unwrap();
    let bufs = [IoSlice::new(&[]), IoSlice::new(&[])];
    assert!(matches!(
        now_or_never(writer.write_vectored(&bufs)),
        Some(Ok(0))
    ));
}

#[tokio::test]
async fn zero_length_writes_to_closed_stream() {
    let (mut writer, peer) = duplex(1);
    drop(peer);
    let err = writer.write(&[]).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);

    let (mut writer, peer) = duplex(1);
    drop(peer);
    let bufs = [IoSlice::new(&[]), IoSlice::new(&[])];
    let err = writer.write_vectored(&bufs).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
}

/// Polls `fut` once (expecting `Pending`) with a waker that polls `fut` to
/// completion when woken.
fn poll_on_wake(fut: impl Future<Output = ()> + Send + 'static) -> Arc<AtomicBool> {
    struct PollOnWake<F> {
        fut: Mutex<Pin<Box<F>>>,
        woken: Arc<AtomicBool>,
    }

    impl<F: Future<Output = ()> + Send> Wake for PollOnWake<F> {
        fn wake(self: Arc<Self>) {
            let mut cx = Context::from_waker(Waker::noop());
            assert_ready!(self.fut.lock().unwrap().as_mut().poll(&mut cx));
            self.woken.store(true, Ordering::SeqCst);
        }
    }

    let woken = Arc::new(AtomicBool::new(false));
    let task = Arc::new(PollOnWake {
        fut: Mutex::new(Box::pin(fut)),
        woken: woken.clone(),
    });
    let waker = Waker::from(task.clone());
    let mut cx = Context::from_waker(&waker);
    assert_pending!(task.fut.lock().unwrap().as_mut().poll(&mut cx));
    woken
}

#[tokio::test]
async fn wake_reader_on_write_outside_lock() {
    let (mut writer, mut reader) = duplex(1);
    let woken = poll_on_wake(async move {
        assert_eq!(reader.read(&mut [0; 1]).await.unwrap(), 1);
    });

    assert_eq!(writer.write(b"x").await.unwrap(), 1);
    assert!(woken.load(Ordering::SeqCst));
}

#[tokio::test]
async fn wake_reader_on_write_vectored_outside_lock() {
    let (mut writer, mut reader) = duplex(1);
    let woken = poll_on_wake(async move {
        assert_eq!(reader.read(&mut [0; 1]).await.unwrap(), 1);
    });

    assert_eq!(
        writer.write_vectored(&[IoSlice::new(b"x")]).await.unwrap(),
        1
    );
    assert!(woken.load(Ordering::SeqCst));
}

#[tokio::test]
async fn wake_reader_on_shutdown_outside_lock() {
    let (mut writer, mut reader) = duplex(1);
    let woken = poll_on_wake(async move {
        assert_eq!(reader.read(&mut [0; 1]).await.unwrap(), 0);
    });

    writer.shutdown().await.unwrap();
    assert!(woken.load(Ordering::SeqCst));
}

#[tokio::test]
async fn wake_reader_on_drop_outside_lock() {
    let (writer, mut reader) = duplex(1);
    let woken = poll_on_wake(async move {
        assert_eq!(reader.read(&mut [0; 1]).await.unwrap(), 0);
    });

    drop(writer);
    assert!(woken.load(Ordering::SeqCst));
}

#[tokio::test]
async fn wake_writer_on_read_outside_lock() {
    let (mut writer, mut reader) = duplex(1);
    let woken = poll_on_wake(async move {
        writer.write_all(b"xy").await.unwrap();
    });

    assert_eq!(reader.read(&mut [0; 1]).await.unwrap(), 1);
    assert!(woken.load(Ordering::SeqCst));
}

#[tokio::test]
async fn wake_writer_on_drop_outside_lock() {
    let (mut writer, reader) = duplex(1);
    let woken = poll_on_wake(async move {
        writer.write_all(b"xy").await.unwrap_err();
    });

    drop(reader);
    assert!(woken.load(Ordering::SeqCst));
}

fn check_drop_replaced_waker(peer: DuplexStream, fut: impl Future<Output = ()>) {
    struct Owner {
        _peer: DuplexStream,
    }

    impl Wake for Owner {
        fn wake(self: Arc<Self>) {}
    }

    let mut fut = pin!(fut);
    let waker = Waker::from(Arc::new(Owner { _peer: peer }));
    assert_pending!(fut.as_mut().poll(&mut Context::from_waker(&waker)));
    drop(waker);

    let mut cx = Context::from_waker(Waker::noop());
    // Replacing the waker drops `peer`, which closes the pipe.
    assert_pending!(fut.as_mut().poll(&mut cx));
    assert_ready!(fut.as_mut().poll(&mut cx));
}

#[tokio::test]
async fn drop_replaced_read_waker_outside_lock() {
    let (mut reader, peer) = duplex(1);
    check_drop_replaced_waker(peer, async {
        assert_eq!(reader.read(&mut [0; 1]).await.unwrap(), 0);
    });
}

#[tokio::test]
async fn drop_replaced_write_waker_outside_lock() {
    let (mut writer, peer) = duplex(1);
    check_drop_replaced_waker(peer, async {
        writer.write_all(b"xy").await.unwrap_err();
    });
}

#[tokio::test]
async fn drop_replaced_write_vectored_waker_outside_lock() {
    let (mut writer, peer) = duplex(1);
    check_drop_replaced_waker(peer, async {
        assert_eq!(writer.write(b"x").await.unwrap(), 1);
        writer
            .write_vectored(&[IoSlice::new(b"y")])
            .await
            .unwrap_err();
    });
}

// --- tokio's tests/duplex_stream.rs -----------------------------------------------------------

const HELLO: &[u8] = b"hello world...";

#[tokio::test]
async fn write_vectored() {
    let (mut client, mut server) = tokio::io::duplex(64);

    let ret = client
        .write_vectored(&[IoSlice::new(HELLO), IoSlice::new(HELLO)])
        .await
        .unwrap();
    assert_eq!(ret, HELLO.len() * 2);

    client.flush().await.unwrap();
    drop(client);

    let mut buf = Vec::with_capacity(HELLO.len() * 2);
    let bytes_read = server.read_to_end(&mut buf).await.unwrap();

    assert_eq!(bytes_read, HELLO.len() * 2);
    assert_eq!(buf, [HELLO, HELLO].concat());
}

#[tokio::test]
async fn write_vectored_and_shutdown() {
    let (mut client, mut server) = tokio::io::duplex(64);

    let ret = client
        .write_vectored(&[IoSlice::new(HELLO), IoSlice::new(HELLO)])
        .await
        .unwrap();
    assert_eq!(ret, HELLO.len() * 2);

    client.shutdown().await.unwrap();
    drop(client);

    let mut buf = Vec::with_capacity(HELLO.len() * 2);
    let bytes_read = server.read_to_end(&mut buf).await.unwrap();

    assert_eq!(bytes_read, HELLO.len() * 2);
    assert_eq!(buf, [HELLO, HELLO].concat());
}

// --- detest-tokio: schedule exploration -------------------------------------------------------

use detest::{Config, Policy};
use std::collections::BTreeSet;

/// Runs `body` over 100 random schedules, failing on any failed execution; returns the set of
/// outcomes seen.
fn outcomes<O: Ord + Send>(body: impl Fn() -> O) -> BTreeSet<O> {
    let seen = Mutex::new(BTreeSet::new());
    let report = Config::new().seeds(100).policy(Policy::Random).run(|| {
        let outcome = body();
        seen.lock().unwrap().insert(outcome);
    });
    assert!(
        report.failures.is_empty(),
        "{:?}",
        report.failures.first().map(|f| &f.message)
    );
    seen.into_inner().unwrap()
}

/// A two-byte pipe: `write_all` of four bytes cannot finish while nobody reads (the full pipe
/// blocks the writer; virtual time passes only once every task is blocked), and finishes once
/// the reader drained it, whatever the schedule.
#[test]
fn full_pipe_blocks_the_writer_until_the_reader_reads() {
    let seen = outcomes(|| {
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let (mut a, mut b) = duplex(2);
            let writer = tokio::spawn(async move { a.write_all(b"ping").await.unwrap() });
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            let blocked = !writer.is_finished();
            let mut got = Vec::new();
            let mut buf = [0u8; 8];
            while got.len() < 4 {
                let n = b.read(&mut buf).await.unwrap();
                assert!(n <= 2, "a read never gets more than the pipe holds");
                got.extend_from_slice(&buf[..n]);
            }
            writer.await.unwrap();
            (blocked, got)
        })
    });
    assert_eq!(seen, BTreeSet::from([(true, b"ping".to_vec())]));
}

/// The reader takes one byte and goes away while the writer waits on a full one-byte pipe:
/// the writer's second byte either gets in first (the write succeeds) or meets the closed
/// pipe (`BrokenPipe`), as the schedule decides.
#[test]
fn writer_racing_the_readers_drop_succeeds_or_breaks() {
    let seen = outcomes(|| {
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let (mut a, mut b) = duplex(1);
            let writer = tokio::spawn(async move {
                match a.write_all(b"xy").await {
                    Ok(()) => "ok".to_string(),
                    Err(e) => format!("{:?}", e.kind()),
                }
            });
            let mut buf = [0u8; 1];
            assert_eq!(b.read(&mut buf).await.unwrap(), 1);
            assert_eq!(&buf, b"x");
            tokio::task::yield_now().await;
            drop(b);
            writer.await.unwrap()
        })
    });
    assert_eq!(
        seen,
        BTreeSet::from(["BrokenPipe".to_string(), "ok".to_string()])
    );
}

/// `split` halves of one end used from two tasks against an echoing peer, over many
/// schedules: every byte arrives once and in order, and no schedule deadlocks.
#[test]
fn split_halves_from_two_tasks_echo() {
    let seen = outcomes(|| {
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let (a, mut b) = duplex(3);
            let (mut rd, mut wr) = tokio::io::split(a);
            let echo = tokio::spawn(async move {
                let mut buf = [0u8; 2];
                loop {
                    let n = b.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    b.write_all(&buf[..n]).await.unwrap();
                }
            });
            let writer = tokio::spawn(async move {
                wr.write_all(b"hello world").await.unwrap();
                wr.shutdown().await.unwrap();
            });
            let mut got = String::new();
            rd.read_to_string(&mut got).await.unwrap();
            writer.await.unwrap();
            echo.await.unwrap();
            got
        })
    });
    assert_eq!(seen, BTreeSet::from(["hello world".to_string()]));
}

/// tokio's `BufReader::lines` over a pipe another task writes in small pieces: the line
/// boundaries never depend on how the writes were cut or interleaved.
#[test]
fn lines_over_a_pipe_do_not_depend_on_the_schedule() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let seen = outcomes(|| {
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let (mut a, b) = duplex(3);
            let writer = tokio::spawn(async move {
                for piece in ["on", "e\ntw", "o\n", "three"] {
                    a.write_all(piece.as_bytes()).await.unwrap();
                    tokio::task::yield_now().await;
                }
            });
            let mut lines = BufReader::new(b).lines();
            let mut got = Vec::new();
            while let Some(line) = lines.next_line().await.unwrap() {
                got.push(line);
            }
            writer.await.unwrap();
            got
        })
    });
    assert_eq!(
        seen,
        BTreeSet::from([vec!["one".to_string(), "two".into(), "three".into()]])
    );
}
