//! The package cache: installed dependency trees (`deps/<key>/`), built
//! zips (`zips/<hash>.zip`), keyed by hash, and base images
//! (`images/`, see `crate::registry`), in `EVENTPIPE_CACHE_DIR`
//! (default `$XDG_CACHE_HOME/eventpipe`, else `~/.cache/eventpipe`).
//!
//! Every entry is made in a temporary path beside it and renamed into
//! place, so a reader sees a whole entry or none, and two applies that
//! build the same entry at once both succeed (the second rename loses,
//! and its copy is dropped).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The environment variable that moves the cache.
pub const CACHE_DIR_ENV: &str = "EVENTPIPE_CACHE_DIR";

#[derive(Clone, Debug)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// The cache the environment names; `None` when there is no home to
    /// put it in (then nothing is cached).
    pub fn from_env() -> Option<Cache> {
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let root = var(CACHE_DIR_ENV)
            .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("eventpipe")))
            .or_else(|| var("HOME").map(|d| d.join(".cache").join("eventpipe")))?;
        let root = std::path::absolute(&root).unwrap_or(root);
        Some(Cache { root })
    }

    pub fn at(root: impl Into<PathBuf>) -> Cache {
        Cache { root: root.into() }
    }

    /// The image cache: base images' blobs by digest and the tags' last
    /// answers (`crate::registry::BlobStore`).
    pub fn images_dir(&self) -> PathBuf {
        self.root.join("images")
    }

    /// The OCI layouts apply built, by key (the image's inputs), so a
    /// rebuild of an unchanged image reuses the one written before.
    pub fn layouts_dir(&self) -> PathBuf {
        self.root.join("layouts")
    }

    /// A package manager's own cache (pnpm's store), kept with ours.
    pub fn tool_dir(&self, tool: &str) -> PathBuf {
        self.root.join("tools").join(tool)
    }

    /// Where the installed tree of `key` lives once it is complete.
    pub fn deps_dir(&self, key: &str) -> PathBuf {
        self.root.join("deps").join(key)
    }

    fn size_path(&self, key: &str) -> PathBuf {
        self.root.join("deps").join(format!("{key}.size"))
    }

    /// The unzipped size of the installed tree of `key`, as recorded when
    /// it was installed (so a plan need not walk the tree).
    pub fn installed_size(&self, key: &str) -> Option<u64> {
        fs::read_to_string(self.size_path(key))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Records the size of the installed tree of `key` (atomically).
    pub fn record_size(&self, key: &str, size: u64) -> io::Result<()> {
        let path = self.size_path(key);
        let tmp = path.with_extension(format!("size.tmp-{}", crate::temp_name::unique()));
        fs::write(&tmp, size.to_string())?;
        fs::rename(&tmp, &path).inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
        })
    }

    /// The installed tree of `key`, when it was installed before.
    pub fn installed(&self, key: &str) -> Option<PathBuf> {
        let dir = self.deps_dir(key);
        dir.is_dir().then_some(dir)
    }

    /// The installed tree of `key`: the cached one, or one `install` fills
    /// (given an empty temporary directory), renamed into place whole.
    pub fn install<E: From<io::Error>>(
        &self,
        key: &str,
        install: impl FnOnce(&Path) -> Result<(), E>,
    ) -> Result<PathBuf, E> {
        if let Some(dir) = self.installed(key) {
            return Ok(dir);
        }
        let parent = self.root.join("deps");
        fs::create_dir_all(&parent)?;
        let tmp = parent.join(format!(".tmp-{key}-{}", crate::temp_name::unique()));
        fs::create_dir(&tmp)?;
        if let Err(e) = install(&tmp) {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
        let dir = self.deps_dir(key);
        match fs::rename(&tmp, &dir) {
            Ok(()) => Ok(dir),
            // Another apply put the same tree in place first: use it.
            Err(_) if dir.is_dir() => {
                let _ = fs::remove_dir_all(&tmp);
                Ok(dir)
            }
            Err(e) => {
                let _ = fs::remove_dir_all(&tmp);
                Err(e.into())
            }
        }
    }

    fn zip_path(&self, hash: &str) -> PathBuf {
        self.root.join("zips").join(format!("{hash}.zip"))
    }

    /// The zip built before for `hash`.
    pub fn zip(&self, hash: &str) -> Option<Vec<u8>> {
        fs::read(self.zip_path(hash)).ok()
    }

    /// Keeps `bytes` as the zip of `hash` (atomically).
    pub fn put_zip(&self, hash: &str, bytes: &[u8]) -> io::Result<()> {
        self.zip_slot(hash)?.keep(bytes)
    }

    /// The place of the zip of `hash`, made before its bytes exist: its
    /// directory and a temporary file beside it. Keeping the zip later is
    /// then one write and one rename, so a caller that knows the hash
    /// early makes the rest while it builds the zip.
    pub fn zip_slot(&self, hash: &str) -> io::Result<ZipSlot> {
        let path = self.zip_path(hash);
        let parent = self.root.join("zips");
        fs::create_dir_all(&parent)?;
        let tmp = parent.join(format!(".tmp-{hash}-{}", crate::temp_name::unique()));
        let file = fs::File::create(&tmp)?;
        Ok(ZipSlot {
            file: Some(file),
            tmp,
            path,
        })
    }
}

