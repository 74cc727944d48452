//! The `## Schema` section of a registry page: attributes and nested
//! blocks in Required / Optional / Read-Only lists, then one linked section
//! per nested block, depth first.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::schema::{Attribute, Block, NestedBlock, Nesting, Presence};
use crate::value::{Type, Value};

/// Which list an attribute or block is documented in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Group {
    Required,
    Optional,
    ReadOnly,
}

impl Group {
    const ALL: [Group; 3] = [Group::Required, Group::Optional, Group::ReadOnly];

    fn title(self) -> &'static str {
        match self {
            Group::Required => "Required",
            Group::Optional => "Optional",
            Group::ReadOnly => "Read-Only",
        }
    }

    fn of_attribute(a: &Attribute) -> Group {
        match a.presence {
            Presence::Required => Group::Required,
            Presence::Optional | Presence::OptionalComputed => Group::Optional,
            Presence::Computed => Group::ReadOnly,
        }
    }

    fn of_block(b: &NestedBlock) -> Group {
        if b.min_items > 0 {
            Group::Required
        } else {
            Group::Optional
        }
    }
}

/// `## Schema` and everything under it, without a trailing newline.
///
/// Paragraphs are separated by one blank line; attributes and blocks are
/// sorted by name within each list.
pub fn schema_markdown(block: &Block) -> String {
    let mut paragraphs = vec!["## Schema".to_owned()];
    for group in Group::ALL {
        if let Some(items) = group_items(block, group, &[]) {
            paragraphs.push(format!("### {}", group.title()));
            paragraphs.push(items);
        }
    }
    nested_sections(block, &[], &mut paragraphs);
    paragraphs.join("\n\n")
}

/// The sections of the blocks nested in `block` at `path`, depth first.
fn nested_sections(block: &Block, path: &[&str], paragraphs: &mut Vec<String>) {
    for nested in sorted_blocks(block) {
        let inner = child_path(path, nested.name);
        paragraphs.push(format!(
            "<a id=\"{}\"></a>\n### Nested Schema for `{}`",
            anchor(&inner),
            inner.join(".")
        ));
        let description = nested.block.description.trim();
        if !description.is_empty() {
            paragraphs.push(description.to_owned());
        }
        for group in Group::ALL {
            if let Some(items) = group_items(&nested.block, group, &inner) {
                paragraphs.push(format!("{}:", group.title()));
                paragraphs.push(items);
            }
        }
        nested_sections(&nested.block, &inner, paragraphs);
    }
}

/// The bullet list of one group, attributes before blocks; `None` when the
/// group is empty.
fn group_items(block: &Block, group: Group, path: &[&str]) -> Option<String> {
    let attributes = sorted_attributes(block)
        .into_iter()
        .filter(|a| Group::of_attribute(a) == group)
        .map(attribute_item);
    let blocks = sorted_blocks(block)
        .into_iter()
        .filter(|b| Group::of_block(b) == group)
        .map(|b| block_item(b, path));
    let items: Vec<String> = attributes.chain(blocks).collect();
    (!items.is_empty()).then(|| items.join("\n"))
}

fn sorted_attributes(block: &Block) -> Vec<&Attribute> {
    let mut v: Vec<&Attribute> = block.attributes.iter().collect();
    v.sort_by_key(|a| a.name);
    v
}

fn sorted_blocks(block: &Block) -> Vec<&NestedBlock> {
    let mut v: Vec<&NestedBlock> = block.blocks.iter().collect();
    v.sort_by_key(|b| b.name);
    v
}

fn child_path<'a>(path: &[&'a str], name: &'a str) -> Vec<&'a str> {
    path.iter().copied().chain([name]).collect()
}

/// One attribute: name, type and marks, then its description, default and
/// the constraints its validators document.
pub fn attribute_item(a: &Attribute) -> String {
    let mut marks = vec![type_name(&a.ty)];
    if a.sensitive {
        marks.push("Sensitive".to_owned());
    }
    let mut sentences = vec![a.description.trim().to_owned()];
    if let Some(default) = &a.default {
        sentences.push(format!("Defaults to `{}`.", hcl_literal(default)));
    }
    sentences.extend(a.validators.iter().map(|v| v.doc()));
    sentences.retain(|s| !s.is_empty());
    format!(
        "- `{}` ({}) {}",
        a.name,
        marks.join(", "),
        sentences.join(" ")
    )
    .trim_end()
    .to_owned()
}

/// One nested block: name, how many, description and a link to its section.
fn block_item(b: &NestedBlock, path: &[&str]) -> String {
    let description = b.block.description.trim();
    let sep = if description.is_empty() { "" } else { " " };
    format!(
        "- `{}` ({}){sep}{description} See [below for nested schema](#{}).",
        b.name,
        block_kind(b),
        anchor(&child_path(path, b.name))
    )
}

fn block_kind(b: &NestedBlock) -> String {
    match b.nesting {
        Nesting::Single => "Block".to_owned(),
        Nesting::List => {
            let mut kind = "Block List".to_owned();
            if b.min_items > 0 {
                let _ = write!(kind, ", at least {}", b.min_items);
            }
            if b.max_items > 0 {
                let _ = write!(kind, ", at most {}", b.max_items);
            }
            kind
        }
    }
}

