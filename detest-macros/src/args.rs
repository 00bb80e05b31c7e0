//! The arguments of `#[detest(...)]`, checked at compile time so that a typo is an error pointing
//! at the argument rather than a test that silently runs with defaults.

use proc_macro2::Span;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit, Meta, Token};

const KEYS: &str = "seeds, seed, chaos, policy, depth, expect, expect_message, max_steps, \
                    timeout, stack_size, shrink, shrink_executions, shrink_time, \
                    spurious_wakeups, memory_model";

/// A scheduling policy as written in the attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyArg {
    RoundRobin,
    Rotate,
    FirstRelease,
    Random,
    Pct { depth: Option<u32> },
    Pos,
    Urw,
    Chaos,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectArg {
    Pass,
    Panic,
    Deadlock,
    DataRace,
    Fail,
}

/// The checked arguments.
#[derive(Debug, Default)]
pub struct Args {
    pub seeds: Option<u64>,
    pub seed: Option<u64>,
    pub policy: Option<PolicyArg>,
    pub depth: Option<u32>,
    pub expect: Option<ExpectArg>,
    pub expect_message: Option<String>,
    pub max_steps: Option<u64>,
    pub timeout_ms: Option<u64>,
    pub stack_size: Option<u64>,
    pub shrink: Option<bool>,
    pub shrink_executions: Option<u64>,
    pub shrink_time_ms: Option<u64>,
    pub spurious_wakeups: Option<bool>,
    /// `true`: `memory_model = "sc"` (every atomic load reads the newest store).
    pub memory_model_sc: Option<bool>,
}

impl Args {
    /// The policy to run, with `depth` folded into PCT.
    pub fn effective_policy(&self) -> PolicyArg {
        match self.policy {
            Some(PolicyArg::Pct { depth }) => PolicyArg::Pct {
                depth: self.depth.or(depth),
            },
            Some(p) => p,
            None => PolicyArg::RoundRobin,
        }
    }
}

fn err(span: Span, msg: impl std::fmt::Display) -> syn::Error {
    syn::Error::new(span, msg)
}

