//! What a Node.js module exports, read by a scanner that understands
//! strings, template literals, comments and regular expressions well enough
//! to see the code around them: `exports.name = …`,
//! `module.exports.name = …`, `module.exports = { name, other: … }`, and
//! ES modules' `export (async) function name`, `export const name`,
//! `export class name` and `export { a, b as name }`. A module that exports
//! a value the scanner cannot list (`module.exports = build()`, a spread,
//! `export * from`) cannot be checked.

use super::{Binding, Kind, Scan};

mod tokens;

use tokens::{Tok, Token, tokens};

fn ident(t: Option<&Token>) -> Option<&str> {
    match t.map(|t| &t.tok) {
        Some(Tok::Ident(w)) => Some(w),
        _ => None,
    }
}

fn punct(t: Option<&Token>, p: &str) -> bool {
    matches!(t.map(|t| &t.tok), Some(Tok::Punct(q)) if *q == p)
}

/// The keys of the object literal whose `{` is at `start`; `Err` with why
/// when one cannot be read (a spread, a computed or quoted key).
fn object_keys(toks: &[Token], start: usize) -> (Vec<(String, usize)>, Option<String>) {
    let inner = toks[start].depth + 1;
    let mut keys = Vec::new();
    let mut at_item = true;
    let mut i = start + 1;
    while i < toks.len() {
        let t = &toks[i];
        if t.depth < inner {
            break;
        }
        if t.depth == inner {
            if punct(Some(t), ",") {
                at_item = true;
                i += 1;
                continue;
            }
            if at_item {
                at_item = false;
                if punct(Some(t), "...") {
                    return (
                        keys,
                        Some("spreads another object into `module.exports`".into()),
                    );
                }
                // `async name() {}`, `get name() {}`, `*name() {}`
                let mut j = i;
                if matches!(ident(toks.get(j)), Some("async" | "get" | "set"))
                    && ident(toks.get(j + 1)).is_some()
                {
                    j += 1;
                }
                if punct(toks.get(j), "*") {
                    j += 1;
                }
                match ident(toks.get(j)) {
                    Some(name) => keys.push((name.to_owned(), toks[j].line)),
                    None => {
                        return (
                            keys,
                            Some("exports a quoted or computed key in `module.exports`".into()),
                        );
                    }
                }
            }
        }
        i += 1;
    }
    (keys, None)
}

/// The module's exports.
pub fn scan(src: &str) -> Scan {
    let toks = match tokens(src) {
        Ok(t) => t,
        Err(s) => return s,
    };
    let mut exports = Exports::default();
    for i in 0..toks.len() {
        let t = &toks[i];
        let after_dot = i > 0 && punct(toks.get(i - 1), ".");
        match ident(Some(t)) {
            Some("module")
                if !after_dot
                    && punct(toks.get(i + 1), ".")
                    && ident(toks.get(i + 2)) == Some("exports") =>
            {
                exports.module_exports(&toks, i);
            }
            Some("exports") if !after_dot => exports.exports_property(&toks, i),
            Some("export") if !after_dot && t.depth == 0 => exports.export(&toks, i),
            _ => {}
        }
    }
    Scan::Read {
        bindings: exports.bindings,
        dynamic: exports.dynamic,
    }
}

/// What the module exports, read so far.
#[derive(Default)]
struct Exports {
    bindings: Vec<Binding>,
    /// Why the module's exports cannot all be listed.
    dynamic: Option<String>,
}

impl Exports {
    fn bind(&mut self, name: &str, kind: Kind, line: usize) {
        self.bindings.push(Binding {
            name: name.to_owned(),
            kind,
            line,
        });
    }

    /// `module.exports.name = …` or `module.exports = { … }` at `i`.
    fn module_exports(&mut self, toks: &[Token], i: usize) {
        let line = toks[i].line;
        if punct(toks.get(i + 3), ".")
            && let Some(name) = ident(toks.get(i + 4))
            && punct(toks.get(i + 5), "=")
        {
            self.bind(name, Kind::Assignment, line);
        } else if punct(toks.get(i + 3), "=") {
            if punct(toks.get(i + 4), "{") {
                let (keys, why) = object_keys(toks, i + 4);
                for (k, line) in keys {
                    self.bind(&k, Kind::Assignment, line);
                }
                if why.is_some() {
                    self.dynamic = why;
                }
            } else {
                self.dynamic =
                    Some("assigns `module.exports` a value that is not an object literal".into());
            }
        }
    }

