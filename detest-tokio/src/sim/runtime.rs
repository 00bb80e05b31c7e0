//! `tokio::runtime`: a runtime built inside an execution runs its futures on that execution
//! (there is only one executor; worker counts change nothing but are accepted). The flavor is
//! kept for what it decides in tokio besides scheduling: `task::block_in_place` panics on a
//! current-thread runtime.
//!
//! ```ignore
//! let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
//! assert_eq!(rt.block_on(async { 1 }), 1);
//! ```

use detest::future::JoinHandle;
use std::cell::Cell;
use std::future::Future;
use std::io;

/// The kind of runtime (tokio's `RuntimeFlavor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuntimeFlavor {
    CurrentThread,
    MultiThread,
}

std::thread_local! {
    /// The flavor of the runtime whose `block_on` is running. A std thread-local, not a
    /// detest one, on purpose: every task of an execution runs on its one OS thread, and all
    /// of them are on that runtime (tokio's tasks are on the runtime they were spawned on).
    static FLAVOR: Cell<Option<RuntimeFlavor>> = const { Cell::new(None) };
}

/// The flavor of the runtime the caller runs on, if any.
pub(crate) fn current_flavor() -> Option<RuntimeFlavor> {
    FLAVOR.with(Cell::get)
}

/// Runs `future` to completion as on a runtime of `flavor` (also `#[tokio::test]`'s and
/// `#[tokio::main]`'s body).
#[track_caller]
pub(crate) fn block_on_in<F: Future>(flavor: RuntimeFlavor, future: F) -> F::Output {
    struct Restore(Option<RuntimeFlavor>);
    impl Drop for Restore {
        fn drop(&mut self) {
            FLAVOR.with(|f| f.set(self.0));
        }
    }
    let _restore = Restore(FLAVOR.with(|f| f.replace(Some(flavor))));
    detest::future::block_on(future)
}

/// Configures a [`Runtime`]; only the flavor matters in detest mode (see the module docs).
#[derive(Debug)]
pub struct Builder {
    flavor: RuntimeFlavor,
}

impl Builder {
    pub fn new_current_thread() -> Builder {
        Builder {
            flavor: RuntimeFlavor::CurrentThread,
        }
    }
    pub fn new_multi_thread() -> Builder {
        Builder {
            flavor: RuntimeFlavor::MultiThread,
        }
    }
    pub fn enable_all(&mut self) -> &mut Self {
        self
    }
    pub fn enable_time(&mut self) -> &mut Self {
        self
    }
    pub fn enable_io(&mut self) -> &mut Self {
        self
    }
    pub fn worker_threads(&mut self, _: usize) -> &mut Self {
        self
    }
    pub fn start_paused(&mut self, _: bool) -> &mut Self {
        self
    }
    pub fn build(&mut self) -> io::Result<Runtime> {
        Ok(Runtime {
            flavor: self.flavor,
        })
    }
}

/// The execution, seen as a tokio runtime.
#[derive(Debug)]
pub struct Runtime {
    flavor: RuntimeFlavor,
}

impl Runtime {
    /// A multi-thread runtime, as tokio's `Runtime::new`.
    pub fn new() -> io::Result<Runtime> {
        Ok(Runtime {
            flavor: RuntimeFlavor::MultiThread,
        })
    }

    /// Runs `future` on the current task of the execution.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        block_on_in(self.flavor, future)
    }

    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        detest::future::spawn(future)
    }

    pub fn handle(&self) -> Handle {
        Handle {
            flavor: self.flavor,
        }
    }
}

/// A handle to the execution's runtime.
#[derive(Debug, Clone)]
pub struct Handle {
    flavor: RuntimeFlavor,
}

impl Handle {
    /// The runtime the caller runs on (a multi-thread one when it is on none: detest mode has
    /// no "no runtime" error, every task runs on the execution).
    pub fn current() -> Handle {
        Handle {
            flavor: current_flavor().unwrap_or(RuntimeFlavor::MultiThread),
        }
    }

    pub fn runtime_flavor(&self) -> RuntimeFlavor {
        self.flavor
    }

    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        detest::future::spawn(future)
    }

    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        block_on_in(self.flavor, future)
    }
}