/// Parses and cross-checks the attribute arguments.
pub fn parse(tokens: proc_macro2::TokenStream) -> syn::Result<Args> {
    let metas: Punctuated<Meta, Token![,]> =
        syn::parse::Parser::parse2(Punctuated::parse_terminated, tokens)?;
    let mut args = Args::default();
    // Where each key was written, for errors that involve two keys.
    let mut seen: Vec<(String, Span)> = Vec::new();
    for meta in &metas {
        let key_span = meta.path().span();
        let key = meta
            .path()
            .get_ident()
            .map(|i| i.to_string())
            .ok_or_else(|| {
                err(
                    key_span,
                    format!("expected an argument name; valid arguments: {KEYS}"),
                )
            })?;
        if seen.iter().any(|(k, _)| *k == key) {
            return Err(err(key_span, format!("duplicate argument `{key}`")));
        }
        seen.push((key.clone(), key_span));
        match key.as_str() {
            "chaos" => {
                if !matches!(meta, Meta::Path(_)) {
                    return Err(err(
                        meta.span(),
                        "`chaos` is a flag and takes no value: write `#[detest(chaos)]`",
                    ));
                }
                args.policy = Some(PolicyArg::Chaos);
            }
            "seeds" => {
                let (n, span) = int_value(meta, &key, "seeds = 1000")?;
                if n == 0 {
                    return Err(err(span, "`seeds` must be at least 1"));
                }
                args.seeds = Some(n);
            }
            "seed" => args.seed = Some(int_value(meta, &key, "seed = 42")?.0),
            "depth" => {
                let (n, span) = int_value(meta, &key, "depth = 3")?;
                let depth = u32::try_from(n)
                    .ok()
                    .filter(|d| *d >= 1)
                    .ok_or_else(|| err(span, "`depth` must be between 1 and 4294967295"))?;
                args.depth = Some(depth);
            }
            "max_steps" => {
                let (n, span) = int_value(meta, &key, "max_steps = 100_000")?;
                if n == 0 {
                    return Err(err(span, "`max_steps` must be at least 1"));
                }
                args.max_steps = Some(n);
            }
            "stack_size" => {
                let (n, span) = int_value(meta, &key, "stack_size = 1_048_576")?;
                if n < 4096 {
                    return Err(err(
                        span,
                        "`stack_size` is in bytes and must be at least 4096",
                    ));
                }
                args.stack_size = Some(n);
            }
            "policy" => {
                let (text, span) = str_value(meta, &key, "policy = \"pct\"")?;
                args.policy = Some(parse_policy(&text).map_err(|m| err(span, m))?);
            }
            "expect" => {
                let (text, span) = str_value(meta, &key, "expect = \"deadlock\"")?;
                args.expect = Some(match text.as_str() {
                    "pass" => ExpectArg::Pass,
                    "panic" => ExpectArg::Panic,
                    "deadlock" => ExpectArg::Deadlock,
                    "data-race" => ExpectArg::DataRace,
                    "fail" => ExpectArg::Fail,
                    other => {
                        return Err(err(
                            span,
                            format!(
                                "unknown expected outcome `{other}`: expected \"pass\", \
                                 \"panic\", \"deadlock\", \"data-race\" or \"fail\""
                            ),
                        ))
                    }
                });
            }
            "expect_message" => {
                let (text, _) = str_value(meta, &key, "expect_message = \"overflow\"")?;
                args.expect_message = Some(text);
            }
            "timeout" => {
                let (text, span) = str_value(meta, &key, "timeout = \"10s\"")?;
                args.timeout_ms = Some(parse_duration_ms(&text).map_err(|m| err(span, m))?);
            }
            "shrink" => args.shrink = Some(bool_value(meta, &key, "shrink = false")?),
            "spurious_wakeups" => {
                args.spurious_wakeups = Some(bool_value(meta, &key, "spurious_wakeups = false")?)
            }
            "memory_model" => {
                let (text, span) = str_value(meta, &key, "memory_model = \"sc\"")?;
                args.memory_model_sc = Some(match text.as_str() {
                    "sc" => true,
                    "weak" => false,
                    other => {
                        return Err(err(
                            span,
                            format!(
                                "unknown memory model `{other}`: expected \"sc\" (every \
                                 atomic load reads the newest store) or \"weak\" (the default)"
                            ),
                        ))
                    }
                });
            }
            "shrink_executions" => {
                let (n, span) = int_value(meta, &key, "shrink_executions = 5000")?;
                if n == 0 {
                    return Err(err(
                        span,
                        "`shrink_executions` must be at least 1 (write `shrink = false` to turn \
                         shrinking off)",
                    ));
                }
                args.shrink_executions = Some(n);
            }
            "shrink_time" => {
                let (text, span) = str_value(meta, &key, "shrink_time = \"30s\"")?;
                args.shrink_time_ms = Some(
                    parse_duration_ms(&text)
                        .map_err(|m| err(span, m.replace("`timeout`", "`shrink_time`")))?,
                );
            }
            _ => {
                return Err(err(
                    key_span,
                    format!("unknown argument `{key}`; valid arguments: {KEYS}"),
                ))
            }
        }
    }
    let span_of = |key: &str| {
        seen.iter()
            .find(|(k, _)| k == key)
            .map(|(_, s)| *s)
            .unwrap_or_else(Span::call_site)
    };
    if args.seed.is_some() && args.seeds.is_some() {
        return Err(err(
            span_of("seed"),
            "`seed` pins exactly one seed and cannot be combined with `seeds`; use \
             `seeds = N` to sweep N seeds or `seed = S` to run only seed S",
        ));
    }
    if seen.iter().any(|(k, _)| k == "chaos") && seen.iter().any(|(k, _)| k == "policy") {
        return Err(err(
            span_of("policy"),
            "`chaos` already selects the exploring policy; write either `chaos` or `policy = ...`",
        ));
    }
    if let Some(_depth) = args.depth {
        match args.policy {
            Some(PolicyArg::Pct { depth: None }) => {}
            Some(PolicyArg::Pct { depth: Some(_) }) => {
                return Err(err(
                    span_of("depth"),
                    "the depth is already given in `policy = \"pct:N\"`; remove `depth`",
                ))
            }
            _ => {
                return Err(err(
                    span_of("depth"),
                    "`depth` applies to the PCT policy only; add `policy = \"pct\"`",
                ))
            }
        }
    }
    if args.expect_message.is_some() && matches!(args.expect, None | Some(ExpectArg::Pass)) {
        return Err(err(
            span_of("expect_message"),
            "`expect_message` needs an expected failure: add `expect = \"panic\"` (or \
             \"deadlock\" / \"fail\")",
        ));
    }
    Ok(args)
}

