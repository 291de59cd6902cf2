//! Who runs a sync: `host:pid:start` (the process start time tells a reused pid apart), so a
//! run left `running` by a process that is gone can be told from one still in progress.

use std::sync::OnceLock;

/// This process, as recorded in `sync_runs.owner`.
pub(crate) fn current() -> &'static str {
    static OWNER: OnceLock<String> = OnceLock::new();
    OWNER.get_or_init(|| {
        let pid = std::process::id();
        format!("{}:{pid}:{}", host(), start_time(pid).unwrap_or_default())
    })
}

/// Whether the process recorded as `owner` is certainly gone. A run of another host, or an
/// owner that does not read, is never declared dead (it may be running).
pub(crate) fn is_dead(owner: &str) -> bool {
    let mut parts = owner.rsplitn(3, ':');
    let (Some(start), Some(pid), Some(host_name)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else {
        return false;
    };
    if host_name != host() {
        return false;
    }
    if !alive(pid) {
        return true;
    }
    // The pid is in use: by the same process only if it started at the same time.
    match start_time(pid) {
        Some(now) if !start.is_empty() => now != start,
        _ => false,
    }
}

/// Whether `owner` names a process of this host.
pub(crate) fn is_this_host(owner: &str) -> bool {
    owner.rsplitn(3, ':').nth(2) == Some(host().as_str())
}

fn host() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that much.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).replace(':', "_")
}

fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return true;
    };
    // SAFETY: signal 0 only checks that the process exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// The process start time in clock ticks since boot (Linux `/proc/<pid>/stat` field 22).
fn start_time(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_gone_one_is_dead() {
        assert!(!is_dead(current()));
        // pid 0 never names a user process; a pid past the kernel's maximum never exists.
        let gone = format!("{}:{}:1", host(), 0x3fff_fff0u32);
        assert!(is_dead(&gone));
        // Another host, or garbage: unknown, so not dead.
        assert!(!is_dead("some-other-host:1:1"));
        assert!(!is_dead("garbage"));
        // Our pid with another start time: the pid was reused.
        let reused = format!("{}:{}:0", host(), std::process::id());
        assert!(is_dead(&reused));
    }
}
