//! Building the test binaries with cargo and reading which executables it produced.

use crate::cli::BuildArgs;
use crate::model::TestBinary;
use anyhow::{bail, Context, Result};
use cargo_metadata::{Artifact, Message};
use std::io::BufReader;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// `cargo test --no-run` flags for this selection.
pub fn cargo_args(b: &BuildArgs) -> Vec<String> {
    let mut args: Vec<String> = vec![
        "test".into(),
        "--no-run".into(),
        "--message-format=json-render-diagnostics".into(),
    ];
    let mut push_all = |flag: &str, values: &[String]| {
        for v in values {
            args.push(flag.to_string());
            args.push(v.clone());
        }
    };
    push_all("--package", &b.package);
    push_all("--exclude", &b.exclude);
    push_all("--bin", &b.bin);
    push_all("--test", &b.test);
    push_all("--example", &b.example);
    push_all("--bench", &b.bench);
    push_all("--features", &b.features);
    push_all("--target", &b.target);
    let flags = [
        ("--workspace", b.workspace),
        ("--lib", b.lib),
        ("--bins", b.bins),
        ("--tests", b.tests),
        ("--examples", b.examples),
        ("--benches", b.benches),
        ("--all-features", b.all_features),
        ("--no-default-features", b.no_default_features),
        ("--release", b.release),
        ("--locked", b.locked),
        ("--offline", b.offline),
        ("--frozen", b.frozen),
    ];
    for (flag, on) in flags {
        if on {
            args.push(flag.into());
        }
    }
    for (flag, value) in [
        ("--profile", &b.cargo_profile),
        ("--target-dir", &b.target_dir),
        ("--manifest-path", &b.manifest_path),
    ] {
        if let Some(v) = value {
            args.push(flag.into());
            args.push(v.clone());
        }
    }
    args
}

/// Why building failed. Cargo has already printed its errors; this only carries the exit code.
#[derive(Debug)]
pub struct BuildFailed {
    pub code: i32,
}

impl std::fmt::Display for BuildFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "cargo failed to build the tests (exit code {})",
            self.code
        )
    }
}

impl std::error::Error for BuildFailed {}

/// Runs cargo, with its diagnostics going straight to our stderr, and returns the test binaries.
pub fn build(b: &BuildArgs) -> Result<Vec<TestBinary>> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut child = Command::new(&cargo)
        .args(cargo_args(b))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("could not run {}", cargo.to_string_lossy()))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut binaries = Vec::new();
    for message in Message::parse_stream(BufReader::new(stdout)) {
        match message.context("reading cargo's JSON messages")? {
            Message::CompilerArtifact(a) => {
                if let Some(bin) = test_binary(&a) {
                    binaries.push(bin);
                }
            }
            // With json-render-diagnostics cargo prints these itself; anything else passes.
            Message::TextLine(line) => eprintln!("{line}"),
            _ => {}
        }
    }
    let status = child.wait().context("waiting for cargo")?;
    if !status.success() {
        return Err(BuildFailed {
            code: status.code().unwrap_or(101),
        }
        .into());
    }
    if binaries.is_empty() {
        bail!("cargo built no test binaries for this selection");
    }
    binaries.sort_by(|a, b| a.id.cmp(&b.id));
    binaries.dedup_by(|a, b| a.path == b.path);
    Ok(binaries)
}

/// A test binary is an artifact built with the test profile that has an executable.
pub fn test_binary(a: &Artifact) -> Option<TestBinary> {
    if !a.profile.test {
        return None;
    }
    let path: PathBuf = a.executable.as_ref()?.clone().into();
    let kind = a
        .target
        .kind
        .first()
        .map(|k| k.to_string())
        .unwrap_or_else(|| "lib".into());
    let kind = match kind.as_str() {
        "rlib" | "dylib" | "cdylib" | "staticlib" => "lib".to_string(),
        k => k.to_string(),
    };
    let package_root: PathBuf = a
        .manifest_path
        .parent()
        .map(|p| p.as_std_path().to_owned())
        .unwrap_or_else(|| PathBuf::from("."));
    let package = package_name(&a.package_id.repr).unwrap_or_else(|| dir_name(&package_root));
    Some(TestBinary::new(
        &package,
        &a.target.name,
        &kind,
        path,
        package_root,
    ))
}

