//! Dining philosophers who all pick up their left fork first: a lock-order cycle that deadlocks
//! in a few interleavings. `cargo run --example dining_philosophers` finds one and prints who
//! waits on what.

use detest::sync::{Arc, Mutex};
use detest::{thread, Config, FailureKind, Policy};

const PHILOSOPHERS: usize = 3;

pub fn dinner() {
    let forks: Arc<Vec<Mutex<()>>> = Arc::new((0..PHILOSOPHERS).map(|_| Mutex::new(())).collect());
    let diners: Vec<_> = (0..PHILOSOPHERS)
        .map(|i| {
            let forks = forks.clone();
            thread::Builder::new()
                .name(format!("philosopher {i}"))
                .spawn(move || {
                    let left = forks[i].lock().unwrap();
                    let right = forks[(i + 1) % PHILOSOPHERS].lock().unwrap();
                    drop((left, right)); // eat
                })
                .unwrap()
        })
        .collect();
    for d in diners {
        d.join().unwrap();
    }
}

fn main() {
    let report = Config::new().seeds(1000).policy(Policy::Chaos).run(dinner);
    println!(
        "{} executions, {} failures",
        report.executions,
        report.failures.len()
    );
    match report.failures.first() {
        Some(failure) if failure.kind == FailureKind::Deadlock => {
            print!("{}", detest::render::failure_block(failure, None));
        }
        other => {
            eprintln!("expected a deadlock, got {other:?}");
            std::process::exit(1);
        }
    }
}
