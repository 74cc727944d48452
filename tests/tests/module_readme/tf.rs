//! A small reader for the declarations in Terraform files: blocks with
//! labels, attributes as token lists. Enough to compare a module's
//! `variable` and `output` blocks with its README, not a full HCL parser:
//! expressions are kept as tokens, not evaluated.
//!
//! (A full HCL crate would pull extra features into shared dependencies and
//! make `cargo test --workspace` build the AWS SDK a second time.)

/// One lexical token. Strings keep their source text between the quotes,
/// so two spellings compare equal only when they are written alike.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    Ident(String),
    Number(String),
    Str(String),
    Punct(char),
    Newline,
}

#[derive(Debug, Default)]
pub struct Body {
    pub attributes: Vec<(String, Vec<Token>)>,
    pub blocks: Vec<Block>,
}

#[derive(Debug)]
pub struct Block {
    pub kind: String,
    pub labels: Vec<String>,
    pub body: Body,
}

impl Body {
    /// The expression of attribute `key`, without line breaks and commas.
    pub fn attribute(&self, key: &str) -> Option<Vec<Token>> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, tokens)| canonical(tokens.clone()))
    }

    /// The blocks of one kind with their first label: `("name", body)`.
    pub fn labelled(&self, kind: &str) -> Vec<(String, &Body)> {
        self.blocks
            .iter()
            .filter(|b| b.kind == kind)
            .filter_map(|b| Some((b.labels.first()?.clone(), &b.body)))
            .collect()
    }
}

/// Parses a whole `.tf` file.
pub fn parse(text: &str) -> Result<Body, String> {
    let tokens = tokenize(text)?;
    let mut parser = Parser { tokens, pos: 0 };
    let body = parser.body()?;
    match parser.peek() {
        None => Ok(body),
        Some(t) => Err(format!("unexpected {t:?} at top level")),
    }
}

/// One expression, e.g. a README cell, in the form [`Body::attribute`] gives.
pub fn expression(text: &str) -> Result<Vec<Token>, String> {
    tokenize(text).map(canonical)
}

/// Layout-free form: line breaks and separating commas dropped, so a type
/// written on one line equals the same type written over several.
fn canonical(tokens: Vec<Token>) -> Vec<Token> {
    tokens
        .into_iter()
        .filter(|t| !matches!(t, Token::Newline | Token::Punct(',')))
        .collect()
}

// ---------------------------------------------------------------- lexer

struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
    text: &'a str,
    out: Vec<Token>,
}

pub fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut lx = Lexer {
        chars: text.char_indices().peekable(),
        text,
        out: Vec::new(),
    };
    while let Some((at, c)) = lx.chars.next() {
        lx.token(at, c)?;
    }
    Ok(lx.out)
}

