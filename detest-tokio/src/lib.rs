//! tokio's API, on real tokio or on the detest executor.
//!
//! Rename the crate to `tokio` in Cargo.toml; builds get real tokio, test builds (which turn on
//! the `detest` feature of the dev-dependency) run the same code as detest executions:
//!
//! ```toml
//! [dependencies]
//! tokio = { package = "detest-tokio", version = "0.1", features = ["full"] }
//! [dev-dependencies]
//! tokio = { package = "detest-tokio", version = "0.1", features = ["full", "detest"] }
//! ```
//!
//! ```ignore
//! #[tokio::test] // one detest execution; DETEST_SEEDS / DETEST_POLICY / `cargo detest` sweep it
//! async fn counter() {
//!     let n = std::sync::Arc::new(tokio::sync::Mutex::new(0));
//!     let n2 = n.clone();
//!     let t = tokio::spawn(async move { *n2.lock().await += 1 });
//!     *n.lock().await += 1;
//!     t.await.unwrap();
//!     assert_eq!(*n.lock().await, 2);
//! }
//! ```
//!
//! Without `detest` this crate is `pub use tokio::*`: every item, macro and feature flag of
//! tokio, unchanged. With it, only what is modelled exists (see the README's "tokio" section):
//! an item that is not fails to compile rather than run real tokio inside an execution.

#[cfg(not(feature = "detest"))]
pub use real_tokio::*;

#[cfg(feature = "detest")]
mod sim;
#[cfg(feature = "detest")]
pub use sim::*;
