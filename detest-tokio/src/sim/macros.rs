//! `select!`, `join!`, `try_join!` and `pin!` with tokio's syntax, as `macro_rules` over
//! `poll_fn`. Each branch's future, output slot and flags are declared by its own step of a
//! recursive expansion, so they are distinct variables (macro hygiene) without numbering.
//!
//! `select!` polls its branches from a random start on every poll, as tokio does, unless
//! `biased;`: here the start is a recorded decision of the execution
//! (`__private::select_start`), so which ready branch wins is explored and replays.

/// Waits on several futures, running the handler of the first to complete (see tokio's docs:
/// patterns, `if` preconditions, `else`, `biased;`).
#[macro_export]
macro_rules! select {
    // ---- parsing: branches become `{ (pattern) (future) (precondition) (handler) }` ----
    (@parse $biased:tt; [$($b:tt)*]; [$($e:tt)*];) => {
        $crate::select!(@gen $biased; [$($e)*]; [__cx __pending __w]; [0]; [] [] [] [];
            $($b)*)
    };
    (@parse $biased:tt; [$($b:tt)*]; []; else => $h:block $(,)?) => {
        $crate::select!(@parse $biased; [$($b)*]; [$h];)
    };
    (@parse $biased:tt; [$($b:tt)*]; []; else => $h:expr $(,)?) => {
        $crate::select!(@parse $biased; [$($b)*]; [$h];)
    };
    (@parse $biased:tt; [$($b:tt)*]; [$($e:tt)*];
        $p:pat = $f:expr, if $c:expr => $h:block, $($rest:tt)*) => {
        $crate::select!(@parse $biased; [$($b)* {($p) ($f) ($c) ($h)}]; [$($e)*]; $($rest)*)
    };
    (@parse $biased:tt; [$($b:tt)*]; [$($e:tt)*];
        $p:pat = $f:expr, if $c:expr => $h:block $($rest:tt)*) => {
        $crate::select!(@parse $biased; [$($b)* {($p) ($f) ($c) ($h)}]; [$($e)*]; $($rest)*)
    };
    (@parse $biased:tt; [$($b:tt)*]; [$($e:tt)*];
        $p:pat = $f:expr, if $c:expr => $h:expr, $($rest:tt)*) => {
        $crate::select!(@parse $biased; [$($b)* {($p) ($f) ($c) ($h)}]; [$($e)*]; $($rest)*)
    };
    (@parse $biased:tt; [$($b:tt)*]; [$($e:tt)*]; $p:pat = $f:expr, if $c:expr => $h:expr) => {
        $crate::select!(@parse $biased; [$($b)* {($p) ($f) ($c) ($h)}]; [$($e)*];)
    };
    (@parse $biased:tt; [$($b:tt)*]; [$($e:tt)*];
        $p:pat = $f:expr => $h:block, $($rest:tt)*) => {
        $crate::select!(@parse $biased; [$($b)* {($p) ($f) (true) ($h)}]; [$($e)*]; $($rest)*)
    };
    (@parse $biased:tt; [$($b:tt)*]; [$($e:tt)*]; $p:pat = $f:expr => $h:block $($rest:tt)*) => {
        $crate::select!(@parse $biased; [$($b)* {($p) ($f) (true) ($h)}]; [$($e)*]; $($rest)*)
    };
    (@parse $biased:tt; [$($b:tt)*]; [$($e:tt)*]; $p:pat = $f:expr => $h:expr, $($rest:tt)*) => {
        $crate::select!(@parse $biased; [$($b)* {($p) ($f) (true) ($h)}]; [$($e)*]; $($rest)*)
    };
    (@parse $biased:tt; [$($b:tt)*]; [$($e:tt)*]; $p:pat = $f:expr => $h:expr) => {
        $crate::select!(@parse $biased; [$($b)* {($p) ($f) (true) ($h)}]; [$($e)*];)
    };

    // ---- generation: one step per branch, accumulating its declarations, poll and handler --
    (@gen $biased:tt; [$($e:tt)*]; [$cx:ident $pending:ident $w:ident]; [$($idx:tt)*];
        [$($outs:tt)*] [$($futs:tt)*] [$($polls:tt)*] [$($handlers:tt)*];
        {($p:pat) ($f:expr) ($c:expr) ($h:expr)} $($rest:tt)*) => {
        $crate::select!(@gen $biased; [$($e)*]; [$cx $pending $w]; [$($idx)* + 1];
            [$($outs)* let mut __out = ::core::option::Option::None;]
            [$($futs)*
                let mut __fut = $crate::__private::pin!($f);
                let mut __disabled = !($c);]
            [$($polls)*
                __b if __b == ($($idx)*) => {
                    if !__disabled {
                        match $crate::__private::Future::poll(__fut.as_mut(), $cx) {
                            $crate::__private::Poll::Ready(v) => {
                                __disabled = true;
                                #[allow(unused_variables, unused_mut, unreachable_patterns)]
                                let __matches = match &v { $p => true, _ => false };
                                if __matches {
                                    __out = ::core::option::Option::Some(v);
                                    return $crate::__private::Poll::Ready($($idx)*);
                                }
                            }
                            $crate::__private::Poll::Pending => $pending = true,
                        }
                    }
                }]
            [$($handlers)*
                __b if __b == ($($idx)*) => {
                    #[allow(unreachable_patterns)]
                    match __out.take().expect("select! output") {
                        $p => $h,
                        _ => ::core::unreachable!(),
                    }
                }];
            $($rest)*)
    };
    (@gen $biased:tt; [$($e:tt)*]; [$cx:ident $pending:ident $w:ident]; [$($n:tt)*];
        [$($outs:tt)*] [$($futs:tt)*] [$($polls:tt)*] [$($handlers:tt)*];) => {{
        const __N: usize = $($n)*;
        $($outs)*
        let $w: usize = {
            $($futs)*
            $crate::__private::poll_fn(|$cx| {
                let mut $pending = false;
                let start = if $biased { 0 } else { $crate::__private::select_start(__N) };
                for i in 0..__N {
                    match (start + i) % __N {
                        $($polls)*
                        _ => ::core::unreachable!(),
                    }
                }
                if $pending {
                    $crate::__private::Poll::Pending
                } else {
                    $crate::__private::Poll::Ready(usize::MAX) // every branch disabled
                }
            })
            .await
        };
        match $w {
            $($handlers)*
            _ => $crate::select!(@else $($e)*),
        }
    }};
    (@else) => {
        ::core::panic!("all branches are disabled and there is no else branch")
    };
    (@else $e:expr) => {
        $e
    };

    // ---- entry ----
    (biased; $($rest:tt)*) => {
        $crate::select!(@parse true; []; []; $($rest)*)
    };
    ($($rest:tt)*) => {
        $crate::select!(@parse false; []; []; $($rest)*)
    };
}

