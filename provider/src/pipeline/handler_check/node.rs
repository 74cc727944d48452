//! What a Node.js module exports, read by a scanner that understands
//! strings, template literals, comments and regular expressions well enough
//! to see the code around them: `exports.name = …`,
//! `module.exports.name = …`, `module.exports = { name, other: … }`, and
//! ES modules' `export (async) function name`, `export const name`,
//! `export class name` and `export { a, b as name }`. A module that exports
//! a value the scanner cannot list (`module.exports = build()`, a spread,
//! `export * from`) cannot be checked.

use super::{Binding, Kind, Scan};

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Ident(String),
    /// A string or template literal (contents dropped).
    Str,
    Punct(&'static str),
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    /// Brackets open before it.
    depth: usize,
    line: usize,
}

const PUNCT: &[&str] = &[
    "...", "===", "!==", "=>", "==", "!=", "<=", ">=", "&&", "||", "??", "+=", "-=", "*=", "/=",
    "=", "{", "}", "(", ")", "[", "]", ",", ";", ":", ".", "*", "?", "!", "&", "|", "+", "-", "<",
    ">", "%", "^", "~", "@", "#", "/",
];

fn unreadable(line: usize, why: &str) -> Scan {
    Scan::Unreadable(format!("line {line}: {why}"))
}

/// Whether a `/` after `prev` starts a regular expression (rather than
/// dividing).
fn regex_may_start(prev: Option<&Tok>) -> bool {
    match prev {
        None => true,
        Some(Tok::Punct(p)) => !matches!(*p, ")" | "]" | "}"),
        Some(Tok::Ident(w)) => matches!(
            w.as_str(),
            "return"
                | "typeof"
                | "instanceof"
                | "in"
                | "of"
                | "new"
                | "delete"
                | "void"
                | "throw"
                | "case"
                | "do"
                | "else"
                | "yield"
                | "await"
        ),
        Some(Tok::Str) => false,
    }
}

