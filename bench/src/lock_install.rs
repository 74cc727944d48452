//! Figure 15, row 1: the first install (cold caches) of the same 8-wheel
//! set through uv (a `uv.lock` project: `uv export --frozen`, then `uv pip
//! install --target` for Lambda's platform) against pip's path (the same
//! pins as a `requirements.txt`: `python3 -m pip install --target` with a
//! `--platform` per manylinux tag). Both through the provider's own
//! `Deps::install` into a fresh package cache, with uv's and pip's own
//! caches fresh for every run, offline from wheels the bench writes.
//! The faster one is the default where both could install a lock.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail, ensure};
use eventpipe::pipeline::package::{Settings, cache::Cache, deps::Deps};

use crate::Sizes;
use crate::packaging::write_wheels;
use crate::report::{Report, Row};
use crate::stats::{Samples, Unit, ratio, timed};

/// Sets `key` for this process and the installers it starts.
fn set_env(key: &str, value: impl AsRef<std::ffi::OsStr>) {
    // SAFETY: the bench's main thread, no installer running meanwhile.
    unsafe { std::env::set_var(key, value) }
}

fn settings(dir: &Path) -> Settings {
    Settings {
        source_dir: dir.to_owned(),
        runtime: "python3.12".into(),
        architecture: "x86_64".into(),
        requirements_file: None,
        slim: false,
        exclude: Vec::new(),
        bundle: false,
    }
}

/// A real interpreter for uv (the pyenv shims of newer versions fail
/// outside their version), when this machine has one.
fn uv_python() -> Option<std::path::PathBuf> {
    let home = std::env::var_os("HOME")?;
    let p = Path::new(&home).join(".pyenv/versions/3.13.0/bin/python3");
    p.is_file().then_some(p)
}

/// Installs `deps` into a fresh cache under `root`, with fresh uv and pip
/// caches: the time of a first install.
fn first_install(deps: &Deps, root: &Path, run: &str) -> Result<std::time::Duration> {
    set_env("UV_CACHE_DIR", root.join(format!("uv-cache-{run}")));
    set_env("PIP_CACHE_DIR", root.join(format!("pip-cache-{run}")));
    let cache = Cache::at(root.join(format!("cache-{run}")));
    let (r, d) = timed(|| cache.install(&deps.key(), |t| deps.install(t)));
    let tree = r?;
    ensure!(
        fs::read_dir(&tree)?.count() > 8,
        "{run}: the wheels are installed in {}",
        tree.display()
    );
    Ok(d)
}

/// Measures figure 15's first row and adds it to `rep`.
pub fn figure_15_install(sizes: &Sizes, rep: &mut Report) -> Result<()> {
    eprintln!("[bench] figure 15: first install through uv and through pip");
    let tools = tests::tools::package_tools()?;
    let root = tempfile::Builder::new()
        .prefix("eventpipe-bench-locks-")
        .tempdir()?;
    let root = root.path();
    let (count, files) = if sizes.quick { (8, 10) } else { (8, 150) };
    let wheels = root.join("wheels");
    fs::create_dir_all(&wheels)?;
    let reqs = write_wheels(&wheels, count, files)?;
    set_env("PATH", tools.path());
    set_env("UV_OFFLINE", "1");
    set_env("UV_FIND_LINKS", &wheels);
    set_env("PIP_NO_INDEX", "1");
    set_env("PIP_FIND_LINKS", &wheels);
    set_env("PIP_DISABLE_PIP_VERSION_CHECK", "1");
    if let Some(p) = uv_python() {
        set_env("UV_PYTHON", p);
    }

    // The same pins: a uv project and a requirements.txt.
    let uv_dir = root.join("uv-app");
    let pip_dir = root.join("pip-app");
    for d in [&uv_dir, &pip_dir] {
        fs::create_dir_all(d)?;
        fs::write(d.join("app.py"), "def handler(e, c):\n    return 1\n")?;
    }
    let pins: Vec<String> = reqs.lines().map(|l| format!("\"{l}\"")).collect();
    fs::write(
        uv_dir.join("pyproject.toml"),
        format!(
            "[project]\nname = \"bench\"\nversion = \"0.1.0\"\nrequires-python = \">=3.11\"\n\
             dependencies = [{}]\n",
            pins.join(", ")
        ),
    )?;
    let lock = Command::new("uv")
        .args(["lock", "--quiet"])
        .current_dir(&uv_dir)
        .env("UV_CACHE_DIR", root.join("uv-cache-lock"))
        .stdin(Stdio::null())
        .output()
        .context("running uv lock")?;
    if !lock.status.success() {
        bail!("uv lock: {}", String::from_utf8_lossy(&lock.stderr));
    }
    fs::write(pip_dir.join("requirements.txt"), &reqs)?;
    let uv_deps = settings(&uv_dir).deps()?.context("uv.lock is found")?;
    let pip_deps = settings(&pip_dir)
        .deps()?
        .context("requirements.txt is found")?;
    ensure!(matches!(uv_deps, Deps::PythonLock(_)), "a uv project");
    ensure!(matches!(pip_deps, Deps::Python(_)), "a pip project");

    let (mut uv, mut pip) = (Samples::default(), Samples::default());
    for i in 0..sizes.repeats.clamp(1, 3) {
        uv.push_duration(first_install(&uv_deps, root, &format!("uv-{i}"))?);
        pip.push_duration(first_install(&pip_deps, root, &format!("pip-{i}"))?);
    }
    let faster = if uv.median() <= pip.median() {
        "uv"
    } else {
        "pip"
    };
    rep.row(Row {
        figure: "15",
        what: format!(
            "First install of {count} wheels ({files} modules each) from a uv.lock, through uv"
        ),
        result: uv.show(Unit::S),
        baseline: format!(
            "the same pins through pip's path (requirements.txt): {}",
            pip.show(Unit::S)
        ),
        ratio: ratio(uv.median(), pip.median()),
        target: format!(
            "report both; the faster is the default for uv.lock (faster here: {faster})"
        ),
        met: None,
    });
    rep.section(
        "15. Python locks: first install",
        format!(
            "The provider's `Deps::install` into a fresh package cache, once for a uv project \
             (`uv export --frozen --no-dev --no-emit-project`, then `uv pip install --target \
             --python-platform x86_64-manylinux_2_34 --python-version 3.12 --only-binary :all: \
             --no-deps`) and once for a `requirements.txt` of the same {count} pins (pip's \
             path: `python3 -m pip install --target` with a `--platform` per manylinux tag), \
             alternating, {} runs each; uv's and pip's caches are new directories for every \
             run (cold), everything offline from wheels the bench writes. uv {}, pip {}. The \
             provider installs a `uv.lock` through uv; a `requirements.txt` keeps pip's path so \
             that its `source_code_hash` does not change.",
            uv.len(),
            uv.show(Unit::S),
            pip.show(Unit::S),
        ),
    );
    Ok(())
}
