//! Peak resident memory of provider processes Terraform starts.
//!
//! The filesystem mirror holds a small script instead of the provider: it
//! execs this bench binary in wrapper mode, which runs the real provider as
//! its child with the same stdio and environment, waits for it, and appends
//! the child's peak RSS (`ru_maxrss` from `wait4`, exact, no polling) to a
//! log file. Terraform talks to the real provider through the inherited
//! stdout, so only one extra fork+exec is added per provider start.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The first argument that switches the bench binary into wrapper mode.
pub const WRAP_ARG: &str = "__rss-wrap";

/// Wrapper mode: `bench __rss-wrap <provider> <log> [args...]`.
pub fn wrap(args: &[String]) -> Result<i32> {
    let [provider, log, rest @ ..] = args else {
        bail!("usage: bench {WRAP_ARG} <provider> <log> [args...]");
    };
    let child = Command::new(provider)
        .args(rest)
        .spawn()
        .with_context(|| format!("starting {provider}"))?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child; both pointers are valid for the call.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if waited != pid {
        bail!("wait4: {}", std::io::Error::last_os_error());
    }
    let mut file = OpenOptions::new().create(true).append(true).open(log)?;
    writeln!(file, "{pid} {}", usage.ru_maxrss)?;
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        1
    };
    Ok(code)
}

/// A mirror whose provider is the wrapper script, and the log it writes.
pub struct RssMirror {
    pub mirror: tests::ProviderMirror,
    pub log: PathBuf,
    _dir: tempfile::TempDir,
}

impl RssMirror {
    pub fn new(provider: &Path) -> Result<RssMirror> {
        let dir = tempfile::Builder::new()
            .prefix("eventpipe-bench-rss-")
            .tempdir()?;
        let log = dir.path().join("rss.log");
        let me = std::env::current_exe()?;
        let script = dir.path().join("provider-wrapper.sh");
        fs::write(
            &script,
            format!(
                "#!/bin/sh\nexec {} {WRAP_ARG} {} {} \"$@\"\n",
                quote(&me),
                quote(provider),
                quote(&log)
            ),
        )?;
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755))?;
        let mirror = tests::ProviderMirror::create(dir.path(), &script)?;
        Ok(RssMirror {
            mirror,
            log,
            _dir: dir,
        })
    }

    /// Forgets the processes recorded so far.
    pub fn clear(&self) -> Result<()> {
        match fs::remove_file(&self.log) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    /// Peak RSS in bytes of each provider process recorded since [`RssMirror::clear`].
    pub fn peaks(&self) -> Result<Vec<f64>> {
        let text = match fs::read_to_string(&self.log) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e.into()),
        };
        Ok(text
            .lines()
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
            .map(|kb| kb * 1024.0)
            .collect())
    }

    /// The largest peak recorded since the last clear.
    pub fn max_peak(&self) -> Result<f64> {
        let peaks = self.peaks()?;
        if peaks.is_empty() {
            bail!("no provider process was recorded in {}", self.log.display());
        }
        Ok(peaks.into_iter().fold(0.0, f64::max))
    }
}

fn quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', "'\\''"))
}