impl Lexer<'_> {
    fn token(&mut self, at: usize, c: char) -> Result<(), String> {
        match c {
            '\n' => self.out.push(Token::Newline),
            c if c.is_whitespace() => {}
            '#' => self.line_comment(),
            '/' if self.next_is('/') => self.line_comment(),
            '/' if self.next_is('*') => self.block_comment(at)?,
            '"' => {
                let s = self.string(at)?;
                self.out.push(Token::Str(s));
            }
            '<' if self.text[at..].starts_with("<<") && self.heredoc_follows(at) => {
                self.heredoc(at)?
            }
            c if c.is_ascii_digit() => self.number(c),
            c if c.is_alphabetic() || c == '_' => self.ident(c),
            c => self.out.push(Token::Punct(c)),
        }
        Ok(())
    }

    fn next_is(&mut self, c: char) -> bool {
        self.chars.peek().is_some_and(|&(_, n)| n == c)
    }

    fn take_while(&mut self, first: char, keep: impl Fn(char) -> bool) -> String {
        let mut s = String::from(first);
        while let Some(&(_, c)) = self.chars.peek() {
            if !keep(c) {
                break;
            }
            s.push(c);
            self.chars.next();
        }
        s
    }

    fn ident(&mut self, first: char) {
        let s = self.take_while(first, |c| c.is_alphanumeric() || c == '_' || c == '-');
        self.out.push(Token::Ident(s));
    }

    fn number(&mut self, first: char) {
        let s = self.take_while(first, |c| c.is_ascii_alphanumeric() || c == '.');
        self.out.push(Token::Number(s));
    }

    fn line_comment(&mut self) {
        while self.chars.next_if(|&(_, c)| c != '\n').is_some() {}
    }

    fn block_comment(&mut self, at: usize) -> Result<(), String> {
        let rest = &self.text[at + 2..];
        let end = rest
            .find("*/")
            .ok_or_else(|| format!("unterminated comment at byte {at}"))?;
        let stop = at + 2 + end + 2;
        while self.chars.next_if(|&(i, _)| i < stop).is_some() {}
        Ok(())
    }

    /// The source text of a quoted string (the opening quote at `at`
    /// already read), including any `${ ... }` with quotes inside.
    fn string(&mut self, at: usize) -> Result<String, String> {
        let mut s = String::new();
        while let Some((_, c)) = self.chars.next() {
            match c {
                '"' => return Ok(s),
                '\\' => {
                    s.push(c);
                    if let Some((_, escaped)) = self.chars.next() {
                        s.push(escaped);
                    }
                }
                '$' | '%' if self.next_is('{') => {
                    s.push(c);
                    self.interpolation(at, &mut s)?;
                }
                _ => s.push(c),
            }
        }
        Err(format!("unterminated string at byte {at}"))
    }

    /// `{ ... }` of a template interpolation, appended to `s` as written.
    fn interpolation(&mut self, at: usize, s: &mut String) -> Result<(), String> {
        let mut depth = 0usize;
        while let Some((i, c)) = self.chars.next() {
            match c {
                '"' => {
                    let inner = self.string(i)?;
                    s.push('"');
                    s.push_str(&inner);
                    s.push('"');
                    continue;
                }
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            s.push(c);
            if depth == 0 {
                return Ok(());
            }
        }
        Err(format!(
            "unterminated interpolation in the string at byte {at}"
        ))
    }

    fn heredoc_follows(&self, at: usize) -> bool {
        let rest = self.text[at + 2..].trim_start_matches('-');
        rest.starts_with(|c: char| c.is_alphabetic() || c == '_')
    }

    /// `<<EOT` or `<<-EOT` up to the line holding only the marker.
    fn heredoc(&mut self, at: usize) -> Result<(), String> {
        let header_end = self.text[at..]
            .find('\n')
            .map_or(self.text.len(), |n| at + n);
        let marker = self.text[at + 2..header_end]
            .trim_start_matches('-')
            .trim()
            .to_owned();
        let body_start = (header_end + 1).min(self.text.len());
        let mut lines_end = body_start;
        for line in self.text[body_start..].split_inclusive('\n') {
            if line.trim() == marker {
                let content = self.text[body_start..lines_end].to_owned();
                let stop = lines_end + line.trim_end_matches('\n').len();
                while self.chars.next_if(|&(i, _)| i < stop).is_some() {}
                self.out.push(Token::Str(content));
                return Ok(());
            }
            lines_end += line.len();
        }
        Err(format!("heredoc <<{marker} at byte {at} is not closed"))
    }
}

