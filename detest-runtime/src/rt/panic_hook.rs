//! A panic inside an execution is part of the test's outcome, not something to print: thousands
//! of seeds would flood the terminal. The hook records where the task panicked and stays quiet;
//! panics outside executions go to the previous hook as usual. A panic that will abort the
//! process (a destructor panicking during unwinding) is the exception: its failure is printed
//! at once, since nothing runs after the hook.

use std::sync::Once;

pub(crate) fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // Only `PanicHookInfo`'s Debug output says whether the panic can unwind (the
            // accessor is unstable); a non-unwinding one inside an execution is about to abort
            // the process. Its payload is a static str, which filters the formatting out of
            // ordinary panics.
            let nounwind = info.payload().downcast_ref::<&str>().is_some()
                && super::execution::in_execution()
                && format!("{info:?}").contains("can_unwind: false");
            if !super::execution::note_panic_location(info.location(), info.payload(), nounwind) {
                previous(info);
            }
        }));
    });
}
