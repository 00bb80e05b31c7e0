// Like std's, detest's MutexGuard is not Send: it cannot move to another thread.
use detest::sync::{Arc, Mutex};

fn main() {
    detest::check(|| {
        let m = Arc::new(Mutex::new(0));
        let guard = m.lock().unwrap();
        detest::thread::spawn(move || drop(guard));
    });
}
