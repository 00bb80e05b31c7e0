//! JUnit XML for CI dashboards: one `<testsuite>` per test binary, one `<testcase>` per test.

use super::{failure_block, status_detail, Context};
use crate::model::{Summary, TestReport, Verdict};
use std::fmt::Write as _;

pub fn render(reports: &[TestReport], s: &Summary, ctx: &Context) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let count = |rs: &[&TestReport], v: Verdict| rs.iter().filter(|r| r.verdict == v).count();
    let all: Vec<&TestReport> = reports.iter().collect();
    let _ = writeln!(
        out,
        r#"<testsuites name="cargo-detest" tests="{}" failures="{}" errors="0" skipped="{}" time="{:.3}">"#,
        s.tests,
        s.failed,
        count(&all, Verdict::Skip)
            + count(&all, Verdict::Cancelled)
            + count(&all, Verdict::Unchanged),
        s.duration.as_secs_f64()
    );
    let mut binaries: Vec<&str> = Vec::new();
    for r in reports {
        if !binaries.contains(&r.id.binary.id.as_str()) {
            binaries.push(&r.id.binary.id);
        }
    }
    for bin in binaries {
        let rs: Vec<&TestReport> = reports.iter().filter(|r| r.id.binary.id == bin).collect();
        let time: f64 = rs.iter().map(|r| r.duration.as_secs_f64()).sum();
        let _ = writeln!(
            out,
            r#"  <testsuite name="{}" tests="{}" failures="{}" errors="0" skipped="{}" time="{:.3}">"#,
            escape(bin),
            rs.len(),
            count(&rs, Verdict::Fail),
            count(&rs, Verdict::Skip)
                + count(&rs, Verdict::Cancelled)
                + count(&rs, Verdict::Unchanged),
            time
        );
        for r in rs {
            let _ = write!(
                out,
                r#"    <testcase name="{}" classname="{}" time="{:.3}""#,
                escape(&r.id.name),
                escape(bin),
                r.duration.as_secs_f64()
            );
            let detail = status_detail(r);
            match r.verdict {
                Verdict::Pass => {
                    let _ = writeln!(out, ">");
                    let _ = writeln!(out, "      <system-out>{}</system-out>", escape(&detail));
                }
                Verdict::Fail => {
                    let kind = r
                        .failures
                        .first()
                        .map(|f| f.failure().kind.clone())
                        .unwrap_or_else(|| "failure".into());
                    let _ = writeln!(out, ">");
                    let _ = writeln!(
                        out,
                        r#"      <failure message="{}" type="{}">{}</failure>"#,
                        escape(&detail),
                        escape(&kind),
                        escape(&failure_block(r, ctx, true))
                    );
                }
                Verdict::Skip | Verdict::Cancelled | Verdict::Unchanged => {
                    let _ = writeln!(out, ">");
                    let _ = writeln!(out, r#"      <skipped message="{}"/>"#, escape(&detail));
                }
            }
            let _ = writeln!(out, "    </testcase>");
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Escapes text for XML attributes and content, dropping characters XML 1.0 cannot carry
/// (terminal escape codes in captured output, for one).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            escape("a<b>&\"'\u{1b}[31m\n"),
            "a&lt;b&gt;&amp;&quot;&apos;[31m\n"
        );
    }
}
