//! Figure 6: hashing a large source tree at plan time against `sha256sum`
//! over the same files, and zip build throughput.

use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use eventpipe::pipeline::{package, source};

use crate::stats::{Samples, timed};

pub struct Hashing {
    pub files: usize,
    pub bytes: u64,
    /// `scan` + `tree_hash`, as plan does.
    pub plan_hash: Samples,
    /// `scan` alone (listing and stat of every file).
    pub scan: Samples,
    /// `sha256sum` over the same files (one process, file list on stdin via xargs).
    pub sha256sum: Samples,
    /// `scan` + `package::build`, as apply does.
    pub zip: Samples,
    pub zipped_bytes: u64,
}

/// Writes `files` files of `file_size` bytes under `root`, spread over
/// subdirectories, with source-like text (so the zip compresses the way
/// code does, and fits Lambda's 50 MB direct-upload limit).
pub fn make_tree(root: &Path, files: usize, file_size: usize) -> Result<()> {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    const WORDS: &[&str] = &[
        "def", "return", "value", "record", "event", "bucket", "key", "self", "import", "json",
        "for", "in", "if", "else", "None", "True", "False", "data", "items", "result", "append",
        "len", "str", "int", "dict", "list", "context", "handler", "object", "body", "payload",
        "status",
    ];
    // A pool of distinct lines that files draw from: code repeats itself
    // like this, and deflate finds the repeats within its window.
    let pool: Vec<String> = (0..400)
        .map(|_| {
            let mut line = " ".repeat((next() % 3) as usize * 4);
            for _ in 0..(3 + next() % 6) {
                line.push_str(WORDS[(next() % WORDS.len() as u64) as usize]);
                line.push(if next() % 5 == 0 { '_' } else { ' ' });
            }
            line.push_str(&format!("= {}\n", next() % 1000));
            line
        })
        .collect();
    for i in 0..files {
        let dir = root.join(format!("pkg{:03}", i % 100));
        fs::create_dir_all(&dir)?;
        let mut body = String::with_capacity(file_size + 128);
        while body.len() < file_size {
            body.push_str(&pool[(next() % pool.len() as u64) as usize]);
        }
        body.truncate(file_size);
        let mut f = fs::File::create(dir.join(format!("mod_{i:05}.py")))?;
        f.write_all(body.as_bytes())?;
    }
    Ok(())
}

fn sha256sum(root: &Path) -> Result<()> {
    // find | xargs keeps it to a handful of sha256sum processes, each
    // reading and hashing its files one after another.
    let status = Command::new("sh")
        .arg("-c")
        .arg("find . -type f -print0 | xargs -0 sha256sum > /dev/null")
        .current_dir(root)
        .stdin(Stdio::null())
        .status()
        .context("running sha256sum")?;
    if !status.success() {
        bail!("sha256sum failed: {status}");
    }
    Ok(())
}

pub fn run(root: &Path, files: usize, file_size: usize, repeats: usize) -> Result<Hashing> {
    make_tree(root, files, file_size)?;
    let tree = source::scan(root)?;
    let bytes = tree.total_size();
    // Warm the page cache for both sides: both then measure hashing plus
    // reading from memory, not the disk.
    sha256sum(root)?;
    source::tree_hash(&tree)?;
    let mut out = Hashing {
        files: tree.files.len(),
        bytes,
        plan_hash: Samples::default(),
        scan: Samples::default(),
        sha256sum: Samples::default(),
        zip: Samples::default(),
        zipped_bytes: 0,
    };
    for _ in 0..repeats {
        let (r, d) = timed(|| sha256sum(root));
        r?;
        out.sha256sum.push_duration(d);
        let (r, d) = timed(|| source::scan(root).and_then(|t| source::tree_hash(&t)));
        r?;
        out.plan_hash.push_duration(d);
        let (r, d) = timed(|| source::scan(root));
        r?;
        out.scan.push_duration(d);
    }
    for _ in 0..repeats.min(3) {
        let (r, d) = timed(|| -> Result<u64> {
            let t = source::scan(root)?;
            Ok(package::build(&t)?.zip.len() as u64)
        });
        out.zipped_bytes = r?;
        out.zip.push_duration(d);
    }
    Ok(out)
}
