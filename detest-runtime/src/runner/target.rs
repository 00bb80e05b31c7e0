//! Who the test is: its libtest name, package and cargo target, where its fixtures live, and the
//! commands that rerun it.

use super::TestSpec;
use crate::fixture;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TargetKind {
    Lib,
    /// An integration test (`tests/*.rs`).
    Test,
    Bin,
    /// An example (`examples/*.rs`), run by `cargo test --example NAME`.
    Example,
    /// A benchmark target (`benches/*.rs`), run by `cargo test --bench NAME`.
    Bench,
}

impl TargetKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            TargetKind::Lib => "lib",
            TargetKind::Test => "test",
            TargetKind::Bin => "bin",
            TargetKind::Example => "example",
            TargetKind::Bench => "bench",
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct TestInfo {
    /// The name libtest knows it by: module path without the crate, then the function.
    pub name: String,
    pub package: String,
    /// The cargo target name (`--test NAME`, `--bin NAME`, or the lib's name).
    pub target: String,
    pub kind: TargetKind,
    pub fixture_path: PathBuf,
    /// Where its fixtures were before paths were keyed by target kind (not read; warned about).
    pub legacy_fixture_path: Option<PathBuf>,
}

impl TestInfo {
    pub(crate) fn new(spec: &TestSpec, regressions_dir: Option<&Path>) -> TestInfo {
        let name = match spec.module_path.split_once("::") {
            Some((_, rest)) => format!("{rest}::{}", spec.name),
            None => spec.name.to_owned(),
        };
        let crate_name = spec
            .crate_name
            .or_else(|| spec.module_path.split("::").next())
            .unwrap_or("unknown");
        // What cargo tells each target kind apart by: CARGO_BIN_NAME is set for bins and for
        // examples alike, CARGO_TARGET_TMPDIR for integration tests and benches alike (and rustc
        // also sees one inherited from the environment), so the source folder decides within
        // each pair.
        let in_dir = |dir: &str| spec.file.split(['/', '\\']).any(|part| part == dir);
        let (kind, target) = if let Some(bin) = spec.bin_name {
            if in_dir("examples") {
                (TargetKind::Example, bin.to_owned())
            } else {
                (TargetKind::Bin, bin.to_owned())
            }
        } else if spec.target_tmpdir.is_some() && in_dir("benches") {
            let target = target_name_in(spec.file, "benches", crate_name);
            (TargetKind::Bench, target)
        } else if spec.target_tmpdir.is_some() && in_dir("tests") {
            let target = target_name_in(spec.file, "tests", crate_name);
            (TargetKind::Test, target)
        } else if in_dir("examples") {
            // An example without CARGO_BIN_NAME (an older cargo): its crate name is its name
            // with `-` turned into `_`.
            let target = target_name_in(spec.file, "examples", crate_name);
            (TargetKind::Example, target)
        } else {
            (TargetKind::Lib, crate_name.to_owned())
        };
        let root = match regressions_dir {
            Some(dir) => super::sweep::absolute(dir),
            None => Path::new(spec.manifest_dir.unwrap_or(".")).join(fixture::DIR_NAME),
        };
        let fixture_path = fixture::fixture_path(&root, kind.as_str(), &target, &name);
        let legacy_fixture_path = fixture::legacy_fixture_path(&root, &target, &name);
        TestInfo {
            name,
            package: spec.package.unwrap_or("unknown").to_owned(),
            target,
            kind,
            fixture_path,
            legacy_fixture_path,
        }
    }

    /// The two commands that rerun `seed`: plain `cargo test` and `cargo detest replay`.
    /// `policy` is set when the run's policy differs from the attribute's.
    pub(crate) fn repro(&self, seed: u64, policy: Option<&str>) -> Vec<String> {
        let env = policy
            .map(|p| format!("DETEST_POLICY={p} "))
            .unwrap_or_default();
        let policy_flag = policy.map(|p| format!(" --policy {p}")).unwrap_or_default();
        vec![
            format!(
                "{env}DETEST_SEED={seed} cargo test -p {} {} -- {} --exact",
                self.package,
                self.target_flag(),
                self.name
            ),
            format!(
                "cargo detest replay {} -p {} {} --seed {seed}{policy_flag}",
                self.name,
                self.package,
                self.target_flag()
            ),
        ]
    }