/// A zip's place in the cache ([`Cache::zip_slot`]); its temporary file
/// is removed unless the zip is kept.
#[derive(Debug)]
pub struct ZipSlot {
    file: Option<fs::File>,
    tmp: PathBuf,
    path: PathBuf,
}

impl ZipSlot {
    /// Writes `bytes` and renames them into place.
    pub fn keep(mut self, bytes: &[u8]) -> io::Result<()> {
        use std::io::Write as _;
        let Some(mut file) = self.file.take() else {
            return Ok(());
        };
        let kept = file.write_all(bytes).and_then(|()| {
            drop(file);
            fs::rename(&self.tmp, &self.path)
        });
        if kept.is_err() {
            let _ = fs::remove_file(&self.tmp);
        }
        kept
    }
}

impl Drop for ZipSlot {
    /// A slot never kept leaves nothing behind.
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_is_installed_once_and_then_reused() {
        let d = tempfile::tempdir().unwrap();
        let c = Cache::at(d.path());
        assert!(c.installed("k").is_none());
        let dir = c
            .install("k", |t| fs::write(t.join("lib.py"), "x"))
            .unwrap();
        assert_eq!(fs::read_to_string(dir.join("lib.py")).unwrap(), "x");
        let again = c
            .install::<io::Error>("k", |_| panic!("installed again"))
            .unwrap();
        assert_eq!(again, dir);
    }

    #[test]
    fn a_failed_install_leaves_nothing_behind() {
        let d = tempfile::tempdir().unwrap();
        let c = Cache::at(d.path());
        let r = c.install("k", |t| {
            fs::write(t.join("half"), "x")?;
            Err(io::Error::other("pip failed"))
        });
        assert!(r.is_err());
        assert!(c.installed("k").is_none());
        assert_eq!(fs::read_dir(d.path().join("deps")).unwrap().count(), 0);
    }

    #[test]
    fn concurrent_installs_of_one_key_all_see_a_whole_tree() {
        let d = tempfile::tempdir().unwrap();
        let c = Cache::at(d.path());
        let barrier = std::sync::Barrier::new(8);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    let dir = c
                        .install("same", |t| {
                            barrier.wait();
                            for i in 0..50 {
                                fs::write(t.join(format!("f{i}")), "y")?;
                            }
                            Ok::<(), io::Error>(())
                        })
                        .unwrap();
                    assert_eq!(fs::read_dir(dir).unwrap().count(), 50);
                });
            }
        });
        // Only the finished tree stays: no temporary directories.
        let left: Vec<_> = fs::read_dir(d.path().join("deps"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["same"]);
    }

    #[test]
    fn zips_are_kept_by_hash() {
        let d = tempfile::tempdir().unwrap();
        let c = Cache::at(d.path());
        assert!(c.zip("h").is_none());
        c.put_zip("h", b"PK").unwrap();
        c.put_zip("h", b"PK").unwrap();
        assert_eq!(c.zip("h").unwrap(), b"PK");
    }

    #[test]
    fn a_slot_made_early_keeps_the_zip_or_leaves_nothing() {
        let d = tempfile::tempdir().unwrap();
        let c = Cache::at(d.path());
        let slot = c.zip_slot("h").unwrap();
        assert!(c.zip("h").is_none(), "nothing is visible before it is kept");
        slot.keep(b"PK early").unwrap();
        assert_eq!(c.zip("h").unwrap(), b"PK early");
        drop(c.zip_slot("other").unwrap());
        let left: Vec<_> = fs::read_dir(d.path().join("zips"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["h.zip"]);
    }
}
