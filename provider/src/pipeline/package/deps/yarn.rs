//! Yarn (2 and later, "berry"; tested with Yarn 4): a `yarn.lock` installed
//! in a temporary copy of the project, in two runs of the `yarn` on PATH
//! (never a corepack download):
//!
//! 1. `yarn install --immutable --mode=skip-build` with the Plug'n'Play
//!    linker: fails when the lock is not the one package.json resolves to
//!    (the lock is the single source of truth) and fetches the packages,
//!    writing one small file instead of a `node_modules`;
//! 2. `yarn workspaces focus --production` with the `node-modules` linker:
//!    the production dependencies only, as a `node_modules` Lambda loads.
//!    (`yarn install` has no production-only mode, and `workspaces focus`
//!    alone does not check the lock, hence the first run.)
//!
//! The project's `.yarnrc.yml` is honoured: the copy's is the same
//! settings with `nodeLinker: node-modules`, `supportedArchitectures` set
//! to Lambda's (Linux, the function's CPU, glibc) and the install state
//! kept in the copy. `.yarn/` (releases, plugins, patches, a committed
//! cache) is linked into the copy; `YARN_*` variables apply as usual.

use std::fs;
use std::path::Path;
use std::process::Command;

use yaml_rust2::yaml::{Hash, Yaml};
use yaml_rust2::{YamlEmitter, YamlLoader};

use super::DepsError;
use super::node::{Lock, cpu, keep_node_modules, link, runs};

/// What is not linked from the source directory: the settings (written
/// merged), Yarn's folder (rebuilt of links) and Plug'n'Play's files.
const NOT_LINKED: &[&str] = &[
    ".yarnrc.yml",
    ".yarn",
    ".pnp.cjs",
    ".pnp.loader.mjs",
    ".pnp.data.json",
];

/// What in `.yarn/` stays out of the copy: state an install writes.
const YARN_STATE: &[&str] = &["install-state.gz", "unplugged", "build-state.yml"];

fn yarn() -> &'static str {
    if cfg!(windows) { "yarn.cmd" } else { "yarn" }
}

/// A Yarn 2+ lock (YAML with a `__metadata` entry), not Yarn 1's format.
pub fn is_berry_lock(lock: &[u8]) -> bool {
    let text = String::from_utf8_lossy(lock);
    text.lines().any(|l| l.starts_with("__metadata:"))
}

/// Yarn's options: what the cache key covers.
pub fn options(architecture: &str) -> Vec<String> {
    [
        "install --immutable --mode=skip-build",
        "workspaces focus --production",
        "nodeLinker=node-modules",
        "supportedArchitectures.os=linux",
        &format!("supportedArchitectures.cpu={}", cpu(architecture)),
        "supportedArchitectures.libc=glibc",
    ]
    .map(str::to_owned)
    .into()
}

/// The copy's `.yarnrc.yml`: the project's settings (`project`, when it
/// has some) with the linker, the architectures and the install state's
/// path set.
pub fn settings(project: Option<&str>, architecture: &str, state: &Path) -> Result<String, String> {
    let mut map = match project.map(YamlLoader::load_from_str) {
        None => Hash::new(),
        Some(Err(e)) => return Err(format!(".yarnrc.yml is not valid YAML: {e}")),
        Some(Ok(docs)) => match docs.into_iter().next() {
            None | Some(Yaml::Null) => Hash::new(),
            Some(Yaml::Hash(h)) => h,
            Some(_) => return Err(".yarnrc.yml is not a map of settings".into()),
        },
    };
    let s = |v: &str| Yaml::String(v.to_owned());
    let list = |v: &str| Yaml::Array(vec![s(v)]);
    map.insert(s("nodeLinker"), s("node-modules"));
    let mut arch = Hash::new();
    arch.insert(s("os"), list("linux"));
    arch.insert(s("cpu"), list(cpu(architecture)));
    arch.insert(s("libc"), list("glibc"));
    map.insert(s("supportedArchitectures"), Yaml::Hash(arch));
    map.insert(s("installStatePath"), s(&state.display().to_string()));
    let mut out = String::new();
    YamlEmitter::new(&mut out)
        .dump(&Yaml::Hash(map))
        .map_err(|e| format!("cannot write .yarnrc.yml: {e}"))?;
    out.push('\n');
    Ok(out)
}

