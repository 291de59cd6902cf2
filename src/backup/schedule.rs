//! The periodic backup: a task on the shared runtime that backs up, then cleans up, every
//! interval; stoppable; each run's outcome goes to the monitor (as a sync run of kind
//! `backup`) and to the log, so a failing backup shows in the health score and alerts.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::watch;

use super::{BackupManager, CreateOptions};
use crate::error::{Error, Result};

/// Options of [`BackupManager::schedule`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ScheduleOptions {
    /// Time between the starts of two runs (at least one second).
    pub interval: Duration,
    /// Cleanup's retention, in days.
    pub retention_days: f64,
    /// Cleanup keeps at least this many backups.
    pub keep_min: usize,
    /// What each backup holds.
    pub create: CreateOptions,
    /// Run once at start (default), or wait one interval first.
    pub run_immediately: bool,
}

impl Default for ScheduleOptions {
    fn default() -> Self {
        ScheduleOptions {
            interval: Duration::from_secs(24 * 3600),
            retention_days: 30.0,
            keep_min: 1,
            create: CreateOptions::default(),
            run_immediately: true,
        }
    }
}

/// What the schedule has done so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ScheduleStatus {
    /// Runs finished.
    pub runs: u64,
    /// Runs that failed.
    pub failures: u64,
    /// The file name of the latest backup written.
    pub last_backup: Option<String>,
    /// The error of the latest failed run.
    pub last_error: Option<String>,
    /// Backups deleted by the cleanups.
    pub deleted: u64,
    /// Whether the task is still running.
    pub running: bool,
}

/// A running schedule. Dropping it stops the schedule (without waiting).
///
/// The schedule's task runs in the process that started it: in a forked child (a gunicorn
/// worker of a `--preload` master) the copy reports `running: false` and stops at once.
pub struct BackupSchedule {
    stop: watch::Sender<bool>,
    status: Arc<Mutex<ScheduleStatus>>,
    done: Arc<(Mutex<bool>, std::sync::Condvar)>,
    generation: u64,
}

impl std::fmt::Debug for BackupSchedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackupSchedule")
            .field("status", &self.status())
            .finish()
    }
}

impl BackupSchedule {
    /// A copy of the status.
    pub fn status(&self) -> ScheduleStatus {
        let mut status = self
            .status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        status.running &= !self.forked();
        status
    }

    /// True in a forked child of the process that started the schedule.
    fn forked(&self) -> bool {
        self.generation != crate::runtime::fork_generation()
    }

    /// Ask the schedule to stop; a run in progress finishes first. Returns at once.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Stop and wait (at most `timeout`) until the task has ended; true when it has.
    pub fn stop_and_wait(&self, timeout: Duration) -> bool {
        self.stop();
        if self.forked() {
            return true;
        }
        let (lock, cvar) = &*self.done;
        let guard = lock.lock().unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = cvar
            .wait_timeout_while(guard, timeout, |done| !*done)
            .unwrap_or_else(PoisonError::into_inner);
        *guard
    }
}

impl Drop for BackupSchedule {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run_once(manager: &BackupManager, options: &ScheduleOptions, status: &Mutex<ScheduleStatus>) {
    let started = Instant::now();
    let outcome = manager.create(&options.create).and_then(|info| {
        let cleaned = manager.cleanup(options.retention_days, options.keep_min)?;
        Ok((info, cleaned))
    });
    let rows;
    {
        let mut s = status.lock().unwrap_or_else(PoisonError::into_inner);
        s.runs += 1;
        match &outcome {
            Ok((info, cleaned)) => {
                s.last_backup = Some(info.filename.clone());
                s.deleted += cleaned.deleted.len() as u64;
                rows = info.counts.values().sum();
            }
            Err(e) => {
                s.failures += 1;
                s.last_error = Some(e.to_string());
                rows = 0;
            }
        }
    }
    match &outcome {
        Ok((info, _)) => log::info!("scheduled backup {} written", info.filename),
        Err(e) => log::warn!("scheduled backup failed: {e}"),
    }
    if let Some(monitor) = manager.monitor() {
        monitor.record_sync("backup", outcome.is_ok(), started.elapsed(), rows);
    }
}

pub(super) fn start(manager: BackupManager, options: ScheduleOptions) -> Result<BackupSchedule> {
    if options.interval < Duration::from_secs(1) {
        return Err(Error::invalid_argument(format!(
            "backup interval must be at least 1 s, got {:?}",
            options.interval
        )));
    }
    if !options.retention_days.is_finite() || options.retention_days < 0.0 {
        return Err(Error::invalid_argument(format!(
            "retention_days must be a number >= 0, got {}",
            options.retention_days
        )));
    }
    let (stop, mut stopped) = watch::channel(false);
    let status = Arc::new(Mutex::new(ScheduleStatus {
        running: true,
        ..ScheduleStatus::default()
    }));
    let done = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
    let (task_status, task_done) = (status.clone(), done.clone());
    crate::runtime::handle().spawn(async move {
        let mut first = options.run_immediately;
        loop {
            if !first {
                tokio::select! {
                    _ = tokio::time::sleep(options.interval) => {}
                    _ = stopped.wait_for(|s| *s) => break,
                }
            }
            first = false;
            if *stopped.borrow() {
                break;
            }
            let (m, o, s) = (manager.clone(), options.clone(), task_status.clone());
            // Backups are blocking work (SQLite, gzip, fsync): off the async workers.
            if let Err(e) = tokio::task::spawn_blocking(move || run_once(&m, &o, &s)).await {
                log::error!("scheduled backup task panicked: {e}");
            }
        }
        task_status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .running = false;
        let (lock, cvar) = &*task_done;
        *lock.lock().unwrap_or_else(PoisonError::into_inner) = true;
        cvar.notify_all();
    });
    Ok(BackupSchedule {
        stop,
        status,
        done,
        generation: crate::runtime::fork_generation(),
    })
}
