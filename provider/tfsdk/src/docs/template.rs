//! Page templates: hand-written Markdown with placeholders that are filled
//! from a schema and the registry examples.
//!
//! A placeholder is `{{name}}` or `{{name "argument"}}`, on one line;
//! spaces just inside the braces are allowed (`{{ schema }}`). The argument
//! is written in double quotes and has no escapes. `{{` always opens a
//! placeholder, so a template cannot hold it as text.
//!
//! | Placeholder | Becomes |
//! |---|---|
//! | `{{description}}` | the description of the schema's top-level block |
//! | `{{schema}}` | the `## Schema` section, see [`schema_markdown`] |
//! | `{{example "path"}}` | the example file at `path`, fenced as `terraform` (`.tf`, `.hcl`) or `shell` (`.sh`) |
//! | `{{force_new_arguments}}` | the arguments whose change replaces the resource, as a list: `` `a`, `b` or `c` `` |
//! | `{{change_table "noun"}}` | a table of every argument: "updates in place" or "**replaces** the noun", see [`change_table`] |
//!
//! Anything else between `{{` and `}}` is an error naming the template and
//! the line, and so is `{{force_new_arguments}}` when nothing forces
//! replacement (the sentence around it would be untrue). A replacement of
//! several lines is indented like its placeholder when only whitespace
//! precedes the placeholder on its line, so `  {{description}}` stays inside
//! a YAML block scalar.

use std::io;
use std::path::Path;

use super::changes::{change_table, force_new_arguments};
use super::schema::{schema_markdown, type_name};
use crate::schema::{ForImport, IdentitySchema, Schema};

/// The placeholders, as the error for an unknown one lists them.
const KNOWN: &str = "`description`, `schema`, `identity`, `example \"path\"`, \
                     `force_new_arguments`, `change_table \"noun\"`";

/// What a template's placeholders are filled from.
pub struct Context<'a> {
    /// The schema of the provider or resource the page documents.
    pub schema: &'a Schema,
    /// The resource type's identity schema, if it has one.
    pub identity: Option<&'a IdentitySchema>,
    /// Reads an example file by the path written in `{{example "path"}}`.
    pub example: &'a dyn Fn(&str) -> io::Result<String>,
}

/// A parsed template: text, and placeholders that know their line.
#[derive(Clone, Debug)]
pub struct Template {
    name: String,
    pieces: Vec<Piece>,
}

#[derive(Clone, Debug)]
enum Piece {
    Text(String),
    Fill {
        line: usize,
        /// The whitespace before the placeholder when nothing else precedes
        /// it on its line; continuation lines of the replacement get it too.
        indent: String,
        placeholder: Placeholder,
    },
}

/// One placeholder, with its argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placeholder {
    Description,
    Schema,
    Identity,
    Example(String),
    ForceNewArguments,
    ChangeTable(String),
}

/// A template that cannot be read or filled, and where.
#[derive(Debug, thiserror::Error)]
#[error("{template}:{line}: {problem}")]
pub struct TemplateError {
    /// The name the template was parsed with, usually its path.
    pub template: String,
    /// 1-based.
    pub line: usize,
    #[source]
    pub problem: Problem,
}

/// What is wrong with one placeholder.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("`{{{{` opens a placeholder that no `}}}}` closes on the same line")]
    Unclosed,
    #[error("unknown placeholder `{{{{{name}}}}}`; the known ones are {KNOWN}")]
    Unknown { name: String },
    #[error("`{{{{{name}}}}}` takes {expected}")]
    Arity {
        name: &'static str,
        expected: &'static str,
    },
    #[error("cannot read the argument `{text}`: write one argument in double quotes")]
    Argument { text: String },
    #[error("the example {path} has no code block language (known: `.tf`, `.hcl`, `.sh`)")]
    Language { path: String },
    #[error("cannot read the example {path}: {source}")]
    Example {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error(
        "`{{{{force_new_arguments}}}}`: no argument of the schema replaces the resource, so \
         the text around it would not be true"
    )]
    NoForceNew,
    #[error("`{{{{identity}}}}`: this resource type has no identity schema")]
    NoIdentity,
}