fn tokens(src: &str) -> Result<Vec<Token>, Scan> {
    let c: Vec<char> = src.chars().collect();
    let mut out: Vec<Token> = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let mut open: Vec<(char, usize)> = Vec::new();
    // Template literals being read: the bracket depth their `${` opened at.
    let mut templates: Vec<usize> = Vec::new();
    let push = |out: &mut Vec<Token>, tok: Tok, depth: usize, line: usize| {
        out.push(Token { tok, depth, line });
    };
    // Reads the rest of a template literal from `i` (after "`" or the
    // `}` that closes a `${`): returns where it ends, or where a `${` opens.
    fn template(c: &[char], mut i: usize, line: &mut usize) -> Option<(usize, bool)> {
        while i < c.len() {
            match c[i] {
                '\\' => i += 2,
                '`' => return Some((i + 1, false)),
                '$' if c.get(i + 1) == Some(&'{') => return Some((i + 2, true)),
                '\n' => {
                    *line += 1;
                    i += 1;
                }
                _ => i += 1,
            }
        }
        None
    }
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
            continue;
        }
        if ch.is_whitespace() {
            i += 1;
            continue;
        }
        if ch == '/' && c.get(i + 1) == Some(&'/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if ch == '/' && c.get(i + 1) == Some(&'*') {
            let at = line;
            i += 2;
            loop {
                if i + 1 >= c.len() {
                    return Err(unreadable(at, "a comment that is never closed"));
                }
                if c[i] == '*' && c[i + 1] == '/' {
                    i += 2;
                    break;
                }
                if c[i] == '\n' {
                    line += 1;
                }
                i += 1;
            }
            continue;
        }
        // `#!` on the first line.
        if ch == '#' && i == 0 && c.get(1) == Some(&'!') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
            continue;
        }
        let depth = open.len();
        if ch == '\'' || ch == '"' {
            let at = line;
            i += 1;
            loop {
                match c.get(i) {
                    None | Some('\n') => {
                        return Err(unreadable(at, "a string that is never closed"));
                    }
                    Some('\\') => i += 2,
                    Some(&d) if d == ch => {
                        i += 1;
                        break;
                    }
                    _ => i += 1,
                }
            }
            push(&mut out, Tok::Str, depth, at);
            continue;
        }
        if ch == '`' {
            let at = line;
            match template(&c, i + 1, &mut line) {
                None => return Err(unreadable(at, "a template literal that is never closed")),
                Some((next, false)) => i = next,
                Some((next, true)) => {
                    templates.push(open.len());
                    open.push(('{', at));
                    i = next;
                }
            }
            push(&mut out, Tok::Str, depth, at);
            continue;
        }
        if ch == '/' && regex_may_start(out.last().map(|t| &t.tok)) {
            let at = line;
            i += 1;
            let mut class = false;
            loop {
                match c.get(i) {
                    None | Some('\n') => {
                        return Err(unreadable(at, "a regular expression that is never closed"));
                    }
                    Some('\\') => i += 2,
                    Some('[') => {
                        class = true;
                        i += 1;
                    }
                    Some(']') => {
                        class = false;
                        i += 1;
                    }
                    Some('/') if !class => {
                        i += 1;
                        break;
                    }
                    _ => i += 1,
                }
            }
            while i < c.len() && c[i].is_ascii_alphabetic() {
                i += 1;
            }
            push(&mut out, Tok::Str, depth, at);
            continue;
        }
        if ch.is_alphabetic() || ch == '_' || ch == '$' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_' || c[i] == '$') {
                i += 1;
            }
            let w: String = c[start..i].iter().collect();
            push(&mut out, Tok::Ident(w), depth, line);
            continue;
        }
        if ch.is_ascii_digit() {
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '.' || c[i] == '_') {
                i += 1;
            }
            push(&mut out, Tok::Str, depth, line);
            continue;
        }
        match ch {
            '(' | '[' | '{' => {
                open.push((ch, line));
                let p = PUNCT
                    .iter()
                    .find(|p| p.starts_with(ch))
                    .copied()
                    .unwrap_or("(");
                push(&mut out, Tok::Punct(p), depth, line);
                i += 1;
                continue;
            }
            ')' | ']' | '}' => {
                let want = match ch {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                match open.pop() {
                    Some((o, _)) if o == want => {}
                    _ => return Err(unreadable(line, &format!("an unmatched `{ch}`"))),
                }
                if ch == '}' && templates.last() == Some(&open.len()) {
                    // The end of a `${…}`: the template goes on.
                    templates.pop();
                    match template(&c, i + 1, &mut line) {
                        None => {
                            return Err(unreadable(
                                line,
                                "a template literal that is never closed",
                            ));
                        }
                        Some((next, false)) => i = next,
                        Some((next, true)) => {
                            templates.push(open.len());
                            open.push(('{', line));
                            i = next;
                        }
                    }
                    continue;
                }
                let p = PUNCT
                    .iter()
                    .find(|p| p.starts_with(ch))
                    .copied()
                    .unwrap_or(")");
                push(&mut out, Tok::Punct(p), open.len(), line);
                i += 1;
                continue;
            }
            _ => {}
        }
        let rest: String = c[i..c.len().min(i + 3)].iter().collect();
        match PUNCT.iter().find(|p| rest.starts_with(**p)) {
            Some(p) => {
                push(&mut out, Tok::Punct(p), depth, line);
                i += p.chars().count();
            }
            None => i += 1,
        }
    }
    if let Some((o, at)) = open.pop() {
        return Err(unreadable(at, &format!("a `{o}` that is never closed")));
    }
    Ok(out)
}

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
    let mut bindings = Vec::new();
    let mut dynamic: Option<String> = None;
    let bind = |b: &mut Vec<Binding>, name: &str, kind: Kind, line: usize| {
        b.push(Binding {
            name: name.to_owned(),
            kind,
            line,
        });
    };
    let assigns = |t: Option<&Token>| punct(t, "=");
    for i in 0..toks.len() {
        let t = &toks[i];
        let after_dot = i > 0 && punct(toks.get(i - 1), ".");
        match ident(Some(t)) {
            // module.exports… / exports…
            Some("module")
                if !after_dot
                    && punct(toks.get(i + 1), ".")
                    && ident(toks.get(i + 2)) == Some("exports") =>
            {
                if punct(toks.get(i + 3), ".")
                    && let Some(name) = ident(toks.get(i + 4))
                    && assigns(toks.get(i + 5))
                {
                    bind(&mut bindings, name, Kind::Assignment, t.line);
                } else if assigns(toks.get(i + 3)) {
                    if punct(toks.get(i + 4), "{") {
                        let (keys, why) = object_keys(&toks, i + 4);
                        for (k, line) in keys {
                            bind(&mut bindings, &k, Kind::Assignment, line);
                        }
                        if why.is_some() {
                            dynamic = why;
                        }
                    } else {
                        dynamic = Some(
                            "assigns `module.exports` a value that is not an object literal".into(),
                        );
                    }
                }
            }
            Some("exports") if !after_dot => {
                if punct(toks.get(i + 1), ".")
                    && let Some(name) = ident(toks.get(i + 2))
                    && assigns(toks.get(i + 3))
                {
                    bind(&mut bindings, name, Kind::Assignment, t.line);
                }
            }
            Some("export") if !after_dot && t.depth == 0 => {
                let mut j = i + 1;
                match ident(toks.get(j)) {
                    Some("default") => bind(&mut bindings, "default", Kind::Assignment, t.line),
                    Some("async") | Some("function") => {
                        if ident(toks.get(j)) == Some("async") {
                            j += 1;
                        }
                        if ident(toks.get(j)) == Some("function") {
                            j += 1;
                            if punct(toks.get(j), "*") {
                                j += 1;
                            }
                            if let Some(name) = ident(toks.get(j)) {
                                bind(&mut bindings, name, Kind::Function, t.line);
                            }
                        }
                    }
                    Some("class") => {
                        if let Some(name) = ident(toks.get(j + 1)) {
                            bind(&mut bindings, name, Kind::Class, t.line);
                        }
                    }
                    Some("const" | "let" | "var") => {
                        // `export const a = …, b = …`: every declarator at
                        // this depth, up to the statement's end.
                        j += 1;
                        let mut at_name = true;
                        while let Some(tok) = toks.get(j) {
                            if tok.depth == 0 {
                                if punct(Some(tok), ";")
                                    || (tok.line != t.line
                                        && !at_name
                                        && !punct(toks.get(j - 1), ",")
                                        && !punct(toks.get(j - 1), "=")
                                        && !punct(Some(tok), ","))
                                {
                                    break;
                                }
                                if at_name {
                                    if let Some(name) = ident(Some(tok)) {
                                        let kind = if matches!(
                                            ident(toks.get(j + 2)),
                                            Some("function" | "async")
                                        ) || punct(toks.get(j + 2), "(")
                                        {
                                            Kind::Function
                                        } else {
                                            Kind::Assignment
                                        };
                                        bind(&mut bindings, name, kind, tok.line);
                                    } else if punct(Some(tok), "{") || punct(Some(tok), "[") {
                                        dynamic = Some("exports names by destructuring".into());
                                    }
                                    at_name = false;
                                } else if punct(Some(tok), ",") {
                                    at_name = true;
                                }
                            }
                            j += 1;
                        }
                    }
                    _ if punct(toks.get(j), "{") => {
                        // export { a, b as c } [from "…"]
                        let inner = toks[j].depth + 1;
                        let mut k = j + 1;
                        let mut last: Option<&str> = None;
                        while let Some(tok) = toks.get(k) {
                            if tok.depth < inner {
                                break;
                            }
                            match &tok.tok {
                                Tok::Ident(w) => last = Some(w),
                                Tok::Punct(",") => {
                                    if let Some(n) = last.take() {
                                        bind(&mut bindings, n, Kind::Import, tok.line);
                                    }
                                }
                                _ => {}
                            }
                            k += 1;
                        }
                        if let Some(n) = last {
                            bind(&mut bindings, n, Kind::Import, t.line);
                        }
                    }
                    _ if punct(toks.get(j), "*") => {
                        if ident(toks.get(j + 1)) == Some("as")
                            && let Some(n) = ident(toks.get(j + 2))
                        {
                            bind(&mut bindings, n, Kind::Import, t.line);
                        } else {
                            dynamic = Some("re-exports a module with `export * from`".into());
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    Scan::Read { bindings, dynamic }
}
