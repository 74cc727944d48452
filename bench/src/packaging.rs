//! Figure 11: packaging. The zip of figure 6's tree deflated on every core
//! against the sequential reference (the single-threaded builder the
//! parallel one must equal byte for byte); a zip reused from the cache
//! against building it; the plan-time work for a source with cached
//! dependencies against the same source without; and the first install of
//! requirements against plain `pip install --target` of the same file.
//! Everything offline: the wheels are written by the bench.

use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail, ensure};
use eventpipe::pipeline::package::{self, Build, Settings, cache::Cache, zip};
use eventpipe::pipeline::source::{self, Source};

use crate::Sizes;
use crate::hashing::make_tree;
use crate::report::{Report, Row};
use crate::stats::{Samples, Unit, ratio, timed};

pub struct Packaging {
    pub files: usize,
    pub bytes: u64,
    /// `scan` + `zip::build_parallel`.
    pub parallel: Samples,
    /// `scan` + `zip::build_sequential`.
    pub sequential: Samples,
    /// `assemble` with a zip kept for the planned hash.
    pub reused: Samples,
    /// `assemble` building the zip (its dependencies cached).
    pub built: Samples,
    /// Plan-time package work (hash, dependency files, cached tree's size)
    /// with cached dependencies, and without any.
    pub plan_with_deps: Samples,
    pub plan_without: Samples,
    /// First install through the cache, and plain pip of the same file.
    pub first_install: Samples,
    pub plain_pip: Samples,
    pub wheels: usize,
    pub wheel_files: usize,
}

/// Writes `count` pure-Python wheels of `files` modules each into `dir`,
/// and a requirements file pinning them.
pub(crate) fn write_wheels(dir: &Path, count: usize, files: usize) -> Result<String> {
    let mut reqs = String::new();
    for w in 0..count {
        let name = format!("benchlib{w}");
        let info = format!("{name}-1.0.0.dist-info");
        let path = dir.join(format!("{name}-1.0.0-py3-none-any.whl"));
        let mut z = ::zip::ZipWriter::new(fs::File::create(&path)?);
        let opts = ::zip::write::SimpleFileOptions::default();
        let mut record = String::new();
        for f in 0..files {
            let n = format!("{name}/mod_{f:03}.py");
            z.start_file(n.as_str(), opts)?;
            z.write_all(format!("VALUE = {f}\n").repeat(200).as_bytes())?;
            record.push_str(&format!("{n},,\n"));
        }
        for (n, body) in [
            (
                format!("{info}/METADATA"),
                format!("Metadata-Version: 2.1\nName: {name}\nVersion: 1.0.0\n"),
            ),
            (
                format!("{info}/WHEEL"),
                "Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
                    .to_owned(),
            ),
        ] {
            z.start_file(n.as_str(), opts)?;
            z.write_all(body.as_bytes())?;
            record.push_str(&format!("{n},,\n"));
        }
        record.push_str(&format!("{info}/RECORD,,\n"));
        z.start_file(format!("{info}/RECORD"), opts)?;
        z.write_all(record.as_bytes())?;
        z.finish()?;
        reqs.push_str(&format!("{name}==1.0.0\n"));
    }
    Ok(reqs)
}

fn offline_pip_env(wheels: &Path) {
    // The bench process is the provider here: pip inherits these.
    // SAFETY: set once on the main thread before any pip runs.
    unsafe {
        std::env::set_var("PIP_NO_INDEX", "1");
        std::env::set_var("PIP_FIND_LINKS", wheels);
        std::env::set_var("PIP_DISABLE_PIP_VERSION_CHECK", "1");
    }
}

fn plain_pip(requirements: &Path, target: &Path) -> Result<()> {
    let status = Command::new("python3")
        .args(["-m", "pip", "install", "--quiet", "--target"])
        .arg(target)
        .arg("-r")
        .arg(requirements)
        .stdin(Stdio::null())
        .status()
        .context("running pip")?;
    if !status.success() {
        bail!("pip install --target failed: {status}");
    }
    Ok(())
}

/// The package work `PlanResourceChange` does for `settings`: scan, hash
/// (source + dependency files), and the size check of a cached tree.
fn plan_work(settings: &Settings, cache: &Cache) -> Result<String> {
    let b = Build::new(Source::of(settings.source_dir.to_str()), Some(settings));
    let hash = b
        .hash()
        .context("settings are known")?
        .map_err(|(_, e)| anyhow::anyhow!(e))?;
    ensure!(b.too_large(Some(cache)).is_none(), "the bench package fits");
    Ok(hash)
}

