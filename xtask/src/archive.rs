//! Reproducible zip archives: entries sorted by name, every entry dated
//! 1980-01-01 00:00 (the zip epoch), with a fixed Unix mode and deflate at a
//! fixed level, so the same files give the same bytes on any run.

use std::fs::File;
use std::io::{self, BufReader, BufWriter};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// Mode of an executable entry.
pub const EXECUTABLE: u32 = 0o755;

/// One file to put in an archive.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The name inside the archive (no directories in ours).
    pub name: String,
    /// Where its bytes come from.
    pub source: PathBuf,
    pub mode: u32,
}

/// Writes `entries` to a new zip at `out` (replacing any file there).
pub fn write(out: &Path, entries: &[Entry]) -> Result<()> {
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(pair) = sorted.windows(2).find(|w| w[0].name == w[1].name) {
        bail!("two entries named {} in {}", pair[0].name, out.display());
    }
    let file = File::create(out).with_context(|| format!("creating {}", out.display()))?;
    let mut zip = ZipWriter::new(BufWriter::new(file));
    for entry in sorted {
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(6))
            .last_modified_time(DateTime::default())
            .unix_permissions(entry.mode)
            .large_file(false);
        let source = File::open(&entry.source)
            .with_context(|| format!("opening {}", entry.source.display()))?;
        zip.start_file(entry.name.as_str(), options)
            .with_context(|| format!("adding {} to {}", entry.name, out.display()))?;
        io::copy(&mut BufReader::new(source), &mut zip)
            .with_context(|| format!("compressing {}", entry.source.display()))?;
    }
    let mut writer = zip
        .finish()
        .with_context(|| format!("finishing {}", out.display()))?;
    io::Write::flush(&mut writer).with_context(|| format!("writing {}", out.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;

    fn entry(dir: &Path, name: &str, body: &str, mode: u32) -> Entry {
        let source = dir.join(format!("src-{name}"));
        fs::write(&source, body).unwrap();
        fs::set_permissions(&source, fs::Permissions::from_mode(0o600)).unwrap();
        Entry {
            name: name.into(),
            source,
            mode,
        }
    }

    #[test]
    fn the_same_files_give_the_same_bytes_in_any_order_and_at_any_time() {
        let dir = tempfile::tempdir().unwrap();
        let a = entry(dir.path(), "b-tool", "#!/bin/sh\necho b\n", EXECUTABLE);
        let b = entry(dir.path(), "a-notes.txt", "notes\n", 0o644);
        let first = dir.path().join("first.zip");
        write(&first, &[a.clone(), b.clone()]).unwrap();
        // A later mtime on the sources and the other order change nothing.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        fs::write(&a.source, "#!/bin/sh\necho b\n").unwrap();
        let second = dir.path().join("second.zip");
        write(&second, &[b, a]).unwrap();
        assert_eq!(fs::read(&first).unwrap(), fs::read(&second).unwrap());
    }

    #[test]
    fn entries_are_sorted_dated_at_the_zip_epoch_with_the_given_mode() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.zip");
        write(
            &out,
            &[
                entry(dir.path(), "z", "last", EXECUTABLE),
                entry(dir.path(), "a", "first", 0o644),
            ],
        )
        .unwrap();
        let mut zip = zip::ZipArchive::new(File::open(&out).unwrap()).unwrap();
        let names: Vec<String> = zip.file_names().map(|n| n.unwrap().to_string()).collect();
        assert_eq!(names, ["a", "z"]);
        let mut z = zip.by_name("z").unwrap();
        assert_eq!(z.unix_mode(), Some(0o100755));
        assert_eq!(z.last_modified(), Some(DateTime::default()));
        let mut body = String::new();
        z.read_to_string(&mut body).unwrap();
        assert_eq!(body, "last");
    }

    #[test]
    fn two_entries_with_one_name_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let one = entry(dir.path(), "x", "1", 0o644);
        let err = write(&dir.path().join("o.zip"), &[one.clone(), one]).unwrap_err();
        assert!(err.to_string().contains("two entries named x"), "{err}");
    }
}
