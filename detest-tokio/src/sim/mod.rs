//! detest mode: tokio's names and signatures on the detest executor. Every task is a detest
//! task, every operation on a shared object (lock, channel, semaphore, notify, abort) is a
//! scheduling point, and time is the execution's virtual clock.

#[macro_use]
mod macros;
pub mod io;
pub mod net;
pub mod runtime;
pub mod sync;
pub mod task;
pub mod time;

pub use detest_tokio_macros::{main, test};
pub use task::spawn;

/// Used by the expansions of this crate's macros; not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::runtime::RuntimeFlavor;
    pub use detest;
    pub use detest::__private::{announce_at_load, run_test, TestReturn, TestSpec};

    /// `#[tokio::test]`'s and `#[tokio::main]`'s body, on a runtime of `flavor`.
    #[track_caller]
    pub fn block_on_in<F: Future>(flavor: RuntimeFlavor, future: F) -> F::Output {
        crate::runtime::block_on_in(flavor, future)
    }
    pub use detest::{Config, Policy};
    pub use std::future::{poll_fn, Future};
    pub use std::pin::{pin, Pin};
    pub use std::task::Poll;

    /// `Pending` (the task woken) when the coop budget is spent (tokio's `select!` check).
    pub fn poll_budget_available(cx: &mut std::task::Context<'_>) -> Poll<()> {
        if crate::task::coop::has_budget_remaining() {
            Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    /// The branch a `select!` polls first: tokio draws it at random on every poll so that no
    /// branch starves; here the draw is a recorded decision of the execution, so a failure
    /// that depends on it replays.
    #[track_caller]
    pub fn select_start(branches: usize) -> usize {
        if branches <= 1 {
            0
        } else {
            detest::rand::range(0..branches)
        }
    }

    /// The order in which a `select!` or `join!` of `n` branches polls them, from `start`
    /// (a function, not inline arithmetic: `% 1` and `0..0` in the expansion would draw
    /// clippy's lints in user code).
    pub fn poll_order(start: usize, n: usize) -> impl Iterator<Item = usize> {
        (0..n).map(move |i| (start + i) % n)
    }

    /// `#[tokio::test]`'s configuration: one seed, round-robin, as a bare `#[detest]` (the
    /// `DETEST_*` environment overrides it at run time, in `run_test`).
    #[allow(clippy::too_many_arguments)]
    pub const fn test_spec(
        name: &'static str,
        module_path: &'static str,
        file: &'static str,
        manifest_dir: Option<&'static str>,
        package: Option<&'static str>,
        crate_name: Option<&'static str>,
        target_tmpdir: Option<&'static str>,
        bin_name: Option<&'static str>,
    ) -> TestSpec {
        TestSpec {
            name,
            module_path,
            file,
            manifest_dir,
            package,
            crate_name,
            target_tmpdir,
            bin_name,
            seed_start: 0,
            seeds: 1,
            exact_seed: false,
            policy: Policy::RoundRobin,
            expect: detest::__private::Expect::Pass,
            expect_message: None,
            max_steps: None,
            timeout_ms: None,
            stack_size: None,
            shrink: true,
            shrink_executions: None,
            shrink_time_ms: None,
            spurious_wakeups: true,
            memory_model_sc: false,
        }
    }

    /// `#[tokio::main]`: the program runs as one detest execution (seed 0), failing loudly.
    pub fn run_main<F: Fn()>(body: F) {
        detest::check(body)
    }
}