impl Template {
    /// Parses `text`; `name` (usually the template's path) is given in
    /// every error.
    pub fn parse(name: impl Into<String>, text: &str) -> Result<Template, TemplateError> {
        let name = name.into();
        let mut pieces = Vec::new();
        let mut literal = String::new();
        for (index, line) in text.split_inclusive('\n').enumerate() {
            let number = index + 1;
            let fail = |problem| TemplateError {
                template: name.clone(),
                line: number,
                problem,
            };
            let mut rest = line;
            while let Some(open) = rest.find("{{") {
                let before = &line[..line.len() - rest.len() + open];
                literal.push_str(&rest[..open]);
                let after = &rest[open + 2..];
                let close = after.find("}}").ok_or_else(|| fail(Problem::Unclosed))?;
                let placeholder = Placeholder::parse(&after[..close]).map_err(fail)?;
                if !literal.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut literal)));
                }
                let indent = if before.trim().is_empty() { before } else { "" };
                pieces.push(Piece::Fill {
                    line: number,
                    indent: indent.to_owned(),
                    placeholder,
                });
                rest = &after[close + 2..];
            }
            literal.push_str(rest);
        }
        if !literal.is_empty() {
            pieces.push(Piece::Text(literal));
        }
        Ok(Template { name, pieces })
    }

    /// The template's text with every placeholder filled.
    pub fn render(&self, cx: &Context<'_>) -> Result<String, TemplateError> {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Fill {
                    line,
                    indent,
                    placeholder,
                } => {
                    let text = placeholder.fill(cx).map_err(|problem| TemplateError {
                        template: self.name.clone(),
                        line: *line,
                        problem,
                    })?;
                    out.push_str(&indent_continuation(&text, indent));
                }
            }
        }
        Ok(out)
    }

    /// The placeholders in the order they appear.
    pub fn placeholders(&self) -> impl Iterator<Item = &Placeholder> {
        self.pieces.iter().filter_map(|piece| match piece {
            Piece::Fill { placeholder, .. } => Some(placeholder),
            Piece::Text(_) => None,
        })
    }
}

/// The identity attributes as a list: name, type, whether an `import`
/// block must give it, and the description.
fn identity_markdown(identity: &IdentitySchema) -> String {
    let mut lines = vec![format!("### Identity (version {})", identity.version)];
    lines.push(String::new());
    for a in &identity.attributes {
        let need = match a.for_import {
            ForImport::Required => "required for import",
            ForImport::Optional => "optional for import",
        };
        lines.push(format!(
            "- `{}` ({}, {need}) {}",
            a.name,
            type_name(&a.ty),
            a.description
        ));
    }
    lines.join("\n")
}

impl Placeholder {
    /// Reads what is between `{{` and `}}`.
    fn parse(inner: &str) -> Result<Placeholder, Problem> {
        let inner = inner.trim();
        let (name, rest) = inner.split_once(' ').unwrap_or((inner, ""));
        let argument = argument(rest.trim())?;
        let arity = |name, expected| Err(Problem::Arity { name, expected });
        match (name, argument) {
            ("description", None) => Ok(Placeholder::Description),
            ("schema", None) => Ok(Placeholder::Schema),
            ("identity", None) => Ok(Placeholder::Identity),
            ("identity", Some(_)) => arity("identity", "no argument"),
            ("force_new_arguments", None) => Ok(Placeholder::ForceNewArguments),
            ("example", Some(path)) => Ok(Placeholder::Example(path)),
            ("change_table", Some(noun)) => Ok(Placeholder::ChangeTable(noun)),
            ("description", Some(_)) => arity("description", "no argument"),
            ("schema", Some(_)) => arity("schema", "no argument"),
            ("force_new_arguments", Some(_)) => arity("force_new_arguments", "no argument"),
            ("example", None) => arity("example", "the example's path, in double quotes"),
            ("change_table", None) => {
                arity("change_table", "the resource's noun, in double quotes")
            }
            (name, _) => Err(Problem::Unknown {
                name: name.to_owned(),
            }),
        }
    }

