//! The JavaScript tokenizer under the exports reader: identifiers,
//! punctuation with the bracket depth it sits at, and literals (strings,
//! template literals, regular expressions, numbers) as opaque tokens;
//! comments and whitespace dropped. A `${…}` inside a template literal is
//! read as code. Brackets must balance and literals close, or the module is
//! unreadable (as Node.js would refuse it too).

use super::super::Scan;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Tok {
    Ident(String),
    /// A string or template literal (contents dropped).
    Str,
    Punct(&'static str),
}

#[derive(Clone, Debug)]
pub(super) struct Token {
    pub(super) tok: Tok,
    /// Brackets open before it.
    pub(super) depth: usize,
    pub(super) line: usize,
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

/// The module's tokens.
pub(super) fn tokens(src: &str) -> Result<Vec<Token>, Scan> {
    let mut lexer = Lexer {
        c: src.chars().collect(),
        i: 0,
        line: 1,
        open: Vec::new(),
        templates: Vec::new(),
        out: Vec::new(),
    };
    while lexer.i < lexer.c.len() {
        lexer.step()?;
    }
    if let Some((o, at)) = lexer.open.pop() {
        return Err(unreadable(at, &format!("a `{o}` that is never closed")));
    }
    Ok(lexer.out)
}

struct Lexer {
    c: Vec<char>,
    /// The next character to read, and its line.
    i: usize,
    line: usize,
    /// The brackets open, with the line each opened on.
    open: Vec<(char, usize)>,
    /// Template literals being read: the bracket depth their `${` opened at.
    templates: Vec<usize>,
    out: Vec<Token>,
}

impl Lexer {
    /// Reads one token, or skips whitespace or a comment.
    fn step(&mut self) -> Result<(), Scan> {
        let ch = self.c[self.i];
        let next = self.c.get(self.i + 1).copied();
        match ch {
            '\n' => {
                self.line += 1;
                self.i += 1;
            }
            _ if ch.is_whitespace() => self.i += 1,
            '/' if next == Some('/') => self.skip_line(),
            '/' if next == Some('*') => self.block_comment()?,
            // `#!` on the first line.
            '#' if self.i == 0 && next == Some('!') => self.skip_line(),
            '\'' | '"' => self.string(ch)?,
            '`' => self.template()?,
            '/' if regex_may_start(self.out.last().map(|t| &t.tok)) => self.regex()?,
            _ if ch.is_alphabetic() || ch == '_' || ch == '$' => self.ident(),
            _ if ch.is_ascii_digit() => self.number(),
            '(' | '[' | '{' => self.open_bracket(ch),
            ')' | ']' | '}' => self.close_bracket(ch)?,
            _ => self.punct(),
        }
        Ok(())
    }

    fn push(&mut self, tok: Tok, depth: usize, line: usize) {
        self.out.push(Token { tok, depth, line });
    }

    /// A `//` comment or a `#!` line: up to the line's end.
    fn skip_line(&mut self) {
        while self.i < self.c.len() && self.c[self.i] != '\n' {
            self.i += 1;
        }
    }

    fn block_comment(&mut self) -> Result<(), Scan> {
        let at = self.line;
        self.i += 2;
        loop {
            if self.i + 1 >= self.c.len() {
                return Err(unreadable(at, "a comment that is never closed"));
            }
            if self.c[self.i] == '*' && self.c[self.i + 1] == '/' {
                self.i += 2;
                return Ok(());
            }
            if self.c[self.i] == '\n' {
                self.line += 1;
            }
            self.i += 1;
        }
    }

    /// A `'…'` or `"…"` string, on one line.
    fn string(&mut self, quote: char) -> Result<(), Scan> {
        let (at, depth) = (self.line, self.open.len());
        self.i += 1;
        loop {
            match self.c.get(self.i) {
                None | Some('\n') => {
                    return Err(unreadable(at, "a string that is never closed"));
                }
                Some('\\') => self.i += 2,
                Some(&d) if d == quote => {
                    self.i += 1;
                    break;
                }
                _ => self.i += 1,
            }
        }
        self.push(Tok::Str, depth, at);
        Ok(())
    }

    /// A template literal from its "`" up to its end or its first `${`.
    fn template(&mut self) -> Result<(), Scan> {
        let (at, depth) = (self.line, self.open.len());
        self.template_text(self.i + 1, Some(at))?;
        self.push(Tok::Str, depth, at);
        Ok(())
    }

    /// Reads template text from `from` (after "`" or the `}` that closes a
    /// `${`) to the literal's end, or to a `${`, which opens a bracket the
    /// code inside it is read at. A literal that opens here (`opened`) is
    /// placed on its first line, one that goes on where its text ends.
    fn template_text(&mut self, from: usize, opened: Option<usize>) -> Result<(), Scan> {
        let end = template_end(&self.c, from, &mut self.line);
        let at = opened.unwrap_or(self.line);
        match end {
            None => return Err(unreadable(at, "a template literal that is never closed")),
            Some((next, false)) => self.i = next,
            Some((next, true)) => {
                self.templates.push(self.open.len());
                self.open.push(('{', at));
                self.i = next;
            }
        }
        Ok(())
    }

    /// A regular expression literal with its flags.
    fn regex(&mut self) -> Result<(), Scan> {
        let (at, depth) = (self.line, self.open.len());
        self.i += 1;
        let mut class = false;
        loop {
            match self.c.get(self.i) {
                None | Some('\n') => {
                    return Err(unreadable(at, "a regular expression that is never closed"));
                }
                Some('\\') => self.i += 2,
                Some('[') => {
                    class = true;
                    self.i += 1;
                }
                Some(']') => {
                    class = false;
                    self.i += 1;
                }
                Some('/') if !class => {
                    self.i += 1;
                    break;
                }
                _ => self.i += 1,
            }
        }
        while self.i < self.c.len() && self.c[self.i].is_ascii_alphabetic() {
            self.i += 1;
        }
        self.push(Tok::Str, depth, at);
        Ok(())
    }

    fn ident(&mut self) {
        let start = self.i;
        let part = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
        while self.i < self.c.len() && part(self.c[self.i]) {
            self.i += 1;
        }
        let w: String = self.c[start..self.i].iter().collect();
        self.push(Tok::Ident(w), self.open.len(), self.line);
    }

    fn number(&mut self) {
        let part = |c: char| c.is_alphanumeric() || c == '.' || c == '_';
        while self.i < self.c.len() && part(self.c[self.i]) {
            self.i += 1;
        }
        self.push(Tok::Str, self.open.len(), self.line);
    }

    fn open_bracket(&mut self, ch: char) {
        let depth = self.open.len();
        self.open.push((ch, self.line));
        self.push(Tok::Punct(bracket(ch)), depth, self.line);
        self.i += 1;
    }

    /// A closing bracket, which must match the innermost open one; the `}`
    /// that ends a `${…}` goes back to the template's text.
    fn close_bracket(&mut self, ch: char) -> Result<(), Scan> {
        let want = match ch {
            ')' => '(',
            ']' => '[',
            _ => '{',
        };
        match self.open.pop() {
            Some((o, _)) if o == want => {}
            _ => return Err(unreadable(self.line, &format!("an unmatched `{ch}`"))),
        }
        if ch == '}' && self.templates.last() == Some(&self.open.len()) {
            self.templates.pop();
            return self.template_text(self.i + 1, None);
        }
        self.push(Tok::Punct(bracket(ch)), self.open.len(), self.line);
        self.i += 1;
        Ok(())
    }

    /// The longest punctuator at `i`; a character that is none is skipped.
    fn punct(&mut self) {
        let rest: String = self.c[self.i..self.c.len().min(self.i + 3)]
            .iter()
            .collect();
        match PUNCT.iter().find(|p| rest.starts_with(**p)) {
            Some(p) => {
                self.push(Tok::Punct(p), self.open.len(), self.line);
                self.i += p.chars().count();
            }
            None => self.i += 1,
        }
    }
}

/// The punctuator for a bracket.
fn bracket(ch: char) -> &'static str {
    PUNCT
        .iter()
        .find(|p| p.starts_with(ch))
        .copied()
        .unwrap_or(if matches!(ch, '(' | '[' | '{') {
            "("
        } else {
            ")"
        })
}

/// Where the template text from `i` ends (after its "`"), or where a `${`
/// in it opens (after the `{`, then `true`); `None` when it never ends.
fn template_end(c: &[char], mut i: usize, line: &mut usize) -> Option<(usize, bool)> {
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
