//! Ported from tokio's tests (tokio 1.54.1) for the `io` adapters that work on in-memory
//! streams only: each file is a module here (`io_chain.rs` is `mod io_chain`, ...), run in
//! detest mode (plain `#[test]`s became `#[tokio::test]`s). These adapters are tokio's own
//! (re-exported: they only poll the stream they wrap), so this checks that they run inside an
//! execution as on tokio; not ported: the files using tokio-test's mock I/O (`io_read_line`, `io_read_until`, ...;
//! no mock here), the `bytes` crate (`io_write_buf`) or tokio's leaked-buffer test support
//! (`io_read`, `io_take`), and the `*_is_cooperative` tests (all of `io_repeat`) (they rely on tokio's coop budget,
//! not modelled: they would never end); `io_write` keeps its data in a `Vec` instead of a `BytesMut`.

extern crate detest_tokio as tokio;

mod support;

mod io_async_read {
    #[allow(unused_imports)]
    use crate::support::tokio_test::{self, *};

    use tokio::io::AsyncRead;

    #[tokio::test]
    async fn assert_obj_safe() {
        fn _assert<T>() {}
        _assert::<Box<dyn AsyncRead>>();
    }
}

mod io_chain {
    #[allow(unused_imports)]
    use crate::support::tokio_test::{self, *};

    use tokio::io::AsyncReadExt;
    use tokio_test::assert_ok;

    #[tokio::test]
    async fn chain() {
        let mut buf = Vec::new();
        let rd1: &[u8] = b"hello ";
        let rd2: &[u8] = b"world";

        let mut rd = rd1.chain(rd2);
        assert_ok!(rd.read_to_end(&mut buf).await);
        assert_eq!(buf, b"hello world");
    }

    #[tokio::test]
    async fn empty_read_does_not_skip_first() {
        let mut buf = Vec::new();
        let rd1: &[u8] = b"hello ";
        let rd2: &[u8] = b"world";

        let mut rd = rd1.chain(rd2);
        assert_eq!(assert_ok!(rd.read(&mut []).await), 0);
        assert_ok!(rd.read_to_end(&mut buf).await);
        assert_eq!(buf, b"hello world");
    }
}

mod io_join {
    #[allow(unused_imports)]
    use crate::support::tokio_test::{self, *};

    use tokio::io::{join, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, Join, ReadBuf};

    use std::io;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    struct R;

    impl AsyncRead for R {
        fn poll_read(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            buf.put_slice(b"z");
            Poll::Ready(Ok(()))
        }
    }

    struct W;

    impl AsyncWrite for W {
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

        fn poll_shutdown(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Result<(), io::Error>> {
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

        assert_bound::<Join<W, R>>();
    }

    #[tokio::test]
    async fn method_delegation() {
        let mut rw = join(R, W);
        let mut buf = [0; 1];

        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                assert_eq!(1, rw.read(&mut buf).await.unwrap());
                assert_eq!(b'z', buf[0]);

                assert_eq!(1, rw.write(b"x").await.unwrap());
                assert_eq!(
                    2,
                    rw.write_vectored(&[io::IoSlice::new(b"x")]).await.unwrap()
                );
                assert!(rw.is_write_vectored());

                assert!(rw.flush().await.is_ok());
                assert!(rw.shutdown().await.is_ok());
            });
    }
}

mod io_read_buf {
    #[allow(unused_imports)]
    use crate::support::tokio_test::{self, *};

    use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};
    use tokio_test::assert_ok;

    use std::io;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    #[tokio::test]
    async fn read_buf() {
        struct Rd {
            cnt: usize,
        }

        impl AsyncRead for Rd {
            fn poll_read(
                mut self: Pin<&mut Self>,
                _cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                self.cnt += 1;
                buf.put_slice(b"hello world");
                Poll::Ready(Ok(()))
            }
        }

        let mut buf = vec![];
        let mut rd = Rd { cnt: 0 };

        let n = assert_ok!(rd.read_buf(&mut buf).await);
        assert_eq!(1, rd.cnt);
        assert_eq!(n, 11);
        assert_eq!(buf[..], b"hello world"[..]);
    }

    #[tokio::test]
    #[cfg(feature = "io-util")]
    async fn issue_5588() {
        use bytes::BufMut;

        // steps to zero
        let mut buf = [0; 8];
        let mut read_buf = ReadBuf::new(&mut buf);
        assert_eq!(read_buf.remaining_mut(), 8);
        assert_eq!(read_buf.chunk_mut().len(), 8);
        unsafe {
            read_buf.advance_mut(1);
        }
        assert_eq!(read_buf.remaining_mut(), 7);
        assert_eq!(read_buf.chunk_mut().len(), 7);
        unsafe {
            read_buf.advance_mut(5);
        }
        assert_eq!(read_buf.remaining_mut(), 2);
        assert_eq!(read_buf.chunk_mut().len(), 2);
        unsafe {
            read_buf.advance_mut(2);
        }
        assert_eq!(read_buf.remaining_mut(), 0);
        assert_eq!(read_buf.chunk_mut().len(), 0);

        // directly to zero
        let mut buf = [0; 8];
        let mut read_buf = ReadBuf::new(&mut buf);
        assert_eq!(read_buf.remaining_mut(), 8);
        assert_eq!(read_buf.chunk_mut().len(), 8);
        unsafe {
            read_buf.advance_mut(8);
        }
        assert_eq!(read_buf.remaining_mut(), 0);
        assert_eq!(read_buf.chunk_mut().len(), 0);

        // uninit
        let mut buf = [std::mem::MaybeUninit::new(1); 8];
        let mut uninit = ReadBuf::uninit(&mut buf);
        assert_eq!(uninit.remaining_mut(), 8);
        assert_eq!(uninit.chunk_mut().len(), 8);

        let mut buf = [std::mem::MaybeUninit::uninit(); 8];
        let mut uninit = ReadBuf::uninit(&mut buf);
        unsafe {
            uninit.advance_mut(4);
        }
        assert_eq!(uninit.remaining_mut(), 4);
        assert_eq!(uninit.chunk_mut().len(), 4);
        uninit.put_u8(1);
        assert_eq!(uninit.remaining_mut(), 3);
        assert_eq!(uninit.chunk_mut().len(), 3);
        uninit.put_slice(&[1, 2, 3]);
        assert_eq!(uninit.remaining_mut(), 0);
        assert_eq!(uninit.chunk_mut().len(), 0);
    }
}

