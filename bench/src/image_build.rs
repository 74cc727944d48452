//! Figure 13: container images. The layer of a dependency tree the size of
//! a typical inference stack (490 MB: shared objects and Python sources,
//! generated), built as `eventpipe` builds it, against `tar -c | pigz` of
//! the same tree (the parallel-gzip floor) and `tar -c | gzip`; and the
//! peak memory of `eventpipe package --image` building an image of that
//! tree; and the push of an image whose only new layer is a code change
//! (`image_push.rs`) against one `skopeo copy` of that layer; and apply's
//! image step with everything cached against the plan-time hash of the same
//! inputs (`image_rebuild.rs`).
//!
//! The tree is written by the bench from a seeded generator, so every run
//! compresses the same bytes. Shared objects mix incompressible blocks,
//! repeated records and zero runs, as machine code, tables and padding mix
//! in a real `.so`; Python files are source text.

use std::fs::{self, File};
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail, ensure};
use eventpipe::pipeline::package::image::layer;
use eventpipe::pipeline::source;

use crate::Sizes;
use crate::report::{Report, Row};
use crate::stats::{Samples, Unit, ratio, timed};

/// The tree's size: 490 MB, about what pandas, pyarrow, scikit-learn and
/// onnxruntime install (issue 25); a fiftieth in quick mode.
fn tree_bytes(quick: bool) -> u64 {
    if quick { 9_800_000 } else { 490_000_000 }
}

/// The target on the layer build, as a multiple of `tar -c | pigz`.
const LAYER_TARGET: f64 = 1.2;
/// The target on peak RSS while building the image.
const RSS_TARGET_MB: f64 = 64.0;
/// A code-only push uploads at most the code layer and this much more (the
/// config and the manifest).
const PUSH_EXTRA_BYTES: u64 = 64 * 1024;
/// A code-only push takes at most this many times one `skopeo copy` of the
/// code layer alone.
const PUSH_TARGET: f64 = 2.0;
/// A rebuild with everything cached takes at most this many times the
/// plan-time hash of the same inputs.
const REBUILD_TARGET: f64 = 1.1;

/// A small seeded generator (xorshift64*): the same bytes on every run.
struct Bytes(u64);

impl Bytes {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// One 4 KiB block of a shared object: 2 in 5 random (code), 2 in 5
    /// repeated 16-byte records (tables), 1 in 5 zeros (padding).
    fn so_block(&mut self, out: &mut [u8; 4096]) {
        match self.next() % 5 {
            0 | 1 => {
                for chunk in out.chunks_mut(8) {
                    chunk.copy_from_slice(&self.next().to_le_bytes()[..chunk.len()]);
                }
            }
            2 | 3 => {
                let base = self.next();
                for (i, chunk) in out.chunks_mut(16).enumerate() {
                    chunk[..8].copy_from_slice(&base.wrapping_add(i as u64 * 24).to_le_bytes());
                    chunk[8..].copy_from_slice(&(i as u64 % 7).to_le_bytes());
                }
            }
            _ => out.fill(0),
        }
    }
}

/// Writes the dependency tree into `dir`: 60 % of `total` in 40 shared
/// objects, the rest in Python modules of about 16 KB, in nested packages.
/// Returns the number of files.
fn make_deps_tree(dir: &Path, total: u64) -> Result<usize> {
    let mut rng = Bytes(0x9e37_79b9_7f4a_7c15);
    let so_total = total * 6 / 10;
    let so_count = 40u64;
    let mut files = 0;
    let mut block = [0u8; 4096];
    for i in 0..so_count {
        let pkg = dir.join(format!("pkg{}/_libs", i % 8));
        fs::create_dir_all(&pkg)?;
        let mut f = BufWriter::new(File::create(pkg.join(format!("_ext{i}.so")))?);
        for _ in 0..so_total / so_count / 4096 {
            rng.so_block(&mut block);
            f.write_all(&block)?;
        }
        f.flush()?;
        files += 1;
    }
    let py_size = 16_000u64;
    let py_count = (total - so_total) / py_size;
    for i in 0..py_count {
        let pkg = dir.join(format!("pkg{}/sub{}", i % 8, i % 50));
        fs::create_dir_all(&pkg)?;
        let mut text = String::with_capacity(py_size as usize + 100);
        let mut j = 0;
        while (text.len() as u64) < py_size {
            let k = rng.next() % 1000;
            text.push_str(&format!(
                "def f_{i}_{j}(x, y=None):\n    \"\"\"Step {j} of {k}.\"\"\"\n    return x * {k} + {j}\n\n"
            ));
            j += 1;
        }
        fs::write(pkg.join(format!("mod_{i}.py")), text)?;
        files += 1;
    }
    Ok(files)
}

