//! Figure 15, "a plan with every lock kind cached": the plan-time package
//! work (scan, hash with the dependency files, the cached tree's recorded
//! size) of a handler whose dependencies are locked and already installed
//! in the cache, for each lock kind, against the same source without its
//! dependency files. The lock kinds are a table of fixtures ([`KINDS`]):
//! a new kind is one more row (its runtime, its dependency files, and how
//! to write them offline). Everything is offline: the wheels and npm
//! tarballs are made by the bench.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail, ensure};
use eventpipe::pipeline::package::{Settings, cache::Cache};

use crate::Sizes;
use crate::packaging::{offline_pip_env, plan_work, write_wheels};
use crate::report::{Report, Row};
use crate::stats::{Samples, Unit, ratio, timed};

/// What the fixtures are written from: wheels for Python kinds (found by
/// pip through `PIP_FIND_LINKS`, by uv through `UV_FIND_LINKS`), npm
/// tarballs for Node.js kinds (copied into the app's `vendor/` and named
/// as `file:` dependencies).
pub struct Vendor {
    pub wheels: PathBuf,
    /// `name==1.0.0` lines of every wheel.
    pub requirements: String,
    pub tarballs: PathBuf,
    /// `(name, file name)` of every tarball.
    pub packages: Vec<(String, String)>,
}

/// One lock kind.
pub struct LockKind {
    pub name: &'static str,
    pub runtime: &'static str,
    /// The files that declare the dependencies: the baseline is the same
    /// source without them.
    pub dep_files: &'static [&'static str],
    /// Writes the dependency files (and what they point at) into `app`.
    pub write: fn(app: &Path, vendor: &Vendor) -> Result<()>,
}

/// Every lock kind of the figure.
pub const KINDS: &[LockKind] = &[
    LockKind {
        name: "requirements.txt (pip)",
        runtime: "python3.12",
        dep_files: &["requirements.txt"],
        write: |app, v| Ok(fs::write(app.join("requirements.txt"), &v.requirements)?),
    },
    LockKind {
        name: "uv.lock (uv)",
        runtime: "python3.12",
        dep_files: &["pyproject.toml", "uv.lock"],
        write: |app, v| {
            let deps = quoted(v.requirements.lines());
            fs::write(
                app.join("pyproject.toml"),
                format!(
                    "{}dependencies = [{deps}]\n\n[tool.uv]\npackage = false\n",
                    PROJECT
                ),
            )?;
            tool(app, "uv", &["lock", "--quiet"])
        },
    },
    LockKind {
        name: "poetry.lock (Poetry)",
        runtime: "python3.12",
        dep_files: &["pyproject.toml", "poetry.lock"],
        write: |app, v| {
            // Each wheel by its file URL: Poetry has no find-links.
            let mut wheels: Vec<String> = fs::read_dir(&v.wheels)?
                .filter_map(|e| Some(e.ok()?.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "whl"))
                .map(|p| {
                    let name = p.file_name().unwrap_or_default().to_string_lossy();
                    let dist = name.split('-').next().unwrap_or_default().replace('_', "-");
                    format!("{dist} @ file://{}", p.display())
                })
                .collect();
            wheels.sort();
            let deps = quoted(wheels.iter().map(String::as_str));
            fs::write(
                app.join("pyproject.toml"),
                format!(
                    "{}dependencies = [{deps}]\n\n[tool.poetry]\npackage-mode = false\n",
                    PROJECT
                ),
            )?;
            tool(app, "poetry", &["lock", "--no-interaction", "--no-ansi"])
        },
    },
    LockKind {
        name: "pylock.toml (uv)",
        runtime: "python3.12",
        dep_files: &["pylock.toml"],
        write: |app, v| {
            // Exported by uv from a scratch project; only the pylock.toml stays.
            let scratch = tempfile::tempdir()?;
            let deps = quoted(v.requirements.lines());
            fs::write(
                scratch.path().join("pyproject.toml"),
                format!("{}dependencies = [{deps}]\n", PROJECT),
            )?;
            tool(scratch.path(), "uv", &["lock", "--quiet"])?;
            tool(
                scratch.path(),
                "uv",
                &[
                    "export",
                    "--frozen",
                    "--format",
                    "pylock.toml",
                    "--no-emit-project",
                    "--quiet",
                    "-o",
                    "pylock.toml",
                ],
            )?;
            fs::copy(scratch.path().join("pylock.toml"), app.join("pylock.toml"))?;
            Ok(())
        },
    },
    LockKind {
        name: "package-lock.json (npm)",
        runtime: "nodejs24.x",
        dep_files: &["package.json", "package-lock.json"],
        write: |app, v| {
            node_project(app, v)?;
            tool(
                app,
                "npm",
                &["install", "--package-lock-only", "--offline", "--no-audit"],
            )
        },
    },
    LockKind {
        name: "pnpm-lock.yaml (pnpm)",
        runtime: "nodejs24.x",
        dep_files: &["package.json", "pnpm-lock.yaml"],
        write: |app, v| {
            node_project(app, v)?;
            tool(app, "pnpm", &["install", "--lockfile-only", "--offline"])
        },
    },
    LockKind {
        name: "yarn.lock (Yarn 4)",
        runtime: "nodejs24.x",
        dep_files: &["package.json", "yarn.lock", ".yarnrc.yml"],
        write: |app, v| {
            node_project(app, v)?;
            fs::write(app.join(".yarnrc.yml"), "nodeLinker: node-modules\n")?;
            tool(app, "yarn", &["install", "--mode=update-lockfile"])?;
            // The state Yarn keeps for itself is not the project's.
            let _ = fs::remove_dir_all(app.join(".yarn"));
            Ok(())
        },
    },
];

