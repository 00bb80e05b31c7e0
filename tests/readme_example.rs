//! The README's first test, kept compiling and kept failing the way the README says: the race
//! is found by the sweep (here as an expectation, so this test passes when it is found).

use detest::sync::{Arc, Mutex};
use detest::{detest, thread};

#[detest(
    seeds = 1000,
    chaos,
    expect = "panic",
    expect_message = "assertion `left == right` failed"
)]
fn transfers_keep_the_total() {
    let accounts = Arc::new([Mutex::new(100), Mutex::new(0)]);
    let a = accounts.clone();
    let t = thread::spawn(move || {
        let balance = *a[0].lock().unwrap(); // read under one lock...
        *a[0].lock().unwrap() = balance - 60; // ...written under another: a race
        *a[1].lock().unwrap() += 60;
    });
    *accounts[0].lock().unwrap() -= 30;
    t.join().unwrap();
    let total = *accounts[0].lock().unwrap() + *accounts[1].lock().unwrap();
    assert_eq!(total, 70);
}

/// Without the race (one lock held across the read and the write) no seed fails.
#[detest(seeds = 1000, chaos)]
fn transfers_under_one_lock_keep_the_total() {
    let accounts = Arc::new(Mutex::new([100, 0]));
    let a = accounts.clone();
    let t = thread::spawn(move || {
        let mut acc = a.lock().unwrap();
        acc[0] -= 60;
        acc[1] += 60;
    });
    accounts.lock().unwrap()[0] -= 30;
    t.join().unwrap();
    let acc = accounts.lock().unwrap();
    assert_eq!(acc[0] + acc[1], 70);
}
