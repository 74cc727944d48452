//! The SDK's types to protocol messages: schemas, attribute paths,
//! diagnostics and the values the provider answers with. The counterpart
//! of [`super::fromproto`]; [`schema_problems`] checks a schema as
//! Terraform will read it.

use tfplugin_proto::tfplugin6 as pb;

use crate::diag::{AttrPath, Diagnostic, Diagnostics, PathStep, Severity};
use crate::provider::Schemas;
use crate::schema::{Attribute, Block, ForImport, IdentitySchema, NestedBlock, Nesting, Schema};
use crate::value::{self, Type, Value};

/// Problems Terraform would refuse a schema for at load time (Terraform
/// >= 1.1 checks these), as messages; empty when the schema is well formed.
pub fn schema_problems(s: &Schema) -> Vec<String> {
    fn check(b: &pb::schema::Block, out: &mut Vec<String>) {
        for a in &b.attributes {
            if !(a.required || a.optional || a.computed) {
                out.push(format!("{} sets no presence", a.name));
            }
            if a.required && (a.optional || a.computed) {
                out.push(format!("{} is required and optional or computed", a.name));
            }
            let good_name = a
                .name
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_');
            if !good_name {
                out.push(format!("{} is not a valid attribute name", a.name));
            }
            if a.description.is_empty() {
                out.push(format!("{} has no description", a.name));
            }
            if Type::from_json(&a.r#type).is_err() {
                out.push(format!("{} has a type Terraform cannot read", a.name));
            }
        }
        for nb in &b.block_types {
            if nb.nesting == pb::schema::nested_block::NestingMode::Single as i32
                && (nb.min_items != nb.max_items || nb.min_items > 1)
            {
                out.push(format!("block {} has bad item limits", nb.type_name));
            }
            match &nb.block {
                Some(inner) => check(inner, out),
                None => out.push(format!("block {} has no body", nb.type_name)),
            }
        }
    }
    let mut out = Vec::new();
    match schema_to_proto(s).block {
        Some(b) => check(&b, &mut out),
        None => out.push("the schema has no block".to_owned()),
    }
    out
}

// ---- schema ---------------------------------------------------------------

pub(super) fn attribute_to_proto(a: &Attribute) -> pb::schema::Attribute {
    pb::schema::Attribute {
        name: a.name.to_owned(),
        r#type: a.ty.to_json_bytes(),
        nested_type: None,
        description: a.description.to_owned(),
        required: a.is_required(),
        optional: a.is_optional(),
        computed: a.is_computed(),
        sensitive: a.sensitive,
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: false,
        write_only: false,
    }
}

pub(super) fn nested_to_proto(b: &NestedBlock) -> pb::schema::NestedBlock {
    use pb::schema::nested_block::NestingMode;
    pb::schema::NestedBlock {
        type_name: b.name.to_owned(),
        block: Some(block_to_proto(&b.block)),
        nesting: match b.nesting {
            Nesting::Single => NestingMode::Single,
            Nesting::List => NestingMode::List,
        } as i32,
        min_items: i64::from(b.min_items),
        max_items: i64::from(b.max_items),
    }
}

pub(super) fn block_to_proto(b: &Block) -> pb::schema::Block {
    pb::schema::Block {
        version: 0,
        attributes: b.attributes.iter().map(attribute_to_proto).collect(),
        block_types: b.blocks.iter().map(nested_to_proto).collect(),
        description: b.description.to_owned(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: false,
    }
}

pub fn schema_to_proto(s: &Schema) -> pb::Schema {
    pb::Schema {
        version: s.version,
        block: Some(block_to_proto(&s.block)),
    }
}

// ---- values and diagnostics -------------------------------------------------

pub(super) fn path_to_proto(p: &AttrPath) -> pb::AttributePath {
    use pb::attribute_path::{Step, step::Selector};
    pb::AttributePath {
        steps: p
            .0
            .iter()
            .map(|s| Step {
                selector: Some(match s {
                    PathStep::Attr(n) => Selector::AttributeName(n.clone()),
                    PathStep::Key(k) => Selector::ElementKeyString(k.clone()),
                    PathStep::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

pub(super) fn diagnostic_to_proto(d: &Diagnostic) -> pb::Diagnostic {
    pb::Diagnostic {
        severity: match d.severity {
            Severity::Error => pb::diagnostic::Severity::Error,
            Severity::Warning => pb::diagnostic::Severity::Warning,
        } as i32,
        summary: d.summary.clone(),
        detail: d.detail.clone(),
        attribute: d
            .path
            .as_ref()
            .filter(|p| !p.0.is_empty())
            .map(path_to_proto),
    }
}

pub(super) fn diags_to_proto(d: &Diagnostics) -> Vec<pb::Diagnostic> {
    d.iter().map(diagnostic_to_proto).collect()
}

pub(super) fn encode(v: &Value, ty: &Type) -> Result<pb::DynamicValue, Diagnostic> {
    value::encode_msgpack(v, ty)
        .map(|msgpack| pb::DynamicValue {
            msgpack,
            json: Vec::new(),
        })
        .map_err(|e| {
            Diagnostic::error(
                "Provider produced a value it cannot encode",
                format!("This is a bug in the provider; please report it: {e}"),
            )
        })
}

/// A null value, as the answer for a state that does not exist.
pub(super) fn null_value() -> pb::DynamicValue {
    pb::DynamicValue {
        msgpack: vec![0xc0],
        json: Vec::new(),
    }
}

/// A table of schemas by type name, as `GetProviderSchema` answers it.
pub(super) fn schema_table(
    table: &[(&'static str, Schema)],
) -> std::collections::HashMap<String, pb::Schema> {
    table
        .iter()
        .map(|(n, sc)| ((*n).to_owned(), schema_to_proto(sc)))
        .collect()
}

/// Each resource type's identity schema, as `GetResourceIdentitySchemas`
/// answers them.
pub(super) fn identity_schemas(
    s: &Schemas,
) -> std::collections::HashMap<String, pb::ResourceIdentitySchema> {
    s.identities
        .iter()
        .map(|(n, id)| ((*n).to_owned(), identity_schema_to_proto(id)))
        .collect()
}

fn identity_schema_to_proto(id: &IdentitySchema) -> pb::ResourceIdentitySchema {
    pb::ResourceIdentitySchema {
        version: id.version,
        identity_attributes: id
            .attributes
            .iter()
            .map(|a| pb::resource_identity_schema::IdentityAttribute {
                name: a.name.to_owned(),
                r#type: a.ty.to_json_bytes(),
                required_for_import: a.for_import == ForImport::Required,
                optional_for_import: a.for_import == ForImport::Optional,
                description: a.description.to_owned(),
            })
            .collect(),
    }
}

/// Identity data for a response; `None` for a null identity.
pub(super) fn identity_data(
    v: &Value,
    id: &IdentitySchema,
) -> Result<Option<pb::ResourceIdentityData>, Diagnostic> {
    if v.is_null() {
        return Ok(None);
    }
    Ok(Some(pb::ResourceIdentityData {
        identity_data: Some(encode(v, &id.value_type())?),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_problems_name_what_terraform_would_refuse() {
        let good = Schema {
            version: 0,
            block: Block::new("x").attr(Attribute::string("name").required().describe("n")),
        };
        assert!(schema_problems(&good).is_empty());
        let bad = Schema {
            version: 0,
            block: Block::new("x").attr(Attribute::string("Name").required()),
        };
        let problems = schema_problems(&bad);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("not a valid attribute name"))
        );
        assert!(problems.iter().any(|p| p.contains("no description")));
    }
}