fn value_expr<'a>(meta: &'a Meta, key: &str, example: &str) -> syn::Result<&'a Expr> {
    match meta {
        Meta::NameValue(nv) => Ok(&nv.value),
        _ => Err(err(
            meta.span(),
            format!("`{key}` needs a value, like `{example}`"),
        )),
    }
}

fn int_value(meta: &Meta, key: &str, example: &str) -> syn::Result<(u64, Span)> {
    let expr = value_expr(meta, key, example)?;
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(lit), ..
        }) => {
            let n = lit.base10_parse::<u64>().map_err(|_| {
                err(
                    lit.span(),
                    format!("`{key}` takes a whole number that fits in u64"),
                )
            })?;
            Ok((n, lit.span()))
        }
        other => Err(err(
            other.span(),
            format!("`{key}` takes an integer literal, like `{example}`"),
        )),
    }
}

fn bool_value(meta: &Meta, key: &str, example: &str) -> syn::Result<bool> {
    match value_expr(meta, key, example)? {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        }) => Ok(b.value),
        other => Err(err(
            other.span(),
            format!("`{key}` takes `true` or `false`, like `{example}`"),
        )),
    }
}

fn str_value(meta: &Meta, key: &str, example: &str) -> syn::Result<(String, Span)> {
    let expr = value_expr(meta, key, example)?;
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Ok((lit.value(), lit.span())),
        other => Err(err(
            other.span(),
            format!("`{key}` takes a string literal, like `{example}`"),
        )),
    }
}

/// Same names as `detest::Policy::parse`, checked here so that a typo fails the build.
fn parse_policy(text: &str) -> Result<PolicyArg, String> {
    let lower = text.trim().to_ascii_lowercase();
    let (name, arg) = match lower.split_once(':') {
        Some((n, a)) => (n, Some(a)),
        None => (lower.as_str(), None),
    };
    let policy = match name {
        "rr" | "round-robin" | "roundrobin" => PolicyArg::RoundRobin,
        "rotate" => PolicyArg::Rotate,
        "first-release" => PolicyArg::FirstRelease,
        "random" => PolicyArg::Random,
        "pos" => PolicyArg::Pos,
        "chaos" => PolicyArg::Chaos,
        "urw" | "surw" => PolicyArg::Urw,
        "pct" => {
            let depth = match arg {
                None => None,
                Some(a) => {
                    Some(a.parse::<u32>().ok().filter(|d| *d >= 1).ok_or_else(|| {
                        format!("PCT depth must be a whole number >= 1, got `{a}`")
                    })?)
                }
            };
            return Ok(PolicyArg::Pct { depth });
        }
        _ => {
            return Err(format!(
            "unknown policy `{text}`: expected \"round-robin\", \"rotate\", \"first-release\", \"random\", \"pct\", \
                 \"pct:DEPTH\", \"pos\", \"chaos\" or \"urw\""
        ))
        }
    };
    if arg.is_some() {
        return Err(format!("policy `{name}` takes no argument"));
    }
    Ok(policy)
}