mod io_read_exact {
    #[allow(unused_imports)]
    use crate::support::tokio_test::{self, *};

    use std::io;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};
    use tokio_test::assert_ok;

    #[tokio::test]
    async fn read_exact() {
        let mut buf = Box::new([0; 8]);
        let mut rd: &[u8] = b"hello world";

        let n = assert_ok!(rd.read_exact(&mut buf[..]).await);
        assert_eq!(n, 8);
        assert_eq!(buf[..], b"hello wo"[..]);
    }

    struct InterruptThenRead {
        interrupted: bool,
        data: &'static [u8],
    }

    impl AsyncRead for InterruptThenRead {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            if !self.interrupted {
                self.interrupted = true;
                return Poll::Ready(Err(io::Error::from(io::ErrorKind::Interrupted)));
            }
            let n = std::cmp::min(self.data.len(), buf.remaining());
            buf.put_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn read_exact_retries_interrupted() {
        let mut reader = InterruptThenRead {
            interrupted: false,
            data: b"hello",
        };
        let mut buf = [0u8; 5];
        let n = reader.read_exact(&mut buf).await.unwrap();
        assert_eq!(n, 5);
        assert_eq!(&buf, b"hello");
    }
}

mod io_sink {
    #[allow(unused_imports)]
    use crate::support::tokio_test::{self, *};

    use std::io::IoSlice;
    use tokio::io::{AsyncWrite, AsyncWriteExt};

    #[tokio::test]
    async fn sink_write_vectored_consumes_all_buffers() {
        let mut sink = tokio::io::sink();
        assert!(sink.is_write_vectored());

        let bufs = [
            IoSlice::new(b""),
            IoSlice::new(b"hello"),
            IoSlice::new(b""),
            IoSlice::new(b"world"),
        ];
        assert_eq!(sink.write_vectored(&bufs).await.unwrap(), 10);
    }
}

mod io_util_empty {
    #[allow(unused_imports)]
    use crate::support::tokio_test::{self, *};

    use tokio::io::AsyncSeekExt;

    #[tokio::test]
    async fn empty_seek() {
        use std::io::SeekFrom;

        let mut empty = tokio::io::empty();

        assert!(matches!(empty.seek(SeekFrom::Start(0)).await, Ok(0)));
        assert!(matches!(empty.seek(SeekFrom::Start(1)).await, Ok(0)));
        assert!(matches!(empty.seek(SeekFrom::Start(u64::MAX)).await, Ok(0)));

        assert!(matches!(empty.seek(SeekFrom::End(i64::MIN)).await, Ok(0)));
        assert!(matches!(empty.seek(SeekFrom::End(-1)).await, Ok(0)));
        assert!(matches!(empty.seek(SeekFrom::End(0)).await, Ok(0)));
        assert!(matches!(empty.seek(SeekFrom::End(1)).await, Ok(0)));
        assert!(matches!(empty.seek(SeekFrom::End(i64::MAX)).await, Ok(0)));

        assert!(matches!(
            empty.seek(SeekFrom::Current(i64::MIN)).await,
            Ok(0)
        ));
        assert!(matches!(empty.seek(SeekFrom::Current(-1)).await, Ok(0)));
        assert!(matches!(empty.seek(SeekFrom::Current(0)).await, Ok(0)));
        assert!(matches!(empty.seek(SeekFrom::Current(1)).await, Ok(0)));
        assert!(matches!(
            empty.seek(SeekFrom::Current(i64::MAX)).await,
            Ok(0)
        ));
    }
}

mod io_write {
    #[allow(unused_imports)]
    use crate::support::tokio_test::{self, *};

    use tokio::io::{AsyncWrite, AsyncWriteExt};
    use tokio_test::assert_ok;

    use std::io;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    #[tokio::test]
    async fn write() {
        struct Wr {
            buf: Vec<u8>,
            cnt: usize,
        }

        impl AsyncWrite for Wr {
            fn poll_write(
                mut self: Pin<&mut Self>,
                _cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                assert_eq!(self.cnt, 0);
                self.buf.extend(&buf[0..4]);
                Ok(4).into()
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Ok(()).into()
            }

            fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Ok(()).into()
            }
        }

        let mut wr = Wr {
            buf: Vec::with_capacity(64),
            cnt: 0,
        };

        let n = assert_ok!(wr.write(b"hello world").await);
        assert_eq!(n, 4);
        assert_eq!(wr.buf, b"hell"[..]);
    }

    #[tokio::test]
    async fn write_cursor() {
        use std::io::Cursor;

        let mut wr = Cursor::new(Vec::new());

        let n = assert_ok!(wr.write(b"hello world").await);
        assert_eq!(n, 11);
        assert_eq!(wr.get_ref().as_slice(), &b"hello world"[..]);
    }
}
