//! The one tokio runtime of the process.
//!
//! Built on first use (never at import or load), shared by the blocking facades, the C calls
//! and Python's awaitables. It survives `fork()`: gunicorn-style servers import the module and
//! then fork workers, and a child must not use the parent's runtime, whose worker threads do
//! not exist in the child. The runtime remembers the pid that built it; a different pid builds
//! a fresh one (the parent's copy is leaked on purpose: dropping it would try to join threads
//! that are not there).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once};

use tokio::runtime::{Builder, Handle, Runtime};

struct Shared {
    pid: u32,
    runtime: &'static Runtime,
}

static RUNTIME: Mutex<Option<Shared>> = Mutex::new(None);

/// Bumped in the child of every `fork()` (a `pthread_atfork` child handler, registered when
/// the first runtime is built): anything bound to the parent's runtime (connection pools,
/// timers, tasks) compares the generation it was made in with [`fork_generation`] and builds
/// itself anew when they differ.
static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);
static ATFORK: Once = Once::new();

type RuntimeGuard = std::sync::MutexGuard<'static, Option<Shared>>;

// A runtime thread may be inside `runtime()` (holding the slot's lock) at the instant another
// thread forks; the child would inherit a lock that no thread of its own will release. The
// forking thread therefore holds the lock across `fork()`.
thread_local! {
    static HELD_ACROSS_FORK: std::cell::RefCell<Option<RuntimeGuard>> =
        const { std::cell::RefCell::new(None) };
}

extern "C" fn before_fork() {
    let guard = RUNTIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    HELD_ACROSS_FORK.with(|held| *held.borrow_mut() = Some(guard));
}

extern "C" fn after_fork_in_parent() {
    HELD_ACROSS_FORK.with(|held| drop(held.borrow_mut().take()));
}

extern "C" fn after_fork_in_child() {
    FORK_GENERATION.fetch_add(1, Ordering::SeqCst);
    // Only unlocks (the guard was taken by this very thread before the fork).
    HELD_ACROSS_FORK.with(|held| drop(held.borrow_mut().take()));
}

/// Start counting forks (idempotent): called before anything fork-sensitive is built.
pub fn watch_forks() {
    ATFORK.call_once(|| {
        // SAFETY: the handlers do an atomic add and lock/unlock one mutex, nothing else.
        unsafe {
            libc::pthread_atfork(
                Some(before_fork),
                Some(after_fork_in_parent),
                Some(after_fork_in_child),
            );
        }
    });
}

/// How many `fork()`s separate this process from the one that first built a runtime (0 in
/// that process). Cheap: one atomic load.
pub fn fork_generation() -> u64 {
    FORK_GENERATION.load(Ordering::SeqCst)
}

/// The shared runtime for this process, built on first use (and again in a forked child).
pub fn runtime() -> &'static Runtime {
    watch_forks();
    let pid = std::process::id();
    let mut slot = RUNTIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(shared) = slot.as_ref() {
        if shared.pid == pid {
            return shared.runtime;
        }
    }
    let built = Builder::new_multi_thread()
        .enable_all()
        .thread_name("magflow-emag")
        .build()
        // Building a runtime fails only when the OS refuses threads or an epoll fd: nothing
        // can work then, and the message says why.
        .unwrap_or_else(|e| panic!("magflow-emag: cannot start the tokio runtime: {e}"));
    let runtime: &'static Runtime = Box::leak(Box::new(built));
    *slot = Some(Shared { pid, runtime });
    runtime
}

/// A handle to the shared runtime.
pub fn handle() -> Handle {
    runtime().handle().clone()
}

/// Run a future to completion from synchronous code (Python with the GIL released, C, the
/// blocking Rust facade).
///
/// Called from inside a runtime (where `block_on` would panic), the future runs on a scoped
/// helper thread instead, so a blocking facade used from async code still works.
pub fn block_on<F>(future: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    if Handle::try_current().is_ok() {
        std::thread::scope(
            |scope| match scope.spawn(|| runtime().block_on(future)).join() {
                Ok(output) => output,
                Err(panic) => std::panic::resume_unwind(panic),
            },
        )
    } else {
        runtime().block_on(future)
    }
}

/// The pid that owns the current runtime, if one was built (for tests of fork safety).
pub fn owner_pid() -> Option<u32> {
    RUNTIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .as_ref()
        .map(|s| s.pid)
}

/// A value tied to the process's runtime (a connection pool registers its sockets with the
/// runtime's reactor): rebuilt on first use after a `fork()`, since the parent's pooled
/// connections would wait on a reactor that does not run in the child (a request then hung
/// for the whole timeout).
pub(crate) struct ForkAware<T: Clone> {
    build: Box<dyn Fn() -> crate::error::Result<T> + Send + Sync>,
    current: Mutex<(u64, T)>,
}

impl<T: Clone> ForkAware<T> {
    /// Build the value now, and keep `build` to build it again in a forked child.
    pub(crate) fn new(
        build: impl Fn() -> crate::error::Result<T> + Send + Sync + 'static,
    ) -> crate::error::Result<Self> {
        watch_forks();
        let value = build()?;
        Ok(ForkAware {
            build: Box::new(build),
            current: Mutex::new((fork_generation(), value)),
        })
    }

    /// The value of this process: built anew on the first call after a `fork()`.
    pub(crate) fn get(&self) -> crate::error::Result<T> {
        let generation = fork_generation();
        let mut current = self
            .current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if current.0 != generation {
            // The parent's value is leaked, not dropped: dropping a pool would touch sockets
            // and tasks of a runtime that does not exist here.
            let fresh = (self.build)()?;
            let stale = std::mem::replace(&mut current.1, fresh);
            std::mem::forget(stale);
            current.0 = generation;
        }
        Ok(current.1.clone())
    }
}