/// Runs a shell pipeline and checks it succeeded.
fn shell(script: &str) -> Result<()> {
    let status = Command::new("sh")
        .args(["-c", script])
        .stdin(Stdio::null())
        .status()
        .with_context(|| format!("running {script}"))?;
    ensure!(status.success(), "{script}: {status}");
    Ok(())
}

fn have(command: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {command}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Peak resident memory in bytes of `cmd`, run to its end (`wait4`'s
/// `ru_maxrss`, exact, no polling).
fn peak_rss(cmd: &mut Command) -> Result<u64> {
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting eventpipe")?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child; both pointers are valid for the call.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if waited != pid {
        bail!("wait4: {}", std::io::Error::last_os_error());
    }
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        let mut err = String::new();
        if let Some(mut e) = child.stderr {
            std::io::Read::read_to_string(&mut e, &mut err).ok();
        }
        bail!("eventpipe package --image failed ({status}): {err}");
    }
    Ok(usage.ru_maxrss as u64 * 1024)
}

pub struct ImageBuild {
    pub files: usize,
    pub bytes: u64,
    pub gz_bytes: u64,
    /// `scan` + `layer::write` into a file.
    pub layer: Samples,
    pub pigz: Samples,
    pub gzip: Samples,
    /// Peak RSS of each `eventpipe package --image` run, in bytes.
    pub rss: Samples,
    pub threads: usize,
}

