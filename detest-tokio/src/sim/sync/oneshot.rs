//! `tokio::sync::oneshot`: one value, sender to receiver. Dropping the sender unsent fails the
//! receiver (`RecvError`); dropping or closing the receiver makes `send` give the value back.
//!
//! ```ignore
//! let (tx, rx) = tokio::sync::oneshot::channel();
//! tokio::spawn(async move { tx.send(3).unwrap() });
//! assert_eq!(rx.await, Ok(3));
//! ```

use super::State;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

pub mod error {
    //! oneshot errors (tokio's names).
    use std::fmt;

    /// The sender was dropped without sending.
    #[derive(Debug, PartialEq, Eq, Clone, Copy)]
    pub struct RecvError(pub(super) ());

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("channel closed")
        }
    }

    impl std::error::Error for RecvError {}

    #[derive(Debug, PartialEq, Eq, Clone, Copy)]
    pub enum TryRecvError {
        Empty,
        Closed,
    }

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TryRecvError::Empty => f.write_str("channel empty"),
                TryRecvError::Closed => f.write_str("channel closed"),
            }
        }
    }

    impl std::error::Error for TryRecvError {}
}

use error::{RecvError, TryRecvError};

struct Inner<T> {
    state: State<OneState<T>>,
}

struct OneState<T> {
    value: Option<T>,
    /// The sender sent or was dropped.
    tx_done: bool,
    rx_closed: bool,
    rx_waker: Option<Waker>,
    tx_waker: Option<Waker>,
}

pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: State::new(OneState {
            value: None,
            tx_done: false,
            rx_closed: false,
            rx_waker: None,
            tx_waker: None,
        }),
    });
    (
        Sender {
            inner: Some(inner.clone()),
        },
        Receiver { inner, done: false },
    )
}

pub struct Sender<T> {
    inner: Option<Arc<Inner<T>>>,
}

impl<T> Sender<T> {
    /// Sends the value; gives it back if the receiver is gone or closed.
    #[track_caller]
    pub fn send(mut self, value: T) -> Result<(), T> {
        let inner = self.inner.take().expect("sender used once");
        inner.state.with(|s| {
            s.tx_done = true;
            if s.rx_closed {
                return Err(value);
            }
            s.value = Some(value);
            if let Some(waker) = s.rx_waker.take() {
                waker.wake();
            }
            Ok(())
        })
    }

    #[track_caller]
    pub fn is_closed(&self) -> bool {
        let inner = self.inner.as_ref().expect("sender used once");
        inner.state.with(|s| s.rx_closed)
    }

    /// Completes once the receiver is dropped or closed.
    pub async fn closed(&mut self) {
        std::future::poll_fn(|cx| self.poll_closed(cx)).await
    }

    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let inner = self.inner.as_ref().expect("sender used once");
        inner.state.with(|s| {
            if s.rx_closed {
                Poll::Ready(())
            } else {
                s.tx_waker = Some(cx.waker().clone());
                Poll::Pending
            }
        })
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let Some(inner) = self.inner.take() else {
            return;
        };
        inner.state.with(|s| {
            s.tx_done = true;
            if let Some(waker) = s.rx_waker.take() {
                waker.wake();
            }
        })
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

/// Awaits the value.
pub struct Receiver<T> {
    inner: Arc<Inner<T>>,
    /// It returned its value or its error: polling again is a bug, which tokio panics on.
    done: bool,
}

impl<T> Receiver<T> {
    /// Refuses the value from now on (a later `send` fails); a value sent already can still be
    /// received.
    #[track_caller]
    pub fn close(&mut self) {
        self.inner.state.with(|s| {
            s.rx_closed = true;
            if let Some(waker) = s.tx_waker.take() {
                waker.wake();
            }
        })
    }

    #[track_caller]
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let out = self.inner.state.with(|s| match s.value.take() {
            Some(v) => Ok(v),
            None if s.tx_done || s.rx_closed => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        });
        self.done |= !matches!(out, Err(TryRecvError::Empty));
        out
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        crate::task::coop::with_budget(cx, |cx| self.poll_recv(cx))
    }
}

impl<T> Receiver<T> {
    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        assert!(!self.done, "called after complete");
        let out = self.inner.state.with(|s| match s.value.take() {
            Some(v) => Poll::Ready(Ok(v)),
            None if s.tx_done || s.rx_closed => Poll::Ready(Err(RecvError(()))),
            None => {
                s.rx_waker = Some(cx.waker().clone());
                Poll::Pending
            }
        });
        self.done = out.is_ready();
        out
    }
}

impl<T> Unpin for Receiver<T> {}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let value = self.inner.state.with(|s| {
            s.rx_closed = true;
            if let Some(waker) = s.tx_waker.take() {
                waker.wake();
            }
            s.value.take()
        });
        drop(value);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}
