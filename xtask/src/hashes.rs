//! The package hashes Terraform records in `.terraform.lock.hcl` and a
//! network mirror lists: `zh:` (the zip's SHA-256) and `h1:` (Go's
//! `dirhash.Hash1` of the files inside the zip).

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use anyhow::{Context, Result, bail};
use base64::Engine;
use sha2::{Digest, Sha256};

/// The lowercase hex SHA-256 of a file's bytes.
pub fn sha256_file(path: &Path) -> Result<String> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    sha256_reader(BufReader::new(file)).with_context(|| format!("reading {}", path.display()))
}

fn sha256_reader(mut reader: impl Read) -> io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let read = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buffer[..read]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// `zh:<hex>`: the legacy hash of an archive, its SHA-256 as listed in
/// `SHA256SUMS`.
pub fn zh(sha256_hex: &str) -> String {
    format!("zh:{sha256_hex}")
}

/// `h1:<base64>`: SHA-256 over the sorted lines `"<hex sha256>  <name>\n"`,
/// one per file in the zip (directories are not files). This is what
/// Terraform computes for an unpacked provider, so it is the same for the
/// archive and for the directory it unpacks into.
pub fn h1(zip_path: &Path) -> Result<String> {
    let file = File::open(zip_path).with_context(|| format!("opening {}", zip_path.display()))?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file))
        .with_context(|| format!("reading {} as a zip", zip_path.display()))?;
    let mut files = Vec::new();
    for index in 0..zip.len() {
        let mut entry = zip
            .by_index(index)
            .with_context(|| format!("reading entry {index} of {}", zip_path.display()))?;
        if entry.is_dir() {
            continue;
        }
        let name = entry
            .name()
            .with_context(|| format!("reading entry {index} of {}", zip_path.display()))?
            .into_owned();
        let digest = sha256_reader(&mut entry)
            .with_context(|| format!("unpacking {name} from {}", zip_path.display()))?;
        files.push((name, digest));
    }
    hash1(files)
}

/// Go's `dirhash.Hash1` over `(name, hex sha256)` pairs.
pub fn hash1(mut files: Vec<(String, String)>) -> Result<String> {
    files.sort();
    let mut summary = Sha256::new();
    for (name, digest) in &files {
        if name.contains('\n') {
            bail!("a file name with a newline cannot be hashed: {name:?}");
        }
        summary.update(format!("{digest}  {name}\n").as_bytes());
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(summary.finalize());
    Ok(format!("h1:{encoded}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::{self, Entry};
    use std::fs;

    #[test]
    fn hash1_matches_go_dirhash_for_a_known_input() {
        // Computed independently with
        //   printf '%s  %s\n' "$(printf 'hello\n' | sha256sum | cut -c1-64)" a.txt \
        //     | sha256sum | xxd -r -p | base64
        let hello = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
        assert_eq!(
            hash1(vec![("a.txt".into(), hello.into())]).unwrap(),
            "h1:xULs+l4jrMyt60GIZwYIw7bhbzwK3CkR1JyTboQZesk="
        );
    }

    #[test]
    fn hash1_sorts_by_name_and_refuses_newlines() {
        let a = ("a".to_string(), "00".to_string());
        let b = ("b".to_string(), "11".to_string());
        assert_eq!(
            hash1(vec![a.clone(), b.clone()]).unwrap(),
            hash1(vec![b, a]).unwrap()
        );
        assert!(hash1(vec![("x\ny".into(), "00".into())]).is_err());
    }

    #[test]
    fn h1_of_a_zip_hashes_its_contents_and_zh_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("a.txt");
        fs::write(&source, "hello\n").unwrap();
        let out = dir.path().join("a.zip");
        archive::write(
            &out,
            &[Entry {
                name: "a.txt".into(),
                source,
                mode: 0o644,
            }],
        )
        .unwrap();
        assert_eq!(
            h1(&out).unwrap(),
            "h1:xULs+l4jrMyt60GIZwYIw7bhbzwK3CkR1JyTboQZesk="
        );
        let bytes = fs::read(&out).unwrap();
        assert_eq!(
            zh(&sha256_file(&out).unwrap()),
            format!("zh:{}", hex::encode(Sha256::digest(&bytes)))
        );
    }
}