fn run(root: &Path, eventpipe: &Path, sizes: &Sizes) -> Result<ImageBuild> {
    let tree = root.join("app");
    let total = tree_bytes(sizes.quick);
    let files = make_deps_tree(&tree, total)?;
    fs::write(tree.join("app.py"), "def handler(e, c):\n    return 1\n")?;
    let scanned = source::scan_limited(&tree, u64::MAX)?;
    let bytes = scanned.total_size();
    let repeats = if sizes.quick { 1 } else { 3 };
    let out = root.join("layer.tar.gz");
    let mut m = ImageBuild {
        files,
        bytes,
        gz_bytes: 0,
        layer: Samples::default(),
        pigz: Samples::default(),
        gzip: Samples::default(),
        rss: Samples::default(),
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let tar_of = |dir: &Path| format!("tar -c -C '{}' --sort=name .", dir.display());
    // Warm the page cache once, with the thing measured first.
    shell(&format!("{} > /dev/null", tar_of(&tree)))?;
    for _ in 0..repeats {
        let (r, d) = timed(|| -> Result<u64> {
            let t = source::scan_limited(&tree, u64::MAX)?;
            let file = BufWriter::new(File::create(&out)?);
            let (l, mut w) = layer::write(&t.files, "/var/task", file)?;
            w.flush()?;
            Ok(l.size)
        });
        m.gz_bytes = r?;
        m.layer.push_duration(d);
        let (r, d) = timed(|| {
            shell(&format!(
                "{} | pigz -6 > '{}'",
                tar_of(&tree),
                out.display()
            ))
        });
        r?;
        m.pigz.push_duration(d);
        let (r, d) = timed(|| {
            shell(&format!(
                "{} | gzip -6 > '{}'",
                tar_of(&tree),
                out.display()
            ))
        });
        r?;
        m.gzip.push_duration(d);
    }
    let base = root.join("base");
    tests::base_image::build(&base, "base").context("writing the base image")?;
    for i in 0..repeats {
        let layout = root.join(format!("image-{i}"));
        let rss = peak_rss(
            Command::new(eventpipe)
                .args(["package", "--image", "--runtime", "python3.12"])
                .arg("--source-dir")
                .arg(&tree)
                .arg("--oci-layout")
                .arg(&layout)
                .arg("--base-image")
                .arg(format!("oci:{}:base", base.display())),
        )?;
        m.rss.push(rss as f64);
        fs::remove_dir_all(&layout).ok();
    }
    Ok(m)
}

/// The `eventpipe` binary beside the provider being measured.
fn eventpipe_beside(provider: &Path) -> PathBuf {
    provider.with_file_name("eventpipe")
}

/// Measures figure 13 and adds its rows and section to `rep`.
pub fn figure_13(sizes: &Sizes, provider: &Path, rep: &mut Report) -> Result<()> {
    eprintln!("[bench] figure 13: container images");
    for tool in ["pigz", "gzip", "tar"] {
        ensure!(
            have(tool),
            "figure 13 needs `{tool}` on PATH (make tools installs it)"
        );
    }
    let eventpipe = eventpipe_beside(provider);
    ensure!(
        eventpipe.is_file(),
        "figure 13 needs {} (built with the provider)",
        eventpipe.display()
    );
    let dir = tempfile::Builder::new()
        .prefix("eventpipe-bench-image-")
        .tempdir()?;
    let m = run(dir.path(), &eventpipe, sizes)?;
    let p = crate::image_push::measure(
        dir.path(),
        &dir.path().join("app"),
        &dir.path().join("base"),
        if sizes.quick { 1 } else { 5 },
    )?;
    let r = crate::image_rebuild::measure(
        dir.path(),
        &dir.path().join("app"),
        &dir.path().join("base"),
        if sizes.quick { 1 } else { 5 },
    )?;
    let vs_pigz = m.layer.median() / m.pigz.median();
    rep.row(Row {
        figure: "13",
        what: format!(
            "Layer build of a {} dependency tree ({} files, 60 % in `.so`), gzip'd to {} on {} cores",
            Unit::Mb.fmt(m.bytes as f64),
            m.files,
            Unit::Mb.fmt(m.gz_bytes as f64),
            m.threads
        ),
        result: m.layer.show(Unit::S),
        baseline: format!(
            "`tar -c | pigz -6` of the same tree: {}; single-stream `tar -c | gzip -6`: {}",
            m.pigz.show(Unit::S),
            m.gzip.show(Unit::S)
        ),
        ratio: format!(
            "{} pigz; {} gzip",
            ratio(m.layer.median(), m.pigz.median()),
            ratio(m.layer.median(), m.gzip.median())
        ),
        target: format!("≤ {LAYER_TARGET}× pigz"),
        met: Some(vs_pigz.is_finite() && vs_pigz <= LAYER_TARGET),
    });
    let rss_mb = m.rss.median() / 1e6;
    rep.row(Row {
        figure: "13",
        what: format!(
            "Peak RSS of `eventpipe package --image` building the image of that tree ({})",
            Unit::Mb.fmt(m.bytes as f64)
        ),
        result: format!("{} (n={})", Unit::Mb.fmt(m.rss.median()), m.rss.len()),
        baseline: format!("the tree itself: {}", Unit::Mb.fmt(m.bytes as f64)),
        ratio: format!("{:.3}× the tree", m.rss.median() / m.bytes as f64),
        target: format!("≤ {RSS_TARGET_MB} MB"),
        met: Some(rss_mb <= RSS_TARGET_MB),
    });
    let bytes_target = p.code_layer + PUSH_EXTRA_BYTES;
    rep.row(Row {
        figure: "13",
        what: format!(
            "Bytes a push uploads when only the code changed ({:.1} KB code layer; the registry \
             has the base and the {} dependency layer)",
            p.code_layer as f64 / 1e3,
            Unit::Mb.fmt(m.gz_bytes as f64)
        ),
        result: format!(
            "{} bytes ({} of {} blobs, and the manifest)",
            p.bytes_uploaded, p.blobs_uploaded, p.blobs
        ),
        baseline: format!("the code layer: {} bytes", p.code_layer),
        ratio: format!("+{} bytes", p.bytes_uploaded.saturating_sub(p.code_layer)),
        target: "≤ the code layer + 64 KB".into(),
        met: Some(p.bytes_uploaded <= bytes_target),
    });
    let vs_skopeo = p.push.median() / p.skopeo.median();
    rep.row(Row {
        figure: "13",
        what: "Wall time of that push (a new client: version check, a HEAD per blob, the \
               uploads, the manifest)"
            .into(),
        result: p.push.show(Unit::Ms),
        baseline: format!(
            "one `skopeo copy` (oci: → docker://) of an image made of that one layer: {}",
            p.skopeo.show(Unit::Ms)
        ),
        ratio: ratio(p.push.median(), p.skopeo.median()),
        target: format!("≤ {PUSH_TARGET}×"),
        met: Some(vs_skopeo.is_finite() && vs_skopeo <= PUSH_TARGET),
    });
    let vs_plan = r.rebuild.median() / r.plan.median();
    rep.row(Row {
        figure: "13",
        what: format!(
            "Apply's image step with everything cached (the base's blobs, the image's layout \
             under its key) for the function whose source is that tree ({}, {} files)",
            Unit::Mb.fmt(r.bytes as f64),
            r.files
        ),
        result: r.rebuild.show(Unit::Ms),
        baseline: format!(
            "the plan-time hash of the same inputs (the base resolved with the cache, the \
             tree scanned and hashed): {}",
            r.plan.show(Unit::Ms)
        ),
        ratio: ratio(r.rebuild.median(), r.plan.median()),
        target: format!("≤ {REBUILD_TARGET}×"),
        met: Some(vs_plan.is_finite() && vs_plan <= REBUILD_TARGET),
    });
    rep.section(
        "13. Container images",
        format!(
            "Layer: `source::scan_limited` of the tree (no zip limit), then `package::image::layer::write` into a file \
             on the same disk (sorted tar entries, times 0, owners 0, gzip level 6 on every core \
             in 1 MiB blocks, the blob digest and the `diff_id` hashed on the way), against \
             `tar -c --sort=name | pigz -6` and `tar -c --sort=name | gzip -6` of the same \
             directory into the same file, alternating, {} runs each, from the page cache. The \
             tree is generated by the bench with a seeded generator: 40 shared objects (60 % of \
             the bytes; 4 KiB blocks, 2 in 5 random, 2 in 5 repeated records, 1 in 5 zeros) and \
             Python modules of about 16 KB. Memory: `ru_maxrss` from `wait4` of `eventpipe \
             package --image --runtime python3.12 --source-dir TREE --oci-layout DIR \
             --base-image oci:BASE` (the base is the tests' two-platform base image), so the \
             tree is the function's source and becomes one layer; the dependency layer is \
             written by the same function. Push: the tests' registry (Debian's \
             `docker-registry` on loopback, plain HTTP) gets the base and an image with the \
             tree as its dependency layer; then, {} times, the code (about 200 KB of Python \
             in 13 files) changes, the image is built (not timed) and pushed by \
             `eventpipe::registry` with a new client (timed; bytes from its `Pushed`), and \
             `skopeo copy --all oci:DIR:one docker://HOST/one-N:one` copies an image made of \
             the config and that code layer alone into a repository without it (timed, the \
             process included). Cached rebuild, {} pairs, alternating, from the page cache: the \
             plan side is the base's tag resolved by the registry client with the image cache \
             (one manifest HEAD to the tests' registry), then `package::Build::hash` of the \
             tree (scan, read and hash of every file) and `package::image_hash` with the \
             base's digest, as plan computes `source_code_hash`; the apply side is what \
             `ops::image::build` does when the layout is in the cache: the base opened pinned \
             to the plan's digest from the cache (`BaseImage::from_registry`), the layout's \
             key from the plan's `source_code_hash` (`layout::cache_key`) and the layout \
             found complete there (`layout::complete_manifest`). Apply does not read the \
             source again: the key is made of the plan's hash, which covers every file.",
            m.layer.len(),
            p.push.len(),
            r.rebuild.len()
        ),
    );
    Ok(())
}
