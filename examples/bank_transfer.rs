//! A lost update: two tellers move money between accounts with a check-then-act on balances
//! read outside the lock. `cargo run --example bank_transfer` finds the interleaving that
//! creates money out of thin air, prints the report, and replays it.

use detest::sync::{Arc, Mutex};
use detest::{thread, Config, Policy};

struct Bank {
    accounts: Vec<Mutex<i64>>,
}

impl Bank {
    fn balance(&self, i: usize) -> i64 {
        *self.accounts[i].lock().unwrap()
    }

    /// The bug: the balance is read under one lock acquisition and written under another, so a
    /// concurrent transfer's update in between is lost.
    fn transfer(&self, from: usize, to: usize, amount: i64) {
        let available = self.balance(from);
        if available >= amount {
            *self.accounts[from].lock().unwrap() = available - amount;
            *self.accounts[to].lock().unwrap() += amount;
        }
    }
}

pub fn scenario() {
    let bank = Arc::new(Bank {
        accounts: vec![Mutex::new(100), Mutex::new(0), Mutex::new(0)],
    });
    let tellers: Vec<_> = [(0, 1, 60), (0, 2, 30)]
        .into_iter()
        .map(|(from, to, amount)| {
            let bank = bank.clone();
            thread::spawn(move || bank.transfer(from, to, amount))
        })
        .collect();
    for t in tellers {
        t.join().unwrap();
    }
    let total: i64 = (0..3).map(|i| bank.balance(i)).sum();
    assert_eq!(total, 100, "money was created or destroyed");
}

fn main() {
    let report = Config::new()
        .seeds(1000)
        .policy(Policy::Chaos)
        .run(scenario);
    println!(
        "{} executions, {} failures",
        report.executions,
        report.failures.len()
    );
    let Some(failure) = report.failures.first() else {
        eprintln!("detest did not find the lost update");
        std::process::exit(1);
    };
    print!("{}", detest::render::failure_block(failure, None));
    let replay = Config::new().replay(&failure.schedule, scenario);
    let again = replay.failure.expect("the schedule replays the failure");
    assert_eq!(again.message, failure.message);
    println!("replayed the schedule: same failure ({})", again.message);
}
