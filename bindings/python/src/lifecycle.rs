//! The interpreter's exit, seen from the runtime's threads.
//!
//! A runtime thread that touches Python while `Py_Finalize` runs kills the process (CPython
//! ends such a thread with `pthread_exit`, which aborts through Rust frames, or it finds freed
//! state: SIGSEGV/SIGABRT, seen in about half of the scripts ending with
//! `asyncio.run(<an awaitable of ours>)`). So an `atexit` handler, which runs before
//! finalization starts, (1) marks Python as finishing: log records and callbacks from Rust
//! threads are dropped from then on, and (2) aborts the awaitables' tasks still in flight and
//! waits for each to be gone (with the GIL released, so that one in the middle of handing its
//! result to Python can finish). After it returns no runtime thread enters Python again.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, LazyLock, Mutex};
use std::time::{Duration, Instant};

use pyo3::prelude::*;

static FINISHING: AtomicBool = AtomicBool::new(false);

/// How long the exit handler waits for tasks to be gone before letting the exit go on.
const EXIT_WAIT: Duration = Duration::from_secs(5);

/// A task in flight: the fork generation it was spawned in, and its abort handle (None until
/// the spawn returned it).
type Entry = (u64, Option<tokio::task::AbortHandle>);

/// The awaitables' tasks in flight, by id.
struct InFlight {
    tasks: Mutex<HashMap<u64, Entry>>,
    gone: Condvar,
}

static IN_FLIGHT: LazyLock<InFlight> = LazyLock::new(|| InFlight {
    tasks: Mutex::new(HashMap::new()),
    gone: Condvar::new(),
});
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

type TasksGuard = std::sync::MutexGuard<'static, HashMap<u64, Entry>>;

fn tasks() -> TasksGuard {
    IN_FLIGHT
        .tasks
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

// A runtime thread drops a finished task's registration (under the lock) just after its result
// reached Python; a fork at that instant would give the child a lock held by a thread it does
// not have, and the child's first awaitable would wait forever. So the forking thread holds the
// lock across `fork()` (pthread_atfork: taken in prepare, released in the parent and the child).
thread_local! {
    static HELD_ACROSS_FORK: std::cell::RefCell<Option<TasksGuard>> =
        const { std::cell::RefCell::new(None) };
}

extern "C" fn before_fork() {
    let guard = tasks();
    HELD_ACROSS_FORK.with(|held| *held.borrow_mut() = Some(guard));
}

extern "C" fn after_fork() {
    HELD_ACROSS_FORK.with(|held| drop(held.borrow_mut().take()));
}

fn hold_tasks_across_forks() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: the handlers only lock and unlock the tasks mutex (no allocation in the child
        // beyond what the guard's drop does: none).
        unsafe {
            libc::pthread_atfork(Some(before_fork), Some(after_fork), Some(after_fork));
        }
    });
}

/// Dropped with its task's future (finished, aborted or never polled).
struct Registration(u64);

impl Drop for Registration {
    fn drop(&mut self) {
        tasks().remove(&self.0);
        IN_FLIGHT.gone.notify_all();
    }
}

/// True once the interpreter is exiting: Rust threads must not enter Python any more.
pub fn python_finishing() -> bool {
    FINISHING.load(Ordering::SeqCst)
}

/// Run `f` with the GIL, unless the interpreter is exiting (then `None`): for log records and
/// callbacks that Rust threads deliver to Python.
pub fn attach_unless_finishing<R>(f: impl for<'py> FnOnce(Python<'py>) -> R) -> Option<R> {
    if python_finishing() {
        return None;
    }
    Some(Python::attach(f))
}

/// Spawn an awaitable's task on the shared runtime, tracked so that the exit can stop it.
pub fn spawn_tracked<F>(fut: F) -> tokio::task::JoinHandle<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    tasks().insert(id, (magflow_emag::runtime::fork_generation(), None));
    let registration = Registration(id);
    let handle = magflow_emag::runtime::handle().spawn(async move {
        let _registration = registration;
        fut.await;
    });
    if let Some(entry) = tasks().get_mut(&id) {
        entry.1 = Some(handle.abort_handle());
    }
    handle
}

/// The `atexit` handler (registered when the module is imported).
#[pyfunction]
fn _at_exit(py: Python<'_>) {
    FINISHING.store(true, Ordering::SeqCst);
    log::set_max_level(log::LevelFilter::Off);
    py.detach(|| {
        let deadline = Instant::now() + EXIT_WAIT;
        let mut tasks = tasks();
        // A forked child inherits its parent's entries, whose tasks do not exist here.
        let generation = magflow_emag::runtime::fork_generation();
        tasks.retain(|_, entry| entry.0 == generation);
        for handle in tasks.values().filter_map(|entry| entry.1.as_ref()) {
            handle.abort();
        }
        while !tasks.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            tasks = IN_FLIGHT
                .gone
                .wait_timeout(tasks, left)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
    });
}

/// Tasks of awaitables still in flight (for the test probes).
#[cfg(feature = "probes")]
pub(crate) fn tasks_in_flight() -> usize {
    let generation = magflow_emag::runtime::fork_generation();
    tasks()
        .values()
        .filter(|entry| entry.0 == generation)
        .count()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    hold_tasks_across_forks();
    m.add_function(wrap_pyfunction!(_at_exit, m)?)?;
    let at_exit = m.getattr("_at_exit")?;
    m.py()
        .import("atexit")?
        .call_method1("register", (at_exit,))?;
    Ok(())
}