/// Polls every future concurrently (on the current task) and returns all outputs as a tuple.
#[macro_export]
macro_rules! join {
    (@gen [$cx:ident $pending:ident]; [$($decls:tt)*] [$($polls:tt)*] [$($outs:tt)*];
        $f:expr, $($rest:tt)*) => {
        $crate::join!(@gen [$cx $pending];
            [$($decls)*
                let mut __fut = $crate::__private::pin!($f);
                let mut __out = ::core::option::Option::None;]
            [$($polls)*
                if __out.is_none() {
                    match $crate::__private::Future::poll(__fut.as_mut(), $cx) {
                        $crate::__private::Poll::Ready(v) => __out = ::core::option::Option::Some(v),
                        $crate::__private::Poll::Pending => $pending = true,
                    }
                }]
            [$($outs)* __out.take().expect("join! output"),];
            $($rest)*)
    };
    (@gen [$cx:ident $pending:ident]; [$($decls:tt)*] [$($polls:tt)*] [$($outs:tt)*];) => {{
        $($decls)*
        $crate::__private::poll_fn(|$cx| {
            let mut $pending = false;
            $($polls)*
            if $pending {
                $crate::__private::Poll::Pending
            } else {
                $crate::__private::Poll::Ready(($($outs)*))
            }
        })
        .await
    }};
    ($($f:expr),* $(,)?) => {
        $crate::join!(@gen [__cx __pending]; [] [] []; $($f,)*)
    };
}

/// As [`join!`] for futures of `Result`s: the first `Err` is returned at once.
#[macro_export]
macro_rules! try_join {
    (@gen [$cx:ident $pending:ident]; [$($decls:tt)*] [$($polls:tt)*] [$($outs:tt)*];
        $f:expr, $($rest:tt)*) => {
        $crate::try_join!(@gen [$cx $pending];
            [$($decls)*
                let mut __fut = $crate::__private::pin!($f);
                let mut __out = ::core::option::Option::None;]
            [$($polls)*
                if __out.is_none() {
                    match $crate::__private::Future::poll(__fut.as_mut(), $cx) {
                        $crate::__private::Poll::Ready(::core::result::Result::Ok(v)) => {
                            __out = ::core::option::Option::Some(v)
                        }
                        $crate::__private::Poll::Ready(::core::result::Result::Err(e)) => {
                            return $crate::__private::Poll::Ready(
                                ::core::result::Result::Err(e),
                            );
                        }
                        $crate::__private::Poll::Pending => $pending = true,
                    }
                }]
            [$($outs)* __out.take().expect("try_join! output"),];
            $($rest)*)
    };
    (@gen [$cx:ident $pending:ident]; [$($decls:tt)*] [$($polls:tt)*] [$($outs:tt)*];) => {{
        $($decls)*
        $crate::__private::poll_fn(|$cx| {
            let mut $pending = false;
            $($polls)*
            if $pending {
                $crate::__private::Poll::Pending
            } else {
                $crate::__private::Poll::Ready(::core::result::Result::Ok(($($outs)*)))
            }
        })
        .await
    }};
    ($($f:expr),* $(,)?) => {
        $crate::try_join!(@gen [__cx __pending]; [] [] []; $($f,)*)
    };
}

/// Pins values on the stack: `pin!(fut)` shadows `fut` with a `Pin<&mut _>`.
#[macro_export]
macro_rules! pin {
    ($($x:ident),* $(,)?) => {
        $(
            #[allow(unused_mut)]
            let mut $x = $crate::__private::pin!($x);
        )*
    };
    ($(let $x:ident = $init:expr;)*) => {
        $(
            let $x = $init;
            $crate::pin!($x);
        )*
    };
}
