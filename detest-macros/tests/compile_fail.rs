//! Bad `#[detest]` arguments are compile errors that point at the argument, and what std rejects
//! at compile time detest rejects too (a guard moved to another thread). One trybuild run
//! covers every case: each run builds the runtime once more, which is slow on small machines.

#[test]
fn bad_arguments_are_compile_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
