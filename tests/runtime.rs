//! The shared runtime: one per process, usable from sync code and from inside async code.

use std::sync::Mutex;

use magflow_emag::runtime;

// fork() copies only the calling thread: no other test of this file may hold the runtime's
// lock at that moment, so the tests here run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

#[test]
fn one_runtime_is_shared() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let a = runtime::runtime() as *const _;
    let b = runtime::runtime() as *const _;
    assert_eq!(a, b);
    assert_eq!(runtime::owner_pid(), Some(std::process::id()));
}

#[test]
fn block_on_works_from_sync_and_from_inside_a_runtime() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    assert_eq!(runtime::block_on(async { 1 + 1 }), 2);
    let nested = runtime::runtime().block_on(async {
        // A blocking facade called from async code must not panic.
        runtime::block_on(async { 40 + 2 })
    });
    assert_eq!(nested, 42);
}

#[test]
fn a_forked_child_gets_a_fresh_runtime() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    runtime::block_on(async {});
    let parent_pid = std::process::id();
    // SAFETY: the child only runs async-signal-tolerant work for this test and exits with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let ok = runtime::owner_pid() == Some(parent_pid)
            && runtime::block_on(async {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                7
            }) == 7
            && runtime::owner_pid() == Some(std::process::id());
        // SAFETY: leave the child without running the parent's destructors.
        unsafe { libc::_exit(if ok { 0 } else { 1 }) };
    }
    let mut status = 0;
    // SAFETY: waiting for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child failed: {status}"
    );
}
