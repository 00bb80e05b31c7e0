//! A bank account with a check-then-act race, found by `cargo detest`.
//!
//! `detest::sync` is std's in a normal build and detest's model under `cargo test` (Cargo.toml).
//! `withdraw` checks the balance under one lock and subtracts under another: two withdrawals
//! can both pass the check, and the account ends up overdrawn.

use detest::sync::Mutex;

pub struct Account {
    balance: Mutex<i64>,
}

impl Account {
    pub fn new(balance: i64) -> Self {
        Account {
            balance: Mutex::new(balance),
        }
    }

    /// Takes `amount` out if the balance covers it.
    pub fn withdraw(&self, amount: i64) -> bool {
        let enough = *self.balance.lock().unwrap() >= amount;
        // BUG: the lock is released here; another withdrawal can slip in.
        if enough {
            *self.balance.lock().unwrap() -= amount;
        }
        enough
    }

    pub fn balance(&self) -> i64 {
        *self.balance.lock().unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::Account;
    use detest::detest;
    use detest::sync::Arc;

    /// Two customers withdraw 80 from an account holding 100: one must be refused.
    #[detest(seeds = 1000, chaos)]
    fn never_overdrawn() {
        let account = Arc::new(Account::new(100));
        let other = account.clone();
        let t = detest::thread::spawn(move || other.withdraw(80));
        let mine = account.withdraw(80);
        let theirs = t.join().unwrap();
        assert!(
            account.balance() >= 0,
            "overdrawn: balance {}",
            account.balance()
        );
        assert!(mine ^ theirs, "exactly one withdrawal succeeds");
    }

    /// Without `seeds`, one deterministic run, like a normal test: sequential use is fine.
    #[detest]
    fn sequential_withdrawals() {
        let account = Account::new(100);
        assert!(account.withdraw(80));
        assert!(!account.withdraw(80));
    }
}
