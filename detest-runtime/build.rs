//! Captures the compiler and target for the build fingerprint written into regression fixtures:
//! a fixture that stops reproducing after a toolchain change can then be told apart from one
//! whose bug was fixed. Also sets `detest_std_env` where std's environment is interposed (see
//! `src/env/mod.rs`): glibc Linux, dynamically linked, with the `std-env` feature.

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

    println!("cargo:rustc-check-cfg=cfg(detest_std_env)");
    let cfg = |name: &str| std::env::var(name).unwrap_or_default();
    let static_crt = cfg("CARGO_CFG_TARGET_FEATURE")
        .split(',')
        .any(|f| f == "crt-static");
    if cfg("CARGO_CFG_TARGET_OS") == "linux"
        && cfg("CARGO_CFG_TARGET_ENV") == "gnu"
        && !static_crt
        && std::env::var_os("CARGO_FEATURE_STD_ENV").is_some()
        && std::env::var_os("CARGO_FEATURE_MODEL").is_some()
    {
        println!("cargo:rustc-cfg=detest_std_env");
    }
}
