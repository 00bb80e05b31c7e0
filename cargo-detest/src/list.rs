//! `cargo detest list [FILTER]`: every test with its kind, and each detest test's declared
//! configuration and saved fixture count.

use crate::cli::{Format, ListArgs};
use crate::discover::{self, Scratch};
use crate::model::{TestKind, TestReport};
use crate::output::words::counted;
use crate::sweep::{self, SweepOptions};
use crate::{build, exit, signals};
use anyhow::Result;
use console::Style;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;

pub fn list(args: ListArgs) -> Result<i32> {
    crate::set_color(args.color);
    let binaries: Vec<Arc<_>> = build::build(&args.build)?
        .into_iter()
        .map(Arc::new)
        .collect();
    let tests = discover::collect(&binaries, &args.filter)?;
    let opts = SweepOptions {
        jobs: crate::jobs(args.jobs),
        probe_only: true,
        ..SweepOptions::default()
    };
    signals::install();
    let scratch = Scratch::new()?;
    let (reports, interrupted) = sweep::run(tests, &opts, &scratch, &signals::INTERRUPTED, &mut ());
    let bold = Style::new().bold();
    let dim = Style::new().dim();
    for r in &reports {
        match args.format {
            Format::Json => println!("{}", list_json(r)),
            _ => println!(
                "{}  {}",
                bold.apply_to(r.id.full_name()),
                dim.apply_to(describe(r))
            ),
        }
    }
    if args.format != Format::Json {
        let detest = reports.iter().filter(|r| r.is_detest()).count();
        eprintln!(
            "{} ({detest} detest, {} other) in {}",
            counted(reports.len() as u64, "test"),
            reports.len() - detest,
            counted(binaries.len() as u64, "binary")
        );
    }
    Ok(if interrupted {
        exit::INTERRUPTED
    } else if reports.is_empty() {
        // As for a sweep: a filter that matches nothing is an error, not an empty success.
        exit::NO_TESTS
    } else {
        exit::OK
    })
}

/// How many entries the test's fixture file holds, or why it cannot be read (a corrupt file
/// must not look like an empty one).
fn saved_fixtures(file: Option<&str>) -> Result<u64, String> {
    match file {
        None => Ok(0),
        Some(p) => detest::fixture::FixtureFile::load(Path::new(p))
            .map(|f| f.entries.len() as u64)
            .map_err(|e| e.to_string()),
    }
}

fn describe(r: &TestReport) -> String {
    match &r.kind {
        TestKind::Detest(a) => {
            let mut s = format!(
                "detest  seeds {}  policy {}",
                crate::plan::SeedRange::new(a.seed_start, a.seeds)
                    .map_or_else(|e| format!("invalid ({e})"), |r| r.to_string()),
                a.policy
            );
            if a.expect != "pass" {
                s.push_str(&format!("  expect {}", crate::sweep::expectation(a)));
            }
            if let Some(t) = a.timeout_ms {
                s.push_str(&format!("  timeout {t}ms"));
            }
            match saved_fixtures(a.fixture_file.as_deref()) {
                Ok(n) => s.push_str(&format!("  {}", counted(n, "saved fixture"))),
                Err(e) => s.push_str(&format!("  unreadable fixtures: {e}")),
            }
            s
        }
        TestKind::Plain(_) if r.verdict == crate::model::Verdict::Cancelled => "cancelled".into(),
        TestKind::Plain(_) => "plain #[test]".into(),
        TestKind::Ignored => "ignored".into(),
    }
}

fn list_json(r: &TestReport) -> serde_json::Value {
    let mut v = json!({
        "name": r.id.full_name(),
        "test": r.id.name,
        "binary": r.id.binary.id,
        "package": r.id.binary.package,
        "kind": match r.kind { TestKind::Detest(_) => "detest", TestKind::Plain(_) => "plain", TestKind::Ignored => "ignored" },
    });
    if let TestKind::Detest(a) = &r.kind {
        v["config"] = serde_json::to_value(a).unwrap_or_default();
        match saved_fixtures(a.fixture_file.as_deref()) {
            Ok(n) => v["saved_fixtures"] = json!(n),
            Err(e) => {
                v["saved_fixtures"] = json!(null);
                v["fixture_error"] = json!(e);
            }
        }
    }
    v
}