// --------------------------------------------------------------- parser

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn skip_newlines(&mut self) {
        while self.peek() == Some(&Token::Newline) {
            self.pos += 1;
        }
    }

    /// Attributes and blocks up to a closing `}` (left unread) or the end.
    fn body(&mut self) -> Result<Body, String> {
        let mut body = Body::default();
        loop {
            self.skip_newlines();
            let name = match self.peek() {
                None | Some(Token::Punct('}')) => return Ok(body),
                Some(Token::Ident(name)) => name.clone(),
                Some(t) => return Err(format!("expected a name, found {t:?}")),
            };
            self.pos += 1;
            if self.peek() == Some(&Token::Punct('=')) {
                self.pos += 1;
                body.attributes.push((name, self.expression()));
            } else {
                body.blocks.push(self.block(name)?);
            }
        }
    }

    /// Tokens up to the end of the line (or a closing `}`) outside brackets.
    fn expression(&mut self) -> Vec<Token> {
        let mut depth = 0usize;
        let mut tokens = Vec::new();
        while let Some(t) = self.peek() {
            match t {
                Token::Newline | Token::Punct('}') if depth == 0 => break,
                Token::Punct('(' | '[' | '{') => depth += 1,
                Token::Punct(')' | ']' | '}') => depth = depth.saturating_sub(1),
                _ => {}
            }
            tokens.push(t.clone());
            self.pos += 1;
        }
        tokens
    }

    fn block(&mut self, kind: String) -> Result<Block, String> {
        let mut labels = Vec::new();
        loop {
            match self.next() {
                Some(Token::Str(s) | Token::Ident(s)) => labels.push(s),
                Some(Token::Punct('{')) => break,
                other => {
                    return Err(format!(
                        "block {kind}: expected a label or `{{`, found {other:?}"
                    ));
                }
            }
        }
        let body = self.body()?;
        match self.next() {
            Some(Token::Punct('}')) => Ok(Block { kind, labels, body }),
            _ => Err(format!("block {kind} {labels:?} is not closed")),
        }
    }
}

/// Tokens back as text, for messages: `list(object({a = string}))`.
pub fn show(tokens: &[Token]) -> String {
    let mut out = String::new();
    for t in tokens {
        match t {
            Token::Ident(s) | Token::Number(s) => {
                if out.ends_with(|c: char| c.is_alphanumeric() || c == '"') {
                    out.push(' ');
                }
                out.push_str(s);
            }
            Token::Str(s) => {
                out.push('"');
                out.push_str(s);
                out.push('"');
            }
            Token::Punct('=') => out.push_str(" = "),
            Token::Punct(c) => out.push(*c),
            Token::Newline => out.push(' '),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TF: &str = r#"
# A comment with "quotes" and { braces
variable "name" {
  description = "Uses ${var.x == "a" ? "b" : "c"} and $${literal}" // trailing
  type        = string /* inline */
  default     = null

  validation {
    condition     = var.name == null || length(var.name) > 0
    error_message = <<-EOT
      A heredoc with "quotes" and }
    EOT
  }
}

output "one_line" { value = 1 }
"#;

    #[test]
    fn blocks_attributes_and_nested_blocks_are_read() {
        let body = parse(TF).expect("parses");
        let vars = body.labelled("variable");
        assert_eq!(vars.len(), 1);
        let (name, var) = &vars[0];
        assert_eq!(name, "name");
        assert_eq!(
            var.attribute("type"),
            Some(vec![Token::Ident("string".into())])
        );
        assert_eq!(
            var.attribute("default"),
            Some(vec![Token::Ident("null".into())])
        );
        assert_eq!(var.blocks.len(), 1, "the validation block");
        assert_eq!(body.labelled("output")[0].0, "one_line");
    }

    #[test]
    fn layout_does_not_change_an_expression() {
        let one_line = expression("list(object({ a = string, b = number }))");
        let several = expression("list(object({\n  a = string\n  b = number\n}))");
        assert_eq!(one_line, several);
        assert_ne!(expression("list(string)"), expression("set(string)"));
        assert_ne!(expression(r#"["a"]"#), expression(r#"["b"]"#));
    }

    #[test]
    fn broken_input_is_an_error() {
        assert!(parse("variable \"x\" {").is_err());
        assert!(parse("variable \"x\" { default = \"open }").is_err());
    }
}