    fn fill(&self, cx: &Context<'_>) -> Result<String, Problem> {
        let block = &cx.schema.block;
        match self {
            Placeholder::Description => Ok(block.description.trim().to_owned()),
            Placeholder::Schema => Ok(schema_markdown(block)),
            Placeholder::Identity => cx
                .identity
                .map(identity_markdown)
                .ok_or(Problem::NoIdentity),
            Placeholder::ForceNewArguments => force_new_arguments(block).ok_or(Problem::NoForceNew),
            Placeholder::ChangeTable(noun) => Ok(change_table(block, noun)),
            Placeholder::Example(path) => {
                let language = language(path)?;
                let text = (cx.example)(path).map_err(|source| Problem::Example {
                    path: path.clone(),
                    source,
                })?;
                Ok(format!("```{language}\n{}\n```", text.trim_end()))
            }
        }
    }
}

/// `""` → none, `"x"` → `x`; anything else is refused.
fn argument(text: &str) -> Result<Option<String>, Problem> {
    if text.is_empty() {
        return Ok(None);
    }
    match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) if !inner.contains('"') => Ok(Some(inner.to_owned())),
        _ => Err(Problem::Argument {
            text: text.to_owned(),
        }),
    }
}

/// The code block language of an example, from its extension.
fn language(path: &str) -> Result<&'static str, Problem> {
    match Path::new(path).extension().and_then(|e| e.to_str()) {
        // `.tfquery.hcl`: Terraform's query files (`list` blocks).
        Some("tf" | "hcl") => Ok("terraform"),
        Some("sh") => Ok("shell"),
        _ => Err(Problem::Language {
            path: path.to_owned(),
        }),
    }
}