/// The package name in a package id, in either of cargo's formats:
/// `name 0.1.0 (path+file:///...)` or a package id spec `path+file:///dir#name@0.1.0` (where the
/// name is left out when it equals the folder's: `path+file:///dir/name#0.1.0`).
pub fn package_name(repr: &str) -> Option<String> {
    if let Some((name, _)) = repr.split_once(' ') {
        return Some(name.to_string());
    }
    let (url, fragment) = repr.split_once('#')?;
    if let Some((name, _)) = fragment.split_once('@') {
        return Some(name.to_string());
    }
    let url = url.split('?').next().unwrap_or(url);
    url.trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn dir_name(p: &std::path::Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_ids() {
        assert_eq!(
            package_name("path+file:///w/main/cargo-detest#0.1.0").as_deref(),
            Some("cargo-detest")
        );
        assert_eq!(
            package_name("path+file:///w/main/runtime#detest-runtime@0.1.0").as_deref(),
            Some("detest-runtime")
        );
        assert_eq!(
            package_name("demo 0.1.0 (path+file:///w/demo)").as_deref(),
            Some("demo")
        );
        assert_eq!(
            package_name("registry+https://github.com/rust-lang/crates.io-index#serde@1.0.0")
                .as_deref(),
            Some("serde")
        );
    }

    #[test]
    fn forwards_selection_flags() {
        let b = BuildArgs {
            package: vec!["a".into()],
            test: vec!["it".into()],
            release: true,
            features: vec!["x y".into()],
            manifest_path: Some("m/Cargo.toml".into()),
            ..BuildArgs::default()
        };
        let args = cargo_args(&b).join(" ");
        assert!(args.starts_with("test --no-run --message-format=json-render-diagnostics"));
        for part in [
            "--package a",
            "--test it",
            "--release",
            "--features x y",
            "--manifest-path m/Cargo.toml",
        ] {
            assert!(args.contains(part), "{args}");
        }
        let b = BuildArgs {
            example: vec!["ex".into()],
            bench: vec!["b".into()],
            benches: true,
            examples: true,
            ..BuildArgs::default()
        };
        let args = cargo_args(&b).join(" ");
        for part in ["--example ex", "--bench b", "--benches", "--examples"] {
            assert!(args.contains(part), "{args}");
        }
    }

    #[test]
    fn examples_and_benches_are_selected_by_their_own_flags() {
        let json = r#"{"reason":"compiler-artifact","package_id":"path+file:///w/pd#0.1.0","manifest_path":"/w/pd/Cargo.toml","target":{"kind":["KIND"],"crate_types":["bin"],"name":"ex","src_path":"/w/pd/DIR/ex.rs","edition":"2021","doc":false,"doctest":false,"test":true},"profile":{"opt_level":"0","debuginfo":2,"debug_assertions":true,"overflow_checks":true,"test":true},"features":[],"filenames":["/w/t/debug/deps/ex-abc"],"executable":"/w/t/debug/deps/ex-abc","fresh":true}"#;
        for (kind, dir) in [
            ("example", "examples"),
            ("bench", "benches"),
            ("bin", "src/bin"),
        ] {
            let json = json.replace("KIND", kind).replace("DIR", dir);
            let a: Artifact = serde_json::from_str(&json).unwrap();
            let bin = test_binary(&a).unwrap();
            assert_eq!(bin.kind, kind);
            assert_eq!(bin.id, format!("pd::{kind}/ex"));
            assert_eq!(
                bin.target_flags(),
                vec![format!("--{kind}"), "ex".to_owned()]
            );
        }
    }

    #[test]
    fn artifacts() {
        let json = r#"{"reason":"compiler-artifact","package_id":"path+file:///w/demo#0.1.0","manifest_path":"/w/demo/Cargo.toml","target":{"kind":["test"],"crate_types":["bin"],"name":"races","src_path":"/w/demo/tests/races.rs","edition":"2021","doc":false,"doctest":false,"test":true},"profile":{"opt_level":"0","debuginfo":2,"debug_assertions":true,"overflow_checks":true,"test":true},"features":[],"filenames":["/w/t/debug/deps/races-abc"],"executable":"/w/t/debug/deps/races-abc","fresh":true}"#;
        let a: Artifact = serde_json::from_str(json).unwrap();
        let bin = test_binary(&a).unwrap();
        assert_eq!(bin.id, "demo::races");
        assert_eq!(bin.package_root, PathBuf::from("/w/demo"));
        assert_eq!(bin.path, PathBuf::from("/w/t/debug/deps/races-abc"));
        let not_test = json.replace(r#""test":true},"features""#, r#""test":false},"features""#);
        let a: Artifact = serde_json::from_str(&not_test).unwrap();
        assert!(test_binary(&a).is_none());
    }
}
