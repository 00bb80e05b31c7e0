//! Captures the compiler and target for the build fingerprint written into regression fixtures:
//! a fixture that stops reproducing after a toolchain change can then be told apart from one
//! whose bug was fixed.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=RUSTC");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(&rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().trim_start_matches("rustc ").to_owned())
        .unwrap_or_else(|| "unknown".into());
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=DETEST_BUILD_RUSTC={version}");
    println!("cargo:rustc-env=DETEST_BUILD_TARGET={target}");
}
