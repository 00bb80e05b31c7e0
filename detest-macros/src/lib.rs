//! `#[detest(...)]`: turns a function into a `#[test]` whose body runs on the detest executor,
//! swept over seeds, with saved failing seeds replayed first. Use it as `detest::detest`.
//!
//! ```rust,ignore
//! use detest::detest;
//!
//! #[detest]                                   // one round-robin run, seed 0
//! fn plain() { /* uses detest::thread, detest::sync */ }
//!
//! #[detest(seeds = 1000, chaos)]              // explore 1000 interleavings
//! fn explored() {}
//!
//! #[detest(seeds = 500, policy = "pct", depth = 3, max_steps = 100_000, timeout = "10s")]
//! async fn with_limits() {}                   // async bodies run under detest::future::block_on
//!
//! #[detest(seeds = 200, chaos, expect = "deadlock")]
//! fn known_bug() {}                           // passes only if some seed deadlocks
//! ```
//!
//! The arguments are documented on the attribute itself (`detest::detest` in the runtime's
//! docs); the `DETEST_*` variables that override them for one run, in the runtime's
//! `detest::runner` module.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, ReturnType};

mod args;

use args::{Args, ExpectArg, PolicyArg};

/// Runs the test body on the detest executor over a range of seeds.
///
/// # Arguments
///
/// All optional; a malformed or unknown argument is a compile error pointing at it.
///
/// | argument | meaning |
/// |---|---|
/// | *(none)* | one deterministic run: round-robin, seed 0 |
/// | `seeds = N` | run N seeds, from seed 0 (default 1; at least 1) |
/// | `seed = S` | run exactly seed S (any `u64`, `18446744073709551615` included), without the fixed executions a PCT or chaos sweep begins with; not with `seeds` |
/// | `chaos` | explore interleavings with the default exploring policy (`policy = "chaos"`) |
/// | `policy = "..."` | `round-robin` (the default without `chaos`: seeds then vary only `detest::rand` values and time), `rotate`, `first-release`, `random`, `pct`, `pct:D`, `pos`, `chaos`, `urw` |
/// | `depth = D` | PCT's depth, with `policy = "pct"` (default 3) |
/// | `expect = "..."` | `pass` (the default), or `panic`, `deadlock`, `data-race`, `fail`: the sweep must find that outcome (a test of a known bug); it passes at the first seed that shows it |
/// | `expect_message = "..."` | with `expect`: the failure's message must contain this |
/// | `max_steps = N` | scheduling steps per execution before it fails as a livelock (default 1,000,000) |
/// | `timeout = "10s"` | wall-clock time per execution (`500ms`, `10s`, `2m`), checked every 1024 steps and as the execution ends; a body stuck without scheduling points is aborted by a watchdog |
/// | `stack_size = BYTES` | each task's coroutine stack (default 256 KiB); a task that overflows it is named, with the size to raise, as the process dies |
/// | `shrink = false` | do not shrink a saved failure (on by default) |
/// | `shrink_executions = N`, `shrink_time = "10s"` | the shrinking budget (default 2000 candidate runs, 10 s) |
/// | `spurious_wakeups = false` | condvar waits and `park` never return spuriously (by default the exploring policies draw a spurious wake-up rarely, as std allows one) |
/// | `memory_model = "sc"` | every atomic load reads the newest store (sequential consistency; happens-before is still tracked); the default, `"weak"`, lets a load read any store C11/C++20 allows |
///
/// The function may be `async` (run under `detest::future::block_on`) and may return
/// `Result<(), E: Debug>` (an `Err` fails the execution). Other attributes (`#[ignore]`,
/// `#[cfg]`, docs) are kept; `#[should_panic]` is rejected in favour of `expect = "panic"`.
///
/// At run time the `DETEST_*` environment variables (`DETEST_SEED`, `DETEST_SEEDS`,
/// `DETEST_POLICY`, ...) override the attribute for one run: see the `detest::runner` module,
/// which also describes fixtures, shrinking and the reports.
#[proc_macro_attribute]
pub fn detest(attr: TokenStream, item: TokenStream) -> TokenStream {
    match expand(attr.into(), item.into()) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

fn expand(attr: TokenStream2, item: TokenStream2) -> syn::Result<TokenStream2> {
    let args = args::parse(attr)?;
    let func: ItemFn = syn::parse2(item)?;
    check_signature(&func)?;
    let krate = runtime_path();
    let spec = spec_tokens(&args, &func, &krate);

    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = func;
    let name = &sig.ident;
    let output = &sig.output;
    let out_ty = match output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => quote!(#ty),
    };
    // The user's function stays a function (so `return`, `?` and the return type behave as
    // written) nested inside the generated test, which only hands it to the runner.
    let call = if sig.asyncness.is_some() {
        quote!(#krate::future::block_on(#name()))
    } else {
        quote!(#name())
    };
    let asyncness = &sig.asyncness;
    let announcer = announcer_tokens(&krate);
    Ok(quote! {
        #(#attrs)*
        #[::core::prelude::v1::test]
        #vis fn #name() {
            #asyncness fn #name() #output #block
            static __DETEST_SPEC: #krate::__private::TestSpec = #spec;
            #announcer
            #krate::__private::run_test(&__DETEST_SPEC, || {
                let out: #out_ty = #call;
                #krate::__private::TestReturn::check(out);
            });
        }
    })
}

