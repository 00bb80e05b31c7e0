//! Mirrors `std::hint`. `spin_loop` is a yield: inside an execution it is a scheduling point
//! that lets others run (and, in a loop re-reading values nobody changes, deschedules the
//! spinner until something changes; see the README, "Spinning and yielding").

use crate::rt::execution as rt;
use crate::trace::Op;
use std::panic::Location;

pub use std::hint::{black_box, unreachable_unchecked};

/// Like `std::hint::spin_loop`, and a yield to the scheduler inside a detest execution
/// (outside one it is the std hint).
#[track_caller]
pub fn spin_loop() {
    if !rt::in_execution() {
        return std::hint::spin_loop();
    }
    rt::after(
        "detest::hint::spin_loop",
        Op::Yield,
        None,
        "",
        Location::caller(),
        true,
    );
}
