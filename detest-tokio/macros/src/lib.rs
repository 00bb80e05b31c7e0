//! `#[tokio::test]` and `#[tokio::main]` for detest-tokio's `detest` mode.
//!
//! `#[tokio::test]` makes an unchanged tokio test a detest test: the same `TestSpec` and
//! runner as `#[detest]` (one seed, round-robin by default; `DETEST_SEEDS`, `DETEST_POLICY`,
//! `DETEST_REPLAY` and `cargo detest` override and sweep it), with its async body run under
//! `detest::future::block_on`. tokio's arguments (`flavor`, `worker_threads`, `start_paused`,
//! `crate`) are accepted: there is one executor, and its time is always virtual; `flavor` only
//! decides whether `task::block_in_place` panics, as it does on a current-thread runtime.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::quote;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{ItemFn, Meta, ReturnType, Token};

/// Runs an async test as a detest test (see the crate docs).
#[proc_macro_attribute]
pub fn test(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(attr.into(), item.into(), true)
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}

/// Runs an async `main` as one detest execution (seed 0).
#[proc_macro_attribute]
pub fn main(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(attr.into(), item.into(), false)
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}

/// The arguments that change anything here: `crate = "path"`, and `flavor` (what
/// `block_in_place` allows).
struct Args {
    krate: Option<syn::Path>,
    /// `Some(true)`: `multi_thread`; `None`: the attribute's default.
    multi_thread: Option<bool>,
}

fn string_arg(value: &syn::Expr) -> syn::Result<&syn::LitStr> {
    match value {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Ok(s),
        other => Err(syn::Error::new(other.span(), "expected a string")),
    }
}

fn parse_args(attr: TokenStream2) -> syn::Result<Args> {
    let parsed = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(attr)?;
    let mut args = Args {
        krate: None,
        multi_thread: None,
    };
    for arg in parsed {
        let name = arg
            .path()
            .get_ident()
            .map(|i| i.to_string())
            .unwrap_or_default();
        match (name.as_str(), &arg) {
            ("worker_threads" | "start_paused" | "unhandled_panic", Meta::NameValue(_)) => {}
            ("flavor", Meta::NameValue(nv)) => {
                let flavor = string_arg(&nv.value)?;
                args.multi_thread = Some(match flavor.value().as_str() {
                    "multi_thread" => true,
                    "current_thread" => false,
                    other => {
                        return Err(syn::Error::new(
                            flavor.span(),
                            format!(
                                "no such runtime flavor `{other}`: the runtime flavors are \
                                 `current_thread` and `multi_thread`"
                            ),
                        ))
                    }
                });
            }
            ("crate", Meta::NameValue(nv)) => {
                args.krate = Some(string_arg(&nv.value)?.parse::<syn::Path>()?)
            }
            _ => {
                return Err(syn::Error::new(
                    arg.span(),
                    "unknown argument: detest-tokio accepts tokio's `flavor`, \
                     `worker_threads`, `start_paused`, `unhandled_panic` and `crate`",
                ))
            }
        }
    }
    Ok(args)
}

/// How the user's crate names detest-tokio (usually `tokio`, renamed in Cargo.toml).
fn crate_path(explicit: Option<syn::Path>) -> TokenStream2 {
    if let Some(path) = explicit {
        return quote!(#path);
    }
    use proc_macro_crate::{crate_name, FoundCrate};
    match crate_name("detest-tokio") {
        Ok(FoundCrate::Name(name)) => {
            let ident = syn::Ident::new(&name, Span::call_site());
            quote!(::#ident)
        }
        Ok(FoundCrate::Itself) => quote!(::detest_tokio),
        Err(_) => quote!(::tokio),
    }
}

fn expand(attr: TokenStream2, item: TokenStream2, is_test: bool) -> syn::Result<TokenStream2> {
    let args = parse_args(attr)?;
    let krate = crate_path(args.krate);
    // tokio's defaults: a test runs on a current-thread runtime, `main` on a multi-thread one.
    let flavor = match args.multi_thread.unwrap_or(!is_test) {
        true => quote!(#krate::runtime::RuntimeFlavor::MultiThread),
        false => quote!(#krate::runtime::RuntimeFlavor::CurrentThread),
    };
    let func: ItemFn = syn::parse2(item)?;
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = func;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new(
            sig.fn_token.span(),
            "the `async` keyword is missing from the function declaration",
        ));
    }
    if !sig.inputs.is_empty() || !sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            sig.inputs.span(),
            "a tokio test or main takes no arguments and no generics",
        ));
    }
    let name = &sig.ident;
    let output = &sig.output;
    let out_ty = match output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => quote!(#ty),
    };
    let p = quote!(#krate::__private);
    if !is_test {
        return Ok(quote! {
            #(#attrs)*
            #vis fn #name() {
                async fn #name() #output #block
                #p::run_main(|| {
                    let out: #out_ty = #p::block_on_in(#flavor, #name());
                    #p::TestReturn::check(out);
                });
            }
        });
    }
    let test_name = name.to_string();
    Ok(quote! {
        #(#attrs)*
        #[::core::prelude::v1::test]
        #vis fn #name() {
            async fn #name() #output #block
            static __DETEST_SPEC: #p::TestSpec = #p::test_spec(
                #test_name,
                ::core::module_path!(),
                ::core::file!(),
                ::core::option_env!("CARGO_MANIFEST_DIR"),
                ::core::option_env!("CARGO_PKG_NAME"),
                ::core::option_env!("CARGO_CRATE_NAME"),
                ::core::option_env!("CARGO_TARGET_TMPDIR"),
                ::core::option_env!("CARGO_BIN_NAME"),
            );
            // Announced as the binary loads when DETEST_ANNOUNCE is set, so `cargo detest`
            // lists and sweeps it like a `#[detest]` test (see detest-macros).
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
                    #p::announce_at_load(&__DETEST_SPEC);
                }
                announce
            };
            #p::run_test(&__DETEST_SPEC, || {
                let out: #out_ty = #p::block_on_in(#flavor, #name());
                #p::TestReturn::check(out);
            });
        }
    })
}
