//! Ported from tokio's tests/io_split.rs (tokio 1.54.1), run in detest mode: its plain
//! `#[test]`s became `#[tokio::test]`s (the `should_panic` ones plain tests around one
//! execution, since a failing `#[tokio::test]` is saved as a regression fixture), and
//! `tokio_test::block_on` the runtime's `block_on`. All ported.

extern crate detest_tokio as tokio;

mod support;

use tokio::io::{
    split, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf, ReadHalf, WriteHalf,
};

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

struct RW;

impl AsyncRead for RW {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        buf.put_slice(b"z");
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for RW {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        _buf: &[u8],
    ) -> Poll<Result<usize, io::Error>> {
        Poll::Ready(Ok(1))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), io::Error>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), io::Error>> {
        Poll::Ready(Ok(()))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        _bufs: &[io::IoSlice<'_>],
    ) -> Poll<Result<usize, io::Error>> {
        Poll::Ready(Ok(2))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }
}

#[tokio::test]
async fn is_send_and_sync() {
    fn assert_bound<T: Send + Sync>() {}

    assert_bound::<ReadHalf<RW>>();
    assert_bound::<WriteHalf<RW>>();
}

#[tokio::test]
async fn split_stream_id() {
    let (r1, w1) = split(RW);
    let (r2, w2) = split(RW);
    assert!(r1.is_pair_of(&w1));
    assert!(!r1.is_pair_of(&w2));
    assert!(r2.is_pair_of(&w2));
    assert!(!r2.is_pair_of(&w1));
}

#[tokio::test]
async fn unsplit_ok() {
    let (r, w) = split(RW);
    r.unsplit(w);
}

#[test]
#[should_panic(expected = "Unrelated")]
fn unsplit_err1() {
    support::run(|| {
        let (r, _) = split(RW);
        let (_, w) = split(RW);
        r.unsplit(w);
    });
}

#[test]
#[should_panic(expected = "Unrelated")]
fn unsplit_err2() {
    support::run(|| {
        let (_, w) = split(RW);
        let (r, _) = split(RW);
        r.unsplit(w);
    });
}

#[tokio::test]
async fn method_delegation() {
    let (mut r, mut w) = split(RW);
    let mut buf = [0; 1];

    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async move {
            assert_eq!(1, r.read(&mut buf).await.unwrap());
            assert_eq!(b'z', buf[0]);

            assert_eq!(1, w.write(b"x").await.unwrap());
            assert_eq!(
                2,
                w.write_vectored(&[io::IoSlice::new(b"x")]).await.unwrap()
            );
            assert!(w.is_write_vectored());

            assert!(w.flush().await.is_ok());
            assert!(w.shutdown().await.is_ok());
        });
}