/// The head of the Python projects' `pyproject.toml`.
const PROJECT: &str =
    "[project]\nname = \"bench-fn\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\n";

/// `"a", "b"`: TOML strings of `items`.
fn quoted<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("\"{}\"", l.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// package.json depending on every tarball, copied into `app/vendor`.
fn node_project(app: &Path, v: &Vendor) -> Result<()> {
    let vendor = app.join("vendor");
    fs::create_dir_all(&vendor)?;
    let mut deps = serde_json::Map::new();
    for (name, file) in &v.packages {
        fs::copy(v.tarballs.join(file), vendor.join(file))?;
        deps.insert(name.clone(), format!("file:vendor/{file}").into());
    }
    let manifest = serde_json::json!({
        "name": "bench-fn", "version": "1.0.0", "private": true, "dependencies": deps,
    });
    fs::write(app.join("package.json"), manifest.to_string())?;
    Ok(())
}

fn tool(dir: &Path, program: &str, args: &[&str]) -> Result<()> {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {program}"))?;
    if !out.status.success() {
        bail!(
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// `count` npm tarballs of `files` modules each, packed into `dir`.
fn pack_tarballs(dir: &Path, count: usize, files: usize) -> Result<Vec<(String, String)>> {
    fs::create_dir_all(dir)?;
    let mut packages = Vec::new();
    for p in 0..count {
        let name = format!("benchjs{p}");
        let src = tempfile::tempdir()?;
        fs::write(
            src.path().join("package.json"),
            format!(r#"{{"name":"{name}","version":"1.0.0","main":"index.js"}}"#),
        )?;
        let mut index = String::new();
        for f in 0..files {
            fs::write(
                src.path().join(format!("mod_{f:03}.js")),
                format!("exports.value = {f};\n").repeat(200),
            )?;
            index.push_str(&format!("exports.m{f} = require(\"./mod_{f:03}.js\");\n"));
        }
        fs::write(src.path().join("index.js"), index)?;
        let out = Command::new("npm")
            .args(["pack", "--offline", "--silent", "--pack-destination"])
            .arg(dir)
            .current_dir(src.path())
            .output()
            .context("npm pack")?;
        ensure!(out.status.success(), "npm pack of {name} failed");
        packages.push((name.clone(), format!("{name}-1.0.0.tgz")));
    }
    Ok(packages)
}

/// The handler's own files: 40 modules and the entry.
fn write_handler(app: &Path, runtime: &str) -> Result<()> {
    fs::create_dir_all(app)?;
    let (ext, entry, body) = if runtime.starts_with("python") {
        ("py", "app.py", "def handler(e, c):\n    return 1\n")
    } else {
        ("js", "index.js", "exports.handler = async () => 1;\n")
    };
    for i in 0..40 {
        fs::write(
            app.join(format!("mod_{i:02}.{ext}")),
            format!("X = {i}\n").repeat(1000),
        )?;
    }
    fs::write(app.join(entry), body)?;
    Ok(())
}

/// The bench process is the provider: the package managers it runs
/// inherit this environment (the pinned tools first on PATH; every cache
/// under `root`; no network).
/// A Python that runs for uv to lock with: newer pyenv versions are shims
/// that fail outside their version on these machines.
fn real_python() -> String {
    let home = std::env::var("HOME").unwrap_or_default();
    let real = Path::new(&home).join(".pyenv/versions/3.13.0/bin/python3");
    if real.is_file() {
        real.display().to_string()
    } else {
        "python3".to_owned()
    }
}

fn offline_env(root: &Path, vendor: &Vendor) -> Result<()> {
    let tools = tests::tools::package_tools()?;
    offline_pip_env(&vendor.wheels);
    let vars = [
        ("PATH", tools.path()),
        ("npm_config_offline", "true".into()),
        ("npm_config_cache", root.join("npm").into()),
        ("npm_config_store_dir", root.join("pnpm-store").into()),
        ("YARN_ENABLE_NETWORK", "0".into()),
        ("YARN_ENABLE_TELEMETRY", "0".into()),
        ("YARN_CACHE_FOLDER", root.join("yarn-cache").into()),
        ("YARN_GLOBAL_FOLDER", root.join("yarn-global").into()),
        ("UV_FIND_LINKS", vendor.wheels.clone().into()),
        ("UV_OFFLINE", "1".into()),
        ("UV_CACHE_DIR", root.join("uv").into()),
        ("UV_PYTHON", real_python().into()),
        ("POETRY_CACHE_DIR", root.join("poetry-cache").into()),
        ("POETRY_CONFIG_DIR", root.join("poetry-config").into()),
        ("POETRY_DATA_DIR", root.join("poetry-data").into()),
        ("POETRY_VIRTUALENVS_CREATE", "false".into()),
    ];
    for (k, v) in vars {
        // SAFETY: set on the main thread before any installer runs.
        unsafe { std::env::set_var(k, v) };
    }
    Ok(())
}

/// One kind's plan work, with its tree cached and without dependencies.
pub struct KindPlan {
    pub name: &'static str,
    pub with_deps: Samples,
    pub without: Samples,
}

impl KindPlan {
    pub fn ratio(&self) -> f64 {
        self.with_deps.median() / self.without.median()
    }
}

fn settings(dir: &Path, runtime: &str) -> Settings {
    Settings {
        source_dir: dir.to_owned(),
        runtime: runtime.into(),
        architecture: "x86_64".into(),
        requirements_file: None,
        slim: false,
        exclude: Vec::new(),
        bundle: false,
    }
}

pub fn run(root: &Path, repeats: usize, quick: bool) -> Result<Vec<KindPlan>> {
    let (count, files) = if quick { (2, 10) } else { (8, 150) };
    let wheels = root.join("wheels");
    fs::create_dir_all(&wheels)?;
    let requirements = write_wheels(&wheels, count, files)?;
    let tarballs = root.join("tarballs");
    let packages = pack_tarballs(&tarballs, count, files)?;
    let vendor = Vendor {
        wheels,
        requirements,
        tarballs,
        packages,
    };
    offline_env(root, &vendor)?;
    let cache = Cache::at(root.join("cache"));
    let mut out = Vec::new();
    for (i, kind) in KINDS.iter().enumerate() {
        let app = root.join(format!("app-{i}"));
        write_handler(&app, kind.runtime)?;
        (kind.write)(&app, &vendor).with_context(|| kind.name)?;
        let plain = root.join(format!("plain-{i}"));
        copy_without(&app, &plain, kind.dep_files)?;
        let (with_deps, without) = (settings(&app, kind.runtime), settings(&plain, kind.runtime));
        let deps = with_deps.deps()?.context("the lock is found")?;
        ensure!(
            without.deps()?.is_none(),
            "{}: the baseline has no dependencies",
            kind.name
        );
        // Installed once, as apply does; the plan then finds it cached.
        eventpipe::pipeline::package::assemble(&with_deps, None, Some(&cache))
            .with_context(|| format!("{}: the first install", kind.name))?;
        ensure!(
            cache.installed(&deps.key()).is_some(),
            "{}: cached",
            kind.name
        );
        plan_work(&with_deps, &cache)?;
        plan_work(&without, &cache)?;
        let mut k = KindPlan {
            name: kind.name,
            with_deps: Samples::default(),
            without: Samples::default(),
        };
        for _ in 0..repeats * 20 {
            let (r, d) = timed(|| plan_work(&with_deps, &cache));
            r?;
            k.with_deps.push_duration(d);
            let (r, d) = timed(|| plan_work(&without, &cache));
            r?;
            k.without.push_duration(d);
        }
        out.push(k);
    }
    Ok(out)
}

/// A copy of `from` (files and directories) without the top-level
/// `skip` names.
fn copy_without(from: &Path, to: &Path, skip: &[&str]) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if skip.iter().any(|s| name == *s) {
            continue;
        }
        if entry.file_type()?.is_dir() {
            copy_without(&entry.path(), &to.join(&name), &[])?;
        } else {
            fs::copy(entry.path(), to.join(&name))?;
        }
    }
    Ok(())
}

/// Measures figure 15's plan row and adds it (and its section) to `rep`.
pub fn figure_15_plan(sizes: &Sizes, rep: &mut Report) -> Result<()> {
    eprintln!("[bench] figure 15: plan with every lock kind cached");
    let dir = tempfile::Builder::new()
        .prefix("eventpipe-bench-locks-")
        .tempdir()?;
    let kinds = run(dir.path(), sizes.hash_repeats, sizes.quick)?;
    let worst = kinds
        .iter()
        .max_by(|a, b| a.ratio().total_cmp(&b.ratio()))
        .context("at least one lock kind")?;
    let each: Vec<String> = kinds
        .iter()
        .map(|k| {
            format!(
                "{}: {} against {} ({})",
                k.name,
                k.with_deps.show(Unit::Ms),
                k.without.show(Unit::Ms),
                ratio(k.with_deps.median(), k.without.median())
            )
        })
        .collect();
    rep.row(Row {
        figure: "15",
        what: format!(
            "Plan-time package work with every lock kind cached ({} kinds; the slowest, {})",
            kinds.len(),
            worst.name
        ),
        result: worst.with_deps.show(Unit::Ms),
        baseline: format!(
            "the same source without dependencies: {}",
            worst.without.show(Unit::Ms)
        ),
        ratio: ratio(worst.with_deps.median(), worst.without.median()),
        target: "≤ 1.1× (each kind)".into(),
        met: Some(
            kinds
                .iter()
                .all(|k| k.ratio().is_finite() && k.ratio() <= 1.1),
        ),
    });
    rep.section(
        "15. Plan with every lock kind cached",
        format!(
            "For each lock kind, a 41-file handler with the kind's dependency files, its \
             dependencies ({} packages, installed once offline by the kind's own installer, \
             as apply does) in the cache, against the same directory without the dependency \
             files: the package work of `PlanResourceChange` (`Build`'s scan and hash with the \
             dependency files, and the cached tree's recorded size), {} alternating runs each. \
             {}.",
            if sizes.quick { 2 } else { 8 },
            kinds.first().map_or(0, |k| k.with_deps.len()),
            each.join("; ")
        ),
    );
    Ok(())
}