    /// The command that replays an explicit schedule.
    pub(crate) fn repro_schedule(&self, schedule: &str, seed: u64) -> Vec<String> {
        vec![format!(
            "DETEST_REPLAY={schedule} DETEST_SEED={seed} cargo test -p {} {} -- {} --exact",
            self.package,
            self.target_flag(),
            self.name
        )]
    }

    fn target_flag(&self) -> String {
        let flag = match self.kind {
            TargetKind::Lib => "--lib".to_owned(),
            TargetKind::Test => format!("--test {}", self.target),
            TargetKind::Bin => format!("--bin {}", self.target),
            TargetKind::Example => format!("--example {}", self.target),
            TargetKind::Bench => format!("--bench {}", self.target),
        };
        // `cargo detest replay --manifest-path M` runs the test from its package root; the
        // commands it prints are for the user, who stands where M was typed.
        match std::env::var(crate::protocol::ENV_MANIFEST_PATH) {
            Ok(m) if !m.is_empty() => format!("{flag} --manifest-path {}", shell_word(&m)),
            _ => flag,
        }
    }
}

/// `word`, quoted for a POSIX shell when it needs to be.
fn shell_word(word: &str) -> String {
    let plain = word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@%,".contains(c));
    if plain && !word.is_empty() {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// A target's crate name has `-` turned into `_`, but `cargo test --test` (or `--bench`,
/// `--example`) wants the target name: find it in the source path (`DIR/NAME.rs` or
/// `DIR/NAME/...`, DIR being `tests`, `benches` or `examples`).
fn target_name_in(file: &str, dir: &str, crate_name: &str) -> String {
    let parts: Vec<&str> = file.split(['/', '\\']).collect();
    parts
        .windows(2)
        .rev()
        .filter(|w| w[0] == dir)
        .map(|w| w[1].strip_suffix(".rs").unwrap_or(w[1]))
        .find(|candidate| candidate.replace('-', "_") == crate_name)
        .unwrap_or(crate_name)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::Expect;
    use crate::Policy;

    fn spec() -> TestSpec {
        TestSpec {
            name: "lost_update",
            module_path: "my_races::counters",
            file: "crates/x/tests/my-races.rs",
            manifest_dir: Some("/src/x"),
            package: Some("x"),
            crate_name: Some("my_races"),
            target_tmpdir: Some("/tmp"),
            bin_name: None,
            seed_start: 0,
            seeds: 1,
            exact_seed: false,
            policy: Policy::RoundRobin,
            expect: Expect::Pass,
            expect_message: None,
            max_steps: None,
            timeout_ms: None,
            stack_size: None,
            shrink: true,
            shrink_executions: None,
            shrink_time_ms: None,
            spurious_wakeups: true,
            memory_model_sc: false,
        }
    }

    #[test]
    fn integration_test_names_and_commands() {
        let info = TestInfo::new(&spec(), None);
        assert_eq!(info.name, "counters::lost_update");
        assert_eq!(info.target, "my-races");
        assert_eq!(info.kind, TargetKind::Test);
        assert_eq!(
            info.fixture_path,
            Path::new("/src/x/detest-regressions/test/my-races/counters/lost_update.toml")
        );
        assert_eq!(
            info.repro(7, None),
            vec![
                "DETEST_SEED=7 cargo test -p x --test my-races -- counters::lost_update --exact",
                "cargo detest replay counters::lost_update -p x --test my-races --seed 7",
            ]
        );
        assert!(info.repro(7, Some("pct:2"))[0].starts_with("DETEST_POLICY=pct:2 DETEST_SEED=7"));
    }

    #[test]
    fn lib_tests_use_lib_flag() {
        let spec = TestSpec {
            module_path: "x::tests",
            file: "src/lib.rs",
            crate_name: Some("x"),
            target_tmpdir: None,
            ..spec()
        };
        let info = TestInfo::new(&spec, Some(Path::new("/elsewhere")));
        assert_eq!(info.kind, TargetKind::Lib);
        let leaked = TestSpec {
            target_tmpdir: Some("/tmp"),
            ..spec.clone()
        };
        assert_eq!(TestInfo::new(&leaked, None).kind, TargetKind::Lib);
        assert_eq!(info.name, "tests::lost_update");
        assert!(info.repro(1, None)[0].contains("cargo test -p x --lib -- tests::lost_update"));
        assert_eq!(
            info.fixture_path,
            Path::new("/elsewhere/lib/x/tests/lost_update.toml")
        );
    }

    #[test]
    fn a_lib_and_a_bin_of_one_name_keep_separate_fixtures() {
        // Package `coll`: `src/lib.rs` and `src/main.rs` both have `tests::counter`.
        let lib = TestSpec {
            name: "counter",
            module_path: "coll::tests",
            file: "src/lib.rs",
            crate_name: Some("coll"),
            target_tmpdir: None,
            ..spec()
        };
        let bin = TestSpec {
            file: "src/main.rs",
            bin_name: Some("coll"),
            ..lib.clone()
        };
        let (lib, bin) = (TestInfo::new(&lib, None), TestInfo::new(&bin, None));
        assert_eq!(lib.name, bin.name);
        assert_eq!(lib.target, bin.target);
        assert_eq!(
            lib.fixture_path,
            Path::new("/src/x/detest-regressions/lib/coll/tests/counter.toml")
        );
        assert_eq!(
            bin.fixture_path,
            Path::new("/src/x/detest-regressions/bin/coll/tests/counter.toml")
        );
    }

    #[test]
    fn every_target_kind_of_one_test_path_keeps_its_own_fixture_and_flag() {
        // Package `pd`: `tests::exf` in its lib, `src/bin/ex.rs`, `examples/ex.rs`,
        // `tests/ex.rs` and `benches/ex.rs`, each with what cargo sets when compiling it.
        let base = TestSpec {
            name: "exf",
            module_path: "ex::tests",
            package: Some("pd"),
            crate_name: Some("ex"),
            target_tmpdir: None,
            bin_name: None,
            ..spec()
        };
        let kinds = [
            ("src/lib.rs", None, None, "lib", "--lib"),
            ("src/bin/ex.rs", Some("ex"), None, "bin", "--bin ex"),
            (
                "examples/ex.rs",
                Some("ex"),
                None,
                "example",
                "--example ex",
            ),
            // An example as an older cargo compiles it, without CARGO_BIN_NAME.
            ("examples/ex.rs", None, None, "example", "--example ex"),
            ("tests/ex.rs", None, Some("/t"), "test", "--test ex"),
            ("benches/ex.rs", None, Some("/t"), "bench", "--bench ex"),
        ];
        for (file, bin_name, target_tmpdir, kind, flag) in kinds {
            let info = TestInfo::new(
                &TestSpec {
                    file,
                    bin_name,
                    target_tmpdir,
                    ..base.clone()
                },
                Some(Path::new("/r")),
            );
            assert_eq!(info.kind.as_str(), kind, "{file}");
            assert_eq!(
                info.fixture_path,
                Path::new(&format!("/r/{kind}/ex/tests/exf.toml")),
                "{file}"
            );
            for command in info.repro(0, None) {
                assert!(command.contains(&format!("-p pd {flag} ")), "{command}");
            }
            assert!(info.repro_schedule("detest1:", 0)[0].contains(flag));
        }
    }

    #[test]
    fn target_name_from_path() {
        assert_eq!(target_name_in("tests/a-b.rs", "tests", "a_b"), "a-b");
        assert_eq!(target_name_in("tests/a-b/main.rs", "tests", "a_b"), "a-b");
        assert_eq!(target_name_in("tests/common/mod.rs", "tests", "a_b"), "a_b");
        assert_eq!(target_name_in("benches/a-b.rs", "benches", "a_b"), "a-b");
    }
}
