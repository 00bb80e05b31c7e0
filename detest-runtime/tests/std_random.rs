//! OS randomness inside an execution comes from the seeded generator, recorded in the schedule
//! (glibc Linux): libc's `getrandom` and `getentropy`, the `getrandom` crate 0.2 (a raw system
//! call through libc's `syscall`) and 0.3 (libc's `getrandom`). std's `HashMap` keys stay
//! real, and the determinism check names them.
#![cfg(detest_std_env)]

use detest::sync::atomic::{AtomicUsize, Ordering};
use detest::Decision;
use detest::{Config, Policy};
use std::collections::HashMap;
use std::sync::Mutex;

/// 16 bytes from each path into the OS.
fn draw_everywhere() -> Vec<[u8; 16]> {
    let mut out = vec![[0u8; 16]; 4];
    getrandom::getrandom(&mut out[0]).unwrap();
    getrandom3::fill(&mut out[1]).unwrap();
    let n = unsafe { libc::getrandom(out[2].as_mut_ptr().cast(), 16, 0) };
    assert_eq!(n, 16);
    assert_eq!(
        unsafe { libc::getentropy(out[3].as_mut_ptr().cast(), 16) },
        0
    );
    out
}

#[test]
fn os_random_bytes_are_seeded_recorded_and_replayed() {
    let seen = Mutex::new(Vec::new());
    let body = || {
        let bytes = draw_everywhere();
        // The control flow depends on them too.
        if bytes[0][0] % 2 == 0 {
            detest::thread::yield_now();
        }
        seen.lock().unwrap().push(bytes);
    };
    let config = Config::new().policy(Policy::Chaos);
    let first = config.run_seed(11, body);
    assert!(first.failure.is_none(), "{:?}", first.failure);
    // 4 calls of 16 bytes: 2 draws each, in the schedule.
    let draws = |s: &detest::Schedule| {
        s.decisions()
            .iter()
            .filter(|d| matches!(d, Decision::Random(_)))
            .count()
    };
    assert_eq!(draws(&first.schedule), 8);
    let original = seen.lock().unwrap().last().cloned().unwrap();
    assert!(original.iter().all(|b| b != &[0u8; 16]));
    assert_ne!(original[0], original[1]);

    // The same seed again, and the schedule replayed (even as another seed): the same bytes.
    config.run_seed(11, body);
    assert_eq!(seen.lock().unwrap().last().unwrap(), &original);
    let replay = config.replay(&first.schedule, body);
    assert!(replay.failure.is_none(), "{:?}", replay.failure);
    assert_eq!(seen.lock().unwrap().last().unwrap(), &original);

    // Another seed, other bytes.
    config.run_seed(12, body);
    assert_ne!(seen.lock().unwrap().last().unwrap(), &original);

    // The draws are in the trace as random draws.
    let traced = Config::new().trace(true).run_seed(11, body);
    let rands = traced
        .trace
        .iter()
        .filter(|e| e.op == detest::trace::Op::Rand)
        .count();
    assert_eq!(rands, 8);
}

#[test]
fn outside_an_execution_os_randomness_is_real() {
    let inside = Mutex::new(Vec::new());
    Config::new().run_seed(11, || inside.lock().unwrap().push(draw_everywhere()));
    let a = draw_everywhere();
    let b = draw_everywhere();
    assert_ne!(a, b);
    assert!(inside.lock().unwrap().iter().all(|i| i != &a && i != &b));
    // `detest::env::real` inside an execution: real bytes, no draw recorded.
    let exec = Config::new().run_seed(11, || {
        let r = detest::env::real(draw_everywhere);
        inside.lock().unwrap().push(r);
    });
    assert!(exec
        .schedule
        .decisions()
        .iter()
        .all(|d| !matches!(d, Decision::Random(_))));
    let real = inside.lock().unwrap().last().cloned().unwrap();
    assert_ne!(real, inside.lock().unwrap()[0]);
}

#[test]
fn a_test_steered_by_os_randomness_is_deterministic() {
    let body = || {
        let mut b = [0u8; 8];
        getrandom::getrandom(&mut b).unwrap();
        let n = AtomicUsize::new(0);
        for _ in 0..(b[0] % 16) {
            n.fetch_add(1, Ordering::SeqCst);
        }
        let t = detest::thread::spawn(move || {
            let mut c = [0u8; 4];
            getrandom3::fill(&mut c).unwrap();
            c[0]
        });
        t.join().unwrap();
    };
    for seed in 0..3 {
        let report = Config::new()
            .policy(Policy::Chaos)
            .check_determinism(seed, 50, body);
        assert!(report.is_deterministic(), "{}", report.render());
    }
}

/// std's `RandomState` keys come from `getrandom(.., GRND_INSECURE)` once per OS thread and
/// are cached, so they cannot follow the seed: a path that depends on a `HashMap`'s order
/// differs from run to run, and the determinism check says so, naming the map.
#[test]
fn a_hash_maps_order_is_named_by_the_determinism_check() {
    let body = || {
        let map: HashMap<u32, u32> = (0..16).map(|k| (k, k)).collect();
        let first = *map.keys().next().unwrap();
        let n = AtomicUsize::new(0);
        for _ in 0..first {
            n.fetch_add(1, Ordering::SeqCst);
        }
    };
    let report = Config::new().check_determinism(0, 30, body);
    assert!(!report.is_deterministic(), "{}", report.render());
    let rendered = report.render();
    assert!(rendered.contains("HashMap"), "{rendered}");
    // And no draw was spent on the keys (the schedule has none to replay).
    let exec = Config::new().run_seed(0, body);
    assert!(exec
        .schedule
        .decisions()
        .iter()
        .all(|d| !matches!(d, Decision::Random(_))));
}