/// `"10s"`, `"250ms"`, `"2m"`, `"1h"` to milliseconds.
fn parse_duration_ms(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let digits = text.chars().take_while(|c| c.is_ascii_digit() || *c == '_');
    let split = digits.map(char::len_utf8).sum::<usize>();
    let (number, unit) = text.split_at(split);
    let bad = || {
        format!("invalid duration `{text}`: write a whole number with a unit, like \"500ms\", \"10s\", \"2m\" or \"1h\"")
    };
    let n: u64 = number.replace('_', "").parse().map_err(|_| bad())?;
    let factor = match unit.trim() {
        "ms" => 1,
        "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        _ => return Err(bad()),
    };
    let too_long = || {
        format!(
            "`timeout` is too long: at most {}h",
            MAX_DURATION_MS / 3_600_000
        )
    };
    let ms = n.checked_mul(factor).ok_or_else(too_long)?;
    if ms == 0 {
        return Err("`timeout` must be longer than zero".into());
    }
    if ms > MAX_DURATION_MS {
        return Err(too_long());
    }
    Ok(ms)
}

/// The longest `timeout` / `shrink_time` (366 days, as `cargo detest --timeout`): far beyond any
/// real limit, and far enough below `Duration::MAX` that the runtime and the watchdog may add
/// to it and multiply it without overflow.
const MAX_DURATION_MS: u64 = 366 * 24 * 3_600_000;

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("10s"), Ok(10_000));
        assert_eq!(parse_duration_ms("250ms"), Ok(250));
        assert_eq!(parse_duration_ms("2m"), Ok(120_000));
        assert_eq!(parse_duration_ms("1_000ms"), Ok(1_000));
        assert!(parse_duration_ms("10").is_err());
        assert!(parse_duration_ms("1.5s").is_err());
        assert!(parse_duration_ms("0s").is_err());
        assert_eq!(parse_duration_ms("8784h"), Ok(MAX_DURATION_MS));
        for huge in ["8785h", "5124095576030431h", "18446744073709551615ms"] {
            let e = parse_duration_ms(huge).unwrap_err();
            assert!(e.contains("too long"), "{huge}: {e}");
        }
    }

    #[test]
    fn folds_depth_into_pct() {
        let args = parse(quote!(seeds = 500, policy = "pct", depth = 5)).unwrap();
        assert_eq!(args.effective_policy(), PolicyArg::Pct { depth: Some(5) });
        assert_eq!(args.seeds, Some(500));
        let args = parse(quote!(policy = "pct:2")).unwrap();
        assert_eq!(args.effective_policy(), PolicyArg::Pct { depth: Some(2) });
    }

    #[test]
    fn shrink_arguments() {
        let args = parse(quote!(
            shrink = false,
            shrink_executions = 50,
            shrink_time = "2s"
        ))
        .unwrap();
        assert_eq!(args.shrink, Some(false));
        assert_eq!(args.shrink_executions, Some(50));
        assert_eq!(args.shrink_time_ms, Some(2_000));
        assert!(parse(quote!(shrink = "no")).is_err());
        assert!(parse(quote!(shrink)).is_err());
        assert!(parse(quote!(shrink_executions = 0)).is_err());
    }

    #[test]
    fn memory_model_argument() {
        assert_eq!(parse(quote!()).unwrap().memory_model_sc, None);
        let args = parse(quote!(chaos, memory_model = "sc")).unwrap();
        assert_eq!(args.memory_model_sc, Some(true));
        let args = parse(quote!(memory_model = "weak")).unwrap();
        assert_eq!(args.memory_model_sc, Some(false));
        assert!(parse(quote!(memory_model = "seqcst")).is_err());
        assert!(parse(quote!(memory_model = true)).is_err());
        assert!(parse(quote!(memory_model)).is_err());
    }

    #[test]
    fn spurious_wakeups_argument() {
        assert_eq!(parse(quote!()).unwrap().spurious_wakeups, None);
        let args = parse(quote!(chaos, spurious_wakeups = false)).unwrap();
        assert_eq!(args.spurious_wakeups, Some(false));
        assert!(parse(quote!(spurious_wakeups = 0)).is_err());
        assert!(parse(quote!(spurious_wakeups)).is_err());
    }

    #[test]
    fn defaults_to_round_robin() {
        let args = parse(quote!()).unwrap();
        assert_eq!(args.effective_policy(), PolicyArg::RoundRobin);
        assert_eq!(
            parse(quote!(chaos)).unwrap().effective_policy(),
            PolicyArg::Chaos
        );
    }
}