pub fn run(
    root: &Path,
    files: usize,
    file_size: usize,
    repeats: usize,
    quick: bool,
) -> Result<Packaging> {
    let tree_dir = root.join("tree");
    make_tree(&tree_dir, files, file_size)?;
    let tree = source::scan(&tree_dir)?;
    let (wheels, wheel_files) = if quick { (2, 10) } else { (8, 150) };
    let mut out = Packaging {
        files: tree.files.len(),
        bytes: tree.total_size(),
        parallel: Samples::default(),
        sequential: Samples::default(),
        reused: Samples::default(),
        built: Samples::default(),
        plan_with_deps: Samples::default(),
        plan_without: Samples::default(),
        first_install: Samples::default(),
        plain_pip: Samples::default(),
        wheels,
        wheel_files,
    };
    // Warm the page cache, and check the two builders agree.
    let reference = zip::build_sequential(&tree.files)?;
    ensure!(
        zip::build_parallel(&tree.files)?.0 == reference,
        "parallel and sequential zips differ"
    );
    drop(reference);
    for _ in 0..repeats.min(3) {
        let (r, d) = timed(|| -> Result<usize> {
            let t = source::scan(&tree_dir)?;
            Ok(zip::build_sequential(&t.files)?.len())
        });
        r?;
        out.sequential.push_duration(d);
        let (r, d) = timed(|| -> Result<usize> {
            let t = source::scan(&tree_dir)?;
            Ok(zip::build_parallel(&t.files)?.0.len())
        });
        r?;
        out.parallel.push_duration(d);
    }

    // Dependencies, offline.
    let wheel_dir = root.join("wheels");
    fs::create_dir_all(&wheel_dir)?;
    let reqs = write_wheels(&wheel_dir, wheels, wheel_files)?;
    offline_pip_env(&wheel_dir);
    let app = root.join("app");
    fs::create_dir_all(&app)?;
    for i in 0..40 {
        fs::write(
            app.join(format!("mod_{i:02}.py")),
            format!("X = {i}\n").repeat(1000),
        )?;
    }
    fs::write(app.join("app.py"), "def handler(e, c):\n    return 1\n")?;
    let plain_app = root.join("plain-app");
    fs::create_dir_all(&plain_app)?;
    for e in fs::read_dir(&app)? {
        let e = e?;
        fs::copy(e.path(), plain_app.join(e.file_name()))?;
    }
    fs::write(app.join("requirements.txt"), &reqs)?;
    let settings = |dir: &Path| Settings {
        source_dir: dir.to_owned(),
        runtime: "python3.12".into(),
        architecture: "x86_64".into(),
        requirements_file: None,
        slim: false,
        exclude: Vec::new(),
        bundle: false,
    };
    let (with_deps, without) = (settings(&app), settings(&plain_app));
    let deps = with_deps.deps()?.context("requirements.txt is found")?;
    for i in 0..repeats.min(3) {
        let cache = Cache::at(root.join(format!("cache-first-{i}")));
        let (r, d) = timed(|| cache.install(&deps.key(), |t| deps.install(t)));
        r?;
        out.first_install.push_duration(d);
        let target = root.join(format!("plain-pip-{i}"));
        let (r, d) = timed(|| plain_pip(&app.join("requirements.txt"), &target));
        r?;
        out.plain_pip.push_duration(d);
    }
    let cache = Cache::at(root.join("cache"));
    let planned = plan_work(&with_deps, &cache)?;
    // The first assemble installs and keeps the zip; time a rebuild (deps
    // cached, zip not) against reuse.
    package::assemble(&with_deps, Some(&planned), Some(&cache))?;
    let zips = root.join("cache").join("zips");
    for _ in 0..repeats {
        fs::remove_dir_all(&zips).ok();
        let (r, d) = timed(|| package::assemble(&with_deps, Some(&planned), Some(&cache)));
        r?;
        out.built.push_duration(d);
        let (r, d) = timed(|| package::assemble(&with_deps, Some(&planned), Some(&cache)));
        r?;
        out.reused.push_duration(d);
    }
    plan_work(&without, &cache)?;
    for _ in 0..repeats * 20 {
        let (r, d) = timed(|| plan_work(&with_deps, &cache));
        r?;
        out.plan_with_deps.push_duration(d);
        let (r, d) = timed(|| plan_work(&without, &cache));
        r?;
        out.plan_without.push_duration(d);
    }
    Ok(out)
}

