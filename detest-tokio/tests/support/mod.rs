//! A stand-in for the `tokio-test` crate (whose `task::spawn` mock and `assert_*!` macros
//! tokio's own tests use), for the ported tests: the mock task polls a future by hand with a
//! waker that counts wake-ups, inside the detest execution the test runs in.

#![allow(dead_code, unused_macros, unused_imports)]

pub mod tokio_test {
    pub mod task {
        use std::future::Future;
        use std::pin::Pin;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        use std::task::{Context, Poll, Wake, Waker};

        struct Counter(AtomicUsize);

        impl Wake for Counter {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
            fn wake_by_ref(self: &Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }

        /// A future polled by hand (tokio-test's `Spawn`).
        pub struct Spawn<F> {
            future: Pin<Box<F>>,
            counter: Arc<Counter>,
            waker: Waker,
        }

        pub fn spawn<F>(future: F) -> Spawn<F> {
            let counter = Arc::new(Counter(AtomicUsize::new(0)));
            Spawn {
                future: Box::pin(future),
                waker: Waker::from(counter.clone()),
                counter,
            }
        }

        impl<F> Spawn<F> {
            /// Whether the future was woken since the last poll (clears the count).
            pub fn is_woken(&self) -> bool {
                self.counter.0.load(Ordering::SeqCst) > 0
            }

            pub fn waker_ref_count(&self) -> usize {
                Arc::strong_count(&self.counter) - 1
            }

            pub fn enter<R>(&mut self, f: impl FnOnce(&mut Context<'_>, Pin<&mut F>) -> R) -> R {
                self.counter.0.store(0, Ordering::SeqCst);
                let mut cx = Context::from_waker(&self.waker);
                f(&mut cx, self.future.as_mut())
            }
        }

        impl<F: Unpin> Spawn<F> {
            pub fn into_inner(self) -> F {
                *Pin::into_inner(self.future)
            }
        }

        impl<F> std::ops::Deref for Spawn<F> {
            type Target = F;
            fn deref(&self) -> &F {
                &self.future
            }
        }

        impl<F: Unpin> std::ops::DerefMut for Spawn<F> {
            fn deref_mut(&mut self) -> &mut F {
                &mut self.future
            }
        }

        impl<F: Future> Spawn<F> {
            pub fn poll(&mut self) -> Poll<F::Output> {
                self.enter(|cx, f| f.poll(cx))
            }
        }
    }

    macro_rules! assert_ready {
        ($e:expr) => {
            match $e {
                std::task::Poll::Ready(v) => v,
                std::task::Poll::Pending => panic!("pending"),
            }
        };
    }
    macro_rules! assert_pending {
        ($e:expr) => {
            match $e {
                std::task::Poll::Pending => {}
                std::task::Poll::Ready(_) => panic!("ready; expected pending"),
            }
        };
    }
    macro_rules! assert_ok {
        ($e:expr) => {
            match $e {
                Ok(v) => v,
                Err(e) => panic!("assertion failed: Err({:?})", e),
            }
        };
    }
    macro_rules! assert_err {
        ($e:expr) => {
            match $e {
                Ok(_) => panic!("assertion failed: expected Err"),
                Err(e) => e,
            }
        };
    }
    macro_rules! assert_ready_ok {
        ($e:expr) => {
            assert_ok!(assert_ready!($e))
        };
    }
    macro_rules! assert_ready_err {
        ($e:expr) => {
            assert_err!(assert_ready!($e))
        };
    }
    /// tokio-test's: `elapsed` within [dur, dur + 1ms] (exact here: the clock is virtual).
    macro_rules! assert_elapsed {
        ($now:expr, $dur:expr) => {{
            let elapsed = $now.elapsed();
            let lower: std::time::Duration = $dur;
            assert!(
                elapsed >= lower && elapsed <= lower + std::time::Duration::from_millis(1),
                "actual = {:?}, expected = {:?}",
                elapsed,
                lower
            );
        }};
    }

    pub use task::spawn;
    /// futures' `poll!`: one poll of a future, inside an async block.
    macro_rules! poll {
        ($e:expr) => {{
            let mut f = $e;
            std::future::poll_fn(|cx| {
                std::task::Poll::Ready(std::future::Future::poll(std::pin::Pin::new(&mut f), cx))
            })
            .await
        }};
    }

    pub(crate) use poll;
    pub(crate) use {
        assert_elapsed, assert_err, assert_ok, assert_pending, assert_ready, assert_ready_err,
        assert_ready_ok,
    };
}

/// Runs `body` as one detest execution (for tests that must panic: a `#[tokio::test]` failure
/// would be saved as a regression fixture).
pub fn run(body: impl Fn()) {
    detest::check(body)
}
