//! What a Python module binds at its top level, read by a line- and
//! indentation-aware scanner (no interpreter, no full parser): `def`,
//! `async def`, `class`, assignments (also annotated and chained ones),
//! `import … as name`, `import a.b` (binds `a`) and `from … import name`.
//! Bindings inside a top-level `if`, `try`, `with`, `for` or `while` count
//! (they run when Lambda imports the module), except under
//! `if __name__ == "__main__":`, which does not run then. Bodies of `def`
//! and `class` do not count. Strings (also triple-quoted ones spanning
//! lines), comments, brackets and backslashes that join lines are
//! understood, so `def x` inside a docstring binds nothing.

use super::{Binding, Kind, Scan};

/// One logical line: its indentation and its text, with every string
/// literal replaced by `""` and comments removed.
struct Logical {
    indent: usize,
    line: usize,
    text: String,
}

/// Why the scanner could not read the module (Python would refuse it too).
fn unreadable(line: usize, why: &str) -> Scan {
    Scan::Unreadable(format!("line {line}: {why}"))
}

/// Joins physical lines into logical ones.
fn logical_lines(src: &str) -> Result<Vec<Logical>, Scan> {
    let mut out = Vec::new();
    let chars: Vec<char> = src.chars().collect();
    let mut i = 0;
    let mut line = 1;
    let mut cur = String::new();
    let mut start_line = 1;
    let mut indent = 0;
    let mut at_line_start = true;
    let mut depth: Vec<(char, usize)> = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        if at_line_start {
            indent = indentation(&chars, &mut i);
            start_line = line;
            at_line_start = false;
            continue;
        }
        match c {
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\\' if chars.get(i + 1) == Some(&'\n') => {
                cur.push(' ');
                i += 2;
                line += 1;
            }
            '\\' if chars.get(i + 1) == Some(&'\r') && chars.get(i + 2) == Some(&'\n') => {
                cur.push(' ');
                i += 3;
                line += 1;
            }
            '\'' | '"' => {
                skip_string(&chars, &mut i, &mut line)?;
                cur.push_str("\"\"");
            }
            '(' | '[' | '{' => {
                depth.push((c, line));
                cur.push(c);
                i += 1;
            }
            ')' | ']' | '}' => {
                close_bracket(&mut depth, c, line)?;
                cur.push(c);
                i += 1;
            }
            '\n' => {
                line += 1;
                i += 1;
                if depth.is_empty() {
                    push_logical(&mut out, indent, start_line, std::mem::take(&mut cur));
                    at_line_start = true;
                } else {
                    cur.push(' ');
                }
            }
            '\r' => i += 1,
            _ => {
                cur.push(c);
                i += 1;
            }
        }
    }
    if let Some((open, at)) = depth.pop() {
        return Err(unreadable(at, &format!("a `{open}` that is never closed")));
    }
    push_logical(&mut out, indent, start_line, cur);
    Ok(out)
}

/// The width of the indentation at `i` (a tab to the next multiple of 8),
/// moving `i` past it.
fn indentation(chars: &[char], i: &mut usize) -> usize {
    let mut w = 0;
    while *i < chars.len() && (chars[*i] == ' ' || chars[*i] == '\t' || chars[*i] == '\x0c') {
        w += if chars[*i] == '\t' { 8 - (w % 8) } else { 1 };
        *i += 1;
    }
    w
}

/// Moves `i` past the string literal (single- or triple-quoted) whose
/// opening quote is at `i`, counting the lines it spans.
fn skip_string(chars: &[char], i: &mut usize, line: &mut usize) -> Result<(), Scan> {
    let c = chars[*i];
    let triple = chars.get(*i + 1) == Some(&c) && chars.get(*i + 2) == Some(&c);
    let opened = *line;
    *i += if triple { 3 } else { 1 };
    loop {
        let Some(&d) = chars.get(*i) else {
            return Err(unreadable(opened, "a string that is never closed"));
        };
        if d == '\\' {
            if chars.get(*i + 1) == Some(&'\n') {
                *line += 1;
            }
            *i += 2;
            continue;
        }
        if d == '\n' {
            if !triple {
                return Err(unreadable(opened, "a string that is never closed"));
            }
            *line += 1;
        }
        if d == c && (!triple || (chars.get(*i + 1) == Some(&c) && chars.get(*i + 2) == Some(&c))) {
            *i += if triple { 3 } else { 1 };
            return Ok(());
        }
        *i += 1;
    }
}

