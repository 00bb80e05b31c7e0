//! The in-memory pipes: a [`SimplexStream`] is one byte queue of bounded size, a
//! [`DuplexStream`] a pair of them (one per direction). tokio's semantics: a read takes what
//! is queued (up to the buffer) or waits; a write queues what fits or waits while the pipe is
//! full; after the writer's shutdown or drop a read returns 0 bytes once the queue is empty,
//! and after the reader's drop a write fails with `BrokenPipe`.
//!
//! ```ignore
//! let (a, b) = tokio::io::duplex(2);
//! // `a.write_all(b"ping")` blocks after "pi" until `b` reads.
//! ```

use crate::sim::sync::State;
use real_tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use std::collections::VecDeque;
use std::fmt;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

struct Pipe {
    buffer: VecDeque<u8>,
    max_buf_size: usize,
    /// The writer shut down or either end went away.
    closed: bool,
    read_waker: Option<Waker>,
    write_waker: Option<Waker>,
}

/// What an operation leaves to do once the pipe's lock is released: a waker to wake and a
/// replaced one to drop (either may use the pipe, as tokio's tests check).
#[derive(Default)]
struct Wakers {
    wake: Option<Waker>,
    replaced: Option<Waker>,
}

impl Wakers {
    fn finish(self) {
        drop(self.replaced);
        if let Some(w) = self.wake {
            w.wake();
        }
    }
}

impl Pipe {
    fn new(max_buf_size: usize) -> Pipe {
        Pipe {
            buffer: VecDeque::new(),
            max_buf_size,
            closed: false,
            read_waker: None,
            write_waker: None,
        }
    }

    fn close_write(&mut self) -> Option<Waker> {
        self.closed = true;
        self.read_waker.take()
    }

    fn close_read(&mut self) -> Option<Waker> {
        self.closed = true;
        self.write_waker.take()
    }

    fn read(&mut self, cx: &Context<'_>, buf: &mut ReadBuf<'_>, w: &mut Wakers) -> Poll<()> {
        if buf.remaining() == 0 {
            return Poll::Ready(());
        }
        if !self.buffer.is_empty() {
            let n = self.buffer.len().min(buf.remaining());
            let (front, back) = self.buffer.as_slices();
            let from_front = n.min(front.len());
            buf.put_slice(&front[..from_front]);
            buf.put_slice(&back[..n - from_front]);
            self.buffer.drain(..n);
            w.wake = self.write_waker.take();
            Poll::Ready(())
        } else if self.closed {
            Poll::Ready(())
        } else {
            w.replaced = self.read_waker.replace(cx.waker().clone());
            Poll::Pending
        }
    }

    fn write(
        &mut self,
        cx: &Context<'_>,
        bufs: &[&[u8]],
        w: &mut Wakers,
    ) -> Poll<io::Result<usize>> {
        if self.closed {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        if bufs.iter().all(|b| b.is_empty()) {
            return Poll::Ready(Ok(0));
        }
        let avail = self.max_buf_size - self.buffer.len();
        if avail == 0 {
            w.replaced = self.write_waker.replace(cx.waker().clone());
            return Poll::Pending;
        }
        let mut written = 0;
        for b in bufs {
            let n = b.len().min(avail - written);
            self.buffer.extend(&b[..n]);
            written += n;
            if written == avail {
                break;
            }
        }
        w.wake = self.read_waker.take();
        Poll::Ready(Ok(written))
    }
}

/// Runs `f` on a shared pipe (one scheduling point), then wakes/drops wakers unlocked.
#[track_caller]
fn with<R>(pipe: &State<Pipe>, f: impl FnOnce(&mut Pipe, &mut Wakers) -> R) -> R {
    let mut wakers = Wakers::default();
    let r = pipe.with(|p| f(p, &mut wakers));
    wakers.finish();
    r
}

fn slices<'a>(bufs: &'a [IoSlice<'_>]) -> impl Iterator<Item = &'a [u8]> {
    bufs.iter().map(|b| &**b)
}

/// One end of a [`duplex`] pipe: reads what the other end writes and the other way round.
pub struct DuplexStream {
    read: Arc<State<Pipe>>,
    write: Arc<State<Pipe>>,
}

/// Two connected ends, each direction buffering up to `max_buf_size` bytes.
#[track_caller]
pub fn duplex(max_buf_size: usize) -> (DuplexStream, DuplexStream) {
    let one = Arc::new(State::new(Pipe::new(max_buf_size)));
    let two = Arc::new(State::new(Pipe::new(max_buf_size)));
    (
        DuplexStream {
            read: one.clone(),
            write: two.clone(),
        },
        DuplexStream {
            read: two,
            write: one,
        },
    )
}

impl AsyncRead for DuplexStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // A read is a tokio resource: it spends the task's coop budget (see `task::coop`).
        crate::task::coop::with_budget(cx, |cx| with(&self.read, |p, w| p.read(cx, buf, w)).map(Ok))
    }
}

impl AsyncWrite for DuplexStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        crate::task::coop::with_budget(cx, |cx| with(&self.write, |p, w| p.write(cx, &[buf], w)))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let bufs: Vec<&[u8]> = slices(bufs).collect();
        with(&self.write, |p, w| p.write(cx, &bufs, w))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        with(&self.write, |p, w| w.wake = p.close_write());
        Poll::Ready(Ok(()))
    }
}

impl Drop for DuplexStream {
    fn drop(&mut self) {
        // The peer reads EOF and its writes fail.
        with(&self.write, |p, w| w.wake = p.close_write());
        with(&self.read, |p, w| w.wake = p.close_read());
    }
}

impl fmt::Debug for DuplexStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DuplexStream").finish_non_exhaustive()
    }
}

/// A one-way pipe: what is written is read back, up to `max_buf_size` bytes buffered. Owned
/// by one task; [`simplex`] splits it so that a reader and a writer can share it.
pub struct SimplexStream {
    pipe: Pipe,
}

/// A one-way pipe, split into its reading and its writing half.
#[track_caller]
pub fn simplex(
    max_buf_size: usize,
) -> (
    super::ReadHalf<SimplexStream>,
    super::WriteHalf<SimplexStream>,
) {
    super::split(SimplexStream::new_unsplit(max_buf_size))
}

impl SimplexStream {
    pub fn new_unsplit(max_buf_size: usize) -> SimplexStream {
        SimplexStream {
            pipe: Pipe::new(max_buf_size),
        }
    }
}

impl AsyncRead for SimplexStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let pipe = &mut self.get_mut().pipe;
        crate::task::coop::with_budget(cx, |cx| {
            let mut wakers = Wakers::default();
            let r = pipe.read(cx, buf, &mut wakers);
            wakers.finish();
            r.map(Ok)
        })
    }
}

impl AsyncWrite for SimplexStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let pipe = &mut self.get_mut().pipe;
        crate::task::coop::with_budget(cx, |cx| {
            let mut wakers = Wakers::default();
            let r = pipe.write(cx, &[buf], &mut wakers);
            wakers.finish();
            r
        })
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let bufs: Vec<&[u8]> = slices(bufs).collect();
        let mut wakers = Wakers::default();
        let r = self.get_mut().pipe.write(cx, &bufs, &mut wakers);
        wakers.finish();
        r
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(w) = self.get_mut().pipe.close_write() {
            w.wake();
        }
        Poll::Ready(Ok(()))
    }
}

impl fmt::Debug for SimplexStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimplexStream")
            .field("buffered", &self.pipe.buffer.len())
            .field("max_buf_size", &self.pipe.max_buf_size)
            .field("closed", &self.pipe.closed)
            .finish()
    }
}