    /// `exports.name = …` at `i`.
    fn exports_property(&mut self, toks: &[Token], i: usize) {
        if punct(toks.get(i + 1), ".")
            && let Some(name) = ident(toks.get(i + 2))
            && punct(toks.get(i + 3), "=")
        {
            self.bind(name, Kind::Assignment, toks[i].line);
        }
    }

    /// An ES module `export` statement at `i`, at top level.
    fn export(&mut self, toks: &[Token], i: usize) {
        let line = toks[i].line;
        let j = i + 1;
        match ident(toks.get(j)) {
            Some("default") => self.bind("default", Kind::Assignment, line),
            Some("async" | "function") => self.export_function(toks, j, line),
            Some("class") => {
                if let Some(name) = ident(toks.get(j + 1)) {
                    self.bind(name, Kind::Class, line);
                }
            }
            Some("const" | "let" | "var") => self.export_declarations(toks, j + 1, line),
            _ if punct(toks.get(j), "{") => self.export_list(toks, j, line),
            _ if punct(toks.get(j), "*") => self.export_star(toks, j, line),
            _ => {}
        }
    }

    /// `export (async) function (*)name` from `j`, at `async` or `function`.
    fn export_function(&mut self, toks: &[Token], mut j: usize, line: usize) {
        if ident(toks.get(j)) == Some("async") {
            j += 1;
        }
        if ident(toks.get(j)) == Some("function") {
            j += 1;
            if punct(toks.get(j), "*") {
                j += 1;
            }
            if let Some(name) = ident(toks.get(j)) {
                self.bind(name, Kind::Function, line);
            }
        }
    }

    /// `export const a = …, b = …` from `j`, after the keyword: every
    /// declarator at top level, up to the statement's end (a `;`, or a new
    /// line that does not go on with the declaration).
    fn export_declarations(&mut self, toks: &[Token], mut j: usize, line: usize) {
        let mut at_name = true;
        while let Some(tok) = toks.get(j) {
            if tok.depth == 0 {
                if punct(Some(tok), ";")
                    || (tok.line != line
                        && !at_name
                        && !punct(toks.get(j - 1), ",")
                        && !punct(toks.get(j - 1), "=")
                        && !punct(Some(tok), ","))
                {
                    break;
                }
                if at_name {
                    self.declarator(toks, j);
                    at_name = false;
                } else if punct(Some(tok), ",") {
                    at_name = true;
                }
            }
            j += 1;
        }
    }

    /// The declarator whose name is at `j`: a function when its value is
    /// one (`function`, `async`, or an arrow's `(`).
    fn declarator(&mut self, toks: &[Token], j: usize) {
        let tok = &toks[j];
        if let Some(name) = ident(Some(tok)) {
            let kind = if matches!(ident(toks.get(j + 2)), Some("function" | "async"))
                || punct(toks.get(j + 2), "(")
            {
                Kind::Function
            } else {
                Kind::Assignment
            };
            self.bind(name, kind, tok.line);
        } else if punct(Some(tok), "{") || punct(Some(tok), "[") {
            self.dynamic = Some("exports names by destructuring".into());
        }
    }

    /// `export { a, b as c } [from "…"]`, its `{` at `j`: the last name of
    /// each item.
    fn export_list(&mut self, toks: &[Token], j: usize, line: usize) {
        let inner = toks[j].depth + 1;
        let mut last: Option<&str> = None;
        for tok in &toks[j + 1..] {
            if tok.depth < inner {
                break;
            }
            match &tok.tok {
                Tok::Ident(w) => last = Some(w),
                Tok::Punct(",") => {
                    if let Some(n) = last.take() {
                        self.bind(n, Kind::Import, tok.line);
                    }
                }
                _ => {}
            }
        }
        if let Some(n) = last {
            self.bind(n, Kind::Import, line);
        }
    }

    /// `export * as name from "…"`, its `*` at `j`; `export * from` cannot
    /// be listed.
    fn export_star(&mut self, toks: &[Token], j: usize, line: usize) {
        if ident(toks.get(j + 1)) == Some("as")
            && let Some(n) = ident(toks.get(j + 2))
        {
            self.bind(n, Kind::Import, line);
        } else {
            self.dynamic = Some("re-exports a module with `export * from`".into());
        }
    }
}