fn anchor(path: &[&str]) -> String {
    format!("nestedblock--{}", path.join("--"))
}

/// A type as the registry names it: `String`, `Map of String`, ...
pub fn type_name(ty: &Type) -> String {
    match ty {
        Type::String => "String".to_owned(),
        Type::Number => "Number".to_owned(),
        Type::Bool => "Boolean".to_owned(),
        Type::Dynamic => "Dynamic".to_owned(),
        Type::List(t) => format!("List of {}", type_name(t)),
        Type::Set(t) => format!("Set of {}", type_name(t)),
        Type::Map(t) => format!("Map of {}", type_name(t)),
        Type::Object(_) => "Object".to_owned(),
        Type::Tuple(_) => "Tuple".to_owned(),
    }
}

/// A value as it would be written in HCL: `"app.handler"`, `128`, `["a"]`.
pub fn hcl_literal(v: &Value) -> String {
    match v.unwrap_dynamic() {
        Value::Null => "null".to_owned(),
        Value::Unknown => "(known after apply)".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => quoted(s),
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            let inner: Vec<String> = items.iter().map(hcl_literal).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Map(entries) | Value::Object(entries) => map_literal(entries),
        Value::Dynamic(..) => "null".to_owned(),
    }
}

fn map_literal(entries: &BTreeMap<String, Value>) -> String {
    if entries.is_empty() {
        return "{}".to_owned();
    }
    let inner: Vec<String> = entries
        .iter()
        .map(|(k, v)| format!("{} = {}", quoted(k), hcl_literal(v)))
        .collect();
    format!("{{ {} }}", inner.join(", "))
}

/// A string literal; HCL's escapes agree with JSON's for what a default holds.
fn quoted(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Validator;
    use crate::value::Number;

    /// A made-up resource: a required name, an optional flag with a default,
    /// a read-only id and a list of `rule` blocks with a nested `limit`.
    fn widget() -> Block {
        Block::new("A widget.")
            .attr(Attribute::string("name").required().describe("Its name."))
            .attr(Attribute::bool("enabled").default(Value::Bool(true)))
            .attr(Attribute::string("id").computed().describe("Its id."))
            .block(NestedBlock::list(
                "rule",
                1,
                3,
                Block::new("One rule.")
                    .attr(Attribute::string("pattern").required())
                    .block(NestedBlock::single_optional(
                        "limit",
                        Block::new("").attr(Attribute::number("per_second").optional()),
                    )),
            ))
    }

    #[test]
    fn the_section_reads_as_the_registry_lays_it_out() {
        let expected = "\
## Schema

### Required

- `name` (String) Its name.
- `rule` (Block List, at least 1, at most 3) One rule. See [below for nested schema](#nestedblock--rule).

### Optional

- `enabled` (Boolean) Defaults to `true`.

### Read-Only

- `id` (String) Its id.

<a id=\"nestedblock--rule\"></a>
### Nested Schema for `rule`

One rule.

Required:

- `pattern` (String)

Optional:

- `limit` (Block) See [below for nested schema](#nestedblock--rule--limit).

<a id=\"nestedblock--rule--limit\"></a>
### Nested Schema for `rule.limit`

Optional:

- `per_second` (Number)";
        assert_eq!(schema_markdown(&widget()), expected);
    }

    #[test]
    fn an_empty_schema_is_only_the_heading() {
        assert_eq!(schema_markdown(&Block::new("")), "## Schema");
    }

    #[test]
    fn a_sensitive_attribute_is_marked() {
        let a = Attribute::string("secret").optional().sensitive();
        assert!(attribute_item(&a).starts_with("- `secret` (String, Sensitive)"));
        let plain = Attribute::string("plain").optional();
        assert!(!attribute_item(&plain).contains("Sensitive"));
    }

    #[test]
    fn defaults_and_constraints_follow_the_description() {
        let a = Attribute::number("size")
            .default(Value::Number(Number::from(128i64)))
            .describe("Size, in MB.")
            .validate(Validator::IntBetween(128, 10240));
        assert_eq!(
            attribute_item(&a),
            "- `size` (Number) Size, in MB. Defaults to `128`. Between 128 and 10240."
        );
    }

    #[test]
    fn defaults_are_written_as_hcl() {
        let list = Value::List(vec![Value::String("a:b:*".into())]);
        assert_eq!(hcl_literal(&list), r#"["a:b:*"]"#);
        assert_eq!(hcl_literal(&Value::Bool(false)), "false");
        assert_eq!(hcl_literal(&Value::String("a\"b".into())), r#""a\"b""#);
        assert_eq!(hcl_literal(&Value::Map(Default::default())), "{}");
        let map = Value::Map(BTreeMap::from([(
            "k".to_owned(),
            Value::String("v".into()),
        )]));
        assert_eq!(hcl_literal(&map), r#"{ "k" = "v" }"#);
    }

    #[test]
    fn types_are_named_as_the_registry_names_them() {
        assert_eq!(type_name(&Type::Bool), "Boolean");
        let nested = Type::List(Box::new(Type::Map(Box::new(Type::String))));
        assert_eq!(type_name(&nested), "List of Map of String");
    }
}
