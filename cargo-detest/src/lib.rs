//! `cargo detest`: build the test binaries, find the detest tests, sweep their seeds in isolated
//! worker processes, save and report every failing seed.
//!
//! The binary is a thin wrapper around [`main_with_args`]; each stage is a module working on
//! plain data: [`cli`] → [`build`] → [`discover`] → [`sweep`] (over [`worker`]) → [`output`].
//! The protocol spoken with test binaries is defined once, in the runtime: [`protocol`] is
//! [`detest::protocol`].

#[cfg(not(unix))]
compile_error!("cargo-detest supervises workers with Unix pipes, process groups and signals");

pub mod build;
pub mod cache;
pub mod check;
pub mod cli;
pub mod discover;
pub mod foreground;
pub mod list;
pub mod minimize;
pub mod model;
pub mod output;
pub mod plan;
pub mod proc;
pub use detest::protocol;
pub mod replay;
pub mod run;
pub mod signals;
pub mod sweep;
pub mod trace;
pub mod verdict;
pub mod worker;

use clap::Parser;
use std::ffi::OsString;

/// Exit codes, after nextest's.
pub mod exit {
    pub const OK: i32 = 0;
    /// Bad usage (clap's own code).
    pub const USAGE: i32 = 2;
    /// No test matched the filters.
    pub const NO_TESTS: i32 = 4;
    /// Some test failed.
    pub const TEST_FAILED: i32 = 100;
    /// Cargo could not build, or something else went wrong before tests ran.
    pub const SETUP: i32 = 101;
    /// Stopped by SIGINT/SIGTERM.
    pub const INTERRUPTED: i32 = 130;
}

/// Parses `args` (as from `std::env::args_os`, program name first) and runs the command.
pub fn main_with_args(args: Vec<OsString>) -> i32 {
    let cli = match cli::Cli::try_parse_from(args).and_then(|c| {
        cli::check_seed_range(&c)?;
        Ok(c)
    }) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    let result = match cli.command {
        None => run::run(cli.run),
        Some(cli::Command::Replay(r)) => replay::replay(r),
        Some(cli::Command::List(l)) => list::list(l),
        Some(cli::Command::Minimize(m)) => minimize::minimize(m),
        Some(cli::Command::CheckDeterminism(c)) => check::check(c),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            if let Some(b) = e.downcast_ref::<build::BuildFailed>() {
                // Cargo has printed its errors; add nothing.
                return b.code;
            }
            let code = match e.downcast_ref::<Refused>() {
                Some(Refused::Usage(_)) => exit::USAGE,
                Some(Refused::NoTests(_)) => exit::NO_TESTS,
                None => exit::SETUP,
            };
            let red = console::Style::new().red().bold().for_stderr();
            eprintln!("{} {e:#}", red.apply_to("error:"));
            code
        }
    }
}

/// A command refused for what the user asked, rather than failing to run: its exit code is
/// that of a usage error (2) or of filters that match no test (4), as for clap and nextest.
#[derive(Debug)]
pub enum Refused {
    Usage(String),
    NoTests(String),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Usage(m) | Refused::NoTests(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Refused {}

/// Applies `--color` to everything printed on stderr.
pub fn set_color(c: cli::Color) {
    match c {
        cli::Color::Auto => {}
        cli::Color::Always => console::set_colors_enabled_stderr(true),
        cli::Color::Never => console::set_colors_enabled_stderr(false),
    }
}

/// `--jobs`, defaulting to the number of CPUs.
pub fn jobs(j: Option<u64>) -> usize {
    j.map(|j| j as usize).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    })
}
