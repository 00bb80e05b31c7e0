//! `detest::lazy_static!`: shuttle's (and the `lazy_static` crate's) lazily initialised
//! statics, fresh in every execution.
//!
//! ```
//! use detest::sync::Mutex;
//!
//! detest::lazy_static! {
//!     static ref LOG: Mutex<Vec<u32>> = Mutex::new(Vec::new());
//! }
//!
//! detest::Config::new().seeds(20).policy(detest::Policy::Random).check(|| {
//!     let t = detest::thread::spawn(|| LOG.lock().unwrap().push(1));
//!     LOG.lock().unwrap().push(2);
//!     t.join().unwrap();
//!     // Every execution starts from an empty log: nothing leaks from the one before.
//!     assert_eq!(LOG.lock().unwrap().len(), 2);
//! });
//! ```
//!
//! Inside an execution, the value belongs to that execution: it is initialised on first
//! access (the first task to get there runs the initialiser; others that arrive meanwhile
//! yield until it is done) and dropped when the execution ends, so an execution on another
//! test thread never shares it. Outside any execution the static behaves like the
//! `lazy_static` crate's: one value for the process. A reference obtained inside an execution
//! must not be kept past its end.

use crate::rt::execution as rt;
use std::ops::Deref;
use std::sync::OnceLock;

/// The type behind a `detest::lazy_static!` item.
#[doc(hidden)]
pub struct Lazy<T: 'static> {
    init: fn() -> T,
    /// The value outside executions.
    outside: OnceLock<T>,
}

impl<T: 'static> Lazy<T> {
    #[doc(hidden)]
    pub const fn new(init: fn() -> T) -> Self {
        Lazy {
            init,
            outside: OnceLock::new(),
        }
    }
}

impl<T: Sync + 'static> Deref for Lazy<T> {
    type Target = T;
    fn deref(&self) -> &T {
        if !rt::in_execution() {
            return self.outside.get_or_init(self.init);
        }
        // SAFETY: the value lives until the execution ends (see the module docs).
        unsafe { &*rt::execution_static(self as *const Self as usize, self.init) }
    }
}

/// Declares statics initialised on first access, fresh in every execution (see the
/// [module docs](crate::lazy_static)). The same syntax as the `lazy_static` crate's.
#[macro_export]
macro_rules! lazy_static {
    ($(#[$attr:meta])* $vis:vis static ref $name:ident : $t:ty = $init:expr; $($rest:tt)*) => {
        $(#[$attr])*
        $vis static $name: $crate::lazy_static::Lazy<$t> = $crate::lazy_static::Lazy::new(|| $init);
        $crate::lazy_static!($($rest)*);
    };
    () => {};
}
