//! `cargo detest list [FILTER]`: every test with its kind, and each detest test's declared
//! configuration and saved fixture count.

use crate::cli::{Format, ListArgs};
use crate::discover::{self, Scratch};
use crate::model::{TestKind, TestReport};
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
            "{} tests ({} detest, {} other) in {} binaries",
            reports.len(),
            detest,
            reports.len() - detest,
            binaries.len()
        );
    }
    Ok(if interrupted {
        exit::INTERRUPTED
    } else {
        exit::OK
    })
}

fn saved_fixtures(file: Option<&str>) -> u64 {
    file.and_then(|p| detest::fixture::FixtureFile::load(Path::new(p)).ok())
        .map_or(0, |f| f.entries.len() as u64)
}

fn describe(r: &TestReport) -> String {
    match &r.kind {
        TestKind::Detest(a) => {
            let mut s = format!(
                "detest  seeds {}..{}  policy {}",
                a.seed_start,
                a.seed_start.saturating_add(a.seeds),
                a.policy
            );
            if a.expect != "pass" {
                s.push_str(&format!("  expect {}", crate::sweep::expectation(a)));
            }
            if let Some(t) = a.timeout_ms {
                s.push_str(&format!("  timeout {t}ms"));
            }
            let n = saved_fixtures(a.fixture_file.as_deref());
            s.push_str(&format!("  {n} saved fixture{}", crate::output::plural(n)));
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
        v["saved_fixtures"] = json!(saved_fixtures(a.fixture_file.as_deref()));
    }
    v
}
