//! Synchronisation primitives mirroring `std::sync`, each operation a scheduling point.
//!
//! `use detest::sync::{Arc, Mutex}` in place of `std::sync`'s is a drop-in change.
//!
//! ```
//! use detest::sync::{Arc, Mutex};
//! detest::Config::new().seeds(50).policy(detest::Policy::Random).check(|| {
//!     let total = Arc::new(Mutex::new(0));
//!     let handles: Vec<_> = (0..3)
//!         .map(|_| {
//!             let total = total.clone();
//!             detest::thread::spawn(move || *total.lock().unwrap() += 1)
//!         })
//!         .collect();
//!     for h in handles {
//!         h.join().unwrap();
//!     }
//!     assert_eq!(*total.lock().unwrap(), 3);
//! });
//! ```

pub mod atomic;
mod barrier;
mod condvar;
mod lazy_lock;
pub mod mpsc;
mod mutex;
mod once;
mod once_lock;
mod rwlock;
mod section;

pub use barrier::{Barrier, BarrierWaitResult};
pub use condvar::{Condvar, WaitTimeoutResult};
pub use lazy_lock::LazyLock;
pub use mutex::{Mutex, MutexGuard};
pub use once::{Once, OnceState};
pub use once_lock::OnceLock;
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
#[doc(hidden)]
pub use section::Section;
pub use std::sync::{Arc, LockResult, PoisonError, TryLockError, TryLockResult, Weak};
