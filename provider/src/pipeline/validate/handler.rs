//! The handler: its form for the runtime, and whether its module defines
//! the function (read through `handler_check`).

use super::*;

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
    let path = path::function(attr::HANDLER);
    let Some(lang) = Language::of_runtime(runtime) else {
        return;
    };
    let extensions = lang.extensions();
    let Some((module, func)) = handler.rsplit_once('.') else {
        diags.push(error(
            path,
            "Invalid handler",
            format!(
                "{handler:?} must be `<module>.<function>`, e.g. `app.handler` for handler() in \
                 app.{}.",
                extensions[0]
            ),
        ));
        return;
    };
    if module.is_empty() || func.is_empty() {
        diags.push(error(
            path,
            "Invalid handler",
            format!("{handler:?} must be `<module>.<function>`."),
        ));
        return;
    }
    let Some(tree) = tree else { return };
    // Python modules may be dotted packages; Node paths use `/`.
    let base = match lang {
        Language::Python => module.replace('.', "/"),
        Language::Node => module.to_owned(),
    };
    let file = extensions.iter().find_map(|ext| {
        let name = format!("{base}.{ext}");
        tree.files.iter().find(|f| f.name == name)
    });
    let Some(file) = file else {
        diags.push(error(
            path,
            "Handler file not found",
            format!(
                "Handler {handler:?} needs {base}.{} in {}, which is not there.",
                extensions[0],
                tree.root.display()
            ),
        ));
        return;
    };
    if file.size > MAX_HANDLER_MODULE_BYTES {
        return;
    }
    let scan = match std::fs::read(&file.path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => handler_check::scan(lang, &text),
            Err(_) => handler_check::Scan::Unreadable("it is not UTF-8 text".to_owned()),
        },
        Err(e) => handler_check::Scan::Unreadable(e.to_string()),
    };
    let verdict = handler_check::verdict(&scan, func);
    // `app.py`: the file's name where `<module>.<function>` belongs.
    let names_the_file = extensions.contains(&func) && verdict != Verdict::Found;
    if names_the_file {
        let (module_name, _) = file.name.rsplit_once('.').unwrap_or((&file.name, ""));
        let module_name = match lang {
            Language::Python => module_name.replace('/', "."),
            Language::Node => module_name.to_owned(),
        };
        let instead = match handler_check::likely_function(&scan) {
            Some(f) => format!("\"{module_name}.{f}\""),
            None => format!("\"{module_name}.<function>\" with the function Lambda calls"),
        };
        diags.push(error(
            path,
            "Invalid handler",
            format!(
                "{handler:?} names the file {}; a handler is `<module>.<function>`: the module \
                 without its extension, then the function. Did you mean {instead}?",
                file.name
            ),
        ));
        return;
    }
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
    match verdict {
        Verdict::Found => {}
        Verdict::Missing { functions, others } => {
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
            diags.push(error(
                path,
                "Handler function not found",
                format!(
                    "Handler {handler:?}: {} {lacks}, so Lambda would fail on the first event. \
                     {defined}.",
                    file.name
                ),
            ));
        }
        Verdict::Unsure(why) => diags.push(
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
