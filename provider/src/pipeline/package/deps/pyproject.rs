//! What a `pyproject.toml` says about the project's own package: whether
//! there is one to build and install (a `[build-system]`, and not switched
//! off with uv's `tool.uv.package = false` or Poetry's
//! `tool.poetry.package-mode = false`), and where its modules live (`src/`
//! layout or flat), which the plan's handler check reads.

use toml_edit::{Document, Item};

/// The project file's name.
pub const PYPROJECT: &str = "pyproject.toml";

/// The folders of a project's source tree a handler module may live in,
/// most specific first: the `src/` layout's, then the root (flat layout).
pub const PACKAGE_DIRS: [&str; 2] = ["src/", ""];

/// Whether `text` (a `pyproject.toml`) declares a package of the project's
/// own that is built and installed with its dependencies.
pub fn builds_own_package(text: &str) -> Result<bool, String> {
    // No `build-system` anywhere, no table of that name: a plan then
    // parses nothing (the installer reads and checks the file itself).
    if !text.contains("build-system") {
        return Ok(false);
    }
    let doc = Document::parse(text).map_err(|e| e.to_string())?;
    let table = doc.as_table();
    if !table.contains_key("build-system") {
        return Ok(false);
    }
    let tool = |path: &[&str]| -> Option<bool> {
        let mut item: &Item = table.get("tool")?;
        for key in path {
            item = item.get(key)?;
        }
        item.as_bool()
    };
    let off =
        tool(&["uv", "package"]) == Some(false) || tool(&["poetry", "package-mode"]) == Some(false);
    Ok(!off)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_build_system_means_an_own_package_unless_switched_off() {
        let with = "[project]\nname = \"p\"\n[build-system]\nrequires = [\"hatchling\"]\n\
                    build-backend = \"hatchling.build\"\n";
        assert_eq!(builds_own_package(with), Ok(true));
        assert_eq!(builds_own_package("[project]\nname = \"p\"\n"), Ok(false));
        assert_eq!(
            builds_own_package(&format!("{with}[tool.uv]\npackage = false\n")),
            Ok(false)
        );
        assert_eq!(
            builds_own_package(&format!("{with}[tool.poetry]\npackage-mode = false\n")),
            Ok(false)
        );
        assert!(builds_own_package("[project\n[build-system]\n").is_err());
    }
}
