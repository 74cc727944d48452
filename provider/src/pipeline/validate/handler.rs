//! The handler: its form for the runtime, and whether its module defines
//! the function (read through `handler_check`).

use super::*;
use crate::pipeline::package::deps::pyproject::{PACKAGE_DIRS, PYPROJECT};
use crate::pipeline::source::SourceFile;

/// The largest handler module the plan reads to see what it defines.
pub(super) const MAX_HANDLER_MODULE_BYTES: u64 = 2 * 1024 * 1024;

/// `app.handler` → `app.py` for Python; `index.handler` → `index.js`,
/// `.mjs` or `.cjs` for Node.js, and that module defines (Python, at top
/// level) or exports (Node.js) the function. Other runtimes are not
/// checked.
pub(super) fn check_handler(
    handler: &str,
    runtime: &str,
    tree: Option<&SourceTree>,
    diags: &mut Diagnostics,
) {
    let Some(lang) = Language::of_runtime(runtime) else {
        return;
    };
    let Some((module, func)) = module_and_function(handler, lang, diags) else {
        return;
    };
    let Some(tree) = tree else { return };
    let Some(file) = module_file(handler, lang, module, tree, diags) else {
        return;
    };
    if file.size > MAX_HANDLER_MODULE_BYTES {
        return;
    }
    let scan = read_module(lang, file);
    let verdict = handler_check::verdict(&scan, func);
    // `app.py`: the file's name where `<module>.<function>` belongs.
    if lang.extensions().contains(&func) && verdict != Verdict::Found {
        diags.push(names_the_file(handler, lang, file, &scan));
        return;
    }
    if let Some(d) = verdict_diagnostic(handler, lang, func, file, verdict) {
        diags.push(d);
    }
}

/// The handler's `<module>` and `<function>`, or an error when it is not
/// of that form.
fn module_and_function<'h>(
    handler: &'h str,
    lang: Language,
    diags: &mut Diagnostics,
) -> Option<(&'h str, &'h str)> {
    let path = path::function(attr::HANDLER);
    let Some((module, func)) = handler.rsplit_once('.') else {
        diags.push(error(
            path,
            "Invalid handler",
            format!(
                "{handler:?} must be `<module>.<function>`, e.g. `app.handler` for handler() in \
                 app.{}.",
                lang.extensions()[0]
            ),
        ));
        return None;
    };
    if module.is_empty() || func.is_empty() {
        diags.push(error(
            path,
            "Invalid handler",
            format!("{handler:?} must be `<module>.<function>`."),
        ));
        return None;
    }
    Some((module, func))
}

/// The module's file in the source tree, or an error when it is not there.
fn module_file<'t>(
    handler: &str,
    lang: Language,
    module: &str,
    tree: &'t SourceTree,
    diags: &mut Diagnostics,
) -> Option<&'t SourceFile> {
    let extensions = lang.extensions();
    // Python modules may be dotted packages; Node paths use `/`.
    let base = match lang {
        Language::Python => module.replace('.', "/"),
        Language::Node => module.to_owned(),
    };
    // A Python project's own package may live under `src/` (installed
    // into the package's root at apply).
    let dirs: &[&str] = match lang {
        Language::Python if has_pyproject(tree) => &PACKAGE_DIRS,
        _ => &[""],
    };
    let file = dirs.iter().find_map(|dir| {
        extensions.iter().find_map(|ext| {
            let name = format!("{dir}{base}.{ext}");
            tree.files.iter().find(|f| f.name == name)
        })
    });
    if file.is_none() {
        diags.push(error(
            path::function(attr::HANDLER),
            "Handler file not found",
            format!(
                "Handler {handler:?} needs {base}.{} in {}, which is not there.",
                extensions[0],
                tree.root.display()
            ),
        ));
    }
    file
}

/// Whether the source is a Python project (a `pyproject.toml` at its root).
fn has_pyproject(tree: &SourceTree) -> bool {
    tree.files.iter().any(|f| f.name == PYPROJECT)
}

/// What the module defines, or why that cannot be read.
pub(super) fn read_module(lang: Language, file: &SourceFile) -> handler_check::Scan {
    match std::fs::read(&file.path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => handler_check::scan(lang, &text),
            Err(_) => handler_check::Scan::Unreadable("it is not UTF-8 text".to_owned()),
        },
        Err(e) => handler_check::Scan::Unreadable(e.to_string()),
    }
}

/// A handler such as `app.py`, which names the file: the error suggests
/// `<module>.<function>`, with the function when the module has a likely one.
fn names_the_file(
    handler: &str,
    lang: Language,
    file: &SourceFile,
    scan: &handler_check::Scan,
) -> Diagnostic {
    let (module_name, _) = file.name.rsplit_once('.').unwrap_or((&file.name, ""));
    let module_name = match lang {
        Language::Python => module_name.replace('/', "."),
        Language::Node => module_name.to_owned(),
    };
    let instead = match handler_check::likely_function(scan) {
        Some(f) => format!("\"{module_name}.{f}\""),
        None => format!("\"{module_name}.<function>\" with the function Lambda calls"),
    };
    error(
        path::function(attr::HANDLER),
        "Invalid handler",
        format!(
            "{handler:?} names the file {}; a handler is `<module>.<function>`: the module \
             without its extension, then the function. Did you mean {instead}?",
            file.name
        ),
    )
}

/// The error for a module without the function, the warning for one that
/// cannot be checked; nothing when the function is there.
pub(super) fn verdict_diagnostic(
    handler: &str,
    lang: Language,
    func: &str,
    file: &SourceFile,
    verdict: Verdict,
) -> Option<Diagnostic> {
    let path = path::function(attr::HANDLER);
    match verdict {
        Verdict::Found => None,
        Verdict::Missing { functions, others } => {
            let (lacks, defines) = match lang {
                Language::Python => (
                    format!("has no top-level `{func}`"),
                    "The functions it defines at top level",
                ),
                Language::Node => (
                    format!("does not export `{func}`"),
                    "The functions it exports",
                ),
            };
            let listed = |names: &[String]| {
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut defined = if functions.is_empty() {
                format!("{defines}: none")
            } else {
                format!("{defines}: {}", listed(&functions))
            };
            if !others.is_empty() {
                defined.push_str(&format!(" (other names: {})", listed(&others)));
            }
            Some(error(
                path,
                "Handler function not found",
                format!(
                    "Handler {handler:?}: {} {lacks}, so Lambda would fail on the first event. \
                     {defined}.",
                    file.name
                ),
            ))
        }
        Verdict::Unsure(why) => Some(
            Diagnostic::warning(
                "Handler function not checked",
                format!(
                    "Handler {handler:?}: {} {why}, so whether it defines `{func}` is known \
                     only when Lambda loads it.",
                    file.name
                ),
            )
            .at(path),
        ),
    }
}