pub fn install(lock: &Lock, into: &Path) -> Result<(), DepsError> {
    let into = &std::path::absolute(into)?;
    let work = lock.work_copy(into, ".yarn-work", NOT_LINKED)?;
    let source = std::path::absolute(&lock.dir)?;
    let result = prepare(&source, &work, &lock.architecture).and_then(|()| {
        let mut check = Command::new(yarn());
        check
            .args(["install", "--immutable", "--mode=skip-build"])
            .env("YARN_NODE_LINKER", "pnp")
            .current_dir(&work);
        super::run(&mut check, "yarn install --immutable")?;
        let mut focus = Command::new(yarn());
        focus
            .args(["workspaces", "focus", "--production"])
            .env("YARN_NODE_LINKER", "node-modules")
            .current_dir(&work);
        super::run(&mut focus, "yarn workspaces focus --production")
    });
    keep_node_modules(result, &work, into, &[".yarn-state.yml"])
}

/// Writes the copy's `.yarnrc.yml` and its `.yarn/` of links.
fn prepare(source: &Path, work: &Path, architecture: &str) -> Result<(), DepsError> {
    let rc = source.join(".yarnrc.yml");
    let project = if rc.is_file() {
        Some(fs::read_to_string(&rc).map_err(|e| DepsError::Read {
            path: rc.clone(),
            source: e,
        })?)
    } else {
        None
    };
    let state = work.join(".yarn-install-state.gz");
    let text = settings(project.as_deref(), architecture, &state)
        .map_err(|why| DepsError::Installer(format!("{}: {why}", rc.display())))?;
    fs::write(work.join(".yarnrc.yml"), text)?;
    let folder = source.join(".yarn");
    if folder.is_dir() {
        fs::create_dir(work.join(".yarn"))?;
        for entry in fs::read_dir(&folder)? {
            let entry = entry?;
            let name = entry.file_name();
            if YARN_STATE.iter().any(|n| name == *n) {
                continue;
            }
            link(&entry.path(), &work.join(".yarn").join(&name))?;
        }
    }
    Ok(())
}

/// Whether Yarn runs; the message says what to install when it does not.
pub fn available() -> Result<(), String> {
    if runs(yarn()) {
        return Ok(());
    }
    Err(
        "source_dir has a yarn.lock, and `yarn --version` does not run: Yarn is not on the \
         PATH the provider runs with. Install Yarn 4 (`npm install --global \
         @yarnpkg/cli-dist@4`, or `corepack enable yarn` with the corepack cache filled \
         beforehand) where Terraform runs, or commit a package-lock.json instead."
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_berry_lock_is_told_from_a_yarn_1_lock() {
        assert!(is_berry_lock(
            b"# This file is generated\n\n__metadata:\n  version: 10\n"
        ));
        assert!(!is_berry_lock(
            b"# THIS IS AN AUTOGENERATED FILE.\n# yarn lockfile v1\n\n\nleft-pad@1.3.0:\n"
        ));
    }

    #[test]
    fn the_settings_keep_the_projects_and_set_the_linker_and_architectures() {
        let project = "nodeLinker: pnp\nnpmRegistryServer: \"https://npm.example.com\"\n\
                       enableGlobalCache: false\n";
        let text = settings(Some(project), "arm64", Path::new("/w/state.gz")).unwrap();
        let doc = &YamlLoader::load_from_str(&text).unwrap()[0];
        assert_eq!(doc["nodeLinker"].as_str(), Some("node-modules"));
        assert_eq!(
            doc["npmRegistryServer"].as_str(),
            Some("https://npm.example.com")
        );
        assert_eq!(doc["enableGlobalCache"].as_bool(), Some(false));
        assert_eq!(
            doc["supportedArchitectures"]["cpu"][0].as_str(),
            Some("arm64")
        );
        assert_eq!(
            doc["supportedArchitectures"]["os"][0].as_str(),
            Some("linux")
        );
        assert_eq!(doc["installStatePath"].as_str(), Some("/w/state.gz"));
        // No project settings, or an empty file: only ours.
        for project in [None, Some(""), Some("# nothing\n")] {
            let text = settings(project, "x86_64", Path::new("/s")).unwrap();
            let doc = &YamlLoader::load_from_str(&text).unwrap()[0];
            assert_eq!(
                doc["supportedArchitectures"]["cpu"][0].as_str(),
                Some("x64")
            );
        }
        assert!(settings(Some("- a list\n"), "x86_64", Path::new("/s")).is_err());
        assert!(settings(Some("a: [\n"), "x86_64", Path::new("/s")).is_err());
    }

    #[test]
    fn the_options_name_no_path_of_this_machine() {
        assert!(options("arm64").iter().all(|o| !o.contains('/')));
        assert_ne!(options("arm64"), options("x86_64"));
    }
}