/// Closes the innermost open bracket with `c`, which must match it.
fn close_bracket(depth: &mut Vec<(char, usize)>, c: char, line: usize) -> Result<(), Scan> {
    let want = match c {
        ')' => '(',
        ']' => '[',
        _ => '{',
    };
    match depth.pop() {
        Some((open, _)) if open == want => Ok(()),
        _ => Err(unreadable(line, &format!("an unmatched `{c}`"))),
    }
}

/// Ends a logical line: kept unless it is blank.
fn push_logical(out: &mut Vec<Logical>, indent: usize, line: usize, text: String) {
    if !text.trim().is_empty() {
        out.push(Logical { indent, line, text });
    }
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}

/// The first word of `s` and the rest, trimmed.
fn word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    (&s[..end], s[end..].trim_start())
}

/// Splits `s` at `sep` where no bracket is open.
fn split_top(s: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ if c == sep && depth == 0 => {
                parts.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// The byte offset of the compound statement's `:` (outside brackets and
/// not part of `:=`), for a header line.
fn header_colon(s: &str) -> Option<usize> {
    let mut depth = 0i32;
    let bytes = s.as_bytes();
    for (i, c) in s.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ':' if depth == 0 && bytes.get(i + 1) != Some(&b'=') => {
                // A lambda's colon is not the header's.
                if s[..i].split_whitespace().any(|w| w == "lambda") {
                    continue;
                }
                return Some(i);
            }
            _ => {}
        }
    }
    None
}

