//! A panic inside an execution is part of the test's outcome, not something to print: thousands
//! of seeds would flood the terminal. The hook records where the task panicked and stays quiet;
//! panics outside executions go to the previous hook as usual.

use std::sync::Once;

pub(crate) fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !super::execution::note_panic_location(info.location(), info.payload()) {
                previous(info);
            }
        }));
    });
}
