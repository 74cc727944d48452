//! Warnings the current Terraform command has already shown, so each shows
//! once.
//!
//! Terraform asks a provider to validate each resource in every walk of a
//! command, each walk with a provider process of its own: `terraform plan`
//! validates in its validate walk (the provider not configured, values from
//! variables still unknown) and again in its plan walk; `terraform apply`
//! plans once more in its apply walk. A warning would show once per walk.
//! Each process notes the warnings it returns in a file named after the
//! Terraform process that started it (its PID and start time, so a reused
//! PID starts afresh), and leaves out those an earlier process of the same
//! command returned for the same pipeline. Within one process nothing is
//! left out: two pipelines may have the same warning. Where the parent
//! cannot be identified (no `/proc`), or Terraform did not start the
//! process (a debug server), every warning is returned.

use std::collections::HashSet;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};
use tfsdk::diag::{Diagnostic, Diagnostics};

/// Notes of commands older than this are removed.
const KEEP: Duration = Duration::from_secs(24 * 3600);

/// The notes of the Terraform command this process serves.
#[derive(Debug, Default)]
pub struct Shown {
    /// The notes' file and what earlier processes noted, read once.
    earlier: OnceLock<Option<(PathBuf, HashSet<String>)>>,
    /// Taken to append; `true` once this process has swept old notes.
    writing: Mutex<bool>,
}

/// `<pid>-<start time>` of the Terraform process that started this one;
/// `None` when Terraform did not start it (a debug server someone started
/// serves several commands).
fn parent_run() -> Option<String> {
    std::env::var_os(tfsdk::plugin::handshake::MAGIC_COOKIE_KEY)?;
    // SAFETY: getppid has no preconditions.
    run_of(unsafe { libc::getppid() })
}

/// `<pid>-<start time>` of process `ppid`.
fn run_of(ppid: libc::pid_t) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{ppid}/stat")).ok()?;
    // Field 22, counted after the command name's closing parenthesis.
    let start = stat.rsplit_once(')')?.1.split_whitespace().nth(19)?;
    Some(format!("{ppid}-{start}"))
}

/// The notes' directory, one per user: no one else's notes can hide a
/// warning.
fn notes_dir() -> PathBuf {
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    std::env::temp_dir().join(format!("eventpipe-shown-warnings-{uid}"))
}

/// This command's notes file and what earlier processes noted in it: one
/// read of one file, whatever else the directory holds (every provider
/// process of every command does this before its first answer).
fn load() -> Option<(PathBuf, HashSet<String>)> {
    let path = notes_dir().join(parent_run()?);
    let earlier = std::fs::read_to_string(&path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect();
    Some((path, earlier))
}

/// Removes notes of commands older than [`KEEP`]. Run by a process that
/// writes a note, not by every process: listing a directory of hundreds of
/// notes cost each process ~1.5 ms (bench figure 12).
fn sweep(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for e in entries.flatten() {
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age > KEEP);
        if old {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

fn note(pipeline: &str, d: &Diagnostic) -> String {
    let mut h = Sha256::new();
    for part in [pipeline, &d.summary, &d.detail, &format!("{:?}", d.path)] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

impl Shown {
    /// `diags` of `pipeline` (its configured `name`; `None` while unknown,
    /// when nothing is left out), less the warnings an earlier process of
    /// this command returned for it.
    pub fn first_time(&self, pipeline: Option<&str>, diags: Diagnostics) -> Diagnostics {
        let (Some(pipeline), Some((path, earlier))) =
            (pipeline, self.earlier.get_or_init(load).as_ref())
        else {
            return diags;
        };
        let mut new = Vec::new();
        let mut out = Vec::new();
        for d in diags.0 {
            if d.is_error() {
                out.push(d);
                continue;
            }
            let n = note(pipeline, &d);
            if !earlier.contains(&n) {
                new.push(n);
                out.push(d);
            }
        }
        if !new.is_empty() {
            let mut swept = self
                .writing
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(dir) = path.parent()
                && !*swept
            {
                *swept = true;
                let _ = std::fs::create_dir_all(dir);
                sweep(dir);
            }
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
            {
                let _ = f.write_all(format!("{}\n", new.join("\n")).as_bytes());
            }
        }
        Diagnostics(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_warning_an_earlier_process_showed_is_left_out_and_errors_never_are() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run");
        let warning = || Diagnostic::warning("Prefix starts with a slash", "detail");
        let error = || Diagnostic::error("Invalid handler", "detail");
        let first = Shown::default();
        first
            .earlier
            .set(Some((path.clone(), HashSet::new())))
            .unwrap();
        // In one process, two pipelines' warnings all show.
        let d = first.first_time(Some("a"), Diagnostics(vec![warning(), error()]));
        assert_eq!(d.0.len(), 2);
        let d = first.first_time(Some("b"), Diagnostics(vec![warning()]));
        assert_eq!(d.0.len(), 1);
        // The next process of the same command leaves them out.
        let earlier: HashSet<String> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        let second = Shown::default();
        second.earlier.set(Some((path, earlier))).unwrap();
        let d = second.first_time(Some("a"), Diagnostics(vec![warning(), error()]));
        assert_eq!(d.0.len(), 1);
        assert!(d.0[0].is_error());
        let d = second.first_time(
            Some("c"),
            Diagnostics(vec![Diagnostic::warning(
                "Prefix starts with a slash",
                "detail",
            )]),
        );
        assert_eq!(d.0.len(), 1, "another pipeline's warning shows");
        // An unknown name: nothing is left out.
        assert_eq!(
            second
                .first_time(None, Diagnostics(vec![warning()]))
                .0
                .len(),
            1
        );
    }

    #[test]
    fn sweeping_removes_only_notes_older_than_a_day() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("1-100");
        let recent = dir.path().join("2-200");
        std::fs::write(&old, "a\n").unwrap();
        std::fs::write(&recent, "b\n").unwrap();
        let two_days = SystemTime::now() - Duration::from_secs(48 * 3600);
        std::fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(two_days)
            .unwrap();
        sweep(dir.path());
        assert!(!old.exists(), "a note of two days ago is removed");
        assert!(recent.exists(), "today's note stays");
    }

    #[test]
    fn a_process_is_known_by_its_pid_and_start_time() {
        // SAFETY: getppid has no preconditions.
        let ppid = unsafe { libc::getppid() };
        let run = run_of(ppid).expect("the parent's stat");
        assert!(run.starts_with(&format!("{ppid}-")), "{run}");
        assert_eq!(run_of(ppid), Some(run), "the same process, the same key");
        // Not started by Terraform (no magic cookie): nothing is noted.
        if std::env::var_os(tfsdk::plugin::handshake::MAGIC_COOKIE_KEY).is_none() {
            assert_eq!(parent_run(), None);
        }
    }
}
