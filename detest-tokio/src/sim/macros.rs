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
    // ---- parsing: branches become `{ [pattern tokens] (future) (precondition) (handler) }` --
    // The pattern is kept as raw tokens (up to the branch's `=`), so that the readiness check
    // can match it by reference with its `mut`s removed (`__select_check_pattern!`).
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
    (@parse $biased:tt; [$($b:tt)*]; [$($e:tt)*]; $($rest:tt)+) => {
        $crate::select!(@pat $biased; [$($b)*]; [$($e)*]; []; $($rest)+)
    };
    (@pat $biased:tt; [$($b:tt)*]; [$($e:tt)*]; [$($p:tt)+]; = $($rest:tt)*) => {
        $crate::select!(@branch $biased; [$($b)*]; [$($e)*]; [$($p)+]; $($rest)*)
    };
    (@pat $biased:tt; [$($b:tt)*]; [$($e:tt)*]; [$($p:tt)*]; $t:tt $($rest:tt)*) => {
        $crate::select!(@pat $biased; [$($b)*]; [$($e)*]; [$($p)* $t]; $($rest)*)
    };
    (@branch $biased:tt; [$($b:tt)*]; [$($e:tt)*]; $p:tt;
        $f:expr, if $c:expr => $h:block, $($rest:tt)*) => {
        $crate::select!(@parse $biased; [$($b)* {$p ($f) ($c) ($h)}]; [$($e)*]; $($rest)*)
    };
    (@branch $biased:tt; [$($b:tt)*]; [$($e:tt)*]; $p:tt;
        $f:expr, if $c:expr => $h:block $($rest:tt)*) => {
        $crate::select!(@parse $biased; [$($b)* {$p ($f) ($c) ($h)}]; [$($e)*]; $($rest)*)
    };
    (@branch $biased:tt; [$($b:tt)*]; [$($e:tt)*]; $p:tt;
        $f:expr, if $c:expr => $h:expr, $($rest:tt)*) => {
        $crate::select!(@parse $biased; [$($b)* {$p ($f) ($c) ($h)}]; [$($e)*]; $($rest)*)
    };
    (@branch $biased:tt; [$($b:tt)*]; [$($e:tt)*]; $p:tt; $f:expr, if $c:expr => $h:expr) => {
        $crate::select!(@parse $biased; [$($b)* {$p ($f) ($c) ($h)}]; [$($e)*];)
    };
    (@branch $biased:tt; [$($b:tt)*]; [$($e:tt)*]; $p:tt; $f:expr => $h:block, $($rest:tt)*) => {
        $crate::select!(@parse $biased; [$($b)* {$p ($f) (true) ($h)}]; [$($e)*]; $($rest)*)
    };
    (@branch $biased:tt; [$($b:tt)*]; [$($e:tt)*]; $p:tt; $f:expr => $h:block $($rest:tt)*) => {
        $crate::select!(@parse $biased; [$($b)* {$p ($f) (true) ($h)}]; [$($e)*]; $($rest)*)
    };
    (@branch $biased:tt; [$($b:tt)*]; [$($e:tt)*]; $p:tt; $f:expr => $h:expr, $($rest:tt)*) => {
        $crate::select!(@parse $biased; [$($b)* {$p ($f) (true) ($h)}]; [$($e)*]; $($rest)*)
    };
    (@branch $biased:tt; [$($b:tt)*]; [$($e:tt)*]; $p:tt; $f:expr => $h:expr) => {
        $crate::select!(@parse $biased; [$($b)* {$p ($f) (true) ($h)}]; [$($e)*];)
    };

    // ---- generation: one step per branch, accumulating its declarations, poll and handler --
    (@gen $biased:tt; [$($e:tt)*]; [$cx:ident $pending:ident $w:ident]; [$($idx:tt)*];
        [$($outs:tt)*] [$($futs:tt)*] [$($polls:tt)*] [$($handlers:tt)*];
        {[$($p:tt)+] ($f:expr) ($c:expr) ($h:expr)} $($rest:tt)*) => {
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
                                let __matches = match &v {
                                    $crate::__select_check_pattern!([] [] $($p)+) => true,
                                    _ => false,
                                };
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
                        $($p)+ => $h,
                        _ => ::core::unreachable!(),
                    }
                }];
            $($rest)*)
    };
    (@gen $biased:tt; [$($e:tt)*]; [$cx:ident $pending:ident $w:ident]; [$($n:tt)*];
        [$($outs:tt)*] [$($futs:tt)*] [$($polls:tt)*] [$($handlers:tt)*];) => {{
        const __N: usize = $($n)*;
        $($outs)*
        // A branch whose output is `!` makes what follows its poll unreachable (as tokio).
        #[allow(unreachable_code)]
        let $w: usize = {
            $($futs)*
            $crate::__private::poll_fn(|$cx| {
                // As tokio's: with the coop budget spent, a `select!` yields before polling.
                ::std::task::ready!($crate::__private::poll_budget_available($cx));
                let mut $pending = false;
                let start = if $biased { 0 } else { $crate::__private::select_start(__N) };
                for b in $crate::__private::poll_order(start, __N) {
                    match b {
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
        #[allow(unreachable_code)]
        let __value = match $w {
            $($handlers)*
            _ => $crate::select!(@else $($e)*),
        };
        __value
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

/// A `select!` branch's pattern without its `mut`s, to test the output by reference (as
/// tokio's `select_priv_clean_pattern`): `Some(mut x)` becomes `Some(x)`, `ref mut x` becomes
/// `ref x`. A token muncher with an explicit stack of the groups it is inside.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_check_pattern {
    ([$($stack:tt)*] [$($cur:tt)*] mut $($rest:tt)*) => {
        $crate::__select_check_pattern!([$($stack)*] [$($cur)*] $($rest)*)
    };
    ([$($stack:tt)*] [$($cur:tt)*] ($($g:tt)*) $($rest:tt)*) => {
        $crate::__select_check_pattern!([{paren [$($cur)*] [$($rest)*]} $($stack)*] [] $($g)*)
    };
    ([$($stack:tt)*] [$($cur:tt)*] [$($g:tt)*] $($rest:tt)*) => {
        $crate::__select_check_pattern!([{bracket [$($cur)*] [$($rest)*]} $($stack)*] [] $($g)*)
    };
    ([$($stack:tt)*] [$($cur:tt)*] {$($g:tt)*} $($rest:tt)*) => {
        $crate::__select_check_pattern!([{brace [$($cur)*] [$($rest)*]} $($stack)*] [] $($g)*)
    };
    ([$($stack:tt)*] [$($cur:tt)*] $t:tt $($rest:tt)*) => {
        $crate::__select_check_pattern!([$($stack)*] [$($cur)* $t] $($rest)*)
    };
    ([{paren [$($up:tt)*] [$($more:tt)*]} $($stack:tt)*] [$($cur:tt)*]) => {
        $crate::__select_check_pattern!([$($stack)*] [$($up)* ($($cur)*)] $($more)*)
    };
    ([{bracket [$($up:tt)*] [$($more:tt)*]} $($stack:tt)*] [$($cur:tt)*]) => {
        $crate::__select_check_pattern!([$($stack)*] [$($up)* [$($cur)*]] $($more)*)
    };
    ([{brace [$($up:tt)*] [$($more:tt)*]} $($stack:tt)*] [$($cur:tt)*]) => {
        $crate::__select_check_pattern!([$($stack)*] [$($up)* {$($cur)*}] $($more)*)
    };
    ([] [$($cur:tt)*]) => {
        $($cur)*
    };
}

/// Polls every future concurrently (on the current task) and returns all outputs as a tuple.
/// As tokio's, each poll starts from the next future in turn (`biased;`: always the first).
#[macro_export]
macro_rules! join {
    (biased; $($f:expr),* $(,)?) => {
        $crate::__join_impl!(@gen plain true; [__cx __pending __rot]; [0]; [] [] [];
            $($f,)*)
    };
    ($($f:expr),* $(,)?) => {
        $crate::__join_impl!(@gen plain false; [__cx __pending __rot]; [0]; [] [] [];
            $($f,)*)
    };
}

/// As [`join!`] for futures of `Result`s: the first `Err` is returned at once.
#[macro_export]
macro_rules! try_join {
    (biased; $($f:expr),* $(,)?) => {
        $crate::__join_impl!(@gen try true; [__cx __pending __rot]; [0]; [] [] [];
            $($f,)*)
    };
    ($($f:expr),* $(,)?) => {
        $crate::__join_impl!(@gen try false; [__cx __pending __rot]; [0]; [] [] [];
            $($f,)*)
    };
}

/// `join!` and `try_join!`: one step per future (its own `__fut` and `__out`, by hygiene).
#[doc(hidden)]
#[macro_export]
macro_rules! __join_impl {
    (@ready plain $out:ident $v:ident) => {
        $out = ::core::option::Option::Some($v)
    };
    (@ready try $out:ident $v:ident) => {
        match $v {
            ::core::result::Result::Ok(v) => $out = ::core::option::Option::Some(v),
            ::core::result::Result::Err(e) => {
                return $crate::__private::Poll::Ready(::core::result::Result::Err(e));
            }
        }
    };
    (@done plain $t:expr) => {
        $t
    };
    (@done try $t:expr) => {
        ::core::result::Result::Ok($t)
    };
    (@gen $mode:ident $biased:tt; [$cx:ident $pending:ident $rot:ident]; [$($idx:tt)*];
        [$($decls:tt)*] [$($polls:tt)*] [$($outs:tt)*]; $f:expr, $($rest:tt)*) => {
        $crate::__join_impl!(@gen $mode $biased; [$cx $pending $rot]; [$($idx)* + 1];
            [$($decls)*
                let mut __fut = $crate::__private::pin!($f);
                let mut __out = ::core::option::Option::None;]
            [$($polls)*
                __b if __b == ($($idx)*) => {
                    if __out.is_none() {
                        match $crate::__private::Future::poll(__fut.as_mut(), $cx) {
                            $crate::__private::Poll::Ready(v) => {
                                $crate::__join_impl!(@ready $mode __out v)
                            }
                            $crate::__private::Poll::Pending => $pending = true,
                        }
                    }
                }]
            [$($outs)* __out.take().expect("join! output"),];
            $($rest)*)
    };
    (@gen $mode:ident $biased:tt; [$cx:ident $pending:ident $rot:ident]; [$($n:tt)*];
        [$($decls:tt)*] [$($polls:tt)*] [$($outs:tt)*];) => {{
        const __N: usize = $($n)*;
        $($decls)*
        let mut $rot = 0usize;
        $crate::__private::poll_fn(|$cx| {
            let mut $pending = false;
            let start = if $biased { 0 } else { $rot };
            $rot = $rot.wrapping_add(1);
            for b in $crate::__private::poll_order(start, __N) {
                match b {
                    $($polls)*
                    _ => ::core::unreachable!(),
                }
            }
            if $pending {
                $crate::__private::Poll::Pending
            } else {
                $crate::__private::Poll::Ready($crate::__join_impl!(@done $mode ($($outs)*)))
            }
        })
        .await
    }};
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
