//! Whether the handler's module defines the handler's function: what a
//! Python module binds at top level ([`python`]) or what a Node.js module
//! exports ([`node`]), read from its text. Pure: the caller reads the file.
//!
//! The readers are careful scanners, not interpreters: where a module
//! decides its names at run time (`__getattr__`, a star import,
//! `module.exports = build()`), or cannot be read, the verdict is
//! [`Verdict::Unsure`], which the plan shows as a warning, never as an
//! error.

mod node;
mod python;

/// How a name is bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `def`, `async def`, `export function`.
    Function,
    Class,
    /// `name = …`, `exports.name = …`, `export const name = …`.
    Assignment,
    /// `import … as name`, `from … import name`, `export { name }`.
    Import,
}

/// One name the module binds at top level (Python) or exports (Node.js).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub name: String,
    pub kind: Kind,
    /// Where (1-based), for messages.
    pub line: usize,
}

/// What a scan of one module found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scan {
    Read {
        bindings: Vec<Binding>,
        /// Why the module may bind more names than it shows, if it may.
        dynamic: Option<String>,
    },
    /// The scanner could not follow the module (Python or Node.js would
    /// most likely refuse it too): where and why.
    Unreadable(String),
}

/// The language of a handler's module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    Python,
    Node,
}

impl Language {
    /// The language of a Lambda runtime, when its handlers are checked.
    pub fn of_runtime(runtime: &str) -> Option<Language> {
        if runtime.starts_with("python") {
            Some(Language::Python)
        } else if runtime.starts_with("nodejs") {
            Some(Language::Node)
        } else {
            None
        }
    }

    /// The module file extensions Lambda loads, in the order it tries them.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Language::Python => &["py"],
            Language::Node => &["js", "mjs", "cjs"],
        }
    }
}

pub fn scan(lang: Language, src: &str) -> Scan {
    match lang {
        Language::Python => python::scan(src),
        Language::Node => node::scan(src),
    }
}

/// Whether the module defines the handler's function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Found,
    /// Not there; the functions the module does define (or export), then
    /// its other names, in file order.
    Missing {
        functions: Vec<String>,
        others: Vec<String>,
    },
    /// Not known before Lambda loads the module: why.
    Unsure(String),
}

pub fn verdict(scan: &Scan, function: &str) -> Verdict {
    let (bindings, dynamic) = match scan {
        Scan::Unreadable(why) => return Verdict::Unsure(format!("cannot be read ({why})")),
        Scan::Read { bindings, dynamic } => (bindings, dynamic),
    };
    if bindings.iter().any(|b| b.name == function) {
        return Verdict::Found;
    }
    if let Some(why) = dynamic {
        return Verdict::Unsure(why.clone());
    }
    let mut functions: Vec<String> = Vec::new();
    let mut others: Vec<String> = Vec::new();
    for b in bindings {
        let list = if b.kind == Kind::Function {
            &mut functions
        } else {
            &mut others
        };
        if !list.contains(&b.name) && !b.name.starts_with("__") {
            list.push(b.name.clone());
        }
    }
    others.retain(|o| !functions.contains(o));
    Verdict::Missing { functions, others }
}

/// The function a handler written as a file name (`app.py`) most likely
/// meant: `handler` or `lambda_handler` when the module defines it, else
/// its only function.
pub fn likely_function(scan: &Scan) -> Option<String> {
    let Scan::Read { bindings, .. } = scan else {
        return None;
    };
    let functions: Vec<&str> = bindings
        .iter()
        .filter(|b| b.kind == Kind::Function && !b.name.starts_with('_'))
        .map(|b| b.name.as_str())
        .collect();
    for preferred in ["handler", "lambda_handler", "main"] {
        if bindings.iter().any(|b| b.name == preferred) {
            return Some(preferred.to_owned());
        }
    }
    match functions.as_slice() {
        [only] => Some((*only).to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
