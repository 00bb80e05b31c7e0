//! `tokio::runtime`: a runtime built inside an execution runs its futures on that execution
//! (there is only one executor; worker counts and flavors change nothing but are accepted).
//!
//! ```ignore
//! let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
//! assert_eq!(rt.block_on(async { 1 }), 1);
//! ```

use detest::future::JoinHandle;
use std::future::Future;
use std::io;

/// Configures a [`Runtime`]; every setting is accepted and none matters in detest mode.
#[derive(Debug, Default)]
pub struct Builder(());

impl Builder {
    pub fn new_current_thread() -> Builder {
        Builder(())
    }
    pub fn new_multi_thread() -> Builder {
        Builder(())
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
        Ok(Runtime(()))
    }
}

/// The execution, seen as a tokio runtime.
#[derive(Debug)]
pub struct Runtime(());

impl Runtime {
    pub fn new() -> io::Result<Runtime> {
        Ok(Runtime(()))
    }

    /// Runs `future` on the current task of the execution.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        detest::future::block_on(future)
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
        Handle(())
    }
}

/// A handle to the execution's runtime.
#[derive(Debug, Clone)]
pub struct Handle(());

impl Handle {
    pub fn current() -> Handle {
        Handle(())
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
        detest::future::block_on(future)
    }
}
