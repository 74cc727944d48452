//! Names for files written beside their final place and renamed into it, so
//! a reader never sees half a file: unique among the threads of this
//! process and, through the time, among processes that reuse its id. And
//! [`TempDir`], a working directory of this process's under such a name.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// `<pid>-<counter>-<nanoseconds>`: a suffix no other writer in the same
/// directory uses at the same time.
pub fn unique() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{}-{}-{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A new directory `<prefix>-<unique>` in the system's temporary
/// directory, removed with everything in it when dropped.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> std::io::Result<TempDir> {
        let dir = TempDir(std::env::temp_dir().join(format!("{prefix}-{}", unique())));
        std::fs::create_dir_all(&dir.0)?;
        Ok(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_temporary_directory_goes_with_what_it_holds() {
        let dir = super::TempDir::new("eventpipe-test").unwrap();
        let path = dir.path().to_owned();
        assert!(path.starts_with(std::env::temp_dir()));
        std::fs::create_dir_all(path.join("a/b")).unwrap();
        std::fs::write(path.join("a/b/c"), "x").unwrap();
        drop(dir);
        assert!(!path.exists(), "{}", path.display());
    }

    #[test]
    fn each_call_gives_another_name() {
        let names: std::collections::BTreeSet<String> =
            (0..1000).map(|_| super::unique()).collect();
        assert_eq!(names.len(), 1000);
        assert!(
            names
                .iter()
                .all(|n| n.starts_with(&format!("{}-", std::process::id())))
        );
    }
}
