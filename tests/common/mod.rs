//! What the end-to-end tests share: running a command on a fixture crate as a user would.

use std::process::Command;

/// `program` without this process's `DETEST_*` settings or what cargo set for this test
/// binary: those must not leak into the fixture crate's build (rustc would see
/// CARGO_TARGET_TMPDIR, CARGO_PKG_NAME, ... through `option_env!`) or its runs.
pub fn clean(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(program);
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        let from_outer_cargo = [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
            "CARGO_TARGET_",
            "CARGO_PRIMARY_PACKAGE",
            "CARGO_RUSTC_CURRENT_DIR",
            "OUT_DIR",
        ]
        .iter()
        .any(|p| key.starts_with(p));
        if key.starts_with("DETEST_") || from_outer_cargo || key.ends_with("MAKEFLAGS") {
            cmd.env_remove(&key);
        }
    }
    cmd
}