/// `text` with `indent` before every non-empty line but the first.
fn indent_continuation(text: &str, indent: &str) -> String {
    if indent.is_empty() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    for (index, line) in text.split('\n').enumerate() {
        if index > 0 {
            out.push('\n');
            if !line.is_empty() {
                out.push_str(indent);
            }
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attribute, Block, NestedBlock};

    fn widget() -> Schema {
        Schema {
            version: 0,
            block: Block::new("A widget that spins.")
                .attr(Attribute::string("name").required().force_new())
                .attr(
                    Attribute::number("speed")
                        .optional()
                        .describe("Turns a second."),
                )
                .block(NestedBlock::single_optional(
                    "hub",
                    Block::new("").attr(Attribute::string("colour").optional()),
                )),
        }
    }

    fn examples(path: &str) -> io::Result<String> {
        match path {
            "widget/resource.tf" => Ok("resource \"x_widget\" \"w\" {}\n\n".to_owned()),
            "widget/import.sh" => Ok("terraform import x_widget.w w\n".to_owned()),
            _ => Err(io::Error::new(io::ErrorKind::NotFound, "no such file")),
        }
    }

    fn render(text: &str) -> Result<String, TemplateError> {
        render_with(text, &widget())
    }

    fn render_with(text: &str, schema: &Schema) -> Result<String, TemplateError> {
        let cx = Context {
            schema,
            identity: None,
            example: &examples,
        };
        Template::parse("widget.md.tmpl", text)?.render(&cx)
    }

    fn problem(text: &str) -> String {
        match render(text) {
            Ok(out) => panic!("rendered {out:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_page_is_the_text_with_its_placeholders_filled() {
        let template = "\
---
description: |-
  {{description}}
---

# x_widget

{{ description }}

{{example \"widget/resource.tf\"}}

Changing {{force_new_arguments}} replaces the widget.

{{change_table \"widget\"}}

{{schema}}

{{example \"widget/import.sh\"}}
";
        let expected = "\
---
description: |-
  A widget that spins.
---

# x_widget

A widget that spins.

```terraform
resource \"x_widget\" \"w\" {}
```

Changing `name` replaces the widget.

| Argument | When it changes |
|----------|-----------------|
| `name` | **replaces** the widget |
| `speed` | updates in place |
| `hub.colour` | updates in place |

## Schema

### Required

- `name` (String)

### Optional

- `speed` (Number) Turns a second.
- `hub` (Block) See [below for nested schema](#nestedblock--hub).

<a id=\"nestedblock--hub\"></a>
### Nested Schema for `hub`

Optional:

- `colour` (String)

```shell
terraform import x_widget.w w
```
";
        assert_eq!(render(template).expect("renders"), expected);
    }

    #[test]
    fn text_without_placeholders_is_kept_byte_for_byte() {
        for text in ["", "no newline", "a }} b\n\n", "tabs\tand\r\nCRLF\r\n"] {
            assert_eq!(render(text).expect("renders"), text);
        }
    }

    #[test]
    fn an_unknown_placeholder_names_the_template_and_the_line() {
        assert_eq!(
            problem("# Title\n\n{{schemas}}\n"),
            format!(
                "widget.md.tmpl:3: unknown placeholder `{{{{schemas}}}}`; the known ones are {KNOWN}"
            )
        );
        assert!(problem("{{}}").starts_with("widget.md.tmpl:1: unknown placeholder `{{}}`"));
    }

    #[test]
    fn a_placeholder_must_close_on_its_line() {
        let message = problem("text\n{{schema\n}}\n");
        assert!(
            message.starts_with("widget.md.tmpl:2: `{{` opens a placeholder"),
            "{message}"
        );
    }

    #[test]
    fn arguments_are_checked() {
        assert!(problem("{{schema \"x\"}}").contains("`{{schema}}` takes no argument"));
        assert!(problem("{{example}}").contains("`{{example}}` takes the example's path"));
        assert!(problem("{{change_table}}").contains("takes the resource's noun"));
        assert!(
            problem("{{example widget/resource.tf}}")
                .contains("write one argument in double quotes")
        );
        assert!(problem("{{example \"a\" \"b\"}}").contains("cannot read the argument"));
    }

    #[test]
    fn a_missing_example_is_named_with_the_line() {
        assert_eq!(
            problem("\n{{example \"widget/gone.tf\"}}"),
            "widget.md.tmpl:2: cannot read the example widget/gone.tf: no such file"
        );
    }

    #[test]
    fn an_example_needs_a_known_language() {
        assert!(problem("{{example \"widget/app.py\"}}").contains("no code block language"));
    }

    #[test]
    fn force_new_arguments_refuses_a_schema_without_any() {
        let schema = Schema {
            version: 0,
            block: Block::new("").attr(Attribute::string("name").required()),
        };
        let message = render_with("x\ny {{force_new_arguments}}\n", &schema)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(message.starts_with("widget.md.tmpl:2: `{{force_new_arguments}}`: no argument"));
    }

    #[test]
    fn a_multi_line_replacement_is_indented_like_its_placeholder() {
        let schema = Schema {
            version: 0,
            block: Block::new("First line.\n\nSecond line."),
        };
        let out = render_with(
            "description: |-\n  {{description}}\nx {{description}}\n",
            &schema,
        );
        assert_eq!(
            out.expect("renders"),
            "description: |-\n  First line.\n\n  Second line.\nx First line.\n\nSecond line.\n"
        );
    }

    #[test]
    fn placeholders_are_listed_in_order() {
        let template = Template::parse("t", "{{schema}} {{example \"a.tf\"}}\n{{description}}")
            .expect("parses");
        let found: Vec<&Placeholder> = template.placeholders().collect();
        assert_eq!(
            found,
            [
                &Placeholder::Schema,
                &Placeholder::Example("a.tf".to_owned()),
                &Placeholder::Description
            ]
        );
    }
}
