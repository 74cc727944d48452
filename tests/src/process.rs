//! Child processes that cannot outlive the test process.
//!
//! Every child is started in its own process group (so Terraform's provider
//! plugins can be stopped together with it) from one long-lived spawner
//! thread, with the Linux parent-death signal set to SIGTERM: if the test
//! binary dies, even from SIGKILL, its emulators and Terraform runs are told
//! to stop. The death signal is tied to the thread that forked, which is why
//! all spawns go through a thread that lives as long as the process.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus};
use std::sync::OnceLock;
use std::sync::mpsc::{self, Sender};
use std::thread;
use std::time::{Duration, Instant};

type SpawnRequest = (Command, Sender<io::Result<Child>>);

/// Starts `cmd` in a new process group, tied to the lifetime of this process.
pub fn spawn_tied(mut cmd: Command) -> io::Result<Child> {
    cmd.process_group(0);
    set_parent_death_signal(&mut cmd);
    let (reply_tx, reply_rx) = mpsc::channel();
    spawner()?
        .send((cmd, reply_tx))
        .map_err(|_| io::Error::other("spawner thread has stopped"))?;
    reply_rx
        .recv()
        .map_err(|_| io::Error::other("spawner thread dropped the request"))?
}

fn spawner() -> io::Result<&'static Sender<SpawnRequest>> {
    static SPAWNER: OnceLock<Option<Sender<SpawnRequest>>> = OnceLock::new();
    SPAWNER
        .get_or_init(start_spawner)
        .as_ref()
        .ok_or_else(|| io::Error::other("could not start the spawner thread"))
}

fn start_spawner() -> Option<Sender<SpawnRequest>> {
    let (tx, rx) = mpsc::channel::<SpawnRequest>();
    thread::Builder::new()
        .name("eventpipe-tests-spawner".into())
        .spawn(move || {
            for (mut cmd, reply) in rx {
                // The requester may have given up; nothing to do then.
                let _ = reply.send(cmd.spawn());
            }
        })
        .ok()?;
    Some(tx)
}

#[cfg(target_os = "linux")]
fn set_parent_death_signal(cmd: &mut Command) {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs between fork and exec and only makes
    // async-signal-safe system calls (prctl, getppid).
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before prctl took effect.
            if libc::getppid() != parent {
                return Err(io::Error::other("parent exited during spawn"));
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn set_parent_death_signal(_cmd: &mut Command) {}

/// Waits for `child` to exit for at most `timeout`; `None` when it is still running.
pub fn wait_timeout(child: &mut Child, timeout: Duration) -> io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(5);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// Stops the child's whole process group: SIGTERM, then SIGKILL after `grace`.
/// Always reaps the child. Safe to call on a child that has already exited.
pub fn terminate_group(child: &mut Child, grace: Duration) -> io::Result<ExitStatus> {
    if let Some(status) = child.try_wait()? {
        kill_group(child, libc::SIGKILL);
        return Ok(status);
    }
    kill_group(child, libc::SIGTERM);
    if let Some(status) = wait_timeout(child, grace)? {
        kill_group(child, libc::SIGKILL);
        return Ok(status);
    }
    kill_group(child, libc::SIGKILL);
    child.wait()
}

/// Sends `signal` to every process left in the child's group (the group id is
/// the child's pid, see `spawn_tied`). Errors (e.g. an empty group) are ignored.
pub fn kill_group(child: &Child, signal: libc::c_int) {
    let Ok(pgid) = libc::pid_t::try_from(child.id()) else {
        return;
    };
    // SAFETY: plain system call; a negative pid addresses the process group.
    unsafe {
        libc::kill(-pgid, signal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slow_child_is_stopped_after_the_timeout() {
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        let mut child = spawn_tied(cmd).unwrap();
        assert!(
            wait_timeout(&mut child, Duration::from_millis(50))
                .unwrap()
                .is_none()
        );
        let status = terminate_group(&mut child, Duration::from_millis(200)).unwrap();
        assert!(!status.success());
    }

    #[test]
    fn a_quick_child_reports_its_exit_status() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "exit 3"]);
        let mut child = spawn_tied(cmd).unwrap();
        let status = wait_timeout(&mut child, Duration::from_secs(10))
            .unwrap()
            .unwrap();
        assert_eq!(status.code(), Some(3));
    }
}