/// A static constructor that announces the test as the binary loads, when `DETEST_ANNOUNCE` is
/// set: `cargo detest` then learns every detest test's configuration from
/// `<bin> --list` with that variable set, which runs no test at all (a plain `#[test]` that
/// writes files must not run just to be listed). It sits inside the generated test function,
/// so it exists exactly when the test does (`cfg(test)`, `#[cfg]` on the test).
fn announcer_tokens(krate: &TokenStream2) -> TokenStream2 {
    quote! {
        #[used]
        #[cfg_attr(
            any(target_os = "macos", target_os = "ios"),
            unsafe(link_section = "__DATA,__mod_init_func")
        )]
        #[cfg_attr(
            all(unix, not(any(target_os = "macos", target_os = "ios"))),
            unsafe(link_section = ".init_array")
        )]
        #[cfg_attr(windows, unsafe(link_section = ".CRT$XCU"))]
        static __DETEST_ANNOUNCER: extern "C" fn() = {
            extern "C" fn announce() {
                #krate::__private::announce_at_load(&__DETEST_SPEC);
            }
            announce
        };
    }
}

fn check_signature(func: &ItemFn) -> syn::Result<()> {
    let sig = &func.sig;
    if !sig.inputs.is_empty() {
        return Err(syn::Error::new(
            sig.inputs.span(),
            "a #[detest] test takes no arguments",
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(syn::Error::new(
            sig.generics.span(),
            "a #[detest] test cannot be generic",
        ));
    }
    for (what, present) in [
        ("const", sig.constness.is_some()),
        ("unsafe", sig.unsafety.is_some()),
        ("extern", sig.abi.is_some()),
    ] {
        if present {
            return Err(syn::Error::new(
                sig.fn_token.span(),
                format!("a #[detest] test cannot be `{what}`"),
            ));
        }
    }
    for attr in &func.attrs {
        let path = attr.path();
        if path.is_ident("should_panic") {
            return Err(syn::Error::new(
                path.span(),
                "#[should_panic] does not work with #[detest]: panics are caught per seed. Use \
                 #[detest(expect = \"panic\")] (optionally with expect_message = \"...\")",
            ));
        }
        if path.is_ident("test") {
            return Err(syn::Error::new(
                path.span(),
                "#[detest] already makes this a test: remove #[test]",
            ));
        }
    }
    Ok(())
}

/// The path of the runtime crate as the test's crate sees it, so that the expansion works when
/// the crate is renamed in Cargo.toml (`dt = { package = "detest-runtime" }`).
fn runtime_path() -> TokenStream2 {
    use proc_macro_crate::{crate_name, FoundCrate};
    match crate_name("detest-runtime") {
        // Unrenamed, the dependency is known by its lib name, which differs from the package
        // name. Inside the runtime itself, `extern crate self as detest` provides the same path.
        Ok(FoundCrate::Itself) | Err(_) => quote!(::detest),
        Ok(FoundCrate::Name(name)) if name == "detest_runtime" => quote!(::detest),
        Ok(FoundCrate::Name(name)) => {
            let ident = syn::Ident::new(&name, Span::call_site());
            quote!(::#ident)
        }
    }
}

fn spec_tokens(args: &Args, func: &ItemFn, krate: &TokenStream2) -> TokenStream2 {
    let name = func.sig.ident.to_string();
    let exact_seed = args.seed.is_some();
    let (seed_start, seeds) = match (args.seed, args.seeds) {
        (Some(seed), _) => (seed, 1),
        (None, n) => (0, n.unwrap_or(1)),
    };
    let policy = match args.effective_policy() {
        PolicyArg::RoundRobin => quote!(#krate::Policy::RoundRobin),
        PolicyArg::Rotate => quote!(#krate::Policy::Rotate),
        PolicyArg::FirstRelease => quote!(#krate::Policy::FirstRelease),
        PolicyArg::Random => quote!(#krate::Policy::Random),
        PolicyArg::Pos => quote!(#krate::Policy::Pos),
        PolicyArg::Chaos => quote!(#krate::Policy::Chaos),
        PolicyArg::Urw => quote!(#krate::Policy::Urw),
        PolicyArg::Pct { depth } => {
            let depth = match depth {
                Some(d) => quote!(#d),
                None => quote!(#krate::DEFAULT_PCT_DEPTH),
            };
            quote!(#krate::Policy::Pct { depth: #depth })
        }
    };
    let expect = match args.expect.unwrap_or(ExpectArg::Pass) {
        ExpectArg::Pass => quote!(Pass),
        ExpectArg::Panic => quote!(Panic),
        ExpectArg::Deadlock => quote!(Deadlock),
        ExpectArg::DataRace => quote!(DataRace),
        ExpectArg::Fail => quote!(Fail),
    };
    let opt = |v: Option<TokenStream2>| match v {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    };
    let expect_message = opt(args.expect_message.as_ref().map(|m| quote!(#m)));
    let max_steps = opt(args.max_steps.map(|n| quote!(#n)));
    let timeout_ms = opt(args.timeout_ms.map(|n| quote!(#n)));
    let stack_size = opt(args.stack_size.map(|n| {
        let n = n as usize;
        quote!(#n)
    }));
    let shrink = args.shrink.unwrap_or(true);
    let shrink_executions = opt(args.shrink_executions.map(|n| quote!(#n)));
    let shrink_time_ms = opt(args.shrink_time_ms.map(|n| quote!(#n)));
    let spurious_wakeups = args.spurious_wakeups.unwrap_or(true);
    let memory_model_sc = args.memory_model_sc.unwrap_or(false);
    // `option_env!` expands in the test's crate, so these describe the test's package and
    // target, not the runtime's.
    quote_spanned! {Span::call_site()=>
        #krate::__private::TestSpec {
            name: #name,
            module_path: ::core::module_path!(),
            file: ::core::file!(),
            manifest_dir: ::core::option_env!("CARGO_MANIFEST_DIR"),
            package: ::core::option_env!("CARGO_PKG_NAME"),
            crate_name: ::core::option_env!("CARGO_CRATE_NAME"),
            target_tmpdir: ::core::option_env!("CARGO_TARGET_TMPDIR"),
            bin_name: ::core::option_env!("CARGO_BIN_NAME"),
            seed_start: #seed_start,
            seeds: #seeds,
            exact_seed: #exact_seed,
            policy: #policy,
            expect: #krate::__private::Expect::#expect,
            expect_message: #expect_message,
            max_steps: #max_steps,
            timeout_ms: #timeout_ms,
            stack_size: #stack_size,
            shrink: #shrink,
            shrink_executions: #shrink_executions,
            shrink_time_ms: #shrink_time_ms,
            spurious_wakeups: #spurious_wakeups,
            memory_model_sc: #memory_model_sc,
        }
    }
}