/// The positions of assignment `=` signs outside brackets.
fn assignment_splits(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    let b = s.as_bytes();
    for (i, c) in s.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            '=' if depth == 0 => {
                let prev = if i > 0 { b[i - 1] } else { b' ' };
                let next = b.get(i + 1).copied().unwrap_or(b' ');
                if next == b'=' || b"=!<>:+-*/%&|^@".contains(&prev) {
                    continue;
                }
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// The names an assignment target binds (`a`, `a, b`, `(a, *b)`); none for
/// attributes and subscripts.
fn target_names(target: &str, out: &mut Vec<String>) {
    let t = target.trim();
    let inner = t
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .or_else(|| t.strip_prefix('[').and_then(|r| r.strip_suffix(']')));
    if let Some(inner) = inner {
        for p in split_top(inner, ',') {
            target_names(p, out);
        }
        return;
    }
    let parts = split_top(t, ',');
    if parts.len() > 1 {
        for p in parts {
            target_names(p, out);
        }
        return;
    }
    let t = t.trim_start_matches('*').trim();
    if is_ident(t) {
        out.push(t.to_owned());
    }
}

/// What one simple statement at module level binds.
fn simple(stmt: &str, line: usize, scan: &mut Vec<Binding>, star: &mut bool) {
    let stmt = stmt.trim();
    let bind = |scan: &mut Vec<Binding>, name: &str, kind: Kind| {
        scan.push(Binding {
            name: name.to_owned(),
            kind,
            line,
        });
    };
    let (first, rest) = word(stmt);
    match first {
        "import" => {
            for item in split_top(rest, ',') {
                let item = item.trim();
                let name = match item.split_once(" as ") {
                    Some((_, alias)) => alias.trim(),
                    None => item.split('.').next().unwrap_or("").trim(),
                };
                if is_ident(name) {
                    bind(scan, name, Kind::Import);
                }
            }
        }
        "from" => {
            let Some((_, names)) = rest.split_once(" import ") else {
                return;
            };
            let names = names.trim();
            let names = names
                .strip_prefix('(')
                .and_then(|n| n.strip_suffix(')'))
                .unwrap_or(names);
            for item in split_top(names, ',') {
                let item = item.trim();
                if item == "*" {
                    *star = true;
                    continue;
                }
                let name = match item.split_once(" as ") {
                    Some((_, alias)) => alias.trim(),
                    None => item,
                };
                if is_ident(name) {
                    bind(scan, name, Kind::Import);
                }
            }
        }
        "del" | "pass" | "return" | "raise" | "assert" | "global" | "nonlocal" | "break"
        | "continue" | "yield" | "print" | "await" => {}
        _ => {
            let parts = assignment_splits(stmt);
            if parts.len() < 2 {
                // `name: int` alone annotates without binding; `x += 1`
                // needs `x` bound already.
                return;
            }
            let mut names = Vec::new();
            for target in &parts[..parts.len() - 1] {
                // `name: Type = value`
                let target = match header_colon(target) {
                    Some(i) => &target[..i],
                    None => target,
                };
                target_names(target, &mut names);
            }
            for n in names {
                bind(scan, &n, Kind::Assignment);
            }
        }
    }
}

/// A block a compound statement opens.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Block {
    /// `def`/`class`: its names are not the module's.
    Scope,
    /// `if __name__ == "__main__":`: does not run on import.
    Main,
    /// `if`, `try`, `with`, …: runs at import, binds module names.
    Runs,
}

fn is_main_guard(header: &str) -> bool {
    let h: String = header.chars().filter(|c| !c.is_whitespace()).collect();
    // String contents are gone: `"__main__"` reads `""`.
    h.starts_with("if__name__==") || h.starts_with("if\"\"==__name__")
}

/// The module's top-level bindings.
pub fn scan(src: &str) -> Scan {
    let lines = match logical_lines(src) {
        Ok(l) => l,
        Err(s) => return s,
    };
    let mut bindings = Vec::new();
    let mut star = false;
    // Open blocks: the indentation of their header, and what they are.
    let mut stack: Vec<(usize, Block)> = Vec::new();
    for l in &lines {
        while stack.last().is_some_and(|(i, _)| *i >= l.indent) {
            stack.pop();
        }
        let text = l.text.trim();
        let counts = stack.iter().all(|(_, b)| *b == Block::Runs);
        if text.starts_with('@') {
            continue;
        }
        let (first, rest) = word(text);
        let (kw, after) = if first == "async" {
            word(rest)
        } else {
            (first, rest)
        };
        match kw {
            "def" | "class" => {
                let (name, tail) = word(after);
                let shape_ok = if kw == "def" {
                    tail.starts_with('(')
                } else {
                    tail.starts_with('(') || tail.starts_with(':')
                };
                if !is_ident(name) || !shape_ok || header_colon(tail).is_none() {
                    return unreadable(l.line, &format!("`{kw}` without a well-formed header"));
                }
                if counts {
                    let kind = if kw == "def" {
                        Kind::Function
                    } else {
                        Kind::Class
                    };
                    bindings.push(Binding {
                        name: name.to_owned(),
                        kind,
                        line: l.line,
                    });
                }
                stack.push((l.indent, Block::Scope));
            }
            "if" | "elif" | "else" | "try" | "except" | "finally" | "with" | "for" | "while"
            | "match" | "case" => {
                let Some(colon) = header_colon(text) else {
                    // `match` and `case` are soft keywords: `match = 1`.
                    if matches!(kw, "match" | "case") && counts {
                        simple(text, l.line, &mut bindings, &mut star);
                    }
                    continue;
                };
                // The `else` of a main guard does run at import.
                let block = if kw == "if" && is_main_guard(text) {
                    Block::Main
                } else {
                    Block::Runs
                };
                let body = &text[colon + 1..];
                let body_counts = counts && block == Block::Runs;
                if !body.trim().is_empty() {
                    if body_counts {
                        for stmt in split_top(body, ';') {
                            simple(stmt, l.line, &mut bindings, &mut star);
                        }
                    }
                } else {
                    stack.push((l.indent, block));
                }
            }
            _ => {
                if counts {
                    for stmt in split_top(text, ';') {
                        simple(stmt, l.line, &mut bindings, &mut star);
                    }
                }
            }
        }
    }
    let dynamic = if bindings
        .iter()
        .any(|b| b.name == "__getattr__" && b.kind == Kind::Function)
    {
        Some("defines `__getattr__`".to_owned())
    } else if star {
        Some("uses `from … import *`".to_owned())
    } else {
        None
    };
    Scan::Read { bindings, dynamic }
}
