//! A task that overflows its coroutine stack is named, with the `stack_size` to raise, and the
//! process still dies by the signal. The overflow runs in a child: this test binary re-executes
//! itself with `DETEST_TEST_OVERFLOW` set, running only the `child` test.

use std::os::unix::process::ExitStatusExt;
use std::process::Command;

const CHILD_ENV: &str = "DETEST_TEST_OVERFLOW_CHILD";

/// Deep enough for any small stack; each frame keeps a buffer alive so it cannot be folded.
#[inline(never)]
fn recurse(n: u64) -> u64 {
    let buf = std::hint::black_box([n; 32]);
    if n == 0 {
        return buf[0];
    }
    recurse(n - 1).wrapping_add(std::hint::black_box(buf)[7])
}

/// Runs only in the child: overflows the stack of a named task.
#[test]
fn child() {
    let Ok(which) = std::env::var(CHILD_ENV) else {
        return;
    };
    let config = detest::Config::new().stack_size(64 * 1024);
    config.run(move || match which.as_str() {
        "main" => {
            recurse(10_000_000);
        }
        _ => {
            let t = detest::thread::Builder::new()
                .name("deep".to_owned())
                .spawn(|| {
                    recurse(10_000_000);
                })
                .unwrap();
            t.join().unwrap();
        }
    });
    unreachable!("the overflow should have killed the process");
}

fn run_child(which: &str) -> (Option<i32>, String) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, which)
        .output()
        .unwrap();
    (
        out.status.signal(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_overflowing_task_is_named_with_the_stack_size_to_raise() {
    let (signal, stderr) = run_child("spawned");
    assert_eq!(signal, Some(libc::SIGSEGV), "{stderr}");
    assert!(
        stderr.contains("detest: stack overflow in task 1 (deep), on its 65536-byte stack"),
        "{stderr}"
    );
    assert!(
        stderr.contains("#[detest(stack_size = 131072)]"),
        "{stderr}"
    );

    let (signal, stderr) = run_child("main");
    assert_eq!(signal, Some(libc::SIGSEGV), "{stderr}");
    assert!(
        stderr.contains("detest: stack overflow in task 0,"),
        "{stderr}"
    );
}

#[test]
fn other_faults_are_left_to_the_previous_handler() {
    // Outside any detest stack: std's handler (the default action) still applies, and nothing
    // is blamed on a task.
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "wild_fault", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "wild")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.signal(), Some(libc::SIGSEGV), "{stderr}");
    assert!(!stderr.contains("stack overflow in task"), "{stderr}");
}

/// Runs only in the child: a fault at a wild address inside an execution.
#[test]
fn wild_fault() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    detest::Config::new().run(|| unsafe {
        std::ptr::read_volatile(std::hint::black_box(16usize) as *const u8);
    });
}