fn met(value: f64, ok: impl Fn(f64) -> bool) -> Option<bool> {
    Some(value.is_finite() && ok(value))
}

/// Measures figure 11 and adds its rows and section to `rep`.
pub fn figure(sizes: &Sizes, rep: &mut Report) -> Result<()> {
    eprintln!("[bench] figure 11: packaging");
    let dir = tempfile::Builder::new()
        .prefix("eventpipe-bench-packaging-")
        .tempdir()?;
    let p = run(
        dir.path(),
        sizes.tree_files,
        sizes.tree_file_size,
        sizes.hash_repeats,
        sizes.quick,
    )?;
    let speedup = p.sequential.median() / p.parallel.median();
    rep.row(Row {
        figure: "11",
        what: format!(
            "Zip build, {} files, {} (figure 6's tree), deflate on every core",
            p.files,
            Unit::Mb.fmt(p.bytes as f64)
        ),
        result: p.parallel.show(Unit::S),
        baseline: format!(
            "the sequential reference builder (byte-equal output): {}",
            p.sequential.show(Unit::S)
        ),
        ratio: format!("{speedup:.2}× faster"),
        target: "≥ 1.8× faster".into(),
        met: met(speedup, |s| s >= 1.8),
    });
    rep.row(Row {
        figure: "11",
        what: "Apply's packaging with a zip already built for the hash".into(),
        result: p.reused.show(Unit::Ms),
        baseline: format!(
            "building it (dependencies cached): {}",
            p.built.show(Unit::Ms)
        ),
        ratio: ratio(p.reused.median(), p.built.median()),
        target: "report".into(),
        met: None,
    });
    let plan_ratio = p.plan_with_deps.median() / p.plan_without.median();
    rep.row(Row {
        figure: "11",
        what: "Plan-time package work with cached dependencies".into(),
        result: p.plan_with_deps.show(Unit::Ms),
        baseline: format!(
            "the same source without dependencies: {}",
            p.plan_without.show(Unit::Ms)
        ),
        ratio: ratio(p.plan_with_deps.median(), p.plan_without.median()),
        target: "≤ 1.1×".into(),
        met: met(plan_ratio, |r| r <= 1.1),
    });
    rep.row(Row {
        figure: "11",
        what: format!(
            "First install of {} requirements ({} modules each), for Lambda's platform",
            p.wheels, p.wheel_files
        ),
        result: p.first_install.show(Unit::S),
        baseline: format!(
            "plain `pip install --target` of the same file: {}",
            p.plain_pip.show(Unit::S)
        ),
        ratio: ratio(p.first_install.median(), p.plain_pip.median()),
        target: "report".into(),
        met: None,
    });
    rep.section(
        "11. Packaging",
        format!(
            "Zip: `scan` + `package::zip::build_parallel` (each file read once, deflated into \
             its own entry on rayon's threads, then copied in order) against `scan` + \
             `build_sequential`, the single-threaded builder of before, in the same run; the two \
             outputs are checked equal first, and both run from the page cache. Reuse: \
             `package::assemble` with the zip kept in the cache for the planned hash (one read of \
             the source to check the hash) against the same call with the zip removed \
             ({} runs each). Plan: the package work of `PlanResourceChange` (`Build`'s scan and \
             hash with the requirements file, and the cached tree's recorded size) for a \
             41-file handler with a cached requirements tree, against the same files without \
             requirements.txt ({} alternating runs). Install: the provider's pip run (a `--platform` per \
             manylinux tag from `manylinux_2_34_x86_64` down to `manylinux2014_x86_64`, \
             `--implementation cp --python-version 3.12 --only-binary=:all:` into the cache, with its atomic rename) against `python3 -m pip \
             install --target` of the same requirements, both offline from wheels the bench \
             writes ({} runs each).",
            p.built.len(),
            p.plan_with_deps.len(),
            p.first_install.len()
        ),
    );
    Ok(())
}
