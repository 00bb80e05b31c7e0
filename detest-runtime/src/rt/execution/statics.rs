//! Per-execution values of `detest::lazy_static!` statics (see `crate::lazy_static`).

use super::*;

/// One static's value in this execution.
pub(super) struct ExecutionStatic {
    key: usize,
    /// `None` while its initialiser runs.
    value: Option<Box<dyn Any>>,
}

/// The value of the static at address `key` in the running execution, initialised with
/// `init` on first access. The pointer is valid until the execution ends.
pub(crate) fn execution_static<T: 'static>(key: usize, init: fn() -> T) -> *const T {
    let what = "detest::lazy_static!";
    loop {
        {
            let mut st = state(what).borrow_mut();
            match st.statics.iter().find(|s| s.key == key) {
                Some(ExecutionStatic {
                    value: Some(value), ..
                }) => {
                    return value.downcast_ref::<T>().expect("lazy_static type") as *const T;
                }
                Some(_) => {}
                None => {
                    st.statics.push(ExecutionStatic { key, value: None });
                    break;
                }
            }
        }
        // Another task is initialising it (its initialiser reached a scheduling point).
        crate::thread::yield_now();
    }
    // Initialise without holding the borrow: the initialiser may use detest primitives.
    let value: Box<dyn Any> = Box::new(init());
    let ptr = value.downcast_ref::<T>().expect("lazy_static type") as *const T;
    let mut st = state(what).borrow_mut();
    if let Some(entry) = st.statics.iter_mut().find(|s| s.key == key) {
        entry.value = Some(value);
    }
    ptr
}
